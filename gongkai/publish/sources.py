"""Reading a publisher's file for `gongkai describe`: the header and every row as text cells,
streamed, whatever the file is (CSV/TSV in UTF-8 or GB18030, or an XLSX sheet).

The encoding is decided over the whole file, not a sample (docs: validation.md, "Encoding": a
file whose Chinese text starts after the first few hundred kilobytes is misdetected by sampling),
with an incremental decoder in blocks, so memory stays bounded: UTF-8 first (a BOM is accepted,
as the validator accepts it), else GB18030 (a superset of GBK and GB2312), else a clear error.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..validate import reader
from .words import PublishError

BLOCK = 1 << 20
CANDIDATE_ENCODINGS = ("utf-8", "gb18030")
TEXT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
REFUSED_SUFFIXES = {".xls", ".et", ".ods"}


@dataclass
class Detected:
    """How the file was read, for the draft and the report."""

    format: str
    encoding: str | None = None  # text formats only
    bom: bool = False
    bytes: int = 0
    utf8_error_at: int | None = None  # where UTF-8 failed, when GB18030 was chosen
    delimiter: str | None = None  # text formats: as the validator's sniffer finds it
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    # XLSX: the kinds of native cell per column ("text", "number", "date", "bool")
    kinds: list[set[str]] = field(default_factory=list)


def _decodes(path: Path, encoding: str) -> int | None:
    """None when the whole file decodes strictly as `encoding`, else the failing byte offset."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset
    return None


def detect_encoding(path: Path) -> Detected:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        bom = fh.read(3) == codecs.BOM_UTF8
    utf8_error = _decodes(path, "utf-8")
    fmt = TEXT_FORMATS.get(path.suffix.lower(), "csv")
    if utf8_error is None:
        return Detected(format=fmt, encoding="utf-8", bom=bom, bytes=size)
    if _decodes(path, "gb18030") is None:
        return Detected(format=fmt, encoding="gb18030", bytes=size, utf8_error_at=utf8_error)
    raise PublishError("desc_encoding_unknown", code=1, path=str(path), offset=utf8_error)


def open_table(path: Path, sheet: str | None = None, header_row: int = 1) -> tuple[Detected, list[str], Iterator[list]]:
    """The file's format, its header (the cells of row `header_row`, stripped as the validator
    strips labels) and an iterator over the data rows after it (cells as text, "" for empty)."""
    path = Path(path)
    if not path.is_file():
        raise PublishError("desc_no_file", code=2, path=str(path))
    if header_row < 1:
        raise PublishError("desc_bad_header_row", code=2, n=header_row)
    suffix = path.suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise PublishError("desc_old_excel", code=1, path=str(path), suffix=suffix)
    if suffix in XLSX_SUFFIXES:
        return _open_xlsx(path, sheet, header_row)
    if sheet is not None:
        raise PublishError("desc_sheet_not_xlsx", code=2, path=str(path))
    detected = detect_encoding(path)
    return detected, *_csv_rows(path, detected, header_row)


def _csv_rows(path: Path, detected: Detected, header_row: int) -> tuple[list[str], Iterator[list]]:
    encoding = "utf-8-sig" if detected.bom else detected.encoding
    assert encoding is not None
    # the CSV options exactly as the validator derives them (its sniffer on the first lines),
    # so the draft reads the columns the validator will read
    with open(path, "rb") as raw:
        head = codecs.getincrementaldecoder(encoding)("strict").decode(raw.read(BLOCK))
    options = reader.csv_options(head, detected.format, {})
    detected.delimiter = options["delimiter"]
    fh = open(path, encoding=encoding, newline="")  # closed when the rows are exhausted
    csv.field_size_limit(sys.maxsize)
    reader_ = csv.reader(fh, **options)
    header = None
    for number, cells in enumerate(reader_, start=1):
        if number == header_row:
            header = [c.strip() for c in cells]
            break
    if header is None:
        fh.close()
        raise PublishError("desc_no_header_row", code=1, path=str(path), n=header_row)

    def rows() -> Iterator[list]:
        with fh:
            yield from reader_

    return header, rows()


def xlsx_text(value) -> tuple[str, str]:
    """A calamine cell as the text a CSV export would hold, and its kind."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, bool):
        return ("true" if value else "false"), "bool"
    if isinstance(value, int):
        return str(value), "number"
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)), "number"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat(), "date"
        return value.isoformat(), "datetime"
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    if isinstance(value, (dt.time, dt.timedelta)):
        return str(value), "time"
    return str(value), "text"


def _open_xlsx(path: Path, sheet: str | None, header_row: int) -> tuple[Detected, list[str], Iterator[list]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # a damaged or encrypted workbook: calamine says what is wrong
        raise PublishError("desc_bad_xlsx", code=1, path=str(path), reason=str(exc)) from None
    names = list(book.sheet_names)
    if not names:
        raise PublishError("desc_bad_xlsx", code=1, path=str(path), reason="no sheet")
    name = sheet if sheet is not None else names[0]
    if name not in names:
        raise PublishError("desc_no_sheet", code=2, sheet=name, sheets=", ".join(names))
    detected = Detected(format="xlsx", sheet=name, sheets=names, bytes=path.stat().st_size)
    # calamine's iterator walks the sheet's cell range (held by calamine in Rust), yielding one
    # Python row at a time: Python objects for one row only
    rows = iter(book.get_sheet_by_name(name).iter_rows())
    header = None
    for number, cells in enumerate(rows, start=1):
        if number == header_row:
            header = [xlsx_text(c)[0].strip() for c in cells]
            break
    if header is None:
        raise PublishError("desc_no_header_row", code=1, path=str(path), n=header_row)
    detected.kinds = [set() for _ in header]

    def text_rows() -> Iterator[list]:
        kinds = detected.kinds
        for cells in rows:
            out = []
            for i, value in enumerate(cells):
                text, kind = xlsx_text(value)
                if kind and i < len(kinds):
                    kinds[i].add(kind)
                out.append(text)
            # calamine pads every row to the sheet's width: trailing empty cells are not cells
            while len(out) > len(header) and out[-1] == "":
                out.pop()
            yield out

    return detected, header, text_rows()
