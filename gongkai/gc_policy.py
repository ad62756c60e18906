"""A server worker's Python garbage collector, kept off what grows with the number of datasets.

A worker builds one `Database` (and its pool closures, routes and inspect entries) per dataset
at start: at 10,000 datasets ~250,000 objects that live as long as the process. CPython's full
(generation 2) collection walks every tracked object, so each one a request happened to
trigger walked all of them: measured in-process on the 10,000-dataset release, ~0.5 s for one
collection (one landing page in a few hundred paid it), against a few ms at 50 datasets; and
the collections run while the worker builds those objects cost ~0.4 s of its start.

So the worker pauses the collector while it builds the site and, once its startup work is done,
moves everything alive then into the permanent generation (`gc.freeze`), which collections skip:
a request's collections walk only what requests made. Nothing frozen is garbage-collected, and
none of it is garbage: the site's objects live as long as the worker. The supervisor freezes
what it imported before it forks (the workers' copies are never walked either, and their pages
stay shared with the supervisor instead of being written by the collector's bookkeeping).
"""

from __future__ import annotations

import gc


def pause() -> None:
    """Stop automatic collections while a worker builds its site (objects that live as long as
    it does: collecting them would only walk them)."""
    gc.disable()


def freeze() -> None:
    """Everything alive now goes to the permanent generation; automatic collection resumes."""
    gc.freeze()
    gc.enable()


def freeze_after_startup(app):
    """ASGI middleware: `freeze()` once the app's lifespan startup has completed, just before
    the server is told so (the worker then serves its first request)."""

    async def asgi(scope, receive, send):
        if scope["type"] != "lifespan":
            return await app(scope, receive, send)

        async def send_frozen(message):
            if message.get("type") in ("lifespan.startup.complete", "lifespan.startup.failed"):
                freeze()
            await send(message)

        return await app(scope, receive, send_frozen)

    return asgi
