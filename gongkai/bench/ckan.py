"""How the CKAN API's cost grows with the catalogue: `python -m gongkai.bench.ckan [N ...]`.

Builds the fixture site once, then grows its catalog.db to N datasets by copying its rows
under new names and ids (the real schema and indexes, written by the real writer; a real
build of 10,000 datasets takes ~20 minutes here, which this question does not need). Each
action runs as the server runs it (gongkai.ckan.actions.call over the catalogue reader's
connection), and the median of `REPEAT` calls is reported for the first and the last page of
a harvester's paging (`rows=100&sort=id asc`), `package_show`, `package_list`, and an
incremental `fq=metadata_modified:[… TO *]`. Ratios within one run are what to read: the
last page against the first, and N=10,000 against N=1,000.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ..build import build_site
from ..catalogue.records import DatasetRecord, ResourceRecord
from ..ckan import actions, ids

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "site"
REPEAT = 15


def grow(catalog: Path, n: int) -> None:
    """Copy the catalogue's datasets (and their resources and fields) until it holds `n`."""
    conn = sqlite3.connect(catalog)
    seeds = conn.execute("select name from datasets order by name").fetchall()
    d_cols = [c for c, _ in DatasetRecord.columns()]
    r_cols = [c for c, _ in ResourceRecord.columns()]
    conn.execute("begin")
    for i in range(n - len(seeds)):
        seed = seeds[i % len(seeds)][0]
        name = f"copy-{i:05d}"
        package = ids.package_id(name)
        d_sel = ", ".join({"name": "?", "ckan_id": "?"}.get(c, f"[{c}]") for c in d_cols)
        conn.execute(
            f"insert into datasets ({', '.join(d_cols)}) select {d_sel} from datasets where name = ?",
            [name, package, seed],
        )
        for (res,) in conn.execute("select name from resources where dataset = ?", [seed]).fetchall():
            r_sel = ", ".join({"dataset": "?", "ckan_id": "?"}.get(c, f"[{c}]") for c in r_cols)
            conn.execute(
                f"insert into resources ({', '.join(r_cols)}) select {r_sel} from resources where dataset = ? and name = ?",
                [name, ids.resource_id(package, res), seed, res],
            )
    conn.execute("commit")
    conn.execute("analyze")
    conn.close()


def _site(conn: sqlite3.Connection) -> actions.Site:
    async def read(fn):
        return fn(conn)

    return actions.Site(read=read, database=lambda name: None, base="http://127.0.0.1:8001")


def _median_ms(site: actions.Site, name: str, params: dict) -> float:
    async def once() -> float:
        start = time.perf_counter()
        await actions.call(name, params, site)
        return time.perf_counter() - start

    times = [asyncio.run(once()) for _ in range(REPEAT)]
    return round(statistics.median(times) * 1000, 2)


def measure(n: int, release: Path) -> dict[str, float]:
    conn = sqlite3.connect(f"file:{release / 'catalog.db'}?mode=ro", uri=True, check_same_thread=False)
    site = _site(conn)
    names = conn.execute("select name from datasets order by name").fetchall()
    last_start = (n - 1) // 100 * 100
    out = {
        "search_first_page_ms": _median_ms(site, "package_search", {"rows": 100, "start": 0, "sort": "id asc"}),
        "search_last_page_ms": _median_ms(site, "package_search", {"rows": 100, "start": last_start, "sort": "id asc"}),
        "search_since_first_page_ms": _median_ms(
            site,
            "package_search",
            {"rows": 100, "sort": "id asc", "fq": "metadata_modified:[2000-01-01T00:00:00Z TO *]"},
        ),
        "show_first_ms": _median_ms(site, "package_show", {"id": names[0][0]}),
        "show_last_ms": _median_ms(site, "package_show", {"id": names[-1][0]}),
        "list_all_ms": _median_ms(site, "package_list", {}),
    }
    conn.close()
    return out


def main(sizes: list[int]) -> dict[int, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="gongkai-ckan-bench-") as tmp:
        work = Path(tmp)
        assert build_site(FIXTURE, work / "out").ok
        seed = (work / "out" / "site").resolve()
        results = {}
        for n in sizes:
            release = work / f"n{n}"
            shutil.copytree(seed, release)
            grow(release / "catalog.db", n)
            results[n] = measure(n, release)
    return results


def figures(sizes: tuple[int, int] = (1000, 10000)) -> dict:
    """For `make bench`: flat figures per size, and the ratios to read."""
    small, large = sizes
    results = main(list(sizes))
    out: dict = {f"ckan_{n}_{key}": value for n, row in results.items() for key, value in row.items()}
    big = results[large]
    out["ckan_last_over_first_page"] = round(big["search_last_page_ms"] / big["search_first_page_ms"], 2)
    out["ckan_first_page_large_over_small"] = round(
        big["search_first_page_ms"] / results[small]["search_first_page_ms"], 2
    )
    out["notes"] = [
        f"catalog.db grown to {small} and {large} datasets by copying the fixture's rows (real schema and indexes)",
        "package_search: rows=100, sort=id asc (ckanext-harvest's paging); medians of "
        f"{REPEAT} calls; read the ratios (this machine's cores are shared)",
    ]
    return out


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    print(json.dumps(main(sizes), indent=1))
