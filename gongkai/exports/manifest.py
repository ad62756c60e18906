"""`downloads/<dataset>/files.json`: every published file with its size, SHA-256 and media type.

Written last by `publish`, read by the landing page's download block, the DCAT documents and the
download route (which serves `Content-Type`, `ETag` and `Content-Disposition` from it)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST = "files.json"


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to downloads/<dataset>/
    kind: str  # original | csv | excel-csv | json | ndjson | xlsx | parquet | dictionary | zip | db | descriptor | encoded
    resource: str | None
    bytes: int
    sha256: str
    media_type: str
    # a compressed copy (kind `encoded`, gongkai/exports/precompress.py): its content coding
    # (`br`, `gzip`) and the path of the file it is a copy of
    encoding: str | None = None
    source: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        return d if self.kind == "encoded" else {k: v for k, v in d.items() if k not in ("encoding", "source")}


def write_manifest(folder: Path, entries: list[FileEntry]) -> None:
    data = {"files": [e.to_dict() for e in entries]}
    (folder / MANIFEST).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def read_manifest(folder: Path) -> list[FileEntry]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return [FileEntry(**e) for e in data.get("files", [])]
    except (OSError, ValueError, TypeError):
        return []


def sha256(path: Path) -> str:
    """The file's SHA-256 (hex), read in blocks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
