"""Sending a published file: the right headers, byte ranges, and a compressed copy when it helps.

- `Content-Type` from the dataset's manifest (gongkai/exports/manifest.py: a GB18030 CSV says
  `charset=gb18030`), else guessed from the name;
- `Content-Disposition: attachment` with the file name in ASCII and as RFC 5987 `filename*`
  (RFC 6266), so a Chinese title survives every browser;
- `Accept-Ranges: bytes` (`Cache-Control`, `ETag` and `Last-Modified` are the same for every
  response of a release and come from plugins/http_cache.py);
- `Range: bytes=a-b` (one range) → 206 with `Content-Range`, unsatisfiable → 416, so downloads
  resume and in-browser SQLite readers fetch pages of `<dataset>.db`;
- text formats are gzip-compressed on the fly when the client accepts it and asked for the whole
  file (compressing a range would change what the range means); every other answer is the bytes
  as stored.

`plan(...)` is pure (headers and status from the request's headers and the file's facts);
`send(...)` does the I/O.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

CHUNK = 1 << 16
COMPRESSIBLE = ("text/", "application/json", "application/x-ndjson", "application/xml", "application/yaml")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Plan:
    status: int
    headers: list[tuple[str, str]]
    start: int = 0
    length: int = 0
    gzip: bool = False


def disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def plan(
    *, size: int, content_type: str, filename: str | None, range_header: str | None, accept_encoding: str, cors: dict
) -> Plan:
    """`filename` None: no `Content-Disposition`, for a document a browser shows (`/data.json`)."""
    base = [
        ("content-type", content_type),
        ("accept-ranges", "bytes"),
        *([("content-disposition", disposition(filename))] if filename is not None else []),
        *cors.items(),
    ]
    if range_header:
        m = _RANGE.match(range_header.strip())
        if m and (m.group(1) or m.group(2)):
            first, last = m.group(1), m.group(2)
            if first:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
            else:  # the last N bytes
                start, end = max(0, size - int(last)), size - 1
            if start >= size or end < start:
                return Plan(416, [*base, ("content-range", f"bytes */{size}"), ("content-length", "0")])
            length = end - start + 1
            headers = [*base, ("content-range", f"bytes {start}-{end}/{size}"), ("content-length", str(length))]
            return Plan(206, headers, start, length)
        # a malformed or multi-range header is ignored (RFC 9110 allows it): the whole file
    compressible = content_type.startswith(COMPRESSIBLE) and size > 1024
    if compressible and "gzip" in accept_encoding.lower():
        return Plan(200, [*base, ("content-encoding", "gzip"), ("vary", "Accept-Encoding")], 0, size, gzip=True)
    vary = [("vary", "Accept-Encoding")] if compressible else []
    return Plan(200, [*base, *vary, ("content-length", str(size))], 0, size)


async def send(send, path: Path, p: Plan, *, head: bool = False) -> None:
    await send(
        {"type": "http.response.start", "status": p.status, "headers": [(k.encode(), v.encode()) for k, v in p.headers]}
    )
    if head or p.status == 416:
        await send({"type": "http.response.body", "body": b""})
        return
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31) if p.gzip else None  # 31: a gzip header
    with open(path, "rb") as f:
        f.seek(p.start)
        left = p.length
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            body = compressor.compress(chunk) if compressor else chunk
            if body:
                await send({"type": "http.response.body", "body": body, "more_body": True})
    tail = compressor.flush() if compressor else b""
    await send({"type": "http.response.body", "body": tail})
