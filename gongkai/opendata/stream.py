"""A JSON document whose one big array is written as it is read, so a catalogue of any size is
served in bounded memory: `json_document(head, key, slices)` yields the text of
`{**head, key: [item, item, …]}` one slice of items at a time (`slices` yields lists).

`slices_of(read, size)` turns a keyset reader (`harvest.after`) into those slices;
`slices_of_sync` is the same for the build, which writes the documents into the release from
`opening`, `dumps` of each item joined by commas, and `CLOSING` (gongkai/catalogue_files.py),
so the file and the stream are one text.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

SLICE = 200  # datasets per catalogue read: ~1 MB of JSON, a few ms of queries


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def opening(head: dict, key: str) -> str:
    members = dumps(head)[1:-1]  # the head's members, without its braces
    return "{" + (members + "," if members else "") + dumps(key) + ":["


def _joined(items: list, first: bool) -> str:
    text = ",".join(dumps(item) for item in items)
    return text if first else "," + text


CLOSING = "]}"


async def json_document(head: dict, key: str, slices: AsyncIterator[list]) -> AsyncIterator[str]:
    yield opening(head, key)
    first = True
    async for items in slices:
        if not items:
            continue
        yield _joined(items, first)
        first = False
    yield CLOSING


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


def slices_of_sync(
    read: Callable[[str | None, int], list], size: int = SLICE, *, key: Callable[[Any], str]
) -> Iterator[list]:
    """`slices_of` for a synchronous reader."""
    after: str | None = None
    while True:
        items = read(after, size)
        if items:
            yield items
        if len(items) < size:
            return
        after = key(items[-1])
