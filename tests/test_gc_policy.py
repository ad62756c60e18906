"""A worker's collector: paused while it builds its site, everything then alive frozen once its
startup has completed (gongkai/gc_policy.py)."""

import asyncio
import gc

from gongkai import gc_policy


def _lifespan(app, messages: list[dict]) -> list[tuple[str, bool, int]]:
    """Run `app`'s lifespan over `messages`; what was sent, with the collector's state then."""
    seen: list[tuple[str, bool, int]] = []
    queue = iter(messages)

    async def receive():
        return next(queue)

    async def send(message):
        seen.append((message["type"], gc.isenabled(), gc.get_freeze_count()))

    asyncio.run(app({"type": "lifespan"}, receive, send))
    return seen


async def _site(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


def test_frozen_and_collecting_again_once_startup_completed():
    gc.unfreeze()
    try:
        gc_policy.pause()
        assert not gc.isenabled()
        kept = [[i] for i in range(1000)]  # container objects: tracked by the collector
        seen = _lifespan(
            gc_policy.freeze_after_startup(_site), [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        )
        assert seen[0][0] == "lifespan.startup.complete"
        assert seen[0][1] is True  # collecting again when the server hears the worker is ready
        assert seen[0][2] >= len(kept)  # what the startup built is in the permanent generation
    finally:
        gc.unfreeze()
        gc.enable()


def test_other_scopes_pass_through_untouched():
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["type"])

    asyncio.run(gc_policy.freeze_after_startup(app)({"type": "http"}, None, None))
    assert calls == ["http"]
