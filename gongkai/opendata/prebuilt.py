"""`/data.json` (DCAT-US 1.1) and `/data-v3.json` (DCAT-US 3.0) written as files at build time.

The same code as the served stream (`dcat_us` / `dcat_us3`'s `head()` and `dataset()`, as
`stream.json_document` joins them: `opening`, then each dataset's `item` joined by commas, then
`stream.CLOSING`); gongkai/catalogue_files.py assembles the files from those items, rendering a
dataset's only when it changed: the file holds exactly the bytes the stream would send for the
same base URL, and memory stays bounded at any number of datasets. plugins/opendata.py serves the
file when the site's base URL and the code are the ones it was written with
(gongkai/catalogue_files.py decides), and streams otherwise.
"""

from __future__ import annotations

from types import ModuleType

from ..catalogue import harvest
from . import dcat_us, dcat_us3, stream
from .urls import SiteUrls

FOLDER = "documents"  # under the release; nothing else is in it
DOCUMENTS: dict[str, ModuleType] = {"data.json": dcat_us, "data-v3.json": dcat_us3}
KEY = "dataset"  # the documents' array of datasets


def opening(name: str, ctx: harvest.Context, urls: SiteUrls) -> str:
    """The document's text before its first dataset (`stream.json_document`'s first chunk)."""
    return stream.opening(DOCUMENTS[name].head(ctx, urls), KEY)


def item(name: str, entry: harvest.Entry, ctx: harvest.Context, urls: SiteUrls) -> str:
    """One dataset of the document, as the stream writes it."""
    return stream.dumps(DOCUMENTS[name].dataset(entry, ctx, urls))
