"""The build: validate every dataset, load it, write the site, and swap it in atomically.

Layout under `out/` (default `build/`):

    releases/<id>/       one complete site per successful build: <dataset>.db, catalog.db,
                         inspect.json, metadata.json, reports/, build-state.json; and the
                         lock a server holds while serving it, the marker written last
                         (gongkai/releases.py)
    site -> releases/<id>  the served site; a symlink replaced with one rename(2), so a reader
                         sees the old site or the new one, never half of either
    reports/             the latest attempt's reports (also when it failed: publishers need them)

A build writes a new release folder (the staging copy) and only swaps `site` when every dataset
is valid; a failed or killed build leaves `site` and everything it points to untouched.
Datasets whose files, descriptor, site metadata and build code are unchanged are not validated
or loaded again: their database is hard-linked from the previous release (databases are never
written after a build, so sharing the inode is safe).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import catalogue, codehash, datasette_files, load, openness, releases, report
from .descriptors import DESCRIPTOR_NAMES, Site, read_catalog, read_dataset, read_site
from .model import Dataset
from .releases import current_release  # noqa: F401  (the build's API: tests and tools use it)
from .search import index_resource
from .validate import DatasetResult, files, validate_dataset
from .validate.split import RowStream

STATE_FILE = "build-state.json"
LOCK_WAIT_S = 10  # a build that was just killed may still be releasing the lock


class BuildError(Exception):
    """The build could not run at all (not a data problem: those are reported, not raised)."""


@dataclass
class DatasetBuild:
    """What the site needs to know about one dataset after the build, fresh or reused."""

    name: str
    hash: str
    valid: bool
    tables: dict[str, dict]  # resource name -> stats (rows, bytes, sha256, fields)
    report: dict
    markdown: str
    modified: str | None  # ISO 8601, from git or from when this content was first seen
    first_seen: str
    issued: str | None = None  # the first commit of the folder, or the first build that saw it
    first_built: str | None = None
    reused: bool = False
    # False for a conditional or closed dataset (gongkai/openness.py): its rows are validated,
    # but neither its database nor its files go into the release
    published: bool = True


@dataclass
class BuildResult:
    ok: bool
    site_dir: Path | None
    datasets: list[DatasetBuild] = field(default_factory=list)
    site_errors: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[str]:
        return [d.name for d in self.datasets if not d.valid]

    @property
    def reused(self) -> list[str]:
        return [d.name for d in self.datasets if d.reused]


# ---------------------------------------------------------------------------------------------
# Validating and loading one dataset


def load_dataset(dataset: Dataset, db_path: Path, *, search: bool = True) -> DatasetResult:
    """Validate the dataset and insert its rows into a new SQLite database, in one pass per file.

    With `search`, each table also gets its search index (gongkai.search) before ANALYZE;
    the load benchmark measures validate + load without it and the search index on its own.
    """
    db = load.open_build_db(db_path)

    def sink(resource, rows):
        if not isinstance(rows, RowStream):
            return  # not validated (a descriptor error) or its look-up failed: nothing to load
        load.create_table(db, resource)
        load.insert_rows(db, resource, rows)
        for part in rows.parts:
            load.append_part(db, resource, part)
        if search:
            index_resource(db, resource)
        load.create_indexes(db, resource)

    try:
        result = validate_dataset(dataset, sink=sink, part_writer=load.write_part)
    finally:
        load.finish_database(db)
    return result


def overdue_warnings(results: list[DatasetResult]) -> dict[str, list[str]]:
    """Each dataset's timeliness warning (`report.overdue`), judged today against the last commit
    that touched its folder; none where git cannot tell (the build falls back to when it first
    saw the content, which a check without a build has not)."""
    today = datetime.now(UTC).date()
    return {
        r.dataset.name: report.overdue(r.dataset.descriptor, git_dates(r.dataset.folder)[1], today) for r in results
    }


def check(paths: list[Path], root: Path) -> list[DatasetResult]:
    """Validate dataset folders without loading them (what `gongkai validate` runs)."""
    site = read_site(root) if (Path(root) / "metadata").is_dir() else None
    results = [validate_dataset(read_dataset(Path(p), site)) for p in paths]
    if site is not None and site.errors and results:
        # the build refuses broken site metadata: so does validation (reported once)
        results[0].errors.extend(site.errors)
    return results


# ---------------------------------------------------------------------------------------------
# Hashes and dates


def _hash_files(paths: list[Path], h: hashlib._Hash, base: Path) -> None:
    for path in sorted(paths):
        h.update(str(path.relative_to(base)).encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0")


def dataset_hash(folder: Path, root: Path, code: str) -> str:
    """The code, site metadata and dataset folder, walked without following any link (a link is
    hashed as its target text) and opening only regular files, each read up to the size limit:
    a FIFO, /dev/zero or a link out of the repository cannot hang or leak into the hash."""
    h = hashlib.sha256(code.encode())
    files.hash_folder(Path(root) / "metadata", h.update, "metadata")
    files.hash_folder(Path(folder), h.update, f"datasets/{Path(folder).name}")
    return h.hexdigest()


def git_dates(folder: Path) -> tuple[str | None, str | None]:
    """(issued, modified): the dates of the first and the last commit that touched the folder.

    None where git cannot tell: outside a repository, for a folder never committed, and for
    `issued` in a shallow clone (its oldest commit is only where the clone was cut)."""
    try:
        log = subprocess.run(
            ["git", "log", "--format=%cI", "--", "."], cwd=folder, capture_output=True, text=True, timeout=20
        )
        shallow = subprocess.run(
            ["git", "rev-parse", "--is-shallow-repository"], cwd=folder, capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return None, None
    dates = log.stdout.split() if log.returncode == 0 else []
    if not dates:
        return None, None
    return (None if shallow.stdout.strip() == "true" else dates[-1]), dates[0]


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------------------------------------
# Releases, the atomic swap


def _read_state(release: Path | None) -> dict:
    if release is None:
        return {}
    try:
        return json.loads((release / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _swap(out: Path, release: Path) -> None:
    link = out / "site"
    if link.exists() and not link.is_symlink():
        raise BuildError(f"{link} is a directory, not the symlink the build manages; move it away")
    tmp = out / f".site-{os.getpid()}"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(os.path.relpath(release, out), tmp)
    os.replace(tmp, link)


def _prune(out: Path, keep: list[Path | None]) -> None:
    """Delete old releases, except those in `keep` and those a running server holds
    (gongkai/releases.py: a server holds a shared lock on the release it serves)."""
    releases.prune(out, keep)


# ---------------------------------------------------------------------------------------------
# The whole build


def build_site(root: Path, out: Path, *, progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build every dataset under root/datasets into out/ and swap the new site in on success."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    root, out = Path(root).resolve(), Path(out).resolve()
    (out / "releases").mkdir(parents=True, exist_ok=True)
    (out / "reports").mkdir(exist_ok=True)
    lock = open(out / ".lock", "w")
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                raise BuildError(f"another build is running in {out} / 另一个构建正在进行") from None
            time.sleep(0.1)
    try:
        return _build(root, out, say, started)
    finally:
        lock.close()


def _build(root: Path, out: Path, say: Callable[[str], None], started: float) -> BuildResult:
    previous = current_release(out)
    # A killed build leaves an unfinished release folder behind; nothing points to it.
    _prune(out, [previous, _previous_target(out)])
    old_state = _read_state(previous)
    code = codehash.code_hash()  # only the code that shapes a dataset's database and reports
    site, datasets = read_catalog(root)
    release = releases.create(out)
    (release / "reports").mkdir()
    say(
        f"构建 Building {len(datasets)} 个数据集 datasets → {release.relative_to(out.parent) if out.parent in release.parents else release}"
    )

    builds: list[DatasetBuild] = []
    try:
        for dataset in datasets:
            builds.append(_build_one(dataset, site, root, release, previous, old_state, code, say))
            if builds[-1].valid and builds[-1].published:
                _publish_files(dataset, release, previous if builds[-1].reused else None)
            _write_reports(out / "reports", release / "reports", builds[-1])
        result = BuildResult(ok=False, site_dir=None, datasets=builds, site_errors=list(site.errors))
        if site.errors or result.failed:
            for error in site.errors:
                say(f"✗ {error.message_zh}\n  {error.message}")
            if result.failed:
                say(
                    f"✗ 构建失败 Build failed: {', '.join(result.failed)} 未通过校验 invalid; 报告 reports in {out / 'reports'}"
                )
            shutil.rmtree(release, ignore_errors=True)
            result.seconds = time.perf_counter() - started
            return result
        by_name = {b.name: b for b in builds}
        catalogue.write(release, site, datasets, by_name)
        datasette_files.write(release, site, datasets, by_name, previous)
        _write_text(release / STATE_FILE, json.dumps(_state(code, builds, previous), ensure_ascii=False, indent=1))
        releases.finish(release)  # last: a server only ever opens a release the build finished
    except BaseException:
        shutil.rmtree(release, ignore_errors=True)
        raise
    _swap(out, release)
    # The previous release stays one more build (a server may be resolving the link right now);
    # older ones go unless a server still holds them.
    _prune(out, [release, previous])
    total = sum(t.get("rows", 0) for b in builds for t in b.tables.values())
    seconds = time.perf_counter() - started
    say(
        f"✓ 完成 Built {len(builds)} 个数据集 datasets, {total} 行 rows, "
        f"{len(result.reused)} 个未变化 unchanged, {seconds:.2f}s"
    )
    result.ok, result.site_dir, result.seconds = True, out / "site", seconds
    return result


def _previous_target(out: Path) -> Path | None:
    """The release before the current one (kept one more build, see `_build`)."""
    state = _read_state(current_release(out))
    prev = state.get("previous_release")
    return (out / "releases" / prev) if prev else None


def _build_one(
    dataset: Dataset,
    site: Site,
    root: Path,
    release: Path,
    previous: Path | None,
    old_state: dict,
    code: str,
    say: Callable[[str], None],
) -> DatasetBuild:
    digest = dataset_hash(dataset.folder, root, code)
    old = (old_state.get("datasets") or {}).get(dataset.name)
    db_name = f"{dataset.name}.db"
    issued, modified = git_dates(dataset.folder)
    first_built = (old or {}).get("first_built") or _now()
    published = not openness.is_withheld(openness.openness_class(dataset.descriptor))
    if old and old.get("hash") == digest and previous and (not published or (previous / db_name).exists()):
        if published:
            os.link(previous / db_name, release / db_name)
        say(f"· {dataset.name}: 未变化 unchanged")
        return DatasetBuild(
            name=dataset.name,
            hash=digest,
            valid=True,
            tables=old["tables"],
            report=json.loads((previous / "reports" / f"{dataset.name}.json").read_text()),
            markdown=(previous / "reports" / f"{dataset.name}.md").read_text(),
            modified=modified or old.get("first_seen"),
            first_seen=old.get("first_seen") or _now(),
            reused=True,
            issued=issued or first_built,
            first_built=first_built,
            published=published,
        )
    t0 = time.perf_counter()
    # a withheld dataset is loaded as any other (the same checks, the same stats), into a
    # file no server lists (not `*.db`), removed before the release is finished
    db_path = release / (db_name if published else f".withheld-{dataset.name}.sqlite")
    try:
        result = load_dataset(dataset, db_path)
    finally:
        if not published:
            for suffix in ("", "-wal", "-shm", "-journal"):
                db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    tables = {t.resource.name: {k: v for k, v in t.stats.items() if k != "seconds"} for t in result.tasks}
    rows = sum(t.get("rows", 0) for t in tables.values())
    n_errors = len(result.errors) + sum(len(t.errors) for t in result.tasks)
    mark = "✓" if result.valid else "✗"
    say(
        f"{mark} {dataset.name}: {len(result.tasks)} 个资源 resources, {rows} 行 rows, "
        f"{n_errors} 个错误 errors, {time.perf_counter() - t0:.2f}s"
    )
    first_seen = old.get("first_seen") if old and old.get("hash") == digest else _now()
    late = report.overdue(dataset.descriptor, modified or first_seen, datetime.now(UTC).date())
    return DatasetBuild(
        name=dataset.name,
        hash=digest,
        valid=result.valid,
        tables=tables,
        report=report.report([result], warnings={dataset.name: late}),
        markdown=report.markdown_summary(result, warnings=late),
        modified=modified or first_seen,
        first_seen=first_seen,
        issued=issued or first_built,
        first_built=first_built,
        published=published,
    )


def _publish_files(dataset: Dataset, release: Path, previous: Path | None) -> None:
    """The files people download: the descriptor and each resource's original file, under
    `downloads/<dataset>/` at the paths the descriptor gives. Copied, not linked to the
    working tree (an edit in place there must not change a published release); an unchanged
    dataset links the previous release's copies, which nothing ever writes to."""
    target = release / "downloads" / dataset.name
    # only the descriptor names and the validated resources' paths, each read through the same
    # checks as validation (inside the folder, a regular file, within the size limit)
    names = [n for n in DESCRIPTOR_NAMES if os.path.lexists(dataset.folder / n)]
    names += [r.path for r in dataset.resources if r.fullpath is not None]
    for name in dict.fromkeys(names):
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        old = previous / "downloads" / dataset.name / name if previous else None
        if old is not None and old.is_file() and not old.is_symlink():
            os.link(old, dest)
        else:
            try:
                files.copy_file(dataset.folder, name, dest)
            except files.FileRefused as refused:  # changed since it was validated
                raise BuildError(f"{dataset.name}/{name}: {refused.note} / {refused.note_zh}") from None


def _write_reports(latest: Path, served: Path, build: DatasetBuild) -> None:
    text = json.dumps(build.report, ensure_ascii=False, indent=2, default=str)
    for folder in (latest, served):
        _write_text(folder / f"{build.name}.json", text)
        _write_text(folder / f"{build.name}.md", build.markdown)


def _state(code: str, builds: list[DatasetBuild], previous: Path | None) -> dict:
    return {
        "code": code,
        "previous_release": previous.name if previous else None,
        "built": _now(),
        "datasets": {
            b.name: {"hash": b.hash, "tables": b.tables, "first_seen": b.first_seen, "first_built": b.first_built}
            for b in builds
        },
    }
