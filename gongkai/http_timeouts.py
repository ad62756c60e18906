"""uvicorn's httptools protocol with a deadline and a size limit on each request's headers.

uvicorn (0.54) times out only idle keep-alive connections, and only after a response: a
connection that opens and sends nothing, or half a request (slowloris), is held forever, and
any byte cancels the keep-alive timer. Here every request's headers must be complete within
`header_timeout_s` of the connection opening or of the request's first byte (never extended by
more bytes, so dribbling does not help) and within `max_header_bytes`; otherwise the client gets
408 (or 431) and the connection is closed. `gongkai.serve.uvicorn_options` passes this class as
uvicorn's `http=`.
"""

from __future__ import annotations

import os
from pathlib import Path

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from . import i18n
from .limits import Limits

_limits: Limits | None = None


def limits() -> Limits:
    global _limits
    if _limits is None:  # the worker's environment, as gongkai.serve.serve set it
        root = os.environ.get("GONGKAI_ROOT")
        _limits = Limits.load(Path(root) if root else None)
    return _limits


def _body(key: str) -> bytes:
    return " / ".join(i18n.t(key, lang) for lang in i18n.LANGS).encode("utf-8")


STATUS = {408: b"408 Request Timeout", 431: b"431 Request Header Fields Too Large"}


class HeaderTimeoutProtocol(HttpToolsProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._header_timer = None
        self._awaiting_headers = True
        self._header_bytes = 0
        self._tail = b""  # the last bytes seen while awaiting headers (their end may span reads)

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(
                limits().header_timeout_s, self._refuse, 408, "http_header_timeout"
            )

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._arm()  # from the request's first byte (no-op when already armed)
            # Only the bytes up to the blank line that ends the headers: a read may carry the
            # start of a POST body too (plugins/error_pages.py bounds bodies separately).
            seen = self._tail + data
            end = seen.find(b"\r\n\r\n")
            self._header_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
            self._tail = seen[-3:]
            if self._header_bytes > limits().max_header_bytes:
                return self._refuse(431, "http_header_too_large")
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        # The next request on this keep-alive connection gets its own deadline and size.
        self._awaiting_headers = True
        self._header_bytes = 0
        self._tail = b""
        super().on_response_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _refuse(self, status: int, key: str) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        body = _body(key)
        self.transport.write(
            b"HTTP/1.1 " + STATUS[status] + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )
        self.transport.close()
