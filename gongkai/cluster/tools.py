"""Finding the native programs the cluster run needs, with a bilingual answer when one is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class ToolMissing(Exception):
    pass


def find(name: str, package: str) -> str:
    """The path of `name` (PATH, then /usr/sbin where Debian puts nginx), or ToolMissing."""
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/local/sbin") / name) if os.access(p, os.X_OK)), None
    )
    if not found:
        raise ToolMissing(
            f"{name} not found: install the Debian package `{package}` (apt-get install {package}) "
            f"/ 未找到 {name}：请安装 Debian 软件包 {package}"
        )
    return found
