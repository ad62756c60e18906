"""Which code a dataset's build output depends on, as one hash (what decides a rebuild).

A dataset is rebuilt when its files, the site metadata or the code that shapes its database and
reports change. That code is not the whole package: the portal, the plugins, the templates and
the locales only run when a page is served, and a fix to them must not rebuild a thousand
datasets. The build-side code is found, not listed: the modules named in `ROOTS` and every
module of the package they import, read from the source (its import statements, parsed with
`ast`; nothing is imported), so a new validation module is covered the day it is imported and a new portal module never is.

A package's `__init__.py` counts only when it is itself imported (`from . import validate`,
`from .validate import validate_dataset`): `from .search.index import x` depends on
`search/index.py` alone, which keeps the search package's query code (serve-side) out.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import time
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE = PACKAGE_DIR.name

# The modules that make a dataset's outputs: its database (reading, validation, loading, the
# search index) and its reports. gongkai.build orchestrates and is deliberately not a root: it
# also imports the release-wide writers (catalogue, metadata.json), which run on every build.
ROOTS = ("validate", "load", "search.index", "report", "descriptors", "exports")  # exports: the downloads
# The data files that code reads: the validation messages are written into every report
# (gongkai/errors.py). The site's own locale files are not among them.
DATA_FILES = ("locales/validation.yaml",)
# The release-wide files written from every dataset's part (catalog.db, Datasette's metadata and
# inspect files). The build updates them in place of rewriting them, dataset by dataset, only
# while this code is unchanged: a change to a record, a chart or a metadata entry rewrites all.
RELEASE_ROOTS = ("catalogue.writer", "datasette_files")
RACY_S = 2


def _module_file(package_dir: Path, dotted: str) -> Path | None:
    base = package_dir.joinpath(*dotted.split(".")) if dotted else package_dir
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _dotted(package_dir: Path, path: Path) -> str:
    rel = path.relative_to(package_dir).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# Each module's imports, kept for the process by (path, size, mtime, ctime): a build hashes three
# sets of roots (the datasets', the release files', the catalogue files') over mostly the same
# modules. A file written within RACY_S is parsed again each time (a second edit of the same size
# within the clock's tick would keep its times).
_PARSED: dict[tuple, frozenset[str]] = {}


def _imports(package_dir: Path, path: Path) -> set[str]:
    """Dotted names (relative to the package) of the package's modules that `path` imports."""
    st = path.stat()
    if max(st.st_mtime_ns, st.st_ctime_ns) >= time.time_ns() - RACY_S * 1_000_000_000:
        return set(_parse_imports(package_dir, path))
    key = (str(package_dir), str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    found = _PARSED.get(key)
    if found is None:
        found = _PARSED[key] = _parse_imports(package_dir, path)
    return set(found)


# An import statement, wherever it stands (a line's start, after `:` or `;`), with its
# parenthesised or backslash-continued names: only these are parsed, not the whole module (a
# fifth of the time). A match that does not parse (a comment holding `)` inside the
# parentheses, prose in a string) makes the whole module parsed instead; one inside a string
# that parses only adds a dependency, never hides one.
_WS = r"(?:[ \t]|\\\n)"  # a blank between two words: also a backslash-continued line
_STATEMENT = re.compile(
    rf"(?:^|(?<=[:;])){_WS}*(?:from{_WS}+(?:[.\w]|{_WS})+?{_WS}import{_WS}+(?:\([^)]*\)|(?:[^\n\\]|\\\n)*)"
    rf"|import{_WS}+(?:[^\n\\]|\\\n)*)",
    re.MULTILINE,
)


def _statements(source: str, filename: str) -> list[ast.AST]:
    out: list[ast.AST] = []
    for m in _STATEMENT.finditer(source):
        try:
            out.extend(ast.parse(m.group().strip()).body)
        except SyntaxError:
            return list(ast.walk(ast.parse(source, filename=filename)))
    return out


def _parse_imports(package_dir: Path, path: Path) -> frozenset[str]:
    text = path.read_text(encoding="utf-8")
    here = _dotted(package_dir, path).split(".") if path.name != "__init__.py" or path.parent != package_dir else []
    # the package a relative import starts from: the module's own package
    current = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in _statements(text, str(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name[len(PACKAGE) + 1 :])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = current[: len(current) - (node.level - 1)] if node.level > 1 else current
                module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                module = node.module[len(PACKAGE) + 1 :]
            else:
                continue
            for alias in node.names:  # `from .validate import fields` imports a module
                sub = f"{module}.{alias.name}" if module else alias.name
                if _module_file(package_dir, sub) is not None:
                    found.add(sub)
                elif module:
                    found.add(module)
            if not node.names and module:
                found.add(module)
    return frozenset(name for name in found if _module_file(package_dir, name) is not None)


def build_code_files(package_dir: Path | None = None, roots: tuple[str, ...] = ROOTS) -> list[Path]:
    """The source files of the root modules and everything of the package they import, and
    the data files they read (`DATA_FILES`)."""
    package_dir = Path(package_dir or PACKAGE_DIR)
    seen: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(package_dir, name)
        if path is None:
            raise FileNotFoundError(f"build code module {PACKAGE}.{name} not found in {package_dir}")
        seen[name] = path
        todo.extend(_imports(package_dir, path) - seen.keys())
    return sorted([*seen.values(), *(package_dir / name for name in DATA_FILES)])


def code_hash(package_dir: Path | None = None, roots: tuple[str, ...] = ROOTS) -> str:
    """SHA-256 over the build-side source files (their paths and bytes); `roots` other than the
    datasets' (`ROOTS`) name another output's code, e.g. `RELEASE_ROOTS`."""
    package_dir = Path(package_dir or PACKAGE_DIR)
    h = hashlib.sha256()
    for path in build_code_files(package_dir, roots):
        h.update(str(path.relative_to(package_dir)).encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _package_signature(package_dir: Path) -> list | None:
    """Every source file's (path, size, mtime, ctime, inode); None while one was just written
    (its stat could stay the same through a second edit within the clock's tick)."""
    recent = time.time_ns() - RACY_S * 1_000_000_000
    out = []
    for folder, dirs, names in os.walk(package_dir):
        dirs.sort()
        for name in sorted(n for n in names if n.endswith(".py")):
            st = os.stat(os.path.join(folder, name))
            if max(st.st_mtime_ns, st.st_ctime_ns) >= recent:
                return None
            out.append(
                [
                    os.path.relpath(os.path.join(folder, name), package_dir),
                    st.st_size,
                    st.st_mtime_ns,
                    st.st_ctime_ns,
                    st.st_ino,
                ]
            )
    return out


def cached_code_hashes(roots: dict[str, tuple[str, ...]], cache: dict | None = None) -> tuple[dict[str, str], dict]:
    """({name: code_hash(roots=...)}, the cache to keep): parsing every module's imports takes
    most of a second, so the hashes are kept while no source file of the package changed."""
    signature = _package_signature(PACKAGE_DIR)
    if (
        signature is not None
        and cache
        and cache.get("signature") == signature
        and set(cache.get("hashes") or {}) == set(roots)
    ):
        return dict(cache["hashes"]), cache
    hashes = {name: code_hash(roots=r) for name, r in roots.items()}
    return hashes, ({"signature": signature, "hashes": hashes} if signature is not None else {})
