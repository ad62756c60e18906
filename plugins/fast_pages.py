"""Take per-request work off pages of an immutable site (measured with `gongkai.bench.serve`).

These hooks remove repeated work whose answer cannot change while a release is served; none
caches a response, so every request still runs its queries and renders its template. Together
they take a 55-row table page from ~19 to ~14 ms of CPU (Chinese column names).
"""

from __future__ import annotations

import functools

from datasette import hookimpl
from datasette.plugins import pm
from datasette.utils import to_css_class
from datasette.utils.internal_db import init_internal_db

from gongkai.serve import memory_map

# Names a template can reach on a dict as attributes (`d.items`): Jinja gives the attribute
# precedence over the key, so these keep Jinja's own lookup.
_DICT_ATTRIBUTES = frozenset(dir(dict))


def dict_first_getattr(jinja_getattr):
    """Jinja's `obj.name` lookup with a fast path for plain dicts.

    Jinja tries `getattr(obj, name)` first and only then `obj[name]`; Datasette's table
    templates read every cell as `cell.column`, `cell.value`, `cell.value_type` on dicts, so
    each lookup raises and catches an AttributeError: ~1,500 exceptions on a 100-row page.
    For a dict key that is not also a dict attribute the answer is the same, without raising.
    """

    def getattr_(obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return jinja_getattr(obj, attribute)

    return getattr_


@hookimpl
def prepare_jinja2_environment(env):
    # Table templates call `to_css_class` once per cell with the column name. A name outside
    # [a-zA-Z0-9_-] (every Chinese column name) costs a regex, an MD5 and a few string passes
    # each time: ~600 calls on a 100-row page. The function is pure, and a site has few names.
    env.filters["to_css_class"] = functools.lru_cache(maxsize=4096)(to_css_class)
    # Templates ship with the code and a deploy restarts the workers: no need for Jinja to stat
    # every template file on every render to see whether it changed.
    env.auto_reload = False
    if not getattr(env.getattr, "_gongkai_dict_first", False):
        env.getattr = dict_first_getattr(env.getattr)
        env.getattr._gongkai_dict_first = True


@hookimpl
def startup(datasette):
    async def inner():
        # Every view starts with `refresh_schemas()`: a query on the internal database plus
        # `PRAGMA schema_version` on every attached database, per request, and a first run that
        # copies every database's schema into the internal database. Immutable databases cannot
        # change schema, and nothing the site serves reads that copy (in Datasette 0.65 only the
        # root-only `/_internal` pages show it): filled at start it would open every one of
        # 10,000 databases in each worker and take seconds. So the internal database keeps its
        # tables, empty, and nothing walks the databases, at start or per request.
        served = [db for name, db in datasette.databases.items() if name != "_internal"]
        if served and not any(db.is_mutable for db in served):
            if not datasette.internal_db_created:
                await init_internal_db(datasette.databases["_internal"])
                datasette.internal_db_created = True

            async def schemas_are_fixed():
                return None

            datasette.refresh_schemas = schemas_are_fixed

    return inner


class EmptyHookShortcut:
    """A pluggy hook caller that answers [] at once while the hook has no implementation.

    Datasette calls `render_cell` for every cell of every table, row and query page (~300
    times for a 36-row page): with no plugin implementing it, each call still checks its
    arguments and runs pluggy's loop, ~5 us, 1.4 ms of a 7 ms page. Anything else (and every
    call once a plugin implements the hook, registered before or after) goes to pluggy itself.
    """

    def __init__(self, caller):
        self._gongkai_caller = caller

    def __call__(self, **kwargs):
        caller = self._gongkai_caller
        if not caller._hookimpls:
            return []
        return caller(**kwargs)

    def __getattr__(self, name):
        return getattr(self._gongkai_caller, name)


PER_CELL_HOOKS = ("render_cell",)


def shortcut_empty_hooks(manager=pm) -> None:
    """Idempotent across copies of this module: Datasette runs a plugins folder's files again
    for every instance it makes (and gongkai.worker.preload once more), each with its own
    `EmptyHookShortcut` class, so a wrapper is recognised by its attribute, not its class.
    (Tested by class, a process that made a thousand instances, the test suite, wrapped the
    hook a thousand deep and every call ended in a RecursionError.)"""
    for name in PER_CELL_HOOKS:
        caller = getattr(manager.hook, name)
        if not hasattr(caller, "_gongkai_caller"):
            setattr(manager.hook, name, EmptyHookShortcut(caller))


shortcut_empty_hooks()


@hookimpl
def prepare_connection(conn, database, datasette):
    db = datasette.databases.get(database)
    if db is not None and not db.is_mutable:
        memory_map(conn, db.size)
