"""The XLSX bench: validate + load a 200 000-row × 8 Excel workbook, against `frictionless validate`
of the same file, in the same run (target: at least 10× faster).

The workbook holds `gongkai.bench.data`'s table as Excel would: numbers as numbers, dates as
date cells, text as shared strings, blanks as empty cells. It is written once with openpyxl
(write-only) and cached beside the other bench data (a stamp names the rows and generator).

Also timed, to show why the reader is calamine: reading every cell of the sheet with
python-calamine and with openpyxl (read-only, what frictionless uses), each in its own process.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from . import data
from .load import BIN, _fresh_db, _ratio, _tail, log, measure, run_gongkai

ROWS = 200_000
QUICK_ROWS = 20_000
XLSX_NAME = "data.xlsx"
GENERATOR_VERSION = 1
TARGET_SPEEDUP = 10

_READ_CALAMINE = (
    "import sys, python_calamine as c\n"
    "b = c.CalamineWorkbook.from_path(sys.argv[1]); n = sum(len(r) for r in b.get_sheet_by_index(0).to_python())\n"
    "print(n)\n"
)
_READ_OPENPYXL = (
    "import sys, openpyxl\n"
    "b = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)\n"
    "print(sum(len(r) for r in b.worksheets[0].iter_rows(values_only=True)))\n"
)


def _typed(row: list[str]) -> list:
    """One generated row as Excel cells: numbers, a date, text; an empty amount is an empty cell."""
    number, name, category, amount, count, day, code, public = row
    return [
        int(number),
        name,
        category,
        float(amount) if amount else None,
        int(count),
        date.fromisoformat(day),
        code,
        public,
    ]


def write_workbook(folder: Path, rows: int) -> Path:
    """The bench's XLSX Data Package in `folder`, written only when missing or stale."""
    stamp = {"generator_version": GENERATOR_VERSION, "data_version": data.GENERATOR_VERSION, "rows": rows}
    stamp_file = folder / ".bench-stamp.json"
    try:
        if json.loads(stamp_file.read_text()) == stamp and (folder / XLSX_NAME).exists():
            return folder
    except (OSError, ValueError):
        pass
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("采购合同")
    sheet.append(data.header())
    for row in data.generate_rows(rows):
        sheet.append(_typed(row))
    book.save(folder / XLSX_NAME)
    descriptor = data.descriptor("bench-procurement-xlsx", rows)
    resource = descriptor["resources"][0]
    resource.update(path=XLSX_NAME, format="xlsx", dialect={"excel": {"sheet": "采购合同"}})
    resource.pop("encoding"), resource.pop("mediatype")  # a workbook has neither
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", "utf-8")
    stamp_file.write_text(json.dumps(stamp))
    return folder


def run_xlsx_bench(workdir: Path, rows: int) -> dict:
    folder = workdir / "data" / f"xlsx-{rows}"
    log(f"XLSX workbook of {rows:,} rows × 8 (cached in {folder})")
    write_workbook(folder, rows)
    workbook = folder / XLSX_NAME
    out: dict = {"xlsx_rows": rows, "xlsx_bytes": workbook.stat().st_size, "notes": []}

    log("  gongkai read_dataset + load_dataset (validate and insert in one pass)")
    run, result = run_gongkai(folder, _fresh_db(workdir / "db" / "xlsx.db"))
    if not result.get("valid") or result.get("rows_loaded") != rows:
        raise RuntimeError(f"gongkai did not load the XLSX whole: {json.dumps(result, ensure_ascii=False)[:2000]}")
    out["xlsx_gongkai_s"] = round(run.seconds, 3)
    out["xlsx_gongkai_load_s"] = round(result["seconds"], 3)  # without the interpreter's start-up
    out["xlsx_gongkai_peak_mb"] = run.peak_mb

    log("  frictionless validate of the same workbook")
    validate = measure([str(BIN / "frictionless"), "validate", str(folder / "datapackage.json")])
    if validate.returncode:
        raise RuntimeError(f"frictionless validate failed on the XLSX:\n{_tail(validate.stdout + validate.stderr)}")
    out["xlsx_frictionless_validate_s"] = round(validate.seconds, 3)
    out["xlsx_frictionless_peak_mb"] = validate.peak_mb
    out["xlsx_speedup_vs_frictionless"] = _ratio(validate.seconds, run.seconds)
    # the same ratio in CPU time: on a shared machine runs minutes apart see different contention
    out["xlsx_gongkai_cpu_s"], out["xlsx_frictionless_cpu_s"] = round(run.cpu_s, 3), round(validate.cpu_s, 3)
    out["xlsx_speedup_vs_frictionless_cpu"] = _ratio(validate.cpu_s, run.cpu_s)

    log("  reading every cell: python-calamine vs openpyxl read-only")
    for name, script in (("calamine", _READ_CALAMINE), ("openpyxl", _READ_OPENPYXL)):
        read = measure([sys.executable, "-c", script, str(workbook)])
        if read.returncode:
            raise RuntimeError(f"{name} could not read the workbook:\n{_tail(read.stderr)}")
        out[f"xlsx_read_{name}_s"] = round(read.seconds, 3)
    out["xlsx_read_calamine_vs_openpyxl"] = _ratio(out["xlsx_read_openpyxl_s"], out["xlsx_read_calamine_s"])
    log(
        f"  gongkai {out['xlsx_gongkai_s']} s, frictionless validate {out['xlsx_frictionless_validate_s']} s "
        f"-> {out['xlsx_speedup_vs_frictionless']}x; reading: calamine {out['xlsx_read_calamine_s']} s, "
        f"openpyxl {out['xlsx_read_openpyxl_s']} s"
    )
    value = out["xlsx_speedup_vs_frictionless"]
    out["targets"] = {
        "xlsx_speedup_vs_frictionless": {
            "target": TARGET_SPEEDUP,
            "kind": "min",
            "value": value,
            "met": None if value is None else value >= TARGET_SPEEDUP,
        }
    }
    out["notes"].append(
        "wall time of whole processes (interpreter start-up included on both sides); "
        "gongkai validates and loads into SQLite, frictionless only validates"
    )
    return out
