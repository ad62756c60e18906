"""One table: its header against the schema, then every row, with frictionless v5's errors.

The semantics are frictionless's ``Header`` (table/header.py), ``Row`` (table/row.py) and the
row stream of ``TableResource`` (resources/table.py): which errors, on which row and column,
in which order. The speed comes from splitting the work in two paths:

- the fast path is one Python function generated (``exec``) per schema: it unpacks the CSV
  record into exactly as many cells as expected, casts each one (the field's inline
  expression, or its bound ``cast``), checks foreign keys with set look-ups and hands the
  primary-key and ``unique`` values to the flat key store (`keys.KeyStore`: SQLite, which
  only says whether some value repeats; a table that repeats one is read again with the
  exact memory, `keys.KeyMemory`, whose look-ups here send the repeat to the slow path). Any exception, wrong cell count or failed check sends the record
  to
- the slow path, a plain port of frictionless's per-row processing, which re-does the row
  from scratch and produces the typed errors. Valid rows never reach it.

The fast path never commits anything (key memories, collected references) before it knows
the row is valid, so the slow path always starts from the same state frictionless would.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import itertools
from collections.abc import Iterator
from typing import Any

from ..errors import (
    BLANK_LABEL,
    BLANK_ROW,
    BYTE_COUNT,
    DUPLICATE_LABEL,
    EXTRA_CELL,
    EXTRA_LABEL,
    FIELD_ERROR,
    FOREIGN_KEY,
    FORMAT_ERROR,
    HASH_COUNT,
    INCORRECT_LABEL,
    MISSING_CELL,
    MISSING_LABEL,
    PRIMARY_KEY,
    RESOURCE_ERROR,
    SCHEMA_ERROR,
    SOURCE_ERROR,
    UNIQUE_ERROR,
    Error,
)
from ..model import Resource
from . import excel, pattern_guard, personal_data, reader, split
from .fields import Caster, CellError, compile_field, constraint_notes
from .keys import BATCH, NUL, Duplicate, KeyMemory, KeyStore
from .personal_data import RowGuard


class _Stop(Exception):
    """The error limit is reached: stop reading the table."""


class _Column:
    """A field in the position the header gives it in the data."""

    __slots__ = ("name", "number", "caster", "loose_caster", "required", "field", "missing_values")

    def __init__(self, field: dict, number: int, missing_values: list):
        self.field = field
        self.name = field["name"]
        self.number = number
        self.missing_values = missing_values
        self.caster = compile_field(field, missing_values)
        self.required = bool((field.get("constraints") or {}).get("required"))
        self.loose_caster: Caster | None = None

    def loose(self, cell: str) -> Any:
        """The value without its constraints: frictionless keeps the value of a cell that only
        fails a constraint, and that value still counts for keys and references."""
        if self.loose_caster is None:
            field = {k: v for k, v in self.field.items() if k != "constraints"}
            self.loose_caster = compile_field(field, self.missing_values, storage=False)
        return self.loose_caster.cast(cell)


class TableValidator:
    """Validate one tabular resource while streaming its valid rows (see the module docstring).

    ``references`` maps ``(resource_name, (field, ...))`` to the set of value tuples of a
    resource this one refers to by foreign key; ``collect`` names the field tuples whose
    values other resources refer to (``reference_values`` after ``rows()`` is exhausted).
    """

    _source: str  # the generated row loop's source, set by `_compile_stream` (for debugging)

    def __init__(
        self,
        resource: Resource,
        *,
        references: dict | None = None,
        limit_errors: int = 1000,
        collect: list | tuple = (),
        personal_data: object = None,
        guard: bool = True,
        exact_keys: bool = False,
    ):
        """``personal_data`` is the dataset's ``gov:personalData`` (the columns published on
        purpose); ``guard=False`` only where no row is published (a values-only look-up).
        ``exact_keys``: remember every key with its row number from the start (what a table
        found to repeat a key is read again with; see `keys`)."""
        self.resource = resource
        self._exact_keys = exact_keys
        self._store: KeyStore | None = None
        self._declared = personal_data
        self._guard: RowGuard | None = None
        self._guarding = guard
        self.errors: list[Error] = []
        self.labels: list[str] = []
        self.stats: dict = {"rows": 0, "fields": len(resource.fields), "bytes": 0, "sha256": None}
        self._limit = limit_errors or 0
        self._references = references or {}
        self._collected: dict[tuple, set] = {tuple(c): set() for c in collect}
        self._failed = False
        self._consumed = False
        self._data: reader.Source | None = None
        self._body: tuple[int, int] | None = None  # (the data's first byte in the file, header records)
        self._sheet: excel.Sheet | None = None  # an Excel resource's sheet, read instead of text
        self._kinds: list[str] = []  # the field type per column, for rendering Excel cells
        try:
            source = reader.load(resource)
            self.stats["bytes"] = source.size
            self.stats["sha256"] = source.sha256
            self._data = source
            self._fmt = (resource.format or "csv").lower()
            if source.sheet is not None:
                self._open_sheet(source.sheet)
            else:
                self._options = reader.csv_options(source, self._fmt, resource.dialect or {})
                sample = reader.head_records(source, self._fmt, self._options, reader.SNIFF_LINES)
                self._layout = reader.Layout.from_dialect(resource.dialect or {}, sample)
            self.labels, self._content = self._open_content()
        except reader.SourceProblem as problem:
            self.stats["bytes"], self.stats["sha256"] = problem.bytes, problem.sha256
            self._fail(problem.error)
            return
        except (csv.Error, ValueError) as exc:
            self._fail(self._csv_error(exc))
            return
        self.stats["labels"] = list(self.labels)
        self._prepare()

    # Set-up

    def _fail(self, error: Error) -> None:
        self._failed = True
        self.errors.append(self._locate(error))

    def _locate(self, error: Error) -> Error:
        r = self.resource
        error = error.at(dataset=r.dataset, resource=r.name, file=r.path)
        if self._sheet is not None:
            error = excel.locate(
                error, self._sheet.name, self._layout.header_rows[-1] if self._layout.header_rows else 1
            )
        return error

    def _open_sheet(self, sheet: excel.Sheet) -> None:
        # an Excel sheet: the layout as for CSV (header rows, comments), no CSV syntax
        dialect = self.resource.dialect or {}
        self._options = {}
        self._layout = reader.Layout.from_dialect(dialect, sheet.text_rows(reader.SNIFF_LINES))
        merged = excel.merged_header_cells(sheet, self._layout.header_rows) if self._layout.header else []
        if merged and not excel.fills_merged_cells(dialect):
            error = FORMAT_ERROR("merged-header", ranges=", ".join(merged)).at(extra={"sheet": sheet.name})
            problem = reader.SourceProblem(error)
            problem.bytes, problem.sha256 = self.stats["bytes"], self.stats["sha256"]
            raise problem
        self._sheet = sheet

    def _csv_error(self, exc: Exception) -> Error:
        return SOURCE_ERROR("unparsable", exc=exc)

    def _open_content(self):
        if self._sheet is not None:
            header = iter(self._sheet.text_rows(self._layout.first_content_row - 1))
            labels, consumed = reader.read_labels(header, self._layout)
            recs = excel.text_records(self._sheet, consumed + 1, self._kinds)
            return labels, reader.content(recs, self._layout, consumed + 1)
        source = self._data
        assert source is not None and source.file is not None  # a CSV file was opened
        if self._body is None and split.may_split(self._fmt, source.size) and source.line_safe:
            # a big CSV may be read in two parts, from two byte offsets, each by its own process
            # (gongkai.validate.split): read only the header now, the rest when needed
            header = _Taken(source.lines(self._fmt))
            labels, consumed = reader.read_labels(reader.records_of(header, self._options), self._layout)
            head = "".join(header.taken).encode(source.codec)
            if source.file.read(source.bom, len(head)) == head:  # the text gives back its bytes
                self._body = (source.bom + len(head), consumed)
                return labels, split.Deferred(lambda: self._open_content()[1])
            self._body = (-1, consumed)  # it does not: read in one piece
        # the file is read again, a chunk at a time, each time the table is read (a
        # self-reference reads it twice): nothing of it is held
        recs = reader.records_of(source.lines(self._fmt), self._options)
        labels, consumed = reader.read_labels(recs, self._layout)
        return labels, reader.content(recs, self._layout, consumed + 1)

    def _prepare(self) -> None:
        schema = self.resource.schema
        fields = self.resource.fields
        self._missing = schema.get("missingValues", [""])
        match = schema.get("fieldsMatch", "exact")
        self._header_errors, expected = _match_header(
            self.labels, fields, match, self._layout.header_case, self.resource.primary_key
        )
        for error in self._header_errors:
            self.errors.append(self._locate(error))
        try:
            # a label without a field gets an "any" field of its own, outside the schema, so
            # with frictionless's default missing values
            self._columns = [
                _Column(f, i, self._missing if any(f is g for g in fields) else [""])
                for i, f in enumerate(expected, start=1)
            ]
        except ValueError as exc:
            self._fail(FIELD_ERROR("invalid", exc=exc))
            return
        names = [c.name for c in self._columns]
        self._kinds[:] = [c.field.get("type") or "string" for c in self._columns]
        self._index = {name: i for i, name in enumerate(names)}
        if self._guarding:
            self._guard_header(names)
        # output: one value per schema field, in schema order (None where the header lacks it)
        self._out = [self._index.get(f["name"]) for f in fields]

        pk = self.resource.primary_key
        self._pk = [self._index[n] for n in pk] if pk and all(n in self._index for n in pk) else []
        self._unique = [i for i, c in enumerate(self._columns) if (c.field.get("constraints") or {}).get("unique")]
        self._fks = []  # (target indexes, target names, source name, source fields, value set)
        self._self_refs: dict[tuple, set] = {}
        for fk in self.resource.foreign_keys:
            target = tuple(fk["fields"])
            if not target or not all(n in self._index for n in target):
                # frictionless skips a key whose fields the header lacks; a key of no fields
                # (`"fields": []`, found by the fuzz test) has nothing to check
                continue
            source = fk["resource"]
            source_fields = tuple(fk["reference_fields"])
            values: set | None
            if not source or source == self.resource.name:
                values = self._self_refs.setdefault(source_fields, set())
            else:
                values = self._references.get((source, source_fields))
                if values is None:
                    # frictionless cannot open the table without its look-up: this is the
                    # only error it reports
                    self.errors.clear()
                    shown = {"fields": ", ".join(source_fields), "fields_zh": "、".join(source_fields)}
                    self._fail(RESOURCE_ERROR("lookup-missing", source=source, **shown))
                    return
            self._fks.append((tuple(self._index[n] for n in target), target, source, source_fields, values))
        self._collect = [
            (fields_, tuple(self._index.get(n) for n in fields_), values)
            for fields_, values in self._collected.items()
            if fields_  # referenced by a key of no fields: nothing to collect
        ]
        references = [refs for _, _, refs in self._collect]
        self._keys: KeyMemory | KeyStore
        if self._exact_keys or not (self._pk or self._unique):
            self._keys = KeyMemory(primary={}, unique={i: {} for i in self._unique}, references=references)
            self._pk_seen = self._keys.primary
            self._unique_seen = self._keys.unique
        else:
            # keys in SQLite, flat in rows; a repeat has the table read again exactly
            self._keys = self._store = KeyStore(len(self._pk), self._unique, references)
        # a source is empty when it has neither labels nor data (frictionless's baseline check)
        if not self.labels:
            first = next(self._content, None)
            if first is None:
                self.errors.append(self._locate(SOURCE_ERROR("empty")))
            else:
                self._content = _chain_first(first, self._content)

    def _guard_header(self, names: list[str]) -> None:
        """Compile the personal-data guard and check the header with it; a header error that
        quotes an identifier written as a label shows it masked."""
        fields = [c.field for c in self._columns]
        guard = personal_data.compile_guard(names, self.resource.name, self._declared, fields)
        if guard is None:
            return
        self._guard = guard
        header_row = self._layout.header_rows[-1] if self._layout.header and self._layout.header_rows else None
        labels = self.labels or []
        hits = guard.hits(labels) if labels else []
        if hits:
            self.errors[:] = [personal_data.redact(e, hits) for e in self.errors]
        self.errors.extend(self._locate(e) for e in guard.label_errors(labels, header_row))

    # Public API

    def stream(self, writer: split.PartWriter | None = None) -> split.RowStream:
        """The valid rows; iterating the stream is iterating `rows()`. With a `writer` (the
        consumer's), a big table's last rows may be written in parallel instead, into the
        stream's `parts` (see `split`)."""
        return split.RowStream(self.rows, writer)

    def split_plan(self) -> split.Plan | None:
        """What the parallel split needs of this table, or None when it was read in one piece
        (too small, not CSV, or no header)."""
        if self._body is None or self._body[0] < 0 or not self.labels:
            return None
        assert self._data is not None
        start, header_records = self._body
        return split.Plan(
            resource=self.resource,
            source=self._data,
            fmt=self._fmt,
            body=start,
            header_records=header_records,
            options=self._options,
            layout=self._layout,
            keys=self._keys,
        )

    def rows(self, out: split.RowStream | None = None) -> Iterator[tuple]:
        """The valid rows as tuples of SQLite-ready values, in schema field order."""
        if self._consumed:
            raise RuntimeError("rows() can only be consumed once")
        self._consumed = True
        try:
            if self._failed:
                return
            patterns = [c.name for c in self._columns if (c.field.get("constraints") or {}).get("pattern") is not None]
            with pattern_guard.guarded(bool(patterns)):
                try:
                    yield from self._rows(out)
                except pattern_guard.PatternTimeout:
                    names = ", ".join(f'"{n}"' for n in patterns)
                    self._fail(FIELD_ERROR("pattern-timeout", seconds=f"{pattern_guard.TICK_S:g}", names=names))
        finally:
            # the rows are read (and the file hashed again if asked): close the file now, not
            # when the cyclic collector frees the validator (a build opens thousands of files)
            if self._data is not None and self._data.file is not None:
                self._data.file.close()
            if self._store is not None:
                self._store.close()

    def _rows(self, out):
        try:
            complete = yield from self._read(out)
            if self._store is not None:
                self._store.finish()
        except Duplicate:
            # some key came twice: only the exact memory says on which rows
            assert self._store is not None
            yield from self._read_exactly(out, self._store.passed)
            return
        if complete:
            self.errors.extend(self._locate(e) for e in self._integrity_errors())

    def _read_exactly(self, out: split.RowStream | None, passed: int) -> Iterator[tuple]:
        """Validate the table again from its first byte with the exact key memory, yield its
        valid rows after the first `passed` (the same rows, already passed on), and take its
        result (errors, stats, the values other resources refer to) as this one's."""
        if self._store is not None:
            self._store.close()
        if out is not None:  # (a part is only handed on after the last key check: never here)
            for part in out.parts:
                part.unlink(missing_ok=True)
            out.parts.clear()
        exact = TableValidator(
            self.resource,
            references=self._references,
            limit_errors=self._limit,
            collect=list(self._collected),
            personal_data=self._declared,
            guard=self._guarding,
            exact_keys=True,
        )
        yield from itertools.islice(exact.rows(out), passed, None)
        self.errors[:] = exact.errors
        self.stats = exact.stats
        self._collected = exact._collected

    def _read(self, out):
        """The rows read with the current key memory; returns whether the table was read to
        its end (not stopped by the error limit)."""
        try:
            if self._self_refs:
                self._collect_self_references()
            if self._limit and len(self.errors) >= self._limit:
                del self.errors[self._limit :]
                raise _Stop
            counter = [0]
            make = _compile_stream(self)
            plan = self.split_plan()
            if plan is not None and split.eligible(plan):
                stream = split.stream(plan, make, self._slow, counter, out, self._content, self._read_on)
            else:
                stream = make(self._content, self._slow, counter)
            # the loop allocates a few objects per row and keeps many (keys, references):
            # the cyclic collector would rescan the growing key memory again and again
            gc_enabled = gc.isenabled()
            gc.disable()
            try:
                yield from stream
            finally:
                self.stats["rows"] = counter[0]
                if gc_enabled:
                    gc.enable()
        except _Stop:
            self._collect_remaining()
            return False
        except csv.Error as exc:
            self.errors.append(self._locate(self._csv_error(exc)))
        return True

    def _read_on(self, content: Iterator[tuple[int, list[str]]]) -> None:
        # the split reads the table its own way: the error limit's look-up reads on from there
        self._content = content

    def _integrity_errors(self) -> list[Error]:
        """The declared `hash` and `bytes` against the file read (frictionless's hash-count and
        byte-count, reported after the rows as frictionless does)."""
        declared = self.resource.descriptor
        found = []
        expected_hash = declared.get("hash")
        if isinstance(expected_hash, str) and expected_hash:
            algorithm, _, digest = expected_hash.rpartition(":")
            algorithm = algorithm or "md5"  # frictionless's default for an unprefixed hash
            if algorithm == "sha256":
                actual = self.stats["sha256"]
            elif algorithm in hashlib.algorithms_available:
                actual = self._digest(algorithm)
            else:
                actual = None
            if actual is not None and actual != digest:
                found.append(HASH_COUNT("mismatch", algorithm=algorithm, digest=digest, actual=actual))
        expected_bytes = declared.get("bytes")
        if isinstance(expected_bytes, int) and expected_bytes != self.stats["bytes"]:
            found.append(BYTE_COUNT("mismatch", expected=expected_bytes, actual=self.stats["bytes"]))
        return found

    def _digest(self, algorithm: str) -> str | None:
        if self._data is not None and self._data.file is not None:
            return self._data.digest(algorithm)  # the file opened for the rows, read again in chunks
        # an Excel file: read again through the same checks (inside the folder, a regular file, capped)
        folder = self.resource.folder
        assert folder is not None  # the file was read: its path is inside the folder
        try:
            data = reader.files.read_bytes(folder, self.resource.path)
        except reader.files.FileRefused:
            return None
        return hashlib.new(algorithm, data).hexdigest()

    def reference_values(self, fields: tuple[str, ...]) -> set[tuple]:
        return self._collected[tuple(fields)]

    # Slow path: frictionless's Row.__process and the row stream's key checks

    def _cells(self, cells: list[str]) -> tuple[list, list[list[Error]], int]:
        """Cast every expected cell: values (None where invalid), each cell's errors, and the
        number of blank cells (missing values, missing cells; not type errors)."""
        errors: list[list[Error]] = []
        values: list[Any] = []
        blank = 0
        n = len(cells)
        for i, column in enumerate(self._columns):
            found: list[Error] = []
            errors.append(found)
            if i >= n:
                values.append(None)
                blank += 1
                if column.required:
                    found.append(self._cell_error("constraint-error", *REQUIRED_NOTES, column, "", cells))
                continue
            cell = cells[i]
            try:
                value = column.caster.cast(cell)
            except CellError as exc:
                for type_, note, note_zh in getattr(exc, "notes", None) or [(exc.type, exc.note, exc.note_zh)]:
                    found.append(self._cell_error(type_, note, note_zh, column, cell, cells))
                value = None if exc.type == "type-error" else column.loose(cell)
                if value is None and exc.type != "type-error":
                    blank += 1
            else:
                if value is None:
                    blank += 1
            values.append(value)
        return values, errors, blank

    def _cell_error(self, type_: str, note: str, note_zh: str, column: _Column, cell: str, cells: list) -> Error:
        # the notes are the field's (gongkai.validate.fields), made from validation.yaml
        where = dict(field_name=column.name, field_number=column.number, cell=cell, cells=tuple(cells))
        return Error(type_, note=note, note_zh=note_zh, row_number=self._row_number, **where)

    def _slow(self, row_number: int, cells: list[str]) -> tuple | None:
        """One row exactly as frictionless processes it; the output tuple if it is valid.

        Error order follows frictionless's lazy ``Row``: the key checks read their cells
        first (unique fields, then the primary key, then foreign keys), and the first failed
        check makes the row process all its other cells, in field order.
        """
        self._row_number = row_number
        hits = self._guard.hits(cells) if self._guard is not None else ()
        values, cell_errors, blank = self._cells(cells)
        row: dict[str, Any] = dict(row_number=row_number, cells=tuple(cells))
        accessed: list[int] = []  # cells read by the key checks before the first failure
        failed = False

        def access(indexes) -> None:
            if not failed:
                accessed.extend(i for i in indexes if i not in accessed)

        key_errors: list[Error] = []
        store = self._store
        for i in self._unique:
            access([i])
            value = values[i]
            if value is not None and store is not None:
                store.unique[i].append(value)  # a repeat is found later, then placed exactly
            elif value is not None:
                seen = self._unique_seen[i]
                match = seen.get(value)
                seen[value] = row_number
                if match:
                    failed = True
                    name = self._columns[i].name
                    cell = cells[i] if i < len(cells) else ""
                    error = UNIQUE_ERROR("duplicate", name=name, match=match)
                    key_errors.append(error.at(field_name=name, field_number=i + 1, cell=cell, **row))

        if self._pk:
            access(self._pk)
            parts = tuple(values[i] for i in self._pk)
            names = ", ".join(self._columns[i].name for i in self._pk)
            if all(v is None for v in parts):
                failed = True
                key_errors.append(PRIMARY_KEY("blank", names=names).at(**row))
            elif store is not None:
                store.primary.append(parts[0] if len(parts) == 1 else tuple(NUL if v is None else v for v in parts))
            else:
                key = parts[0] if len(parts) == 1 else parts  # stored bare, as the fast path does
                match = self._pk_seen.get(key)
                self._pk_seen[key] = row_number
                if match:
                    failed = True
                    shown = ", ".join(str(v) for v in parts)
                    key_errors.append(PRIMARY_KEY("duplicate", names=names, shown=shown, match=match).at(**row))

        for indexes, target, source, source_fields, refs in self._fks:
            access(indexes)
            key = tuple(values[i] for i in indexes)
            if all(v is None for v in key) or key in refs:
                continue
            failed = True
            shown = ", ".join(str(v) for v in key)
            lists = {"target": ", ".join(target), "source_fields": ", ".join(source_fields)}
            lists_zh = {"target_zh": "、".join(target), "source_fields_zh": "、".join(source_fields)}
            source_zh = source or self.resource.name
            error = FOREIGN_KEY("not-found", shown=shown, source=source, source_zh=source_zh, **lists, **lists_zh)
            extra = {
                "fieldNames": list(target),
                "fieldCells": [str(v) for v in key],
                "referenceName": source,
                "referenceFieldNames": list(source_fields),
            }
            key_errors.append(error.at(extra=extra, **row))

        errors: list[Error] = []
        for i in accessed + [i for i in range(len(self._columns)) if i not in accessed]:
            errors.extend(cell_errors[i])
        errors.extend(self._shape_errors(cells, row))
        if blank == len(self._columns):
            errors = [BLANK_ROW("blank").at(**row)]
        errors.extend(key_errors)
        if hits:
            # the row is not published, and no error of it shows an identifier unmasked
            assert self._guard is not None
            errors.extend(self._guard.row_errors(row_number, cells, hits))
            errors = [personal_data.redact(e, hits) for e in errors]

        self._collect_values(values)
        if not errors:
            return tuple(values[i] if i is not None else None for i in self._out)
        for error in errors:
            self.errors.append(self._locate(error))
        if self._limit and len(self.errors) >= self._limit:
            del self.errors[self._limit :]
            raise _Stop
        return None

    def _shape_errors(self, cells: list[str], row: dict) -> list[Error]:
        counts = {"cells": len(cells), "columns": len(self._columns)}
        errors = []
        for number, cell in enumerate(cells[len(self._columns) :], start=len(self._columns) + 1):
            errors.append(EXTRA_CELL("extra", **counts).at(field_name="", field_number=number, cell=cell, **row))
        for column in self._columns[len(cells) :]:
            where = dict(field_name=column.name, field_number=column.number, cell="")
            errors.append(MISSING_CELL("missing", **counts).at(**where, **row))
        return errors

    # References

    def _collect_values(self, values: list) -> None:
        for _, indexes, refs in self._collect:
            key = tuple(values[i] if i is not None else None for i in indexes)
            if not all(v is None for v in key):
                refs.add(key)

    def _values_only(self, cells: list[str]) -> list:
        values = []
        for i, column in enumerate(self._columns):
            value = None
            if i < len(cells):
                try:
                    value = column.caster.cast(cells[i])
                except CellError as exc:
                    value = None if exc.type == "type-error" else column.loose(cells[i])
            values.append(value)
        return values

    def _collect_self_references(self) -> None:
        # frictionless looks a self-reference up in a full copy of the table, read first
        _, content = self._open_content()
        wanted = [(tuple(self._index.get(n) for n in fields_), refs) for fields_, refs in self._self_refs.items()]
        for _, cells in content:
            values = self._values_only(cells)
            for indexes, refs in wanted:
                key = tuple(values[i] if i is not None else None for i in indexes)
                if not all(v is None for v in key):
                    refs.add(key)

    def _collect_remaining(self) -> None:
        # the error limit stops validation, not the reference look-up other resources need
        if not self._collect:
            return
        for _, cells in self._content:
            self._collect_values(self._values_only(cells))


class _Taken:
    """Lines passed through, kept: the header's, to find the byte where the data starts."""

    def __init__(self, lines):
        self._lines = iter(lines)
        self.taken: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line


def _chain_first(first, rest):
    yield first
    yield from rest


REQUIRED_NOTES = constraint_notes("required", True)  # a required cell missing from the row


# Header


def _match_header(labels: list[str], fields: list[dict], match: str, header_case: bool, primary_key: list[str]):
    """Header errors and the expected fields, as frictionless's ``Header`` computes them.

    Returns ``(errors, expected)``: ``expected`` are the fields in data order, a label with no
    field getting an ``any`` field named after it (deduplicated).
    """
    if not labels:
        return [], list(fields)
    norm = (lambda s: s) if header_case else (lambda s: s.lower())
    by_name = match != "exact"
    by_key: dict[str, dict] = {}
    for f in fields:
        by_key.setdefault(norm(f["name"]), f)

    def matching(position: int, label: str):
        if not by_name:
            return fields[position] if position < len(fields) else None
        return by_key.get(norm(label))

    errors: list[Error] = []
    matched = [matching(p, label) for p, label in enumerate(labels)]

    if by_name:
        keys = [norm(label) for label in labels]
        if len(keys) != len(set(keys)):
            return [SCHEMA_ERROR("labels-not-unique", match=match)], list(fields)

    if match not in ("subset", "partial"):
        for number, (label, f) in enumerate(zip(labels, matched), start=1):
            if f is None:
                error = EXTRA_LABEL("not-in-schema", number=number, label=label)
                errors.append(error.at(field_name="", field_number=number, cell=label))

    if not by_name:
        unmatched = fields[len(labels) :]
    else:
        present = {norm(label) for label in labels}
        unmatched = [f for f in fields if norm(f["name"]) not in present]
    if match in ("superset", "partial"):
        unmatched = [f for f in unmatched if (f.get("constraints") or {}).get("required") or f["name"] in primary_key]
    for offset, f in enumerate(unmatched):
        where = dict(field_name=f["name"], field_number=len(labels) + 1 + offset, cell="")
        errors.append(MISSING_LABEL("no-column", name=f["name"]).at(**where))

    if not by_name:
        for number, (f, label) in enumerate(zip(fields, labels), start=1):
            name = f["name"]
            at = dict(field_name=name, field_number=number, cell=label)
            seen = [i for i, other in enumerate(labels[: number - 1], start=1) if other == label]
            if not label:
                errors.append(BLANK_LABEL("blank", number=number, name=name).at(**at))
            elif seen:
                positions = ", ".join(map(str, seen))
                errors.append(DUPLICATE_LABEL("duplicate", label=label, positions=positions).at(**at))
            elif norm(label) != norm(name):
                errors.append(INCORRECT_LABEL("mismatch", label=label, name=name).at(**at))

    names = _deduplicate([f["name"] if f is not None else label for f, label in zip(matched, labels)])
    expected = [f if f is not None else {"name": name, "type": "any"} for f, name in zip(matched, names)]
    return errors, expected


def _deduplicate(names: list[str]) -> list[str]:
    used: set[str] = set()
    out = []
    for name in names:
        new, suffix = name, 2
        while new in used:
            new = f"{name}{suffix}"
            suffix += 1
        out.append(new)
        used.add(new)
    return out


# The generated fast path


_MISS = object()
MEMO_SIZE = 8192


def _pk_key_source(indexes: list[int]) -> str:
    # a single-field key is stored bare: no tuple per row, and strings/ints hash faster
    if len(indexes) == 1:
        return f"v{indexes[0]}"
    return "(" + ", ".join(f"v{i}" for i in indexes) + ")"


def _compile_stream(v: TableValidator):
    """Generate the row loop for this table (see the module docstring)."""
    columns = v._columns
    n = len(columns)
    ns: dict[str, Any] = {}
    cells = ", ".join(f"x{i}" for i in range(n)) + ("," if n == 1 else "")
    body: list[str] = []
    # a field that is a key on its own never repeats a valid value: remembering would only miss
    alone_keyed = set(v._unique) | (set(v._pk) if len(v._pk) == 1 else set())
    ns["MISS"] = _MISS
    for i, column in enumerate(columns):
        inline = column.caster.inline
        if inline:
            body.append(f"v{i} = {inline.replace('{c}', f'x{i}')}")
        elif i in alone_keyed or not column.caster.memoised or not MEMO_SIZE:
            # the cast's own statements, inlined: no function call per cell
            block, names = column.caster.block_for(f"x{i}", f"v{i}", f"_{i}")
            ns.update(names)
            body += block
        else:
            # a cast is a pure function of the cell text: remember the valid results of
            # the types whose parsing is dear and whose values repeat (dates); the size cap
            # bounds the cost of a column that never repeats (measured: a miss costs about
            # three casts of a cheap type, so cheap types are not worth it)
            ns[f"c{i}"] = column.caster.cast
            ns[f"m{i}"] = {}
            body += [
                f"v{i} = m{i}.get(x{i}, MISS)",
                f"if v{i} is MISS:",
                f"    v{i} = c{i}(x{i})",
                f"    if len(m{i}) < {MEMO_SIZE}: m{i}[x{i}] = v{i}",
            ]

    checks: list[str] = []
    commits: list[str] = []
    flush: list[str] = []
    store = v._store
    if store is not None:
        # the keys go to the flat store in batches, unchecked here: a repeat anywhere has the
        # whole table read again with the exact memory (`keys`)
        # the valid rows of a batch are held until its keys are stored: a row passed on is
        # then valid for good (a later repeat of its key is the later row's error), and the
        # exact reading starts after the rows passed on (`store.passed`)
        ns.update(flush=store.flush, finish=store.finish, store=store, STOP=_Stop)
        flush = [
            f"if not count & {BATCH - 1}:",
            "    flush()",
            "    store.passed += len(pending)",
            "    yield from pending",
            "    pending.clear()",
        ]
        if v._pk:
            ns["kp"] = store.primary
            all_none = " and ".join(f"v{i} is None" for i in v._pk)
            checks.append(f"({all_none})")
            if len(v._pk) == 1:
                commits.append(f"kp.append(v{v._pk[0]})")
            else:
                ns["NUL"] = NUL
                composite = ", ".join(f"NUL if v{i} is None else v{i}" for i in v._pk)
                commits.append(f"kp.append(({composite}))")
        for i in v._unique:
            ns[f"ku{i}"] = store.unique[i]
            commits.append(f"if v{i} is not None: ku{i}.append(v{i})")
    elif v._pk:
        ns["pk"] = v._pk_seen
        key = _pk_key_source(v._pk)
        all_none = " and ".join(f"v{i} is None" for i in v._pk)
        checks.append(f"({all_none}) or {key} in pk")
        commits.append(f"pk[{key}] = rn")
    if store is None:
        for i in v._unique:
            ns[f"u{i}"] = v._unique_seen[i]
            checks.append(f"(v{i} is not None and v{i} in u{i})")
            commits.append(f"if v{i} is not None: u{i}[v{i}] = rn")
    for j, (indexes, _, _, _, refs) in enumerate(v._fks):
        ns[f"r{j}"] = refs
        key = "(" + ", ".join(f"v{i}" for i in indexes) + ",)"
        all_none = " and ".join(f"v{i} is None" for i in indexes)
        checks.append(f"(not ({all_none}) and {key} not in r{j})")
    for j, (_, positions, refs) in enumerate(v._collect):
        ns[f"k{j}"] = refs
        parts = [f"v{i}" if i is not None else "None" for i in positions]
        all_none = " and ".join(f"{p} is None" for p in parts)
        commits.append(f"if not ({all_none}): k{j}.add(({', '.join(parts)},))")
    # a row of missing values is a blank-row: impossible when a key or a required field
    # would already have stopped it
    if not v._pk and not any(c.required for c in columns):
        checks.append("(" + " and ".join(f"v{i} is None" for i in range(n)) + ")")
    out = ", ".join(f"v{i}" if i is not None else "None" for i in v._out) + ("," if len(v._out) == 1 else "")

    # one loop, no per-row function call: the valid row is cast, checked, committed and
    # yielded inline; anything else goes to `slow` which redoes the row exactly
    emit = "put" if store is not None else "yield"
    src = [
        "def stream(content, slow, counter):",
        "    count = 0",
        *(["    pending = []", "    put = pending.append"] if store is not None else []),
        "    try:",
        "        for rn, cells in content:",
        "            count += 1",
        *("            " + line for line in flush),
        "            try:",
        f"                {cells} = cells" if n else "                if cells: raise ValueError",
    ]
    guard = v._guard
    if guard is not None and n:
        # the personal-data guard, after the casts: a cheap condition per column (by its type:
        # a valid date needs none) and, if one holds, the full look (`hits`); a real hit goes
        # to the slow path, which reports it (in the split's child: the part is dirty)
        condition = guard.fast_condition()
        if condition:
            ns.update(g_hits=guard.hits, GuardHit=personal_data.GuardHit)
            ns.update(ZEROS=personal_data.ZEROS, ELEVEN=personal_data.ELEVEN, normalize=personal_data.normalize)
            body = body + [f"if ({condition}) and g_hits(cells): raise GuardHit"]
    src += ["                " + line for line in body]
    src += [
        "            except Exception:",
        "                out = slow(rn, cells)",
        "                if out is not None:",
        f"                    {emit}(out)",
        "                continue",
    ]
    if checks:
        src += [
            "            if " + " or ".join(checks) + ":",
            "                out = slow(rn, cells)",
            "                if out is not None:",
            f"                    {emit}(out)",
            "                continue",
        ]
    src += ["            " + line for line in commits]
    src += [f"            {emit}(({out}))"]
    if store is not None:
        # the last batch (also when the error limit stops the table: the rows before it count)
        ending = ["finish()", "store.passed += len(pending)", "yield from pending"]
        src += ["        " + line for line in ending]
        src += ["    except STOP:"] + ["        " + line for line in ending] + ["        raise"]
    src += [
        "    finally:",
        "        counter[0] = count",
    ]
    source = "\n".join(src) + "\n"
    exec(compile(source, f"<rows {v.resource.name}>", "exec"), ns)
    v._source = source
    return ns["stream"]
