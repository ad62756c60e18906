"""The CKAN API on conditional (有条件开放) and closed (不予开放) datasets: described in full but
with no data URL; the DataStore answers CKAN's `Authorization Error` (403, ckanapi's
NotAuthorized) with the conditions and how to apply in both languages, not "not found".
The same site as tests/test_openness.py (the fixture site plus one conditional, one closed and
one open dataset of the same rows)."""

from __future__ import annotations

import pytest
from test_openness import APPLY, APPLY_EN, CONDITION, CONDITION_EN, built  # noqa: F401  (the site fixture)

from gongkai.serve import make_datasette

A = "/api/3/action/"


@pytest.fixture
async def ds(built):  # noqa: F811
    instance = make_datasette(built, root=__import__("conftest").REPO)
    await instance.invoke_startup()
    return instance


async def call(ds, action: str, status: int, **params) -> dict:
    r = await ds.client.post(A + action, json=params)
    assert r.status_code == status, r.text
    return r.json()


async def test_package_show_describes_them_without_a_data_url(ds):
    for name in ("permits", "sealed"):
        package = (await call(ds, "package_show", 200, id=name))["result"]
        assert package["name"] == name and package["resources"], package
        extras = {e["key"]: e["value"] for e in package["extras"]}
        assert extras["openness"] == ("conditional" if name == "permits" else "closed")
        for res in package["resources"]:
            assert "/downloads/" not in res["url"] and res["url"].endswith(f"/datasets/{name}")
            assert res["datastore_active"] is False and "api_url" not in res
            assert res["hash"] is None and res["size"] is None
            shown = (await call(ds, "resource_show", 200, id=res["id"]))["result"]
            assert shown["url"] == res["url"] and shown["datastore_active"] is False
    assert extras["openness_condition"] == "涉及国家秘密"
    # the open dataset of the same shape keeps its download and its DataStore
    opened = (await call(ds, "package_show", 200, id="open-records"))["result"]["resources"][0]
    assert "/downloads/open-records/records.csv" in opened["url"] and opened["datastore_active"] is True
    assert opened["hash"].startswith("sha256:")


async def test_datastore_search_is_an_authorization_error_with_the_conditions(ds):
    rid = (await call(ds, "package_show", 200, id="permits"))["result"]["resources"][0]["id"]
    refused = await call(ds, "datastore_search", 403, resource_id=rid)
    error = refused["error"]
    assert refused["success"] is False and error["__type"] == "Authorization Error"
    assert CONDITION_EN in error["message"] and APPLY_EN in error["message"]
    assert CONDITION in error["message_zh"] and APPLY in error["message_zh"]
    assert error["openness"] == "conditional" and error["landing_page"].endswith("/datasets/permits")
    sql = await call(ds, "datastore_search_sql", 403, sql=f'select * from "{rid}"')
    assert sql["error"]["__type"] == "Authorization Error" and CONDITION in sql["error"]["message_zh"]
    # closed: its reason, and the contact address when no way to apply is given
    sealed = (await call(ds, "package_show", 200, id="sealed"))["result"]["resources"][0]["id"]
    closed = (await call(ds, "datastore_search", 403, resource_id=sealed))["error"]
    assert "涉及国家秘密" in closed["message_zh"] and "data@example.gov.cn" in closed["message"]
    # an open resource is searched as before, and a missing one is still not found
    open_rid = (await call(ds, "package_show", 200, id="open-records"))["result"]["resources"][0]["id"]
    assert (await call(ds, "datastore_search", 200, resource_id=open_rid))["result"]["total"] == 5
    missing = await call(ds, "datastore_search", 404, resource_id="0" * 8 + "-0000-0000-0000-" + "0" * 12)
    assert missing["error"]["__type"] == "Not Found Error"
