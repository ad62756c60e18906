"""Which folders of the repository git already knows to be unchanged, and their tree ids.

A rebuild decides what changed by hashing every dataset folder (gongkai/folder_hash.py). At
10,000 datasets that is 10,000 directory reads and 20,000 stats in Python, most of a no-op
rebuild. git has the same answer in C: `git status` compares the work tree with the index
(with its own stat cache and racy-timestamp rules) and `git ls-tree HEAD` names each folder's
tree. A folder with nothing in `git status` (modified, staged, deleted, untracked or ignored)
holds exactly its tree at HEAD, so its digest from a previous build of that same tree id holds
too, and the folder is not walked.

Only trusted where the work tree is git's bytes unchanged: no clean/smudge filters (Git LFS
checks out other bytes than its blobs and `git lfs pull` changes them without a status), no
end-of-line conversion (`core.autocrlf`, `core.eol`) and no attributes files, which could ask
for either. Anything else, or git missing or failing, and `read` gives None: every folder is
walked as before. Empty folders are invisible to git; they carry no data and the validator
ignores them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .git_dates import run_git

# config keys (lower case, as `git config -l` prints them) that make the work tree differ from the blobs
_CONVERTING = ("core.autocrlf", "core.eol", "core.attributesfile")


def _git(cwd: Path, *args: str) -> bytes | None:
    """Its output when git succeeded; `--no-optional-locks`: `status` never writes the index."""
    proc = run_git(cwd, "--no-optional-locks", *args)
    return proc.stdout if proc is not None and proc.returncode == 0 else None


@dataclass(frozen=True)
class GitTrees:
    """`tree(rel)`: the tree id at HEAD of the folder `rel` (relative to the project root, as
    `datasets/<name>` or `metadata`) when git sees nothing in it differ; else None."""

    trees: dict[str, str]
    dirty: frozenset[str]
    read_ns: int  # when git was asked: a file changed since may not be in its answer

    def tree(self, rel: str) -> str | None:
        return None if rel in self.dirty else self.trees.get(rel)

    @classmethod
    def read(cls, root: Path, folders: tuple[str, ...] = ("datasets", "metadata")) -> GitTrees | None:
        root = Path(root)
        read_ns = time.time_ns()
        found = _git(root, "rev-parse", "--show-prefix", "--git-path", "info/attributes")
        if found is None:
            return None
        prefix, attributes = (found.decode("utf-8", "surrogateescape").split("\n") + ["", ""])[:2]
        if os.path.exists(attributes if os.path.isabs(attributes) else root / attributes):
            return None
        config = _git(root, "config", "-l", "-z")
        if config is None or not _plain(config):
            return None
        if os.path.exists(Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "git" / "attributes"):
            return None
        # any .gitattributes in the repository (one at the top applies everywhere)
        listed = _git(root, "ls-files", "-z", "--", ":(top,glob)**/.gitattributes")
        if listed is None or listed:
            return None
        status = _git(
            root,
            "status",
            "--porcelain=v1",
            "-z",
            "--no-renames",
            "--untracked-files=all",
            "--ignored=matching",
            "--",
            *folders,
        )
        # `datasets/` lists each dataset folder; `metadata` (no slash) the folder itself
        tree = _git(root, "ls-tree", "-z", "HEAD", "--", *(f"{f}/" if f == "datasets" else f for f in folders))
        if status is None or tree is None:
            return None
        dirty = set()
        for item in status.split(b"\0"):
            if len(item) > 3:  # "XY path", the path relative to the repository's top
                path = item[3:].decode("utf-8", "surrogateescape")
                if path.startswith(prefix):
                    dirty.add(_folder_of(path[len(prefix) :]))
        trees = {}
        for item in tree.split(b"\0"):
            meta, _, name = item.partition(b"\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == b"tree":  # a folder (not a link, file or submodule)
                trees[name.decode("utf-8", "surrogateescape")] = parts[2].decode()
        return cls(trees, frozenset(dirty), read_ns)


def _plain(config: bytes) -> bool:
    """No filter and no end-of-line conversion configured."""
    for item in config.split(b"\0"):
        key = item.split(b"\n", 1)[0].decode("utf-8", "surrogateescape").lower()
        if key.startswith("filter.") or key in _CONVERTING:
            return False
    return True


def _folder_of(path: str) -> str:
    """`datasets/x/a/b.csv` → `datasets/x`; `metadata/site.yaml` → `metadata`."""
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0] == "datasets" else parts[0]
