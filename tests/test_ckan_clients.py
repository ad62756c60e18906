"""Real CKAN clients against a real server on 127.0.0.1 (started and stopped here) serving a
generated portal (gongkai/bench/portal.py): the `ckanapi` CLI and library, and replays of
ckanext-harvest's and uData's CKAN harvesters, each following the calls their source makes:

- ckanext-harvest, ckanext/harvest/harvesters/ckanharvester.py: `_search_for_datasets` GETs
  `/api/3/action/package_search` with `rows=100&start=…&sort=id asc` (+ `fq` built by
  `gather_stage`: `organization:a OR organization:b`, `-organization:x`,
  `metadata_modified:[<isoformat>Z TO *]`), stops on an empty page and fails if a page
  repeats the previous one; the import stage then asks `group_show?id=<group id>` and
  `organization_show?id=<owner_org>`.
- uData, udata/harvest/backends/ckan/harvesters.py: `package_list` (or `package_search` with
  `q="organization:x AND -tags:y"`, `rows=1000` when filters are set), then `package_show?id=`
  per name, each checked against its schema (schemas/ckan.py: every key required), a JSON
  Content-Type and `success`; `get_status` reads `/api/util/status`.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import ckanapi
import httpx
import pytest
import requests
from live_server import live_server

from gongkai.bench.portal import dataset_name, publishers_for, write_portal
from gongkai.build import build_site
from gongkai.ckan.http import MAX_BODY

N = 230  # three full pages of 100 and a part page, for the harvester's paging
BIN = Path(sys.executable).parent
CKANAPI = str(BIN / "ckanapi")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("ckan-clients")
    write_portal(work / "src", N, rows=3)
    assert build_site(work / "src", work / "out").ok
    with live_server(
        work / "out" / "site", env={"GONGKAI_BASE_URL": "{base}"}, ready="/api/util/status", log=work / "server.log"
    ) as base:
        yield {"base": base, "work": work}


def cli(*args: str, cwd: Path | None = None) -> str:
    # `ckanapi dump` starts its workers as `ckanapi …` found on PATH
    env = dict(os.environ, PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    done = subprocess.run([CKANAPI, *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


ALL = sorted(dataset_name(i) for i in range(1, N + 1))


def test_ckanapi_action_package_list(server):
    assert json.loads(cli("action", "package_list", "-r", server["base"])) == ALL
    # GET too (-g), and an action argument
    assert json.loads(cli("action", "package_list", "limit=5", "-g", "-r", server["base"])) == ALL[:5]


def test_ckanapi_dump_datasets_all(server):
    out = server["work"] / "dump.jsonl"
    cli("dump", "datasets", "--all", "-q", "-p", "2", "-O", str(out), "-r", server["base"])
    dumped = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["name"] for d in dumped] == ALL
    assert len({d["id"] for d in dumped}) == N
    one = dumped[0]
    assert one["resources"][0]["url"].startswith(server["base"] + "/downloads/")
    assert one == ckanapi.RemoteCKAN(server["base"]).action.package_show(id=one["name"])


def test_ckanapi_search_datasets_pages_to_the_end(server):
    lines = cli("search", "datasets", "-r", server["base"]).splitlines()
    assert sorted(json.loads(line)["name"] for line in lines) == ALL
    publisher = "gen-pub-0003"
    found = cli("search", "datasets", f"fq=organization:{publisher}", "-r", server["base"]).splitlines()
    expected = [dataset_name(i) for i in range(1, N + 1) if i % publishers_for(N) == 3]
    assert sorted(json.loads(line)["name"] for line in found) == expected


def test_ckanapi_library_raises_ckans_exceptions(server):
    for get_only in (False, True):
        site = ckanapi.RemoteCKAN(server["base"], get_only=get_only)
        with pytest.raises(ckanapi.NotFound):
            site.action.package_show(id="missing")
        with pytest.raises(ckanapi.SearchQueryError):
            site.action.package_search(fq="nosuchfield:1")
        with pytest.raises(ckanapi.ValidationError):
            site.action.package_search(rows=100000)
        with pytest.raises(ckanapi.NotAuthorized):
            site.action.package_create(name="new")
        page = site.action.package_search(rows=7, start=7, sort="id asc")
        assert page["count"] == N and len(page["results"]) == 7


def _harvest_search(base: str, fq_terms: list[str]) -> list[dict]:
    """ckanext-harvest's CKANHarvester._search_for_datasets, call for call."""
    base_search_url = base + "/api/3/action/package_search"
    params = {"rows": "100", "start": "0", "sort": "id asc"}
    if fq_terms:
        params["fq"] = " ".join(fq_terms)
    pkg_dicts: list[dict] = []
    pkg_ids: set[str] = set()
    previous_content = None
    while True:
        url = base_search_url + "?" + urlencode(params)
        content = requests.get(url).text
        assert not (previous_content and content == previous_content), "The paging doesn't seem to work"
        response_dict = json.loads(content)
        pkg_dicts_page = response_dict.get("result", {}).get("results", [])
        ids_in_page = {p["id"] for p in pkg_dicts_page}
        assert not ids_in_page & pkg_ids, "a page repeated datasets"
        pkg_ids |= ids_in_page
        pkg_dicts.extend(pkg_dicts_page)
        if len(pkg_dicts_page) == 0:
            break
        params["start"] = str(int(params["start"]) + int(params["rows"]))
        previous_content = content
    return pkg_dicts


def test_ckanext_harvest_gather_and_import_calls(server):
    base = server["base"]
    everything = _harvest_search(base, [])
    assert sorted(p["name"] for p in everything) == ALL
    assert [p["id"] for p in everything] == sorted(p["id"] for p in everything)
    # organisations_filter_include / _exclude, as gather_stage writes them
    include = _harvest_search(base, ["organization:gen-pub-0001 OR organization:gen-pub-0002"])
    assert {p["organization"]["name"] for p in include} == {"gen-pub-0001", "gen-pub-0002"}
    exclude = _harvest_search(base, ["-organization:gen-pub-0001", "-organization:gen-pub-0002"])
    assert len(exclude) == N - len(include)
    groups = _harvest_search(base, ["groups:transport"])
    assert groups and all(p["groups"][0]["name"] == "transport" for p in groups)

    # the incremental run: changes since the last error-free job (an hour before it, UTC, "Z"
    # added). The portal was built just now (no git history: modified = when first built).
    def since(last_time: datetime.datetime) -> list[dict]:
        get_changes_since = (last_time - datetime.timedelta(hours=1)).isoformat()
        return _harvest_search(base, [f"metadata_modified:[{get_changes_since}Z TO *]"])

    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert len(since(now)) == N
    assert since(now + datetime.timedelta(days=1)) == []
    # import stage: the remote groups and organisations of a harvested dataset
    pkg = everything[0]
    for group in pkg["groups"]:
        data = json.loads(requests.get(base + "/api/3/action/group_show?id=" + group["id"]).text)
        assert data.pop("result")["name"] == group["name"]
    content = requests.get(base + "/api/3/action/organization_show?id=" + pkg["owner_org"]).text
    assert json.loads(content)["result"]["name"] == pkg["organization"]["name"]


# uData's schema (udata/harvest/backends/ckan/schemas/ckan.py, required=True): the keys and the
# types its validators accept, transcribed.
UDATA_PACKAGE = {
    "id": str, "name": str, "title": str, "notes": (str, type(None)), "license_id": str,
    "license_title": (str, type(None)), "tags": list, "metadata_created": str, "metadata_modified": str,
    "organization": (dict, type(None)), "resources": list, "private": bool, "type": str,
    "author": (str, type(None)), "author_email": (str, type(None)), "maintainer": (str, type(None)),
    "maintainer_email": (str, type(None)), "state": (str, type(None)),
}  # fmt: skip
UDATA_RESOURCE = {
    "id": str, "position": int, "name": str, "description": (str, type(None)), "format": str,
    "mimetype": (str, type(None)), "size": (int, type(None)), "hash": (str, type(None)), "created": str,
    "last_modified": (str, type(None)), "url": str, "resource_type": str,
}  # fmt: skip
UDATA_ORGANIZATION = {
    "id": str, "description": str, "created": str, "title": str, "name": str, "revision_timestamp": str,
    "is_organization": bool, "state": str, "image_url": str, "revision_id": str, "type": str,
    "approval_status": str,
}  # fmt: skip
UDATA_RESOURCE_TYPES = ("file", "file.upload", "api", "documentation", "image", "visualization")


def _keys(record: dict, schema: dict, where: str) -> None:
    for key, kind in schema.items():
        assert key in record, f"{where}: {key} missing"
        assert isinstance(record[key], kind), f"{where}: {key} is {record[key]!r}"


def _udata_get_action(base: str, endpoint: str, **params) -> dict:
    """CkanBackend.get_action (fix=False): a GET with JSON content-type, checked as uData does."""
    response = requests.get(
        f"{base}/api/3/action/{endpoint}", params=params, headers={"content-type": "application/json"}
    )
    response.raise_for_status()
    assert response.headers.get("Content-Type", "").split(";", 1)[0] == "application/json"
    data = response.json()
    assert data.get("success", False), data
    return data


def test_udata_harvest_calls(server):
    base = server["base"]
    status = requests.get(base + "/api/util/status").json()
    assert status["ckan_version"].startswith("2.")
    names = _udata_get_action(base, "package_list")["result"]
    assert names == ALL
    # with filters: package_search with q (uData: "fq is broken with multiple filters")
    q = "organization:gen-pub-0004 AND -tags:nothing"
    filtered = _udata_get_action(base, "package_search", q=q, rows=1000)["result"]["results"]
    assert [r["name"] for r in filtered] and {r["organization"]["name"] for r in filtered} == {"gen-pub-0004"}
    for name in names[:40]:
        result = _udata_get_action(base, "package_show", id=name)["result"]
        assert result.get("id")  # becomes the item's remote_id
        _keys(result, UDATA_PACKAGE, name)
        assert result["type"] == "dataset" and result["resources"]  # no resources: skipped
        _keys(result["organization"], UDATA_ORGANIZATION, f"{name} organization")
        assert result["organization"]["type"] == "organization"
        assert result["organization"]["approval_status"] == "approved"
        for tag in result["tags"]:
            assert isinstance(tag["id"], str) and isinstance(tag["name"], str)
        for extra in result["extras"]:
            assert isinstance(extra["key"], str) and isinstance(extra["value"], (str, int, float, bool, dict, list))
        for res in result["resources"]:
            _keys(res, UDATA_RESOURCE, f"{name} resource")
            assert res["resource_type"] in UDATA_RESOURCE_TYPES and res["url"].startswith("http")
            assert requests.head(res["url"]).status_code == 200
        for stamp in (result["metadata_created"], result["metadata_modified"]):
            datetime.datetime.fromisoformat(stamp)  # to_date parses it
        # a remote id is remembered by uData: the same on every call
        assert _udata_get_action(base, "package_show", id=result["id"])["result"]["id"] == result["id"]


def test_a_huge_body_is_refused_by_the_live_server(server):
    url = server["base"] + "/api/action/package_show"
    r = httpx.post(
        url, content=b'{"id": "' + b"x" * (4 * MAX_BODY) + b'"}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["__type"] == "Bad Request"

    # without a Content-Length (chunked), the body is cut off at the limit too
    def chunks():
        for _ in range(64):
            yield b"x" * 16384

    r = httpx.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert httpx.post(url, json={"id": dataset_name(1)}).json()["result"]["name"] == dataset_name(1)
    # a body just under the limit, arriving with the headers in one read, is not taken for
    # oversized headers (gongkai/http_timeouts.py counts only up to the headers' end)
    near = {"id": dataset_name(2), "padding": "x" * (MAX_BODY - 200)}
    assert httpx.post(url, json=near).json()["result"]["name"] == dataset_name(2)
