"""`downloads/catalog.xlsx` assembled from rows rendered once per dataset.

XlsxWriter writing 10,000 catalogue rows takes about 3 s (measured, constant_memory), on every
build where any dataset changed. So each dataset's row is rendered once, as the sheet's own XML
(`row_xml`: inline strings, no row or cell references, which SpreadsheetML makes optional: a
reader counts rows and cells in order, an empty cell is `<c/>`), and kept by the build
(gongkai/catalogue_files.py copies the unchanged rows' bytes from the previous release). The
workbook is XlsxWriter's (`skeleton`: styles, the frozen header row, the sheet's name), written
with the header only; `write` puts the rows into its sheet and zips it again, members in the
same order with XlsxWriter's fixed timestamps, so the same rows give the same bytes.
"""

from __future__ import annotations

import datetime
import io
import math
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, BinaryIO

import xlsxwriter

SHEET_PART = "xl/worksheets/sheet1.xml"
MAX_TEXT = 32_767  # Excel's limit on one cell's characters (XlsxWriter truncates the same way)
# XML 1.0 has no form for most control characters: SpreadsheetML writes them as _xHHHH_ (and a
# literal `_xHHHH_` as `_x005F_xHHHH_`); `\r` too, which an XML parser would turn into `\n`.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f]|_x[0-9A-Fa-f]{4}_")
CREATED = datetime.datetime(2000, 1, 1)  # docProps: a fixed date, so equal rows give equal bytes
DATE_TIME = (1980, 1, 1, 0, 0, 0)  # XlsxWriter's own member timestamps
LEVEL = 1


def _escape(match: re.Match) -> str:
    text = match.group()
    return "_x005F" + text if len(text) > 1 else f"_x{ord(text):04X}_"


def inline_string(text: str) -> str:
    text = _UNSAFE.sub(_escape, text[:MAX_TEXT])
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    body = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<is><t{space}>{body}</t></is>"


def column_letters(n: int) -> str:
    """The letters of the `n`th column (1 → A, 27 → AA)."""
    column = ""
    while n:
        n, rem = divmod(n - 1, 26)
        column = chr(65 + rem) + column
    return column


def row_xml(cells: Iterable, wrap_style: int, separator: str) -> bytes:
    """One sheet row: numbers as numbers, text inline (wrapped where it holds `separator`)."""
    parts = ["<row>"]
    for value in cells:
        if value is None:
            parts.append("<c/>")
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            parts.append(f"<c><v>{value!r}</v></c>")
        else:
            text = str(value)
            style = f' s="{wrap_style}"' if separator in text else ""
            parts.append(f'<c{style} t="inlineStr">{inline_string(text)}</c>')
    parts.append("</row>")
    return "".join(parts).encode("utf-8")


# the blank styled cell A2 an XlsxWriter skeleton writes where the rows go (group 1: its style)
_MARKER = re.compile(r'<row r="2"[^>]*><c r="A2" s="(\d+)"/></row>')


def members(book_bytes: bytes) -> list[tuple[str, bytes]]:
    """An XlsxWriter workbook's zip members, in its order."""
    with zipfile.ZipFile(io.BytesIO(book_bytes)) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


def split_at_marker(xml: str) -> tuple[str, str, int]:
    """(the sheet's XML before the marker row, after it, the marker cell's style)."""
    marker = _MARKER.search(xml)
    if marker is None:  # an XlsxWriter that writes differently: fail the build, loudly
        raise RuntimeError("unexpected XlsxWriter sheet XML")
    return xml[: marker.start()], xml[marker.end() :], int(marker.group(1))


def with_dimension(before: str, columns: int, rows: int) -> bytes:
    """The sheet's start with its `<dimension>` for a header row and `rows` data rows."""
    ref = f'<dimension ref="A1:{column_letters(max(columns, 1))}{rows + 1}"/>'
    return re.sub(r'<dimension ref="[^"]*"/>', ref, before, count=1).encode("utf-8")


def write_workbook(path: Path, parts: list[tuple[str, bytes]], sheets: dict[str, Callable[[IO[bytes]], None]]) -> None:
    """The workbook at `path`: each member as XlsxWriter wrote it, in its order, except those
    `sheets` names, whose writer streams the part itself, deflated at `LEVEL`."""
    # level 1: a fifth of level 6's time on 10,000 rows (0.16 vs 0.66 s), 1.5x the size (444 KB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=LEVEL) as z:
        for name, data in parts:
            if name not in sheets:
                info = zipfile.ZipInfo(name, DATE_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
                continue
            # by name: the archive's compression level (a ZipInfo's has no public setter)
            # and ZipInfo's default date, which is DATE_TIME
            with z.open(name, "w") as out:
                sheets[name](out)


class Skeleton:
    """XlsxWriter's workbook with the header row only, split around where the rows go."""

    def __init__(self, sheet_name: str, headers: list[str]):
        buf = io.BytesIO()
        book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
        book.set_properties({"created": CREATED})
        sheet = book.add_worksheet(sheet_name)
        bold = book.add_format({"bold": True})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        for c, title in enumerate(headers):
            sheet.write_string(0, c, title, bold)
        sheet.write_blank(1, 0, None, wrap)  # a cell in the wrap style, so styles.xml holds it
        sheet.freeze_panes(1, 1)
        book.close()
        self.members = members(buf.getvalue())
        self.before, self.after, self.wrap_style = split_at_marker(dict(self.members)[SHEET_PART].decode("utf-8"))
        self.columns = len(headers)

    def write(self, path: Path, rows: int, body: BinaryIO) -> None:
        """The workbook at `path` with `rows` data rows, whose XML `body` holds (read to its end)."""

        def sheet(out: IO[bytes]) -> None:
            out.write(with_dimension(self.before, self.columns, rows))
            shutil.copyfileobj(body, out, 1 << 20)
            out.write(self.after.encode("utf-8"))

        write_workbook(path, self.members, {SHEET_PART: sheet})
