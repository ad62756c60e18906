"""What a visitor reads when a request goes wrong, in both languages, saying what to do.

Datasette and SQLite explain a mistake in English and in their own terms ("no such column:
nope", "Cannot sort table by nope"). Each message we know is a pattern below, its named groups
the parts that come from the request, and a key of gongkai/locales/errors.yaml whose zh and en
sentences say what is wrong and what to do. The patterns stay here (they are code: regular
expressions over other programs' English); every word a visitor reads is in the locale file.

A database's own message is kept beside the sentence (`Explained.detail`): it is the precise
text a visitor who writes SQL can search for. A message no pattern knows still gets a sentence
for its kind, with the message as the detail.

Three kinds of message (`Kind`):

- "request": Datasette's words about the address (unknown sort column, bad `_size`, a guard);
- "sql": the database's words about SQL the visitor wrote (`?sql=`, canned queries, `_where=`);
- "page": the database's words about SQL the site built from the address's parameters (a table
  page's filters, sort and `_next`): the visitor wrote no SQL, so the sentence speaks of the
  address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gongkai import i18n

Kind = Literal["request", "sql", "page"]


@dataclass(frozen=True)
class Explained:
    zh: str
    en: str
    detail: str | None = None  # the original message, shown as it is (escaped) beside the sentence
    about_sql: bool = False  # the sentence is about SQL the visitor wrote (error pages say so)
    from_database: bool = False  # the detail is the database's words (else Datasette's or the site's)

    @property
    def detail_label(self) -> str:
        """The locale key that introduces the detail."""
        return "err_detail_label" if self.from_database else "err_detail_label_site"

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


# Datasette's messages for mistakes in the address, and the guards' (gongkai/query_pools.py).
REQUEST = [
    (r"Database not found", "err_database_not_found"),
    (r"Table not found.*", "err_table_not_found"),
    (r"Record not found", "err_record_not_found"),
    (r"404", "err_page_not_found"),
    # plugins/portal.py's pages
    (r"Dataset not found", "err_dataset_not_found"),
    (r"Resource not found", "err_resource_not_found"),
    (r"Report not found", "err_report_not_found"),
    (r"File not found", "err_file_not_found"),
    (r"Publisher not found", "err_publisher_not_found"),
    (r"Theme not found", "err_theme_not_found"),
    (r"Catalogue not found", "err_catalogue_missing"),
    (r"Cannot sort table by (?P<column>.*)", "err_cannot_sort"),
    (r"Cannot use _sort and _sort_desc at the same time", "err_sort_both"),
    (r"_size must be a positive integer", "err_size_positive"),
    (r"_size must be <= (?P<max>\d+)", "err_size_max"),
    (r"_next must be a whole number ≥ 0", "err_search_next"),  # plugins/search.py
    (r"_col=(?P<columns>.*) - invalid columns", "err_col_invalid"),
    (r"_nocol=(?P<columns>.*) - invalid columns", "err_nocol_invalid"),
    (r"_facet= is not allowed", "err_facet_not_allowed"),
    (r"_where= is not allowed", "err_where_not_allowed"),
    (r"_next not allowed for CSV streaming", "err_next_csv"),
    (r"Invalid _through - could not find corresponding foreign key", "err_through_invalid"),
    (r"Invalid _shape: (?P<shape>.*)", "err_shape_invalid"),
    (r"_shape=object is only available on tables", "err_shape_object_tables"),
    (r"_shape=object not available for tables with no primary keys", "err_shape_object_no_key"),
    (r"You do not have permission to .*", "err_forbidden"),
    (r"Method (?P<method>[A-Z]+) is not allowed here", "err_method_not_allowed"),
    (r"(?s).*SQL query took too long.*", "err_query_too_long"),
    (r"Query result is larger than (?P<limit>\d+) bytes", "err_result_too_large"),
    (r"Query makes a value larger than (?P<limit>\d+) bytes", "err_value_too_large"),
    (r"Query uses a function or statement this site does not allow", "err_not_allowed_function"),
    (r"Query needs more memory than this site allows", "err_too_much_memory"),
]

# SQLite's messages (sqlite3's, and Datasette's checks of a visitor's SQL), found by sending the
# site's databases the mistakes people make (tests/test_error_pages.py sends each one).
SQL = [
    (r"Statement must be a SELECT", "err_sql_not_select"),
    (r"Statement contained a disallowed PRAGMA\. Allowed pragma functions are (?P<allowed>.*)", "err_sql_pragma"),
    (r"no such table: (?P<name>.+)", "err_sql_no_such_table"),
    (r"no such column: (?P<name>.+)", "err_sql_no_such_column"),
    (r"ambiguous column name: (?P<name>.+)", "err_sql_ambiguous_column"),
    (r'(?s)near "(?P<token>.*)": syntax error', "err_sql_syntax"),
    (r"incomplete input", "err_sql_incomplete"),
    (r'(?s)unrecognized token: "(?P<token>.*)"', "err_sql_unrecognized_token"),
    (r"no such function: (?P<name>.+)", "err_sql_no_such_function"),
    (r"wrong number of arguments to function (?P<name>.+)\(\)", "err_sql_wrong_arguments"),
    (r"You can only execute one statement at a time\.", "err_sql_one_statement"),
    (r"no tables specified", "err_sql_no_tables"),
    (
        r"\d+\w\w (?P<clause>ORDER BY|GROUP BY) term out of range - should be between 1 and (?P<max>\d+)",
        "err_sql_term_out_of_range",
    ),
    (
        r"SELECTs to the left and right of (?P<operator>UNION ALL|UNION|INTERSECT|EXCEPT) do not have the same "
        r"number of result columns",
        "err_sql_compound_columns",
    ),
    (
        r"(?P<clause>ORDER BY|LIMIT) clause should come after (?P<operator>UNION ALL|UNION|INTERSECT|EXCEPT) not before",
        "err_sql_clause_after_compound",
    ),
    (r"sub-select returns (?P<n>\d+) columns - expected 1", "err_sql_subselect_columns"),
    (r"misuse of (?:aggregate|aggregate function|window function) (?P<name>[^()]+)\(\)", "err_sql_aggregate_misuse"),
    (r"misuse of aggregate: (?P<name>[^()]+)\(\)", "err_sql_aggregate_misuse"),
    (r"aggregate functions are not allowed in the GROUP BY clause", "err_sql_aggregate_group_by"),
    (r"row value misused", "err_sql_row_value"),
    (r"no such window: (?P<name>.+)", "err_sql_no_such_window"),
    (r"datatype mismatch", "err_sql_datatype_mismatch"),
    (r"malformed JSON", "err_sql_malformed_json"),
    (r"unable to use function MATCH in the requested context", "err_sql_match"),
    (
        r"(?s)(Binding \d+ has no name, but you supplied a dictionary|Incorrect number of bindings supplied).*",
        "err_sql_unnamed_parameter",
    ),
    (r"no such collation sequence: (?P<name>.+)", "err_sql_no_such_collation"),
    (r"(parser stack overflow|Expression tree is too large.*)", "err_sql_too_complex"),
    (r"integer overflow", "err_sql_integer_overflow"),
    (r"circular reference: (?P<name>.+)", "err_sql_circular_reference"),
]

_REQUEST = [(re.compile(pattern), key) for pattern, key in REQUEST]
_SQL = [(re.compile(pattern), key) for pattern, key in SQL]


def _match(patterns, message: str) -> tuple[str, dict[str, str]] | None:
    for pattern, key in patterns:
        m = pattern.fullmatch(message)
        if m:
            return key, m.groupdict()
    return None


def _both(key: str, fmt: dict[str, str]) -> tuple[str, str]:
    return i18n.t(key, "zh", **fmt), i18n.t(key, "en", **fmt)


def explain(
    message: str, kind: Kind = "request", args: frozenset[str] = frozenset(), fallback: str = "err_unknown_request"
) -> Explained:
    """`message` (Datasette's or the database's English) as a sentence in each language.

    `args` are the names of the request's arguments: on a table page, a database error with
    `_next` in the address is a damaged page token, whatever the database's words. `fallback`
    is the sentence for a message of Datasette's that no pattern knows (by its status: a 404
    says the page is not there)."""
    found = _match(_REQUEST, message)
    if found:
        zh, en = _both(*found)
        return Explained(zh, en)
    if kind == "request":
        zh, en = _both(fallback, {})
        return Explained(zh, en, detail=message)
    about_sql = kind == "sql"
    if kind == "page" and "_next" in args:
        zh, en = _both("err_page_bad_next", {})
        return Explained(zh, en, detail=message, from_database=True)
    found = _match(_SQL, message)
    if found:
        zh, en = _both(*found)
        return Explained(zh, en, detail=message, about_sql=about_sql, from_database=True)
    zh, en = _both("err_sql_unknown" if about_sql else "err_page_bad_query", {})
    return Explained(zh, en, detail=message, about_sql=about_sql, from_database=True)


def say(key: str, **fmt: str) -> Explained:
    """A sentence the site itself chose (a key of errors.yaml), in each language."""
    zh, en = _both(key, fmt)
    return Explained(zh, en)
