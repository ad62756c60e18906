"""The catalogue database, `catalog.db`: one home for its schema, its writer and its reader.

- `records`: each table's columns as a dataclass (the schema, and what the reader returns);
- `writer`: the only code that writes catalog.db (run by the build on the new release);
- `reader`: every query the site makes (`Catalogue`), returning records;
- `listing`: the catalogue list's filters, sorting, pages and facet counts (`/datasets`);
- `store`: how a server opens it (read-only, off the event loop; not a Datasette database).
"""

from .reader import Catalogue
from .store import CatalogueMissing, CatalogueStore, attach, of
from .writer import FILE, CatalogueWriter, write

__all__ = ["FILE", "Catalogue", "CatalogueWriter", "CatalogueMissing", "CatalogueStore", "attach", "of", "write"]
