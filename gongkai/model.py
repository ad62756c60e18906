"""Plain data passed between the build steps: what the catalogue read, for validate and load.

No I/O here and no behaviour beyond derived properties, so every step can be tested with
objects built by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import Error


@dataclass
class Resource:
    """One tabular resource of a dataset, its schema already resolved to a dict."""

    dataset: str
    name: str
    path: str  # as written in the descriptor (relative to the dataset folder)
    fullpath: Path | None  # resolved on disk; None when the path was refused as unsafe
    schema: dict  # a Table Schema descriptor (fields, primaryKey, foreignKeys, missingValues)
    format: str = "csv"  # csv | tsv | xlsx
    encoding: str = "utf-8"
    dialect: dict = field(default_factory=dict)
    descriptor: dict = field(default_factory=dict)  # the raw resource descriptor

    @property
    def folder(self) -> Path | None:
        """The dataset folder the path is relative to: nothing outside it may be read."""
        if self.fullpath is None:
            return None
        depth = len(PurePosixPath(self.path).parts) if self.path else 1
        return Path(self.fullpath).parents[max(depth, 1) - 1]

    @property
    def fields(self) -> list[dict]:
        return self.schema.get("fields", [])

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    @property
    def primary_key(self) -> list[str]:
        pk = self.schema.get("primaryKey") or []
        return [pk] if isinstance(pk, str) else list(pk)

    @property
    def foreign_keys(self) -> list[dict]:
        """Foreign keys normalised to ``{"fields": [...], "resource": str, "reference_fields": [...]}``.

        ``resource`` is the referenced resource's name; an empty string means this resource.
        """
        out = []
        for fk in self.schema.get("foreignKeys") or []:
            fields = fk.get("fields")
            ref = fk.get("reference") or {}
            ref_fields = ref.get("fields")
            out.append(
                {
                    "fields": [fields] if isinstance(fields, str) else list(fields or []),
                    "resource": ref.get("resource", "") or "",
                    "reference_fields": [ref_fields] if isinstance(ref_fields, str) else list(ref_fields or []),
                }
            )
        return out


@dataclass
class Dataset:
    """One dataset folder: its descriptor, its resources, and the catalogue-profile errors found."""

    name: str
    folder: Path
    descriptor: dict
    resources: list[Resource] = field(default_factory=list)
    errors: list[Error] = field(default_factory=list)  # package/profile errors, before any data is read
