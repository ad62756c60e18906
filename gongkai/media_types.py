"""The Content-Type of a published original file: its format, and for text its real encoding.

A GBK/GB18030 CSV served as ``text/csv; charset=utf-8`` is shown as mojibake by every browser
that trusts the header; the file is published byte-identical, so the header must say what the
bytes are. GBK and GB2312 are subsets of GB18030, and the WHATWG Encoding standard decodes all
three labels with the same gb18030 decoder: one label, ``gb18030``, covers them.
"""

from __future__ import annotations

import codecs
import mimetypes
import sys

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BY_FORMAT = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "xlsx": XLSX,
    "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    "json": "application/json",
}
GB_FAMILY = ("gb18030", "gbk", "gb2312")


def charset(encoding: str | None) -> str:
    """The charset label of a declared encoding (UTF-8 when none or an unknown one is declared:
    validation refuses an unknown encoding, so a published file has a known one)."""
    try:
        name = codecs.lookup(encoding or "utf-8").name
    except LookupError:
        return "utf-8"
    return "gb18030" if name in GB_FAMILY else name


def download_type(filename: str, fmt: str | None = None, encoding: str | None = None) -> str:
    """The Content-Type for a published file; `fmt` and `encoding` are the resource's when the
    file is a resource's original (None for the descriptor and other files: UTF-8 text)."""
    key = (fmt or "").lower()
    ctype = BY_FORMAT.get(key) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype == "application/json":
        ctype += f"; charset={charset(encoding) if fmt else 'utf-8'}"
    # Interned: every published file's manifest entry keeps its type until the build's end, and
    # a handful of distinct types would otherwise be 10,000 copies each at 10,000 datasets.
    return sys.intern(ctype)
