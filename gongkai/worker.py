"""One server worker process: holds its release, serves it, and retires without dropping a request.

The supervisor (gongkai/supervisor.py) starts each worker by forking itself (uvicorn spawns a
fresh interpreter, which imports Datasette, the plugins and their libraries again: ~3 s of a
worker's start on a busy 2-core machine, most of the server's startup; the supervisor has
imported them once, `preload`, so a forked worker starts with them imported). The worker gets
the release folder its supervisor resolved and locked. The worker takes its own
shared lock on that release before it imports the site (a lock held by the supervisor alone
would vanish if the supervisor died while its workers kept serving), and opens exactly that
folder, never whatever `build/site` points to by then.

Retiring (SIGTERM, sent by a reload) is uvicorn's graceful shutdown with a drain in front:
uvicorn on its own stops accepting and at once closes every idle keep-alive connection, and
any connection it accepted but had not read yet — a client that sent its request a moment
earlier sees a reset. `DrainingServer` first stops accepting (the shared listening socket
keeps its backlog for the other workers), answers every further request on an open connection
with `Connection: close`, and waits (at most `DRAIN_S`) for the clients to finish and close
their connections; only connections idle that long are closed by uvicorn.
"""

from __future__ import annotations

import asyncio
import importlib.util
import multiprocessing
import os
import signal
import time
from pathlib import Path
from socket import socket

from uvicorn._subprocess import subprocess_started
from uvicorn.server import Server
from uvicorn.supervisors.multiprocess import SIGNALS, Process

from . import releases

_fork = multiprocessing.get_context("fork")

DRAIN_S = 3.0  # longest wait for clients to close their connections once a worker retires
_draining = False  # set in this worker process when it starts retiring
_hold: releases.Hold | None = None  # this worker's lock on its release, for its whole life


class DrainingServer(Server):
    async def shutdown(self, sockets: list[socket] | None = None) -> None:
        global _draining
        _draining = True
        for server in self.servers:
            server.close()  # stop accepting; the shared socket's backlog goes to the others
        deadline = time.monotonic() + DRAIN_S
        while self.server_state.connections and time.monotonic() < deadline and not self.force_exit:
            await asyncio.sleep(0.02)
        await super().shutdown(sockets)


class Worker(Process):
    """uvicorn's worker process, started on one given release folder."""

    def __init__(self, config, sockets: list[socket], release: str, parent_fds: tuple[int, ...] = ()) -> None:
        self.release = release
        # The supervisor's own locks (its releases, its registry entry): a forked child would
        # otherwise keep them held after the supervisor let them go.
        self.parent_fds = parent_fds
        super().__init__(config, sockets)
        # uvicorn's process, forked instead of spawned (see the module docstring).
        self.process = _fork.Process(  # type: ignore[assignment]
            target=subprocess_started,
            kwargs={"config": config, "target": self.target, "sockets": sockets, "stdin_fileno": None},
        )

    @property
    def server(self) -> Server:
        if self._server is None:
            self._server = DrainingServer(config=self.config)
        return self._server

    def target(self, sockets: list[socket] | None = None) -> None:  # pragma: no cover (child)
        # Runs in the new process. The supervisor's signal handlers came with the fork: a
        # worker answers signals as a fresh process does until uvicorn installs its own.
        for sig in SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        for fd in self.parent_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        # The lock lives as long as this process (its descriptor is never closed).
        global _hold
        _hold = releases.hold(self.release)
        super().target(sockets)


def close_when_draining(app):
    """ASGI middleware: once this worker retires, every response closes its connection, so a
    client never sends its next request down a connection about to be closed."""

    async def asgi(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)

        async def send_closing(message):
            if _draining and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)

        return await app(scope, receive, send_closing)

    return asgi


def preload(root: Path) -> None:
    """Import, in the supervisor before it forks any worker, what every worker imports: the
    site's code (gongkai.asgi, Datasette) and the libraries the plugins import. The plugin files
    are run as throwaway modules (Datasette registers its own copies in each worker); nothing
    here opens a file, a connection or a thread, which a fork would share."""
    from . import asgi  # noqa: F401

    for path in sorted((Path(root) / "plugins").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"_gongkai_preload_{path.stem}", path)
        if spec is None or spec.loader is None:
            continue
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def create_app():
    """The app factory uvicorn calls in each worker (`gongkai.worker:create_app`)."""
    from . import gc_policy
    from .asgi import create_app as site_app
    from .serve import SITE_DIR_ENV

    if _hold is not None:  # gongkai.asgi reads the folder from the environment
        os.environ[SITE_DIR_ENV] = str(_hold.path)

    gc_policy.pause()  # until the startup work is done (gongkai/gc_policy.py)
    app = gc_policy.freeze_after_startup(site_app())
    from .limits import Limits
    from .query_pools import limit_process_heap
    from .serve import ROOT_ENV

    limit_process_heap(Limits.load(Path(os.environ[ROOT_ENV])))
    return close_when_draining(app)
