"""A JSON object written a member at a time: the build's per-dataset files at 10,000 datasets.

`write_object(path, members, head=..., key=...)` writes `{**head, key: {name: value, …}}` (or
`{name: value, …}` without `key`) as compact JSON, the bytes `json.dumps` would give, without
holding the whole object or its text: `build-state.json` and `inspect.json` of 10,000 datasets
as one dict and one string were ~30 MB of a build's peak memory. Through a temporary file and a
rename, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def write_object(
    path: Path,
    members: Iterable[tuple[str, Any]],
    *,
    head: dict | None = None,
    key: str | None = None,
    ensure_ascii: bool = True,
) -> None:
    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii, separators=(",", ":"))

    if key is None:
        opening, closing = "{", "}"
    else:
        members_of_head = dumps({k: v for k, v in (head or {}).items() if k != key})[1:-1]
        opening, closing = "{" + (members_of_head + "," if members_of_head else "") + dumps(key) + ":{", "}}"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(opening)
            for i, (name, value) in enumerate(members):
                fh.write(("," if i else "") + dumps(name) + ":" + dumps(value))
            fh.write(closing)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
