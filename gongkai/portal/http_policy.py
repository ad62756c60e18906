"""What every HTTP response of the site says about itself (plugins/security_headers.py sends it).

- `policy_headers(style_hashes, https)`: the security headers, the same on every response
  (pages, JSON, CSV, downloads, errors, static files). The CSP allows scripts, styles, images
  and fonts from the site itself only, plus the error page's one inline stylesheet by hash; no
  inline script, no `javascript:` URL, no plugin content, no framing, forms only to the site.
- `same_origin_location(value)`: a redirect target that can only stay on this site.
- `is_https(scope, trust_forwarded_proto)`: whether HSTS applies to this request.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

TRUST_PROTO_ENV = "GONGKAI_TRUST_X_FORWARDED_PROTO"

HSTS = "max-age=31536000"
REFERRER_POLICY = "strict-origin-when-cross-origin"
# Powerful features no page of the site uses. Only names Chromium knows: an unknown one makes
# the browser log a console error on every page.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)


def content_security_policy(style_hashes=()) -> str:
    styles = " ".join(["'self'", *style_hashes])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def policy_headers(style_hashes=(), https: bool = False) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", content_security_policy(style_hashes).encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", REFERRER_POLICY.encode("ascii")),
        (b"permissions-policy", PERMISSIONS_POLICY.encode("ascii")),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS.encode("ascii")))
    return headers


POLICY_NAMES = frozenset(name for name, _ in policy_headers(https=True))

# Browsers drop tabs and newlines anywhere in a URL and treat `\` like `/`, so `/\evil`,
# `/\t/evil` and `//evil` all mean "another host".
_IGNORED = re.compile(r"[\x00-\x20\x7f]")
_LEADING_SLASHES = re.compile(r"^[/\\]+")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def same_origin_location(value: str, origin: str | None = None) -> str:
    """A `Location` that stays on this site: a path starting with exactly one `/`. An absolute
    URL (`https://host/x`) is kept only if it is on `origin`, else reduced to its path."""
    cleaned = _IGNORED.sub("", value)
    if _SCHEME.match(cleaned):
        parts = urlsplit(cleaned.replace("\\", "/"))
        if origin and f"{parts.scheme}://{parts.netloc}".lower() == origin.lower() and not parts.path.startswith("//"):
            return cleaned
        cleaned = (
            parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
        )
    return "/" + _LEADING_SLASHES.sub("", cleaned)


def trust_forwarded_proto(environ=None) -> bool:
    environ = os.environ if environ is None else environ
    return environ.get(TRUST_PROTO_ENV, "").strip().lower() in ("1", "true", "yes")


def is_https(scope: dict, trust_forwarded: bool = False) -> bool:
    if scope.get("scheme") == "https":
        return True
    if trust_forwarded:
        for name, value in scope.get("headers") or []:
            if name == b"x-forwarded-proto":
                return value.split(b",")[0].strip().lower() == b"https"
    return False
