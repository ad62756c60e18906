"""The rejected-rows file: the rows of a resource that failed validation, as a CSV a publisher
opens in Excel or WPS, fixes and pastes back (ckan/ckan#3517 asks for exactly this).

One file per failing resource: the row number (as the report and the spreadsheet count it), for
an Excel resource the cells (Sheet1!C7), the original cells under the original header, then the
row's errors in Chinese and in English. UTF-8 with a byte-order mark, which is how Chinese Excel
recognises UTF-8 (without it, it reads the file as GBK). Cells are written formula-safe
(`gongkai.csv_cells`): the data may hold `=...`.

Bounded: at most `CAP` rows (validation itself stops at its error limit); the report says when
the file holds fewer rows than failed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from .csv_cells import neutralise
from .errors import Error, notes

CAP = 1000
FOLDER = "rejected"  # beside the reports: reports/rejected/<dataset>/<resource>.csv


@dataclass(frozen=True)
class RejectedRows:
    path: str  # relative to the reports folder
    text: str  # the CSV, BOM included
    rows: int  # rows that failed
    shown: int  # rows in the file

    @property
    def capped(self) -> bool:
        return self.shown < self.rows


def path_for(dataset: str, resource: str) -> str:
    # names are checked upstream, but a file name must never climb out of the reports folder
    safe = [re.sub(r"[^\w.-]", "_", name).lstrip(".") or "_" for name in (dataset, resource)]
    return f"{FOLDER}/{safe[0]}/{safe[1]}.csv"


def _column(key: str) -> str:
    en, zh = notes(f"report.rejected.{key}")
    return f"{zh} {en}"


def _describe(error: Error, lang: str) -> str:
    title = error.title_zh if lang == "zh" else error.title
    note = (error.note_zh or error.note) if lang == "zh" else error.note
    if error.field_name:
        head = notes("report.rejected.in_column", title=title, name=error.field_name)[0 if lang == "en" else 1]
    else:
        head = title
    return f"{head}: {note}" if lang == "en" and note else (f"{head}：{note}" if note else head)


def rejected_rows(dataset: str, task, cap: int = CAP) -> RejectedRows | None:
    """The rejected-rows file of one validated resource (a `TaskResult`), or None when no row
    failed (header and file errors have no row to give back)."""
    by_row: dict[int, list[Error]] = {}
    cells: dict[int, tuple] = {}
    for error in task.errors:
        if error.row_number is None or error.cells is None:
            continue
        by_row.setdefault(error.row_number, []).append(error)
        cells.setdefault(error.row_number, error.cells)
    if not by_row:
        return None
    width = max([len(task.labels)] + [len(c) for c in cells.values()])
    labels = list(task.labels) + [""] * (width - len(task.labels))
    excel = any("sheet" in e.extra for errors in by_row.values() for e in errors)
    out = io.StringIO()
    writer = csv.writer(out)
    head = [_column("row")] + ([_column("cells")] if excel else [])
    writer.writerow(head + [neutralise(label) for label in labels] + [_column("errors_zh"), _column("errors_en")])
    numbers = sorted(by_row)
    for number in numbers[:cap]:
        errors = by_row[number]
        row = [str(number)]
        if excel:
            row.append(" ".join(dict.fromkeys(e.extra["cellRef"] for e in errors if e.extra.get("cellRef"))))
        values = [str(c) if c is not None else "" for c in cells[number]]
        values += [""] * (width - len(values))  # a short row: its missing cells left empty
        row += [neutralise(v) for v in values]
        row.append(neutralise("；".join(_describe(e, "zh") for e in errors)))
        row.append(neutralise("; ".join(_describe(e, "en") for e in errors)))
        writer.writerow(row)
    return RejectedRows(
        path=path_for(dataset, task.resource.name),
        text="\ufeff" + out.getvalue(),
        rows=len(numbers),
        shown=min(cap, len(numbers)),
    )


def for_result(result, cap: int = CAP) -> list[RejectedRows]:
    """The rejected-rows files of a dataset's validation (a `DatasetResult`), one per resource."""
    found = (rejected_rows(result.dataset.name, task, cap) for task in result.tasks)
    return [r for r in found if r is not None]
