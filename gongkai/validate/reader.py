"""Reading a tabular file: refuse unsafe paths, decode strictly, split into CSV records.

The whole file is read and decoded at once: a strict ``bytes.decode`` is the fastest way to
find out whether the declared encoding is right, and when it is not, the exception gives the
exact byte offset, which sample-based detection (frictionless's) cannot (a GB18030 file whose
first 190 KB is ASCII fails halfway). Everything else follows frictionless v5's CSV parser:
the dialect options it honours, the ``csv.Sniffer`` guess for what the dialect leaves
undefined, header rows, comment rows, blank-row skipping and row numbering (records, not
lines; the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..errors import ENCODING_ERROR, FORMAT_ERROR, Error, notes
from ..model import Resource
from . import excel, files

# frictionless raises the csv module's limit the same way (formats/csv/parser.py)
csv.field_size_limit(2147483646)

SUPPORTED_FORMATS = ("csv", "tsv")
SNIFF_LINES = 100  # frictionless sniffs the dialect on the first 100 lines
SNIFF_DELIMITERS = ",\t;|"
HASH_THREAD_BYTES = 1 << 20  # below this a thread costs more than the hashing
# Data Package v1 keeps CSV options at the dialect's top level, v2 under "csv"
CSV_OPTIONS = (
    "delimiter",
    "lineTerminator",
    "quoteChar",
    "doubleQuote",
    "escapeChar",
    "nullSequence",
    "skipInitialSpace",
)


class SourceProblem(Exception):
    """The file cannot be read as a table; carries the error to report."""

    def __init__(self, error: Error):
        super().__init__(error.note)
        self.error = error
        self.bytes: int = 0
        self.sha256: str | None = None


# Paths

# one rule for every path a descriptor gives (the catalogue checks it too)
is_safe_path = files.is_safe_path


# Bytes


@dataclass
class Source:
    """The file's bytes, decoded, with what the report states about them."""

    text: str
    bytes: int
    sha256: str
    sheet: excel.Sheet | None = None  # an Excel resource's sheet (then `text` is empty)


def load(resource: Resource) -> Source:
    """Read and decode the resource's file, or raise SourceProblem."""
    path = resource.path
    if resource.fullpath is None or not is_safe_path(path):
        note, note_zh = files.unsafe_note(path)
        raise SourceProblem(Error(type="resource-error", note=note, note_zh=note_zh))
    fmt = resource.format.lower() if isinstance(resource.format, str) and resource.format else "csv"
    if fmt in excel.OLD_FORMATS:
        raise SourceProblem(excel.refuse_old_format(fmt))
    if fmt not in SUPPORTED_FORMATS and fmt not in excel.FORMATS:
        raise SourceProblem(FORMAT_ERROR("unsupported", format=fmt))
    folder = resource.folder
    assert folder is not None  # fullpath is set (checked above)
    try:
        data = files.read_bytes(folder, path)
    except files.FileRefused as refused:
        # a missing file is frictionless's scheme-error; a refused one (a link out of the
        # folder, a FIFO or device, over the size limit) is a resource-error
        kind = "scheme-error" if refused.kind in ("missing", "unreadable") else "resource-error"
        raise SourceProblem(Error(type=kind, note=refused.note, note_zh=refused.note_zh)) from refused
    # hashlib releases the GIL on large buffers: a big file is hashed while it is decoded
    hasher = hashlib.sha256()
    hashing = None
    if len(data) >= HASH_THREAD_BYTES:
        hashing = threading.Thread(target=hasher.update, args=(data,), daemon=True)
        hashing.start()
    else:
        hasher.update(data)
    sheet = None
    try:
        if fmt in excel.FORMATS:
            text = ""
            try:
                sheet = excel.read_sheet(data, resource.dialect or {})
            except excel.SheetProblem as problem:
                raise SourceProblem(problem.error) from problem
        else:
            text = decode(data, resource.encoding or "utf-8")
    except SourceProblem as problem:
        problem.bytes, problem.sha256 = len(data), _digest(hasher, hashing)  # still worth reporting
        raise
    return Source(text=text, bytes=len(data), sha256=_digest(hasher, hashing), sheet=sheet)


def _digest(hasher, hashing: threading.Thread | None) -> str:
    if hashing is not None:
        hashing.join()
    return hasher.hexdigest()


def decode(data: bytes, encoding: str) -> str:
    """Decode strictly; a UTF-8 byte-order mark is accepted and stripped."""
    try:
        info = codecs.lookup(encoding) if isinstance(encoding, str) else None
        # rot13, base64, zlib... are codecs too, but not text encodings: bytes.decode refuses them
        if info is None or not getattr(info, "_is_text_encoding", True):
            raise LookupError(encoding)
        codec = info.name
    except LookupError as exc:
        raise SourceProblem(ENCODING_ERROR("unknown", encoding=encoding)) from exc
    if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        bom = len(codecs.BOM_UTF8)
    else:
        bom = 0
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        offset = exc.start + bom
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 4].hex(" ")
        fix, fix_zh = notes("encoding.fix_utf8") if codec == "utf-8" else notes("encoding.fix_other", encoding=encoding)
        where = {"encoding": encoding, "bad": bad, "offset": offset, "line": line}
        error = ENCODING_ERROR("undecodable", fix=fix, fix_zh=fix_zh, **where)
        raise SourceProblem(error.at(extra={"byteOffset": offset, "lineNumber": line})) from exc


# Dialect


@dataclass
class Layout:
    """Where the header and the data are: the dialect options that are not CSV syntax."""

    header: bool = True
    header_rows: list[int] = field(default_factory=lambda: [1])
    header_join: str = " "
    header_case: bool = True
    comment_char: str | None = None
    comment_rows: list[int] = field(default_factory=list)
    skip_blank_rows: bool = False

    @classmethod
    def from_dialect(cls, dialect: dict, sample: list[list[str]] | None = None) -> Layout:
        """The layout the dialect declares; with ``sample`` (the first 100 records), the header
        row is inferred as frictionless's ``Detector.detect_dialect`` does when the dialect
        declares neither ``header`` nor ``headerRows``: the first row whose width is near the
        sample's average (a title line above the header is skipped)."""
        layout = cls._declared(dialect)
        if sample and dialect.get("header") is None and dialect.get("headerRows") is None:
            widths = [len(cells) for cells in sample]
            width = round(sum(widths) / len(widths))
            drift = max(round(width * 0.1), 1)
            for row_number, cells in enumerate(sample, start=1):
                if layout.is_comment(row_number, cells):
                    continue
                if width - drift <= len(cells) <= width + drift:
                    layout.header_rows = [row_number]
                    break
        return layout

    @classmethod
    def _declared(cls, dialect: dict) -> Layout:
        return cls(
            header=dialect.get("header") is not False,
            header_rows=list(dialect.get("headerRows") or [1]),
            header_join=dialect["headerJoin"] if dialect.get("headerJoin") is not None else " ",
            header_case=dialect.get("headerCase") is not False,
            comment_char=dialect.get("commentChar") or None,
            comment_rows=list(dialect.get("commentRows") or []),
            skip_blank_rows=bool(dialect.get("skipBlankRows", False)),
        )

    @property
    def first_content_row(self) -> int:
        return self.header_rows[-1] + 1 if self.header and self.header_rows else 1

    def is_comment(self, row_number: int, cells: list) -> bool:
        if self.comment_char and cells and cells[0].startswith(self.comment_char):
            return True
        return row_number in self.comment_rows


def csv_options(text: str, fmt: str, dialect: dict) -> dict:
    """``csv.reader`` keyword arguments, as frictionless's CsvParser derives them.

    What the dialect declares wins; what it leaves undefined comes from ``csv.Sniffer`` run
    on the first 100 lines (frictionless does this even for TSV, whose tab delimiter is
    only a default the sniffer may override).
    """
    # an option set to null is an option not set (the descriptor's shape is checked upstream)
    declared = {k: dialect[k] for k in CSV_OPTIONS if dialect.get(k) is not None}
    declared.update({k: v for k, v in (dialect.get("csv") or {}).items() if k in CSV_OPTIONS and v is not None})
    options = {
        "delimiter": ",",
        "lineTerminator": "\r\n",
        "quoteChar": '"',
        "doubleQuote": True,
        "escapeChar": None,
        "skipInitialSpace": False,
    }
    options.update(declared)
    if fmt == "tsv" and "delimiter" not in declared:
        options["delimiter"] = "\t"
    sample = head_lines(text, SNIFF_LINES, _newline(fmt))
    sniffed: type[csv.Dialect] | csv.Dialect
    try:
        sniffed = csv.Sniffer().sniff(sample, declared.get("delimiter", SNIFF_DELIMITERS))
    except csv.Error:
        sniffed = csv.excel()
    guessed = {
        "delimiter": sniffed.delimiter,
        "lineTerminator": sniffed.lineterminator,
        "escapeChar": sniffed.escapechar,
        # embedded JSON fools the sniffer into single quotes (frictionless-py #493)
        "quoteChar": '"' if sniffed.quotechar == "'" else sniffed.quotechar,
        "skipInitialSpace": sniffed.skipinitialspace,
    }
    for name, value in guessed.items():
        if name not in declared and value is not None:
            options[name] = value
    quote = options["quoteChar"]
    return {
        "delimiter": options["delimiter"],
        "doublequote": options["doubleQuote"] if options["escapeChar"] else True,
        "escapechar": options["escapeChar"],
        "lineterminator": options["lineTerminator"],
        "quotechar": quote or None,
        "quoting": csv.QUOTE_NONE if quote == "" else csv.QUOTE_MINIMAL,
        "skipinitialspace": options["skipInitialSpace"],
    }


def head_lines(text: str, count: int, newline: str | None) -> str:
    """The first ``count`` lines, as a text stream would give them, without copying the
    whole (possibly huge) text into a StringIO."""
    size = 1 << 16
    while True:
        lines = list(itertools.islice(io.StringIO(text[:size], newline=newline), count + 1))
        if len(lines) > count or size >= len(text):
            return "".join(lines[:count])
        size *= 4


def _newline(fmt: str) -> str | None:
    # frictionless opens CSV with newline="" (the csv module sees "\r\n" inside quoted
    # cells as written) and every other format with universal newlines
    return "" if fmt == "csv" else None


def records(text: str, fmt: str, options: dict) -> Iterator[list[str]]:
    """The file's CSV records (a quoted cell may span lines: one record, one row number)."""
    return records_of(lines(text, fmt), options)


def records_of(lines: Iterable[str], options: dict) -> Iterator[list[str]]:
    return csv.reader(lines, **options)


def head_records(text: str, fmt: str, options: dict, count: int) -> list[list[str]]:
    """The first ``count`` records, parsed from a prefix of the text only."""
    size = 1 << 16
    while True:
        head = list(itertools.islice(csv.reader(io.StringIO(text[:size], newline=_newline(fmt)), **options), count + 1))
        if len(head) > count or size >= len(text):
            return head[:count]
        size *= 4


def lines(text: str, fmt: str) -> Iterable[str]:
    """The text's lines with their endings, as the text stream frictionless reads gives them.

    ``str.splitlines`` is the fastest split, but it also breaks at \\v, \\f, \\x1c-\\x1e,
    \\x85, \\u2028 and \\u2029, which are not line ends for CSV: it is used only when
    counting the real line ends shows none of those occurred.
    """
    if fmt == "csv":
        split = text.splitlines(keepends=True)
        breaks = _breaks(text, 0, len(text))
        if len(split) == breaks + (1 if text and not text.endswith(("\n", "\r")) else 0):
            return split
    return io.StringIO(text, newline=_newline(fmt))


def line_end(text: str, pos: int) -> int:
    """Where the line starting at `pos` ends: after its \\n, \\r\\n or \\r, as a text stream
    opened with newline="" (the csv module's way) splits lines; the text's end for the last."""
    n = text.find("\n", pos)
    stop = n if n >= 0 else len(text)
    r = text.find("\r", pos, stop)
    if r < 0:
        return stop + 1 if n >= 0 else stop
    return r + 2 if r + 1 == n else r + 1


class TextLines:
    """The lines of a text from `position` on, without splitting the rest of it: for reading
    a few records (a header, one record) out of a big text. `position` is where the next line
    starts."""

    __slots__ = ("text", "position")

    def __init__(self, text: str, position: int = 0):
        self.text = text
        self.position = position

    def __iter__(self) -> TextLines:
        return self

    def __next__(self) -> str:
        start = self.position
        if start >= len(self.text):
            raise StopIteration
        self.position = end = line_end(self.text, start)
        return self.text[start:end]


def _breaks(text: str, start: int, stop: int) -> int:
    """The line ends (\\n, \\r\\n, \\r) in text[start:stop], both ends at line starts."""
    cr = text.count("\r", start, stop)
    return text.count("\n", start, stop) + cr - (text.count("\r\n", start, stop) if cr else 0)


def scan_records(text: str, start: int, stop: int, options: dict) -> tuple[int, int]:
    """From `start`, where a CSV record starts, find the first record start at or after `stop`;
    return it and how many records lie before it.

    A record spans lines only through a quoted (or escaped) line end, so a line without the
    quote or escape character, met at a record's start, is one whole record: such lines are
    counted in C (``str.count``), and only a line holding one of those characters is read by
    the csv module, which takes the rest of its record from the lines after it. Exact, and
    about 0.05 s where parsing would take 0.15 s (29 MB, a quoted cell in one line in twenty).
    csv.Error propagates (the caller reads the table in one piece instead).
    """
    specials = [c for c in (options.get("quotechar"), options.get("escapechar")) if c]
    end_of_text = len(text)
    stop = min(stop, end_of_text)
    if start >= stop:
        return start, 0
    end = line_start_from(text, stop)  # the line holding `stop` belongs to the scan too
    lines = TextLines(text, start)
    records = csv.reader(lines, **options)  # one reader, moved from record start to record start
    find, rfind = text.find, text.rfind
    no_cr = find("\r", start, end) < 0  # then "\n" is the only line end: one count, one rfind
    pos, count = start, 0
    while pos < end:
        first = -1
        for c in specials:
            i = find(c, pos, end)
            if i >= 0 and (first < 0 or i < first):
                first = i
        if first < 0:
            count += text.count("\n", pos, end) if no_cr else _breaks(text, pos, end)
            if end == end_of_text and end > pos and text[-1] not in "\r\n":
                count += 1  # the last line, without a line end
            return end, count
        if no_cr:
            line = max(pos, rfind("\n", pos, first) + 1)
            count += text.count("\n", pos, line)
        else:
            line = max(pos, rfind("\n", pos, first) + 1, rfind("\r", pos, first) + 1)
            count += _breaks(text, pos, line)
        lines.position = line
        next(records, None)
        pos = lines.position
        count += 1
    return pos, count


def line_start_from(text: str, i: int) -> int:
    """The first line start at or after position `i`."""
    if i <= 0 or i >= len(text):
        return max(0, min(i, len(text)))
    before = text[i - 1]
    if before == "\n" or (before == "\r" and text[i] != "\n"):
        return i
    return line_end(text, i)


# Header and content


def read_labels(recs: Iterable[list[str]], layout: Layout) -> tuple[list[str], int]:
    """Consume the header rows; return the labels and how many records were consumed.

    Labels are stripped and multi-row headers joined as frictionless's
    ``Dialect.read_labels`` does (a cell equal to the one above is not repeated).
    """
    if not (layout.header and layout.header_rows):
        return [], 0
    first_content = layout.first_content_row
    lists: list[list[str]] = []
    consumed = 0
    for row_number, cells in enumerate(itertools.islice(recs, first_content - 1), start=1):
        consumed = row_number
        if layout.is_comment(row_number, cells):
            continue
        if row_number in layout.header_rows:
            lists.append([str(cell).strip() for cell in cells])
    labels: list[str] = []
    prev: dict[int, str] = {}
    for cells in lists:
        for index, cell in enumerate(cells):
            if prev.get(index) == cell:
                continue
            prev[index] = cell
            if len(labels) <= index:
                labels.append(cell)
            else:
                labels[index] = layout.header_join.join([labels[index], cell])
    return labels, consumed


def content(recs: Iterator[list[str]], layout: Layout, start: int) -> Iterator[tuple[int, list[str]]]:
    """(row_number, cells) for every data record, comment and skipped blank rows left out."""
    numbered = enumerate(recs, start=start)
    if not (layout.comment_char or layout.comment_rows or layout.skip_blank_rows):
        return numbered
    return _filtered(numbered, layout)


def _filtered(numbered: Iterator[tuple[int, list[str]]], layout: Layout) -> Iterator[tuple[int, list[str]]]:
    for row_number, cells in numbered:
        if layout.is_comment(row_number, cells):
            continue
        if layout.skip_blank_rows and not any(cells):
            continue
        yield row_number, cells
