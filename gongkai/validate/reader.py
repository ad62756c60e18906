"""Reading a tabular file: refuse unsafe paths, decode strictly, split into CSV records.

A CSV file is never held whole: it is opened once, checked to decode (strictly, a chunk at a
time, keeping nothing: the exception gives the exact byte offset, which sample-based detection
(frictionless's) cannot: a GB18030 file whose first 190 KB is ASCII fails halfway), and its
rows are then read again from the open file in chunks of `CHUNK_BYTES`, each decoded and split
into lines on its own, so memory stays flat in rows. The parallel split cuts the file in bytes
at a line end (`line_start_at`, `scan_records`). Everything else follows frictionless v5's CSV
parser: the dialect options it honours, the ``csv.Sniffer`` guess for what the dialect leaves
undefined (on a prefix), header rows, comment rows, blank-row skipping and row numbering
(records, not lines; the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
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

CHUNK_BYTES = 1 << 20  # read, decoded and split into lines one chunk at a time: memory flat in rows
# Encodings in which the bytes of "\n" and "\r" never occur inside another character (every
# byte below 0x80 stands for itself): a byte just after a line end is a line start and a
# character boundary, so a file can be cut there in bytes and each part decoded on its own.
LINE_SAFE = {"utf-8", "ascii", "gbk", "gb18030", "gb2312", "big5", "big5hkscs", "shift_jis", "euc_jp", "euc_kr"}
LINE_SAFE_PREFIXES = ("iso8859-", "cp125", "latin")


class DataFile:
    """An open data file read by offset (`os.pread`: the split's child reads the same fd
    without moving the parent's position). Only its first `size` bytes exist for us."""

    def __init__(self, fd: int, size: int):
        self.fd = fd
        self.size = size

    def read(self, offset: int, count: int) -> bytes:
        count = max(0, min(count, self.size - offset))
        data = os.pread(self.fd, count, offset) if count else b""
        while 0 < len(data) < count:  # a short read: read the rest
            more = os.pread(self.fd, count - len(data), offset + len(data))
            if not more:
                break
            data += more
        return data

    def blocks(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        pos, stop = start, self.size if stop is None else min(stop, self.size)
        while pos < stop:
            data = self.read(pos, min(CHUNK_BYTES, stop - pos))
            if not data:
                return
            pos += len(data)
            yield data

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass


@dataclass
class Source:
    """A data file with what the report states about it: a CSV file open for reading in chunks
    (decoded with `codec` after `bom` bytes, already checked to decode whole), or an Excel
    sheet."""

    size: int  # bytes
    sha256: str
    file: DataFile | None = None
    codec: str = "utf-8"
    bom: int = 0
    sheet: excel.Sheet | None = None  # an Excel resource's sheet (then there is no file)

    @property
    def line_safe(self) -> bool:
        """Whether the file may be cut at a line end in bytes (see `LINE_SAFE`)."""
        return self.codec in LINE_SAFE or self.codec.startswith(LINE_SAFE_PREFIXES)

    def prefix(self, size: int) -> tuple[str, bool]:
        """The text of (about) the first `size` bytes, and whether that is the whole text."""
        assert self.file is not None
        whole = self.bom + size >= self.file.size
        data = self.file.read(self.bom, size)
        return codecs.getincrementaldecoder(self.codec)("strict").decode(data, final=whole), whole

    def chunks(self, start: int | None = None, stop: int | None = None) -> Iterator[str]:
        """The text of bytes [start, stop) (default: all of it) in pieces that end at line ends.
        `start` must be a character boundary: the text's start, or a line start of a line-safe
        file."""
        assert self.file is not None
        start = self.bom if start is None else start
        if self.line_safe:
            codec = self.codec
            for _, block in self.line_blocks(start, stop):
                yield block.decode(codec)
            return
        decoder = codecs.getincrementaldecoder(self.codec)("strict")
        carry = ""
        for data in self.file.blocks(start, stop):
            text = carry + decoder.decode(data) if carry else decoder.decode(data)
            cut = last_line_end(text)
            carry = text[cut:]
            if cut:
                yield text[:cut] if carry else text
        text = carry + decoder.decode(b"", final=True)
        if text:
            yield text

    def line_blocks(self, start: int, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
        """(offset, bytes) of whole lines from byte `start` to `stop` (a line-safe file)."""
        assert self.file is not None
        carry = b""
        base = start
        for data in self.file.blocks(start, stop):
            block = carry + data if carry else data
            cut = last_line_end(block)
            carry = block[cut:]
            if cut:
                yield base, block[:cut] if carry else block
                base += cut
        if carry:
            yield base, carry

    def lines(self, fmt: str, start: int | None = None, stop: int | None = None) -> Iterator[str]:
        """The lines of bytes [start, stop), as `lines` splits a text, one chunk at a time."""
        return itertools.chain.from_iterable(map(lambda chunk: lines(chunk, fmt), self.chunks(start, stop)))

    def digest(self, algorithm: str) -> str | None:
        """The file's digest by `algorithm`, read again in chunks (None for an Excel sheet)."""
        if self.file is None:
            return None
        hasher = hashlib.new(algorithm)
        _hash(hasher, self.file)
        return hasher.hexdigest()


def last_line_end(text):
    """Where the last whole line of `text` (str or bytes) ends; 0 if none. A "\r" at the very
    end does not count: it may be the first half of a "\r\n"."""
    nl, cr = ("\n", "\r") if isinstance(text, str) else (b"\n", b"\r")
    end = len(text) - 1 if text.endswith(cr) else len(text)
    return max(text.rfind(nl, 0, end), text.rfind(cr, 0, end)) + 1


def load(resource: Resource) -> Source:
    """Open the resource's file and check that it decodes (an Excel file: read its sheet), or
    raise SourceProblem. A CSV file is never held whole: its rows are read again, in chunks."""
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
        if fmt in excel.FORMATS:
            return _load_sheet(files.read_bytes(folder, path), resource)
        fd, size = files.open_capped(folder, path)
    except files.FileRefused as refused:
        # a missing file is frictionless's scheme-error; a refused one (a link out of the
        # folder, a FIFO or device, over the size limit) is a resource-error
        kind = "scheme-error" if refused.kind in ("missing", "unreadable") else "resource-error"
        raise SourceProblem(Error(type=kind, note=refused.note, note_zh=refused.note_zh)) from refused
    file = DataFile(fd, size)
    # hashlib and pread release the GIL: a big file is hashed while it is checked to decode
    hasher = hashlib.sha256()
    hashing = None
    if size >= HASH_THREAD_BYTES:
        hashing = threading.Thread(target=_hash, args=(hasher, file), daemon=True)
        hashing.start()
    else:
        _hash(hasher, file)
    try:
        codec, bom = check_decodes(file, resource.encoding or "utf-8")
    except SourceProblem as problem:
        problem.bytes, problem.sha256 = size, _digest(hasher, hashing)  # still worth reporting
        raise
    return Source(size=size, sha256=_digest(hasher, hashing), file=file, codec=codec, bom=bom)


def _load_sheet(data: bytes, resource: Resource) -> Source:
    digest = hashlib.sha256(data).hexdigest()
    try:
        sheet = excel.read_sheet(data, resource.dialect or {})
    except excel.SheetProblem as problem:
        refused = SourceProblem(problem.error)
        refused.bytes, refused.sha256 = len(data), digest  # still worth reporting
        raise refused from problem
    return Source(size=len(data), sha256=digest, sheet=sheet)


def _hash(hasher, file: DataFile) -> None:
    for block in file.blocks(0):
        hasher.update(block)


def _digest(hasher, hashing: threading.Thread | None) -> str:
    if hashing is not None:
        hashing.join()
    return hasher.hexdigest()


def codec_of(encoding: str) -> str:
    """The codec's name, or SourceProblem for an unknown encoding."""
    try:
        info = codecs.lookup(encoding) if isinstance(encoding, str) else None
        # rot13, base64, zlib... are codecs too, but not text encodings: bytes.decode refuses them
        if info is None or not getattr(info, "_is_text_encoding", True):
            raise LookupError(encoding)
        return info.name
    except LookupError as exc:
        raise SourceProblem(ENCODING_ERROR("unknown", encoding=encoding)) from exc


def check_decodes(file: DataFile, encoding: str) -> tuple[str, int]:
    """Decode the whole file strictly, a chunk at a time, keeping nothing; return the codec and
    the length of the UTF-8 byte-order mark (accepted and stripped). An undecodable byte is
    reported with its exact offset and line, which sample-based detection (frictionless's)
    cannot give: a GB18030 file whose first 190 KB is ASCII fails halfway."""
    codec = codec_of(encoding)
    bom = len(codecs.BOM_UTF8) if codec == "utf-8" and file.read(0, 3) == codecs.BOM_UTF8 else 0
    decoder = codecs.getincrementaldecoder(codec)("strict")
    pos = bom
    try:
        for data in file.blocks(bom):
            pos += len(data)
            decoder.decode(data)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        # the decoder's pending bytes (a character cut by the chunk's end) come before `data`
        offset = pos - len(exc.object) + exc.start
        line = sum(block.count(b"\n") for block in file.blocks(bom, offset)) + 1
        bad = file.read(offset, 4).hex(" ")
        fix, fix_zh = notes("encoding.fix_utf8") if codec == "utf-8" else notes("encoding.fix_other", encoding=encoding)
        where = {"encoding": encoding, "bad": bad, "offset": offset, "line": line}
        error = ENCODING_ERROR("undecodable", fix=fix, fix_zh=fix_zh, **where)
        raise SourceProblem(error.at(extra={"byteOffset": offset, "lineNumber": line})) from exc
    return codec, bom


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


def csv_options(text: str | Source, fmt: str, dialect: dict) -> dict:
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


def _prefix(text: str | Source, size: int) -> tuple[str, bool]:
    if isinstance(text, str):
        return text[:size], size >= len(text)
    return text.prefix(size)


def head_lines(text: str | Source, count: int, newline: str | None) -> str:
    """The first ``count`` lines, as a text stream would give them, from a prefix of the text
    (or of the file) only."""
    size = 1 << 16
    while True:
        head, whole = _prefix(text, size)
        found = list(itertools.islice(io.StringIO(head, newline=newline), count + 1))
        if len(found) > count or whole:
            return "".join(found[:count])
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


def head_records(text: str | Source, fmt: str, options: dict, count: int) -> list[list[str]]:
    """The first ``count`` records, parsed from a prefix of the text (or of the file) only."""
    size = 1 << 16
    while True:
        head, whole = _prefix(text, size)
        found = list(itertools.islice(csv.reader(io.StringIO(head, newline=_newline(fmt)), **options), count + 1))
        if len(found) > count or whole:
            return found[:count]
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


def _breaks(text: str, start: int, stop: int) -> int:
    """The line ends (\\n, \\r\\n, \\r) in text[start:stop], both ends at line starts."""
    cr = text.count("\r", start, stop)
    return text.count("\n", start, stop) + cr - (text.count("\r\n", start, stop) if cr else 0)


class ChunkLines:
    """The lines of a file's whole-line chunks from `position` in the current chunk on, moving
    to the next chunk when one runs out: for the csv module to read a record now and then while
    the caller counts the lines between in C. `offset` and `end` are the current chunk's bytes."""

    __slots__ = ("chunks", "text", "position", "offset", "end")

    def __init__(self, chunks: Iterator[tuple[int, int, str]]):
        self.chunks = chunks
        self.text = ""
        self.position = self.offset = self.end = 0

    def advance(self) -> bool:
        """Move to the next chunk; False at the end of the file."""
        nxt = next(self.chunks, None)
        if nxt is None:
            return False
        self.offset, self.end, self.text = nxt
        self.position = 0
        return True

    def __iter__(self) -> ChunkLines:
        return self

    def __next__(self) -> str:
        while self.position >= len(self.text):
            if not self.advance():
                raise StopIteration
        start = self.position
        self.position = end = line_end(self.text, start)
        return self.text[start:end]


def scan_records(source: Source, start: int, stop: int, options: dict) -> tuple[int, int]:
    """From byte `start`, where a CSV record starts, find the first record start at or after
    byte `stop` (a line start); return it (a byte offset) and how many records lie before it.
    For a line-safe file (`Source.line_safe`), read in whole-line chunks: nothing is held.

    A record spans lines only through a quoted (or escaped) line end, so a line without the
    quote or escape character, met at a record's start, is one whole record: such lines are
    counted in C (``str.count``), and only a line holding one of those characters is read by
    the csv module, which takes the rest of its record from the lines after it (from the next
    chunks, past `stop` too). Exact, and about a third of parsing's time.
    csv.Error propagates (the caller reads the table in one piece instead).
    """
    assert source.file is not None
    size = source.file.size
    stop = min(stop, size)
    if start >= stop:
        return start, 0
    specials = [c for c in (options.get("quotechar"), options.get("escapechar")) if c]
    codec = source.codec

    def chunks() -> Iterator[tuple[int, int, str]]:
        # cut at `stop` too, so that reaching a chunk from `stop` on at a record start ends the scan
        for first, last in ((start, stop), (stop, None)):
            for offset, block in source.line_blocks(first, last):
                yield offset, offset + len(block), block.decode(codec)

    feed = ChunkLines(chunks())
    records = csv.reader(feed, **options)  # one reader, moved from record start to record start
    count = 0
    while True:
        if feed.position >= len(feed.text):
            if not feed.advance():
                return size, count
            if feed.offset >= stop:
                return feed.offset, count
            continue
        text, pos = feed.text, feed.position
        first = -1
        for c in specials:
            i = text.find(c, pos)
            if i >= 0 and (first < 0 or i < first):
                first = i
        if first < 0:
            count += _breaks(text, pos, len(text))
            if feed.end == size and text[-1] not in "\r\n":
                count += 1  # the file's last line, without a line end
            feed.position = len(text)
            continue
        line = max(pos, text.rfind("\n", pos, first) + 1, text.rfind("\r", pos, first) + 1)
        count += _breaks(text, pos, line)
        feed.position = line
        next(records, None)
        count += 1
        if feed.offset >= stop:  # the record ran on past `stop`: the next one starts where it ended
            return feed.offset + len(feed.text[: feed.position].encode(codec)), count


def line_start_at(source: Source, i: int) -> int:
    """The first line start at or after byte `i` of a line-safe file (after its \\n, \\r\\n or \\r)."""
    assert source.file is not None
    file, size = source.file, source.file.size
    if i <= source.bom or i >= size:
        return max(source.bom, min(i, size))
    before = file.read(i - 1, 2)
    if before[:1] == b"\n" or (before[:1] == b"\r" and before[1:] != b"\n"):
        return i
    pos, window = i, 1 << 12
    while pos < size:
        data = file.read(pos, window)
        n, r = data.find(b"\n"), data.find(b"\r")
        if n >= 0 and (r < 0 or n < r):
            return pos + n + 1
        if r >= 0:
            return pos + r + (2 if file.read(pos + r + 1, 1) == b"\n" else 1)
        pos += len(data)
        window *= 2
    return size


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
