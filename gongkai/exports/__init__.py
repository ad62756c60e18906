"""The downloads built ahead of time: every resource of a dataset in every open format.

`publish(dataset, database, target)` writes, under `downloads/<dataset>/` of a release, for each
resource table of the dataset's SQLite database:

- `<resource>.csv` (UTF-8) and `<resource>.excel.csv` (UTF-8 with a BOM and CRLF, which Chinese
  Excel opens correctly), `<resource>.json` (an array of objects) and `<resource>.ndjson`,
  `<resource>.xlsx` (column titles as the header, split across sheets past Excel's row limit,
  a second sheet with the data dictionary), `<resource>.parquet` (typed columns), and
  `<resource>.dictionary.csv`;
- for the dataset, `<dataset>.zip` (a data package: descriptor, the original files, their
  SHA-256) and `<dataset>.db`;
- `files.json`: every published file with its size, SHA-256 and media type, which the landing
  page, the DCAT documents and the download route read.

Every writer streams rows from SQLite, so memory stays bounded whatever the table's size.
Derived spreadsheets-to-be (CSV, XLSX) neutralise formula injection (`gongkai.csv_cells`, the rule Datasette's CSV uses too); the
original file is never changed. One module per format, each `write(rows, columns, path)`.
"""

from .manifest import MANIFEST, FileEntry, read_manifest
from .publish import publish

__all__ = ["MANIFEST", "FileEntry", "publish", "read_manifest"]
