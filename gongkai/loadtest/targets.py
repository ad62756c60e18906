"""What the load test asks for: URLs of every page type, worked out from a built release folder
(its databases, search indexes and downloads), so the load fits whatever datasets are built."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from .. import release_files

CATALOG = "catalog"
SEARCH_PREFIX = "_search_"

# How often each endpoint is asked for, relative to the others.
WEIGHTS = {
    "home": 3,
    "catalogue": 3,
    "landing": 3,
    "report": 1,
    "table_html": 4,
    "table_json": 2,
    "table_array": 3,
    "search_site": 2,
    "search_table": 2,
    "download": 1,
    "sql": 2,
}

# Queries the site must refuse or cut short (the SQL limits' job), each a few seconds of work
# or a huge value if it ran: their 4xx answers are expected, counted apart from errors.
ABUSE = {
    # ~3 s and more of SQLite stepping a recursive CTE.
    "abuse_recursive_cte": "with recursive c(x) as (select 1 union all select x + 1 from c limit 100000000) "
    "select count(*) from c",
    # A 1 GB value.
    "abuse_zeroblob": "select zeroblob(1000000000)",
}


@dataclass
class Targets:
    datasets: list[str]
    tables: list[tuple[str, str]]  # (database, table)
    searchable: list[tuple[str, str, list[str]]]  # (database, table, terms found in its text)
    downloads: list[str] = field(default_factory=list)  # /downloads/<dataset>/<path>
    site_terms: list[str] = field(default_factory=list)

    def pick(self, rng: random.Random) -> dict[str, str]:
        """One URL per endpoint name (a fresh random choice each call)."""
        db, table = rng.choice(self.tables)
        sdb, stable, terms = rng.choice(self.searchable) if self.searchable else (db, table, ["a"])
        name = rng.choice(self.datasets)
        t = f"/{quote(db)}/{quote(table)}"
        return {
            "home": "/",
            "catalogue": rng.choice(["/datasets", "/datasets?sort=title", "/datasets?_lang=en"]),
            "landing": f"/datasets/{quote(name)}",
            "report": f"/datasets/{quote(name)}/report",
            "table_html": t + rng.choice(["", "?_size=20", "?_lang=en"]),
            "table_json": t + ".json",
            "table_array": t + ".json?_shape=array&_size=" + str(rng.randint(5, 50)),
            "search_site": "/-/search?" + urlencode({"q": rng.choice(self.site_terms or terms)}),
            "search_table": f"/{quote(sdb)}/{quote(stable)}.json?" + urlencode({"_search": rng.choice(terms)}),
            "download": rng.choice(self.downloads),
            "sql": f"/{quote(db)}.json?" + urlencode({"sql": f"select count(*) from [{table}]"}),
        }

    def abuse(self, rng: random.Random, names: list[str]) -> dict[str, str]:
        db = rng.choice(self.datasets)
        # The blob through the HTML query page, the CTE through the JSON API.
        return {
            name: f"/{quote(db)}{'' if name == 'abuse_zeroblob' else '.json'}?" + urlencode({"sql": ABUSE[name]})
            for name in names
        }


def _words(value: str) -> list[str]:
    """A search term from a cell: a Latin word, or two Chinese characters."""
    out = []
    for word in value.split():
        if word.isascii() and len(word) >= 3 and word.isalpha():
            out.append(word)
        elif not word.isascii() and len(word) >= 2:
            out.append(word[:2])
    return out


def from_release(release: Path, *, seed: int = 1) -> Targets:
    release = Path(release)
    inspect = json.loads((release / "inspect.json").read_text())
    datasets, tables, searchable, site_terms = [], [], [], []
    rng = random.Random(seed)
    for db, info in sorted(inspect.items()):
        names = set(info["tables"])
        if db == CATALOG:
            continue
        datasets.append(db)
        conn = sqlite3.connect(f"file:{release / info['file']}?immutable=1", uri=True)
        try:
            for table in sorted(names):
                if table.startswith(("_", "sqlite_")):
                    continue
                tables.append((db, table))
                if f"{SEARCH_PREFIX}{table}_columns" not in names:
                    continue
                columns = [
                    r[0]
                    for r in conn.execute(f"select [column] from [{SEARCH_PREFIX}{table}_columns] order by position")
                ]
                terms = []
                for col in columns[:3]:
                    for (value,) in conn.execute(f"select [{col}] from [{table}] where [{col}] is not null limit 50"):
                        terms += _words(str(value))
                if terms:
                    terms = sorted(set(terms))
                    searchable.append((db, table, rng.sample(terms, min(20, len(terms)))))
                    site_terms += rng.sample(terms, min(3, len(terms)))
        finally:
            conn.close()
    downloads = sorted(
        f"/downloads/{quote(name)}/" + "/".join(quote(part) for part in p.relative_to(folder).parts)
        for name in release_files.names(release)
        for folder in [release_files.downloads(release, name)]
        for p in folder.rglob("*")
        if p.is_file()
    )
    return Targets(datasets, tables, searchable, downloads, sorted(set(site_terms)))
