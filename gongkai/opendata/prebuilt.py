"""`/data.json` (DCAT-US 1.1) and `/data-v3.json` (DCAT-US 3.0) written as files at build time.

The same code as the served stream (`dcat_us` / `dcat_us3`'s `head()` and `dataset()`, joined
by `stream.json_chunks`, the synchronous twin of `stream.json_document`), reading `catalog.db`
in the same keyset slices: the file holds exactly the bytes the stream would send for the same
base URL, and memory stays bounded at any number of datasets. plugins/opendata.py serves the
file when the site's base URL and the code are the ones it was written with
(gongkai/catalogue_files.py decides), and streams otherwise.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from types import ModuleType

from ..catalogue import harvest
from . import dcat_us, dcat_us3, stream
from .urls import SiteUrls

FOLDER = "documents"  # under the release; nothing else is in it
DOCUMENTS: dict[str, ModuleType] = {"data.json": dcat_us, "data-v3.json": dcat_us3}
KEY = "dataset"  # the documents' array of datasets


def write(release: Path, conn: sqlite3.Connection, ctx: harvest.Context, urls: SiteUrls) -> list[str]:
    """Both documents into `release/documents/`, each under a temporary name renamed when
    complete. Returns their paths relative to the release."""
    folder = release / FOLDER
    folder.mkdir(exist_ok=True)
    written = []
    for name, module in DOCUMENTS.items():
        slices = stream.slices_of_sync(
            lambda after, size: harvest.after(conn, after, size), key=lambda e: e.dataset.name
        )
        items = ([module.dataset(e, ctx, urls) for e in entries] for entries in slices)
        tmp = folder / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            for chunk in stream.json_chunks(module.head(ctx, urls), KEY, items):
                f.write(chunk)
        os.replace(tmp, folder / name)
        written.append(f"{FOLDER}/{name}")
    return written
