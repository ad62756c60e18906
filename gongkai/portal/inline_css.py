"""The site stylesheet as inline text for pages that must not depend on another request (the
error pages), and the Content-Security-Policy source that allows exactly that text.

Both come from here so the CSP hash and the `<style>` body are the same bytes: any other inline
style (an injected `<style>`, a `style=` attribute) stays blocked.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

CSS = "gongkai.css"


def css_text(static_mounts) -> str:
    """gongkai.css from the first static mount that has it, safe inside `<style>…</style>`."""
    for _, folder in static_mounts:
        path = Path(folder) / CSS
        if path.is_file():
            return path.read_text(encoding="utf-8").replace("</", "<\\/")
    return ""


def csp_hash(text: str) -> str:
    """`'sha256-…'`, the CSP source for an inline element whose content is exactly `text`."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
