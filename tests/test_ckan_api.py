"""The CKAN Action API on the fixture site, through Datasette's own client (every plugin and
ASGI wrapper runs): the envelope, both prefixes, GET and POST, errors with CKAN's types and
statuses, each action's shape, search filters and paging, the datastore, CORS, the bounded
POST body, caching headers and rate limits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO

from gongkai.build import build_site
from gongkai.ckan import ids
from gongkai.ckan.http import MAX_BODY
from gongkai.limits import Limits
from gongkai.serve import make_datasette

A = "/api/3/action/"
# The keys interop.md lists for package_show (what ckanapi, ckanext-harvest and uData read).
PACKAGE_KEYS = {
    "id", "name", "title", "notes", "url", "version", "state", "private", "type", "license_id",
    "license_title", "license_url", "metadata_created", "metadata_modified", "organization",
    "owner_org", "groups", "tags", "extras", "resources", "num_resources", "num_tags",
}  # fmt: skip
RESOURCE_KEYS = {
    "id", "package_id", "name", "description", "url", "format", "mimetype", "size", "created",
    "last_modified", "datastore_active",
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ckan")
    assert build_site(FIXTURES / "site", out).ok
    return out / "site"


@pytest.fixture
async def ds(built):
    instance = make_datasette(built, root=REPO)
    await instance.invoke_startup()
    return instance


async def get(ds, path: str, status: int = 200) -> dict:
    r = await ds.client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


async def result(ds, action: str, **params) -> object:
    r = await ds.client.post(A + action, json=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["help"].endswith(f"help_show?name={action}")
    return body["result"]


async def error(ds, action: str, status: int, **params) -> dict:
    r = await ds.client.post(A + action, json=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False and "result" not in body
    assert body["error"]["message"] and body["error"]["message_zh"]
    return body["error"]


async def test_both_prefixes_get_and_post_give_the_same_envelope(ds):
    by_get = await get(ds, A + "package_list")
    by_short_get = await get(ds, "/api/action/package_list")
    by_post = (await ds.client.post("/api/action/package_list", json={})).json()
    assert by_get == by_short_get == by_post
    assert by_get["success"] is True and by_get["result"] == ["budget", "towns"]
    assert await result(ds, "package_list", limit=1, offset=1) == ["towns"]
    assert (await get(ds, A + "package_list?limit=1"))["result"] == ["budget"]


async def test_package_show_has_every_key_and_takes_name_or_id(ds):
    pkg = await result(ds, "package_show", id="towns")
    assert PACKAGE_KEYS <= set(pkg)
    assert pkg["id"] == ids.package_id("towns") and pkg["name"] == "towns" and pkg["title"] == "测试行政区划"
    assert (pkg["state"], pkg["private"], pkg["type"]) == ("active", False, "dataset")
    assert pkg["organization"]["name"] == "city-stats" and pkg["owner_org"] == pkg["organization"]["id"]
    assert [g["name"] for g in pkg["groups"]] == ["administrative-divisions"]
    assert [t["name"] for t in pkg["tags"]] == ["行政区划"] and pkg["num_tags"] == 1
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["temporal_start"] == "2023-01-01" and extras["frequency"] == "annual"
    assert pkg["num_resources"] == 2 == len(pkg["resources"])
    for res in pkg["resources"]:
        assert RESOURCE_KEYS <= set(res)
        assert res["package_id"] == pkg["id"] and res["datastore_active"] is True and res["format"] == "CSV"
    provinces = pkg["resources"][0]
    assert provinces["id"] == ids.resource_id(pkg["id"], "provinces")
    assert provinces["url"].endswith("/downloads/towns/data/provinces.csv")
    assert pkg["metadata_modified"][:4].isdigit() and "+" not in pkg["metadata_modified"]
    assert await result(ds, "package_show", id=pkg["id"]) == pkg
    # the download the resource points at is served
    path = provinces["url"].split("://", 1)[-1].split("/", 1)[1]
    assert (await ds.client.get("/" + path)).status_code == 200


async def test_ids_are_the_same_in_every_build(built, tmp_path):
    """A second build elsewhere gives every dataset and resource the same id; the namespace is
    fixed for good (a literal here, so a change to it fails)."""
    assert ids.package_id("towns") == "c7c7063b-70cd-5965-aebe-7d1b37cc8c23"
    root = tmp_path / "copy"
    shutil.copytree(FIXTURES / "site", root)
    assert build_site(root, tmp_path / "out").ok
    other = make_datasette(tmp_path / "out" / "site", root=REPO)
    await other.invoke_startup()
    first = make_datasette(built, root=REPO)
    await first.invoke_startup()
    for name in ("budget", "towns"):
        a, b = [await result(x, "package_show", id=name) for x in (first, other)]
        assert a["id"] == b["id"] and [r["id"] for r in a["resources"]] == [r["id"] for r in b["resources"]]


async def test_errors_have_ckans_types_and_statuses(ds):
    assert (await error(ds, "package_show", 404, id="missing"))["__type"] == "Not Found Error"
    missing = await error(ds, "package_show", 409)
    assert missing["__type"] == "Validation Error" and missing["id"]
    assert (await error(ds, "package_list", 409, limit="many"))["__type"] == "Validation Error"
    assert (await error(ds, "package_search", 409, fq="nonsense:field"))["__type"] == "Search Query Error"
    assert (await error(ds, "package_search", 409, sort="size desc"))["__type"] == "Search Query Error"
    assert (await error(ds, "package_search", 409, rows=5000))["__type"] == "Validation Error"
    assert (await error(ds, "package_create", 403, name="x"))["__type"] == "Authorization Error"
    assert (await error(ds, "no_such_action", 400))["__type"] == "Bad Request"
    for what in ("organization_show", "group_show", "resource_show"):
        assert (await error(ds, what, 404, id="nope"))["__type"] == "Not Found Error"
    bad = await ds.client.post(A + "package_list", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["__type"] == "Bad Request"
    listed = await ds.client.post(A + "package_list", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert listed.status_code == 400 and listed.json()["success"] is False


async def test_package_search_filters(ds):
    everything = await result(ds, "package_search", rows=10)
    assert everything["count"] == 2 and {p["name"] for p in everything["results"]} == {"budget", "towns"}
    assert PACKAGE_KEYS <= set(everything["results"][0])

    async def names(**params) -> list[str]:
        return [p["name"] for p in (await result(ds, "package_search", **params))["results"]]

    assert await names(fq="organization:city-stats") == ["towns"]
    assert await names(fq="-organization:city-stats") == ["budget"]
    assert sorted(await names(fq="organization:city-stats OR organization:city-finance")) == ["budget", "towns"]
    assert await names(fq="groups:finance") == ["budget"]
    assert await names(fq='tags:"行政区划"') == ["towns"]
    assert sorted(await names(fq="res_format:CSV")) == ["budget", "towns"]
    assert await names(fq="res_format:XLSX") == []
    assert sorted(await names(fq="metadata_modified:[2000-01-01T00:00:00Z TO *]")) == ["budget", "towns"]
    assert await names(fq="metadata_modified:[2999-01-01T00:00:00.000Z TO *]") == []
    assert await names(fq="metadata_modified:[* TO 2000-01-01T00:00:00Z]") == []
    assert await names(fq="organization:city-stats groups:finance") == []  # terms all hold
    assert sorted(await names(q="*:*", fq="type:dataset")) == ["budget", "towns"]
    assert await names(q="organization:city-finance AND -tags:nothing") == ["budget"]  # uData's q filters
    assert await names(q="预算") == ["budget"]  # the site's full-text search
    assert await names(fq="dataset_type:harvest") == []


async def test_package_search_sort_paging_and_facets(ds):
    by_id = [p["id"] for p in (await result(ds, "package_search", sort="id asc", rows=10))["results"]]
    assert by_id == sorted(by_id)
    pages = [(await result(ds, "package_search", sort="id asc", rows=1, start=start))["results"] for start in (0, 1, 2)]
    assert [p["id"] for page in pages for p in page] == by_id and pages[2] == []
    newest = await result(ds, "package_search", sort="metadata_modified desc", rows=10)
    stamps = [p["metadata_modified"] for p in newest["results"]]
    assert stamps == sorted(stamps, reverse=True)
    assert (await result(ds, "package_search", sort="score desc, metadata_modified desc"))["count"] == 2
    facets = await result(
        ds, "package_search", rows=0, **{"facet.field": ["organization", "groups", "tags", "res_format"]}
    )
    assert facets["results"] == [] and facets["count"] == 2
    assert facets["facets"]["organization"] == {"city-finance": 1, "city-stats": 1}
    assert facets["facets"]["res_format"] == {"csv": 2}
    items = {i["name"]: i for i in facets["search_facets"]["organization"]["items"]}
    assert items["city-stats"]["count"] == 1 and items["city-stats"]["display_name"] != "city-stats"
    # GET sends facet.field as JSON text, as CKAN's clients do
    by_get = await get(ds, A + 'package_search?rows=0&facet.field=["groups"]')
    assert set(by_get["result"]["facets"]["groups"]) == {"finance", "administrative-divisions"}
    assert (await error(ds, "package_search", 409, **{"facet.field": ["maintainer"]}))["__type"] == "Search Query Error"


async def test_organizations_are_publishers_and_groups_are_themes(ds):
    orgs = await result(ds, "organization_list")
    assert "city-stats" in orgs and "city-finance" in orgs
    full = await result(ds, "organization_list", all_fields=True)
    stats = next(o for o in full if o["name"] == "city-stats")
    assert (
        stats["package_count"] == 1
        and stats["is_organization"] is True
        and stats["id"] == ids.organization_id("city-stats")
    )
    assert (await result(ds, "organization_show", id="city-stats"))["id"] == stats["id"]
    by_uuid = await result(ds, "organization_show", id=stats["id"], include_datasets=True)
    assert [p["name"] for p in by_uuid["packages"]] == ["towns"]
    groups = await result(ds, "group_list", all_fields=True)
    finance = next(g for g in groups if g["name"] == "finance")
    assert finance["package_count"] == 1 and finance["is_organization"] is False
    assert (await result(ds, "group_show", id=finance["id"]))["name"] == "finance"


async def test_resource_status_and_help(ds):
    pkg = await result(ds, "package_show", id="budget")
    res = await result(ds, "resource_show", id=pkg["resources"][0]["id"])
    assert res == pkg["resources"][0]
    status = await result(ds, "status_show")
    assert status["ckan_version"].startswith("2.") and "datastore" in status["extensions"]
    util = await ds.client.get("/api/util/status")
    assert util.status_code == 200 and util.json() == status
    text = await result(ds, "help_show", name="package_search")
    assert "fq" in text and "搜索" in text
    assert (await error(ds, "help_show", 404, name="package_create"))["__type"] == "Not Found Error"


async def resource_id(ds, dataset: str, position: int = 0) -> str:
    return (await result(ds, "package_show", id=dataset))["resources"][position]["id"]


async def test_datastore_search(ds):
    rid = await resource_id(ds, "towns")  # provinces: code, name
    found = await result(ds, "datastore_search", resource_id=rid)
    assert [f["id"] for f in found["fields"]] == ["_id", "code", "name"] and found["total"] == len(found["records"])
    assert found["records"][0]["_id"] == 1 and set(found["records"][0]) == {"_id", "code", "name"}
    one = await result(ds, "datastore_search", resource_id=rid, filters={"code": "11"}, fields=["name"])
    assert one["total"] == 1 and one["records"] == [{"_id": 1, "name": one["records"][0]["name"]}]
    desc = await result(ds, "datastore_search", resource_id=rid, sort="code desc", limit=1)
    assert desc["records"][0]["code"] == max(r["code"] for r in found["records"]) and desc["limit"] == 1
    assert "offset=1" in desc["_links"]["next"]
    by_get = await get(ds, A + f"datastore_search?resource_id={rid}&filters=" + json.dumps({"code": ["11"]}))
    assert by_get["result"]["total"] == 1
    clamped = await result(ds, "datastore_search", resource_id=rid, limit=10**6, include_total=False)
    assert clamped["limit"] == 1000 and "total" not in clamped
    searched = await result(ds, "datastore_search", resource_id=rid, q="北京")
    assert searched["total"] >= 1 and all("北京" in r["name"] for r in searched["records"])
    budget = await resource_id(ds, "budget")  # no column of it is in a search index
    assert (await error(ds, "datastore_search", 409, resource_id=budget, q="教育"))["__type"] == "Validation Error"
    bad = await error(ds, "datastore_search", 409, resource_id=rid, filters={"nope": 1})
    assert bad["__type"] == "Validation Error"
    assert (await error(ds, "datastore_search", 409, resource_id=rid, sort="code; drop"))[
        "__type"
    ] == "Validation Error"
    assert await error(ds, "datastore_search", 404, resource_id="0" * 8 + "-0000-0000-0000-" + "0" * 12)


async def test_datastore_search_sql_is_read_only_and_guarded(ds):
    provinces, cities = await resource_id(ds, "towns", 0), await resource_id(ds, "towns", 1)
    counted = await result(ds, "datastore_search_sql", sql=f'select count(*) as n from "{provinces}"')
    assert counted["records"][0]["n"] >= 1 and counted["fields"] == [{"id": "n", "type": "text"}]
    joined = await result(
        ds,
        "datastore_search_sql",
        sql=f'select c.name from "{cities}" c join "{provinces}" p on p.code = c.provinceCode limit 2',
    )
    assert len(joined["records"]) <= 2
    for sql in (f'delete from "{provinces}"', f"select load_extension('x') from \"{provinces}\""):
        refused = await error(ds, "datastore_search_sql", 409, sql=sql)
        assert refused["__type"] == "Validation Error" and refused["query"]
    assert (await error(ds, "datastore_search_sql", 409, sql="select 1"))["__type"] == "Validation Error"
    two = f'select * from "{provinces}", "{await resource_id(ds, "budget")}"'
    assert (await error(ds, "datastore_search_sql", 409, sql=two))["__type"] == "Validation Error"
    # a value larger than the visitor-SQL guard allows: refused by the guarded pool, not run
    huge = f'select length(zeroblob(100000000)) from "{provinces}"'
    assert (await error(ds, "datastore_search_sql", 409, sql=huge))["__type"] == "Validation Error"


async def test_datastore_search_sql_is_time_limited(built):
    instance = make_datasette(built, root=REPO, settings={"sql_time_limit_ms": 50})
    await instance.invoke_startup()
    rid = await resource_id(instance, "towns")
    slow = (
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000000) "
        f'select count(*) from n, "{rid}"'
    )
    refused = await error(instance, "datastore_search_sql", 409, sql=slow)
    assert refused["__type"] == "Validation Error" and "too long" in refused["message"]


async def test_cors_preflight_and_csrf_free_posts(ds):
    r = await ds.client.options(A + "package_show")
    assert r.status_code == 204 and "POST" in r.headers["access-control-allow-methods"]
    assert "Content-Type" in r.headers["access-control-allow-headers"]
    assert "POST" not in (await ds.client.options("/datasets")).headers["allow"]
    posted = await ds.client.post(
        A + "package_show", json={"id": "towns"}, headers={"origin": "https://elsewhere.example"}
    )
    assert posted.status_code == 200 and posted.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in posted.headers
    # a browser that holds Datasette's CSRF cookie posts without the token: still answered
    cookie = {"cookie": "ds_csrftoken=abc.def"}
    with_cookie = await ds.client.post(A + "package_show", json={"id": "towns"}, headers=cookie)
    assert with_cookie.status_code == 200 and with_cookie.json()["success"] is True
    # a form-encoded POST works too; POST anywhere else is still 405
    form = await ds.client.post(A + "package_show", data={"id": "budget"})
    assert form.status_code == 200 and form.json()["result"]["name"] == "budget"
    assert (await ds.client.post("/datasets", json={})).status_code == 405


@pytest.mark.parametrize("action", ["package_show", "package_search"])  # the second read by two wrappers
async def test_a_huge_body_is_refused_before_it_is_read(ds, action):
    big = json.dumps({"id": "towns", "padding": "x" * (MAX_BODY + 1)})
    r = await ds.client.post(A + action, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["success"] is False and r.json()["error"]["message_zh"]
    just_under = json.dumps({"id": "towns", "p": "x" * (MAX_BODY - 100)})
    assert (await ds.client.post(A + action, content=just_under)).status_code == 200


async def test_caching_headers(ds):
    got = await ds.client.get(A + "package_show?id=towns")
    assert got.headers["cache-control"].startswith("public") and got.headers.get("etag")
    again = await ds.client.get(A + "package_show?id=towns", headers={"if-none-match": got.headers["etag"]})
    assert again.status_code == 304
    posted = await ds.client.post(A + "package_show", json={"id": "towns"})
    assert posted.headers["cache-control"] == "no-store" and "etag" not in posted.headers
    sql = await ds.client.get(A + "datastore_search_sql?sql=select%201")
    assert sql.headers["cache-control"] == "no-store"


async def test_rate_limits_apply_to_the_datastore(built):
    limits = Limits().replace(sql_per_minute=1, sql_burst=2)
    instance = make_datasette(built, root=REPO, limits=limits)
    await instance.invoke_startup()
    rid = await resource_id(instance, "towns")
    statuses = []
    for _ in range(4):
        r = await instance.client.post(A + "datastore_search_sql", json={"sql": f'select 1 from "{rid}"'})
        statuses.append(r.status_code)
    assert statuses[:2] == [200, 200] and statuses[-1] == 429
    refused = r.json()
    assert refused["error_zh"] and r.headers["retry-after"]
    # package actions are not visitor SQL: never limited
    for _ in range(5):
        assert (await instance.client.get(A + "package_show?id=towns")).status_code == 200
