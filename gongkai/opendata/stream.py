"""A JSON document whose one big array is written as it is read, so a catalogue of any size is
served in bounded memory: `json_document(head, key, slices)` yields the text of
`{**head, key: [item, item, …]}` one slice of items at a time (`slices` yields lists).

`slices_of(read, size)` turns a keyset reader (`harvest.after`) into those slices.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

SLICE = 200  # datasets per catalogue read: ~1 MB of JSON, a few ms of queries


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def json_document(head: dict, key: str, slices: AsyncIterator[list]) -> AsyncIterator[str]:
    members = _dumps(head)[1:-1]  # the head's members, without its braces
    yield "{" + (members + "," if members else "") + _dumps(key) + ":["
    first = True
    async for items in slices:
        if not items:
            continue
        text = ",".join(_dumps(item) for item in items)
        yield text if first else "," + text
        first = False
    yield "]}"


async def slices_of(
    read: Callable[[str | None, int], Awaitable[list]], size: int = SLICE, *, key: Callable[[Any], str]
) -> AsyncIterator[list]:
    """Every item from `read(after, size)` until a short slice: `key(item)` is the cursor."""
    after: str | None = None
    while True:
        items = await read(after, size)
        if items:
            yield items
        if len(items) < size:
            return
        after = key(items[-1])
