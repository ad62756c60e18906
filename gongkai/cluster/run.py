"""The cluster measurement: one process vs N replicas vs the cached tier on the same mixed URLs,
a replica killed under load, a new release rolled out under load; → `build/cluster.json`.

Phases, one after the other, each a wrk run of `seconds` (gongkai/cluster/wrk.py):

1. `single`: wrk straight at one replica (one `gongkai serve` with one worker process);
2. `replicas`: through nginx with its cache off (the deploy config as a plain balancer);
3. `cached`: through the caching tier (the deploy config as it is), warmed by one pass;
4. `kill`: through the balancer; a third of a phase in, one replica is SIGKILLed (supervisor
   and worker), restarted a third later, and the load goes on a third after it is back;
   every failed request is counted;
5. `rollout`: through the balancer while `gongkai build` makes a new release and the replicas
   reload onto it one at a time; ends when every replica's /-/health names the new release.

The replicas each run one worker: N replicas of one worker against one process of one worker
is the scaling question. On a 2-core machine wrk and nginx share the cores with them.

The kill and rollout phases run at `fault_connections` (16), a load the replicas carry: a
failed request there is one the cluster dropped (a reset, a 5xx), not one that queued for
longer than wrk's 10 s timeout behind 64 others while a build and new workers took the cores
(those count as failed too; 64 connections is the throughput phases' load).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .. import releases
from ..loadtest.server import child_env, free_port
from . import nginx, probes, urls, wrk
from .replicas import Replicas, health

TARGET_CACHED_RPS = 10_000


def build(out: Path, root: Path, *extra: str) -> float:
    """`gongkai build` in a child process; its seconds. `extra`: more options."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "gongkai", "build", "--out", str(out), "--root", str(root), "--quiet", *extra],
        env=child_env(),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"build failed / 构建失败:\n{proc.stdout}\n{proc.stderr}")
    return round(time.perf_counter() - started, 2)


def measure(
    out: Path,
    root: Path,
    *,
    replicas: int = 2,
    seconds: float = 10.0,
    connections: int = 64,
    fault_connections: int = 16,
    threads: int = 2,
    url_count: int = 400,
) -> dict:
    out, root = Path(out).resolve(), Path(root).resolve()
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "load_generator": wrk.version(),
        "connections": connections,
        "fault_connections": fault_connections,
        "threads": threads,
        "seconds_per_phase": seconds,
        "replicas": replicas,
        "workers_per_replica": 1,
        "cpus": os.cpu_count(),
        # The machine is shared: what else was running says how far the figures can be read.
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }
    if releases.current_release(out) is None:
        report["first_build_s"] = build(out, root)
    release = releases.current_release(out)
    assert release is not None
    mix = urls.mixed(release, count=url_count)
    workdir = nginx.new_workdir()
    urls_file = urls.write(mix, workdir / "urls.txt")
    report["urls"] = {"count": len(mix), "distinct": len(set(mix)), "kinds": list(urls.KINDS)}

    def start_load(base: str, length: float = seconds, clients: int = connections):
        return wrk.start(base, urls_file, seconds=length, connections=clients, threads=threads, workdir=workdir)

    fleet = Replicas(out, root, replicas)
    cache_port, balancer_port = free_port(), free_port()
    servers: list[nginx.Nginx] = []
    try:
        fleet.start()
        text = nginx.DEPLOY_CONF.read_text()
        for name, port, cache in (("cache", cache_port, True), ("balancer", balancer_port, False)):
            site = nginx.render(text, upstreams=fleet.ports, port=port, cache_dir=workdir / name / "cache", cache=cache)
            conf = nginx.prepare(workdir / name, site, workers=min(2, os.cpu_count() or 1))
            checked = nginx.check(conf)
            if checked.returncode != 0:
                raise RuntimeError(f"nginx -t failed / nginx 配置检查失败:\n{checked.stderr}")
            servers.append(nginx.Nginx(conf, port).start())
        single = f"http://127.0.0.1:{fleet.ports[0]}"
        balancer, cached = f"http://127.0.0.1:{balancer_port}", f"http://127.0.0.1:{cache_port}"
        bad = urls.check(single, mix)
        if bad:
            raise RuntimeError(f"URLs that do not answer 200 / 以下网址未返回 200: {bad[:10]}")

        phases = {}
        phases["single"] = wrk.finish(start_load(single))
        phases["replicas"] = wrk.finish(start_load(balancer))
        urls.check(cached, mix)  # the warm-up pass: every distinct URL is in the cache once
        phases["cached"] = wrk.finish(start_load(cached))
        report["cache_status_after"] = urls.cache_status(cached, mix)
        report["cache_tier_checks"] = probes.cache_tier(cached, urls.first_database(release))
        for name in ("single", "replicas", "cached"):
            report[f"{name}_rps"] = phases[name]["rps"]
        report["p99_ms"] = {name: phases[name]["p99_ms"] for name in ("single", "replicas", "cached")}

        # A replica killed while the balancer carries the load, restarted, and the load kept
        # on until a third of a phase after it is back: the outage and the return both count.
        victim = replicas - 1
        run = start_load(balancer, 600, fault_connections)
        kill: dict = {}
        try:
            started = time.monotonic()
            time.sleep(seconds / 3)
            kill["killed_at_s"] = round(time.monotonic() - started, 2)
            fleet.kill(victim)
            time.sleep(seconds / 3)
            restart_began = time.monotonic()
            fleet.restart(victim)
            kill["restart_took_s"] = round(time.monotonic() - restart_began, 2)
            time.sleep(seconds / 3)
        finally:
            wrk.stop(run)
        kill.update(wrk.finish(run), replica_serves_after=health(fleet.ports[victim])["release"])
        phases["kill"] = kill
        report["failed_requests_during_kill"] = kill["failed"]

        # A new release built and rolled onto the replicas one at a time, under load.
        old = health(fleet.ports[0])["release"]
        run = start_load(balancer, 600, fault_connections)
        rollout: dict = {"from": old}
        try:
            time.sleep(min(2.0, seconds / 4))
            # the same datasets: a no-op build would keep the served release, so ask for a new one
            rollout["build_s"] = build(out, root, "--new-release")
            new = releases.current_release(out)
            assert new is not None
            rollout["to"] = new.name
            rollout["reloads"] = fleet.roll()
            time.sleep(min(2.0, seconds / 4))
        finally:
            wrk.stop(run)
        rollout.update(wrk.finish(run))
        rollout["all_serve_new"] = all(r["ok"] and r["serves"] == rollout["to"] for r in rollout["reloads"])
        phases["rollout"] = rollout
        report["failed_requests_during_rollout"] = rollout["failed"]
        report["phases"] = phases
        report["load_average_at_end"] = round(os.getloadavg()[0], 2)
        report["targets"] = {
            f"cached_rps >= {TARGET_CACHED_RPS}": report["cached_rps"] >= TARGET_CACHED_RPS,
            "failed_requests_during_kill == 0": kill["failed"] == 0,
            "failed_requests_during_rollout == 0": rollout["failed"] == 0,
            "rollout reached every replica": rollout["all_serve_new"],
        }
    finally:
        for server in servers:
            server.stop()
        fleet.stop()
        for log in workdir.glob("*/error.log"):  # what nginx said about the upstreams, kept
            shutil.copy(log, out / f"nginx-{log.parent.name}-error.log")
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def write(report: dict, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def summary(report: dict) -> str:
    lines = [
        f"单进程 single process: {report['single_rps']:,.0f} req/s, p99 {report['p99_ms']['single']} ms",
        f"{report['replicas']} 个副本 replicas: {report['replicas_rps']:,.0f} req/s, p99 {report['p99_ms']['replicas']} ms",
        f"缓存层 cached tier: {report['cached_rps']:,.0f} req/s, p99 {report['p99_ms']['cached']} ms",
        f"终止副本期间失败 failed during the kill: {report['failed_requests_during_kill']}",
        f"发布新版本期间失败 failed during the rollout: {report['failed_requests_during_rollout']}",
    ]
    lines += [f"{'✓' if ok else '✗'} {name}" for name, ok in report["targets"].items()]
    return "\n".join(lines)
