"""The catalogue database, `catalog.db`: one home for its schema, its writer and its reader.

- `records`: each table's columns as a dataclass (the schema, and what the reader returns);
- `writer`: the only code that writes catalog.db (run by the build on the new release);
- `reader`: every query the site makes (`Catalogue`), returning records;
- `listing`: the catalogue list's filters, sorting, pages and facet counts (`/datasets`);
- `store`: how a server opens it (read-only, off the event loop; not a Datasette database).
"""

from typing import TYPE_CHECKING

from .reader import Catalogue
from .store import FILE, CatalogueMissing, CatalogueStore, attach, of

if TYPE_CHECKING:
    from .writer import CatalogueWriter, write


def __getattr__(name: str):
    # The writer is build-side: it imports the descriptor parser and the whole validator
    # (~2 s of a server's start on a busy machine), which a server never runs (#10).
    if name in ("CatalogueWriter", "write"):
        from . import writer

        return getattr(writer, name)
    raise AttributeError(name)


__all__ = ["FILE", "Catalogue", "CatalogueWriter", "CatalogueMissing", "CatalogueStore", "attach", "of", "write"]
