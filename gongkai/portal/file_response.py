"""Sending a published file: the right headers, byte ranges, and a compressed copy when it helps.

- `Content-Type` from the dataset's manifest (gongkai/exports/manifest.py: a GB18030 CSV says
  `charset=gb18030`), else guessed from the name;
- `Content-Disposition: attachment` with a readable name (RFC 6266): `filename=` in ASCII (the
  file's own name) and `filename*=UTF-8''…` from the dataset's or resource's title in the page's
  language, so a Chinese title survives every browser (`download_name`);
- `Accept-Ranges: bytes`; `Range: bytes=a-b` (one range) → 206 with `Content-Range`,
  unsatisfiable → 416, so downloads resume and in-browser SQLite readers fetch pages of
  `<dataset>.db`. Ranges are always of the file as stored (identity): a range of a compressed
  copy would mean other bytes. `If-Range` with anything but the file's own tag sends it whole;
- the content coding from `Accept-Encoding` with its q-values (RFC 9110 §12.5.3: `br;q=1,
  gzip;q=0.8`, `identity;q=0`, `*`): brotli or gzip for the text formats, from the copy the build
  stored beside the file (gongkai/exports/precompress.py: no CPU per request) or, for a file too
  small to have one, compressed on the fly; `Vary: Accept-Encoding` on every answer of a
  compressible file;
- `ETag`: the file's SHA-256 (from the manifest) for the bytes as stored, the stored copy's own
  SHA-256 for a precompressed answer, and a weak `…-br` / `…-gzip` tag for one compressed on the
  fly: each encoding has its own tag, as a cache that keeps both must tell them apart; a
  matching `If-None-Match` is 304. (`Cache-Control` and `Last-Modified` come from
  plugins/http_cache.py, which keeps this tag; a request naming the file's content, `?v=` with
  the start of its SHA-256 as the landing page links it, may be cached for a year.)

`plan(...)` is pure (status and headers from the request's headers and the file's facts);
`send(...)` does the I/O.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import brotli

from ..exports.precompress import compressible
from .http_cache import IMMUTABLE

CHUNK = 1 << 16
ON_THE_FLY_MIN = 1024  # smaller answers are not worth a content coding
PREFERENCE = ("br", "gzip")  # at equal q, the smaller coding first
BR_STREAM_QUALITY = 4  # on the fly: brotli's fastest good level (python -m gongkai.bench.compression)
GZIP_STREAM_LEVEL = 6
NAME_BYTES = 180  # a readable name's UTF-8 bytes, suffix included: under every file system's 255
EXPOSE = "Content-Range, Content-Length, Content-Encoding, Accept-Ranges, Content-Disposition, ETag, Link"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
_CODING = re.compile(r"^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(?:;\s*q\s*=\s*([0-9.]+)\s*)?$", re.IGNORECASE)
_UNSAFE = re.compile(r'[\\/:*?"<>|;]+')  # path separators, quotes and what Windows refuses in a name


@dataclass(frozen=True)
class Variant:
    """A compressed copy stored beside the file."""

    encoding: str
    path: Path
    size: int
    etag: str


@dataclass(frozen=True)
class Plan:
    status: int
    headers: list[tuple[str, str]]
    start: int = 0
    length: int = 0
    path: Path | None = None  # what to read: a stored copy, else the file itself
    compress: str | None = None  # a coding applied on the fly


def qvalues(accept_encoding: str | None) -> dict[str, float]:
    """`Accept-Encoding` as {coding: q}; a malformed member is ignored, a bad q counts as 0."""
    out: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        m = _CODING.match(part)
        if not m:
            continue
        try:
            q = float(m.group(2)) if m.group(2) is not None else 1.0
        except ValueError:
            q = 0.0
        out[m.group(1).lower()] = max(0.0, min(q, 1.0))
    return out


def negotiate(accept_encoding: str | None, offered: tuple[str, ...]) -> str:
    """The coding to answer with among `offered` (in the server's order of preference), or
    "identity". A coding needs q > 0, given or through `*`; among them the highest q wins, the
    server's order breaks ties, and it beats identity unless identity is named with a higher q.
    No header: identity (a client that says nothing may not decode anything). Identity is the
    answer too when nothing is acceptable, even after `identity;q=0` (RFC 9110 §12.5.3: the
    server then sends a response without a content coding)."""
    q = qvalues(accept_encoding)
    star = q.get("*", 0.0)
    best, best_q = "identity", 0.0
    for coding in offered:
        cq = q.get(coding, star)
        if cq > best_q:
            best, best_q = coding, cq
    if best != "identity" and q.get("identity", 0.0) > best_q:
        return "identity"
    return best


def clean_name(text: str) -> str:
    """A title as a file name: no path separators, quotes, control or format characters
    (bidirectional overrides, zero-width joiners), no leading dots, spaces folded, at most
    `NAME_BYTES` of UTF-8 (cut at a character)."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    text = _UNSAFE.sub("-", text)
    text = " ".join(text.split()).strip(" .-")
    raw = text.encode("utf-8")[:NAME_BYTES]
    return raw.decode("utf-8", "ignore").rstrip(" .-")


def download_name(title: str | None, suffix: str, fallback: str) -> str:
    """`<title><suffix>` cleaned, or `fallback` when the title leaves nothing."""
    stem = clean_name(title or "")
    if not stem:
        return fallback
    room = NAME_BYTES - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[: max(room, 1)].decode("utf-8", "ignore").rstrip(" .-")
    return stem + suffix if stem else fallback


def disposition(filename: str, readable: str | None = None) -> str:
    """RFC 6266: `filename` in ASCII (the file's own name, quotes and non-ASCII replaced) for old
    clients, `filename*` (RFC 8187, UTF-8) with the readable name for every current one."""
    ascii_name = filename.encode("ascii", "replace").decode("ascii")
    ascii_name = re.sub(r'[?"\\\x00-\x1f\x7f]', "_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(readable or filename, safe='')}"


def _matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    ours = tag.removeprefix("W/")
    return any(part.strip() == "*" or part.strip().removeprefix("W/") == ours for part in header.split(","))


def plan(
    *,
    size: int,
    content_type: str,
    filename: str | None,
    range_header: str | None,
    accept_encoding: str | None,
    cors: dict,
    readable: str | None = None,
    etag: str | None = None,
    variants: tuple[Variant, ...] = (),
    if_none_match: str | None = None,
    if_range: str | None = None,
    immutable: bool = False,
) -> Plan:
    """`etag`: the stored file's strong tag (None: plugins/http_cache.py tags the answer);
    `variants`: its stored compressed copies; `filename` None: no `Content-Disposition`, for a
    document a browser shows (`/data.json`)."""
    # a page on another origin reading ranges (sql.js-httpvfs) must see these
    exposed = [("access-control-expose-headers", EXPOSE)] if cors else []
    base = [
        ("content-type", content_type),
        ("accept-ranges", "bytes"),
        *([("content-disposition", disposition(filename, readable))] if filename is not None else []),
        *cors.items(),
        *exposed,
    ]
    if immutable:  # asked for by its content (`?v=`): plugins/http_cache.py lets it be kept a year
        base.append(("cache-control", IMMUTABLE))
    text = compressible(content_type)
    vary = [("vary", "Accept-Encoding")] if text else []
    if range_header and (if_range is None or (etag is not None and if_range.strip() == etag)):
        m = _RANGE.match(range_header.strip())
        if m and (m.group(1) or m.group(2)):
            first, last = m.group(1), m.group(2)
            if first:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
            else:  # the last N bytes
                start, end = max(0, size - int(last)), size - 1
            tags = [("etag", etag)] if etag else []
            if start >= size or end < start:
                return Plan(416, [*base, *vary, *tags, ("content-range", f"bytes */{size}"), ("content-length", "0")])
            length = end - start + 1
            headers = [
                *base,
                *vary,
                *tags,
                ("content-range", f"bytes {start}-{end}/{size}"),
                ("content-length", str(length)),
            ]
            return Plan(206, headers, start, length)
        # a malformed or multi-range header is ignored (RFC 9110 allows it): the whole file
    stored = {v.encoding: v for v in variants}
    offered = PREFERENCE if text and (stored or size > ON_THE_FLY_MIN) else ()
    coding = negotiate(accept_encoding, offered) if offered else "identity"
    tag: str | None
    if coding in stored:
        v = stored[coding]
        tag, headers = v.etag, [("content-encoding", coding), ("content-length", str(v.size))]
        chosen = Plan(200, [], 0, v.size, path=v.path)
    elif coding != "identity":  # no stored copy: compressed as it is sent, length unknown
        tag = f'W/{etag[:-1]}-{coding}"' if etag else None
        headers = [("content-encoding", coding)]
        chosen = Plan(200, [], 0, size, compress=coding)
    else:
        tag, headers = etag, [("content-length", str(size))]
        chosen = Plan(200, [], 0, size)
    tags = [("etag", tag)] if tag else []
    if tag and _matches(if_none_match, tag):
        return Plan(304, [*cors.items(), *exposed, *vary, *tags])
    return Plan(
        chosen.status, [*base, *headers, *vary, *tags], chosen.start, chosen.length, chosen.path, chosen.compress
    )


def _compressor(coding: str | None):
    if coding == "br":
        c = brotli.Compressor(quality=BR_STREAM_QUALITY)
        return c.process, c.finish
    if coding == "gzip":
        z = zlib.compressobj(GZIP_STREAM_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip header
        return z.compress, z.flush
    return None


async def send(send, path: Path, p: Plan, *, head: bool = False) -> None:
    await send(
        {"type": "http.response.start", "status": p.status, "headers": [(k.encode(), v.encode()) for k, v in p.headers]}
    )
    if head or p.status in (304, 416):
        await send({"type": "http.response.body", "body": b""})
        return
    compressor = _compressor(p.compress)
    with open(p.path or path, "rb") as f:
        f.seek(p.start)
        left = p.length
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            body = compressor[0](chunk) if compressor else chunk
            if body:
                await send({"type": "http.response.body", "body": body, "more_body": True})
    tail = compressor[1]() if compressor else b""
    await send({"type": "http.response.body", "body": tail})
