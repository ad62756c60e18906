"""Datasette's CSV (`.csv`, `.csv?_stream=on`, `.csv?sql=…`) with spreadsheet formulas
neutralised (gongkai.csv_cells: OWASP's `'` prefix, plain numbers left alone).

The hook: `DataView.as_csv` (datasette/views/base.py) writes every row, the header included,
through `csv.writer(...)`, looked up as the module global `csv` of datasette.views.base. We
give that one module a `csv` whose `writer` wraps the real one and neutralises each row before
it is written; the `csv` module itself, and every other user of it, is untouched. Nothing else
of Datasette changes: the streaming, the size limit, labels and blob URLs run as before.

A Datasette upgrade that writes CSV some other way would silently bypass this, so the plugin
refuses to load unless `as_csv` still calls `csv.writer` through that global (the site then
fails at startup), and tests/test_csv_injection.py checks real CSV responses.
"""

from __future__ import annotations

import csv as _csv
import inspect
import types

import datasette.views.base as views_base

from gongkai.csv_cells import neutralise_row


class NeutralisingWriter:
    """csv.writer's interface, each row neutralised. `writerow` returns what the real one
    returns: Datasette's file object is async, so that is the coroutine it awaits."""

    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows):
        return self._writer.writerows(neutralise_row(r) for r in rows)

    def __getattr__(self, name):
        return getattr(self._writer, name)


def writer(fileobj, *args, **kwargs):
    return NeutralisingWriter(_csv.writer(fileobj, *args, **kwargs))


def safe_csv_module() -> types.ModuleType:
    shim = types.ModuleType("csv", "The csv module for datasette.views.base, formulas neutralised")
    shim.__dict__.update({k: v for k, v in vars(_csv).items() if not k.startswith("__")})
    shim.__dict__.update(writer=writer, _gongkai_neutralising=True)
    return shim


def install(module=views_base) -> None:
    source = inspect.getsource(module.DataView.as_csv)
    if getattr(module, "csv", None) is not _csv and not getattr(
        getattr(module, "csv", None), "_gongkai_neutralising", False
    ):
        raise RuntimeError("datasette.views.base no longer imports csv: CSV formula neutralising cannot hook it")
    if "csv.writer(" not in source:
        raise RuntimeError("Datasette's as_csv no longer calls csv.writer: CSV formula neutralising would be bypassed")
    if not getattr(module.csv, "_gongkai_neutralising", False):
        module.csv = safe_csv_module()


install()
