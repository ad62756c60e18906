"""`/data.json` (DCAT-US 1.1) and `/data-v3.json` (DCAT-US 3.0) written as files at build time.

The same code as the served stream (`dcat_us` / `dcat_us3`'s `head()` and `dataset()`, joined
by `stream.JsonWriter`, the synchronous twin of `stream.json_document`), fed the same keyset
slices of `catalog.db` (gongkai/catalogue_files.py reads them once for every catalogue file):
the file holds exactly the bytes the stream would send for the same base URL, and memory stays
bounded at any number of datasets. plugins/opendata.py serves the
file when the site's base URL and the code are the ones it was written with
(gongkai/catalogue_files.py decides), and streams otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import TextIO

from ..catalogue import harvest
from . import dcat_us, dcat_us3, stream
from .urls import SiteUrls

FOLDER = "documents"  # under the release; nothing else is in it
DOCUMENTS: dict[str, ModuleType] = {"data.json": dcat_us, "data-v3.json": dcat_us3}
KEY = "dataset"  # the documents' array of datasets


class Writer:
    """Both documents into `release/documents/`, a slice of the catalogue at a time (`add`),
    each under a temporary name renamed by `close` (which returns their paths relative to the
    release); `discard` leaves nothing behind."""

    def __init__(self, release: Path, ctx: harvest.Context, urls: SiteUrls):
        self.release, self.ctx, self.urls = release, ctx, urls
        folder = release / FOLDER
        folder.mkdir(exist_ok=True)
        self.tmp = {name: folder / f".{name}.tmp" for name in DOCUMENTS}
        self.files: dict[str, TextIO] = {}
        self.writers: dict[str, stream.JsonWriter] = {}
        for name, module in DOCUMENTS.items():
            self.files[name] = open(self.tmp[name], "w", encoding="utf-8", newline="")
            self.writers[name] = stream.JsonWriter(self.files[name], module.head(ctx, urls), KEY)

    def add(self, entries: list[harvest.Entry]) -> None:
        for name, module in DOCUMENTS.items():
            self.writers[name].add([module.dataset(e, self.ctx, self.urls) for e in entries])

    def close(self) -> list[str]:
        for name in DOCUMENTS:
            self.writers[name].close()
            self.files[name].close()
            os.replace(self.tmp[name], self.release / FOLDER / name)
        return [f"{FOLDER}/{name}" for name in DOCUMENTS]

    def discard(self) -> None:
        for name in DOCUMENTS:
            self.files[name].close()
            self.tmp[name].unlink(missing_ok=True)
