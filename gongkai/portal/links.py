"""Publisher-supplied URLs (a source's `path`, a licence's `path`/`url`, a publisher's
`homepage`, Datasette's `source_url`/`license_url`/`about_url`) become links only when they are
absolute `http`, `https` or `mailto` URLs; anything else is shown as plain text.

Validation refuses other schemes too; this is the second line, at render time, so a descriptor
that reaches catalog.db or metadata.json some other way still cannot put `javascript:` (or
`data:`, `vbscript:`, a scheme-relative `//host`…) behind a click.

The scheme is read the way a browser reads it (WHATWG URL): leading and trailing C0 controls
and spaces are ignored and tabs/newlines anywhere are removed, so `java\tscript:` or
` javascript:` do not slip through as "no scheme".
"""

from __future__ import annotations

import re
from urllib.parse import quote

from markupsafe import Markup, escape

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_STRIP = "".join(chr(c) for c in range(0x21))  # C0 controls and space
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def safe_url(url) -> str | None:
    """`url` if it is an absolute http/https/mailto URL (with a host for http/https), else None."""
    if not isinstance(url, str):
        return None
    cleaned = _TAB_NEWLINE.sub("", url.strip(_STRIP))
    m = _SCHEME.match(cleaned)
    if not m or m.group(1).lower() not in SAFE_SCHEMES:
        return None
    scheme = m.group(1).lower()
    rest = cleaned[m.end() :]
    if scheme in ("http", "https"):
        # A host must follow; `http:evil` or `https:/x` would be resolved against our origin.
        rest = rest.replace("\\", "/")
        if not rest.startswith("//") or len(rest) <= 2 or rest[2] in "/?#":
            return None
    elif not rest:
        return None
    return cleaned


def link(url, text=None, **attrs) -> Markup:
    """`<a href="url">text</a>` for a safe URL; the text alone (escaped) for anything else.
    `text` defaults to the URL itself; attributes are escaped (`rel="license"`)."""
    shown = url if text in (None, "") else text
    href = safe_url(url)
    if href is None:
        return escape(shown if shown is not None else "")
    extra = "".join(f' {escape(k.rstrip("_"))}="{escape(v)}"' for k, v in attrs.items() if v is not None)
    return Markup(f'<a href="{escape(href)}"{extra}>{escape(shown)}</a>')


def mail_link(email, text=None) -> Markup:
    """A mailto link to one address; `?`, `&`, `,`… are percent-encoded, so an address cannot
    add recipients, a subject or a body of its own."""
    if not isinstance(email, str) or not email.strip():
        return escape(text or "")
    href = "mailto:" + quote(email.strip(), safe="@+._-")
    return link(href, email if text in (None, "") else text)
