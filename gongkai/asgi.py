"""The ASGI app factory each uvicorn worker calls: `uvicorn --factory gongkai.asgi:create_app`.

`gongkai.serve.serve` sets GONGKAI_SITE_DIR (the resolved release folder) and GONGKAI_ROOT (the
repository holding plugins/ and templates/) before uvicorn spawns its workers.

Datasette's own `app()` only answers the ASGI lifespan protocol: its startup work (the
`startup` and `prepare_jinja2_environment` plugin hooks, counting immutable tables) runs on
the first HTTP request instead. Under uvicorn with workers that means each worker's first
visitor waits for it, and a plugin whose startup hook fails only shows up then. `with_startup`
runs that work during lifespan startup, so a worker that cannot start fails at boot; the
first-request hook later finds it done (`invoke_startup` is idempotent, and the table counts
come from inspect.json).
"""

from __future__ import annotations

import os
from pathlib import Path

from datasette.app import Datasette

from .serve import ROOT_ENV, SITE_DIR_ENV, make_datasette


def with_startup(ds: Datasette, app):
    """Wrap Datasette's ASGI app so lifespan startup runs Datasette's startup work."""

    async def asgi(scope, receive, send):
        if scope["type"] != "lifespan":
            return await app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await ds.invoke_startup()
                    for db in ds.databases.values():
                        if not db.is_mutable:
                            await db.table_counts(limit=60 * 60 * 1000)
                except Exception as e:  # report to uvicorn, which stops the worker
                    await send({"type": "lifespan.startup.failed", "message": repr(e)})
                    raise
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return asgi


def create_app():
    site_dir = os.environ.get(SITE_DIR_ENV)
    root = os.environ.get(ROOT_ENV)
    if not site_dir or not root:
        raise RuntimeError(f"{SITE_DIR_ENV} and {ROOT_ENV} must be set (gongkai.serve.serve sets them)")
    ds = make_datasette(Path(site_dir), root=Path(root))
    return with_startup(ds, ds.app())
