"""Search that works for Chinese: build-time indexes, query expressions, the searches themselves.

- `normalize`: per-character NFKC, case folding, Traditional → Simplified.
- `tokens`: what is indexed for a cell, and the FTS5 expression for a user's query.
- `index`: which columns are searchable; `index_resource` for the build, `create_index` for any index.
- `query`: the table filter, ranked search with highlights (the catalogue search runs in
  `gongkai.catalogue.reader` on the same expressions).
"""

from .index import TableIndex, index_resource, read_indexes, searchable_columns
from .normalize import normalize
from .query import filter_clause, highlight, search_table
from .tokens import index_tokens, match_expression, parse

__all__ = [
    "TableIndex",
    "filter_clause",
    "highlight",
    "index_resource",
    "index_tokens",
    "match_expression",
    "normalize",
    "parse",
    "read_indexes",
    "search_table",
    "searchable_columns",
]
