"""The build: validate every dataset, load it, write the site, and swap it in atomically.

Layout under `out/` (default `build/`):

    objects/<name>/<digest>/  one dataset's database, reports and downloads, written once for
                         that content (gongkai/release_files.py has the layout), never changed
                         after; removed when no release left refers to it (`_collect`)
    buckets/<hash>/      one relative symlink per dataset of one bucket into objects/, a folder
                         per bucket content, shared by every release holding that content
                         (gongkai/release_buckets.py); removed when no release refers to it
    releases/<id>/       one complete site per successful build: buckets/<bb> (256 symlinks,
                         into buckets/), catalog.db, inspect.json,
                         metadata.json, search/, build-state.json, objects.json (what it
                         refers to); and the lock a server holds while serving it, the marker
                         written last (gongkai/releases.py)
    site -> releases/<id>  the served site; a symlink replaced with one rename(2), so a reader
                         sees the old site or the new one, never half of either
    reports/             the latest attempt's reports (also when it failed: publishers need them)
    build-cache.json     what the next build need not compute again: file digests by stat, git
                         dates by commit, code hashes, the parsed site metadata
    .trash/              pruned releases, deleted by a background process

A build writes a new release folder (the staging copy) and only swaps `site` when every dataset
is valid; a failed or killed build leaves `site` and everything it points to untouched.
Datasets whose files, descriptor, site metadata and build code are unchanged are not read,
validated or loaded again: the new release's entry points at the same object as the
previous release's (nothing writes an object after its build, so sharing it is safe), and the
catalogue and Datasette's files keep their entries. So a rebuild costs what changed plus a stat
per unchanged dataset, one bucket folder per changed bucket and the release's 256 bucket
symlinks (`gongkai/bench/scale_build.py`).
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from . import (
    catalogue,
    catalogue_files,
    codehash,
    datasette_files,
    descriptors,
    exports,
    git_dates,
    json_files,
    load,
    openness,
    rejected_rows,
    release_buckets,
    release_files,
    releases,
    report,
)
from .descriptors import DESCRIPTOR_NAMES, Site, dataset_folders, read_dataset, read_site
from .folder_hash import FolderHasher
from .git_trees import GitTrees
from .model import Dataset, Resource
from .releases import current_release  # noqa: F401  (the build's API: tests and tools use it)
from .search import index_resource, site_index
from .validate import DatasetResult, files, validate_dataset
from .validate.package import Sink
from .validate.split import RowStream


class RowWatch(Protocol):
    """What the build's progress does with a resource's rows (gongkai/publish/progress.py)."""

    def watch(self, resource: Resource, rows: Iterable[tuple]) -> Iterator[tuple]: ...

    def done(self, resource: Resource, rows: int | None = None) -> None: ...


STATE_FILE = "build-state.json"
CACHE_FILE = "build-cache.json"  # under out/: file digests and git dates kept between builds
SITE_PARTS = ("site", "publishers", "themes", "licenses")
LATEST_FILE = ".hashes.json"  # under out/reports/: which dataset hash each report was written for
LOCK_WAIT_S = 10  # a build that was just killed may still be releasing the lock
OBJECTS = release_files.OBJECTS  # under out/: each dataset content's files, shared by the releases
OBJECTS_FILE = "objects.json"  # under a release: {dataset: object digest} it refers to
# Stats of a table the site never reads back: its time, and its header labels (the report has
# them; kept with every table of 10,000 datasets until the build's end, a list of fresh strings each).
_UNKEPT_STATS = frozenset({"seconds", "labels"})


class BuildError(Exception):
    """The build could not run at all (not a data problem: those are reported, not raised)."""


@dataclass(slots=True)  # no __dict__ per instance: a build of 10,000 keeps 10,000 until its end
class DatasetBuild:
    """What the site needs to know about one dataset after the build, fresh or reused."""

    name: str
    hash: str
    valid: bool
    tables: dict[str, dict]  # resource name -> stats (rows, bytes, sha256, fields)
    modified: str | None  # ISO 8601, from git or from when this content was first seen
    first_seen: str
    issued: str | None = None  # the first commit of the folder, or the first build that saw it
    first_built: str | None = None
    reused: bool = False
    rejected: list = field(default_factory=list)  # rejected_rows.RejectedRows, a failing build's
    # False for a conditional or closed dataset (gongkai/openness.py): its rows are validated,
    # but neither its database nor its files go into the release
    published: bool = True
    # its JSON report, the Markdown one beside it (a str: no Path kept for each of 10,000 datasets)
    report_file: Path | str | None = None
    _report: dict | None = field(default=None, repr=False)
    _markdown: str | None = field(default=None, repr=False)

    @property
    def report(self) -> dict:
        """The validation report (frictionless's shape), read from its file when not in memory."""
        if self._report is None:
            assert self.report_file is not None
            return json.loads(Path(self.report_file).read_text(encoding="utf-8"))
        return self._report

    @property
    def markdown(self) -> str:
        if self._markdown is None:
            assert self.report_file is not None
            return Path(self.report_file).with_suffix(".md").read_text(encoding="utf-8")
        return self._markdown


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


def load_dataset(
    dataset: Dataset, db_path: Path, *, search: bool = True, watch: RowWatch | None = None
) -> DatasetResult:
    """Validate the dataset and insert its rows into a new SQLite database, in one pass per file.

    With `search`, each table also gets its search index (gongkai.search) before ANALYZE;
    the load benchmark measures validate + load without it and the search index on its own.
    `watch` sees the rows on their way to the loader (`gongkai build`'s progress).
    """
    db = load.open_build_db(db_path)

    def sink(resource, rows):
        if not isinstance(rows, RowStream):
            return  # not validated (a descriptor error) or its look-up failed: nothing to load
        load.create_table(db, resource)
        loaded = load.insert_rows(db, resource, watch.watch(resource, rows) if watch else rows)
        for part in rows.parts:
            loaded += load.append_part(db, resource, part)
        if watch:
            watch.done(resource, loaded)
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
    dates: git_dates.Dates = {}
    for parent in {r.dataset.folder.parent for r in results}:  # one git log per datasets/ folder
        dates.update(git_dates.dataset_dates(parent)[0])
    return {
        r.dataset.name: report.overdue(r.dataset.descriptor, dates.get(r.dataset.name, (None, None))[1], today)
        for r in results
    }


def check(paths: list[Path], root: Path, sink: Sink | None = None) -> list[DatasetResult]:
    """Validate dataset folders without loading them (what `gongkai validate` runs); `sink`
    sees each resource's valid rows (`gongkai validate`'s progress)."""
    site = read_site(root) if (Path(root) / "metadata").is_dir() else None
    results = [validate_dataset(read_dataset(Path(p), site), sink=sink) for p in paths]
    if site is not None and site.errors and results:
        # the build refuses broken site metadata: so does validation (reported once)
        results[0].errors.extend(site.errors)
    return results


# ---------------------------------------------------------------------------------------------
# Hashes and dates


def dataset_hash(folder: Path, root: Path, code: str, hasher: FolderHasher | None = None) -> str:
    """The code, site metadata and dataset folder, walked without following any link (a link is
    hashed as its target text) and opening only regular files, each read up to the size limit:
    a FIFO, /dev/zero or a link out of the repository cannot hang or leak into the hash."""
    hasher = hasher or FolderHasher()
    return _combine(
        code, hasher.folder(Path(root) / "metadata", "metadata"), hasher.folder(Path(folder), _label(folder))
    )


def _label(folder: Path) -> str:
    return f"datasets/{os.path.basename(folder)}"  # not Path(folder).name: 10,000 times a no-op rebuild


def _combine(code: str, metadata: str, folder: str) -> str:
    return hashlib.sha256(f"{code}\0{metadata}\0{folder}".encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------------------------------------
# Releases, the atomic swap


def _read_state(release: Path | None) -> dict:
    if release is None:
        return {}
    return _read_json(release / STATE_FILE)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _link_over(src: Path, dest: Path) -> None:
    """`dest` becomes a hard link of `src`, replacing what was there in one rename."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.link(src, tmp)
    os.replace(tmp, dest)


def _swap(out: Path, release: Path) -> None:
    link = out / "site"
    if link.exists() and not link.is_symlink():
        raise BuildError(f"{link} is a directory, not the symlink the build manages; move it away")
    tmp = out / f".site-{os.getpid()}"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(os.path.relpath(release, out), tmp)
    os.replace(tmp, link)


# ---------------------------------------------------------------------------------------------
# The whole build


def build_site(
    root: Path,
    out: Path,
    *,
    progress: Callable[[str], None] | None = None,
    rows: RowWatch | None = None,
    new_release: bool = False,
) -> BuildResult:
    """Build every dataset under root/datasets into out/ and swap the new site in on success;
    `progress` gets each line to print, `rows` watches each resource's rows as they load.

    When nothing changed (every dataset, the site metadata and the code as the served release
    was built from), the served release stays and no new one is made, unless `new_release`
    (to roll a fleet of replicas onto a fresh release of the same content)."""
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
        return _build(root, out, say, started, rows, new_release)
    finally:
        gc.unfreeze()  # what _build froze (gc.freeze) is collectable again
        lock.close()


@dataclass(slots=True)
class _Plan:
    """What the build will do with one dataset folder, decided before anything is written."""

    folder: Path
    digest: str
    old: dict | None  # the previous release's state entry
    reuse: bool  # unchanged and present in the previous release: the new release points at its object


class _Latest:
    """`out/reports/`: the latest attempt's reports, rewritten only where the dataset's hash moved.

    Which hash each report there was written for is kept in `LATEST_FILE`; the file is removed
    while a build runs and written when it ends (failed or not), so after a killed build every
    report is written again rather than trusted."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / LATEST_FILE
        self.written: dict[str, str] = _read_json(self.path)
        self.path.unlink(missing_ok=True)

    def current(self, name: str, digest: str) -> bool:
        return self.written.get(name) == digest

    def link(self, name: str, digest: str, served: Path) -> None:
        """`served`: the reports folder of the dataset's object (or of its staging copy)."""
        for ext in ("json", "md"):
            _link_over(served / f"{name}.{ext}", self.folder / f"{name}.{ext}")
        self.written[name] = digest

    def refresh(self, name: str, digest: str, out: Path) -> None:
        """Link an unchanged dataset's reports from its object, unless they are current."""
        if not self.current(name, digest):
            self.link(name, digest, _object(out, name, digest) / "reports")

    def save(self, names: set[str]) -> None:
        _write_text(self.path, json.dumps({n: d for n, d in sorted(self.written.items()) if n in names}))


def _build(
    root: Path,
    out: Path,
    say: Callable[[str], None],
    started: float,
    watch: RowWatch | None = None,
    new_release: bool = False,
) -> BuildResult:
    previous = current_release(out)
    old_state = _read_state(previous)
    # A killed build leaves an unfinished release folder behind; nothing points to it. The
    # release before the current one stays one more build (see below).
    before = old_state.get("previous_release")
    dropped: dict[str, set[str]] = {}  # objects the releases pruned here referred to
    killed: list[Path] = []  # unfinished releases: what their build wrote is found by a sweep
    releases.prune(
        out,
        [previous, out / "releases" / before if before else None],
        on_remove=lambda path: _referred(path, dropped) if releases.is_complete(path) else killed.append(path),
    )
    old_datasets: dict = old_state.get("datasets") or {}
    cache = _read_json(out / CACHE_FILE)
    # The previous state and the cache (at 10,000 datasets some 300,000 objects, alive for the
    # whole build and never garbage) leave the collector's generations: each full collection
    # walked them all, ~0.5 s of a 2-s no-op rebuild (measured with gc on and off, in turns).
    # build_site unfreezes them when the build ends.
    gc.freeze()
    # only the code that shapes a dataset's database and reports; and that of the release-wide files
    hashes, code_cache = codehash.cached_code_hashes(
        {"datasets": codehash.ROOTS, "release": codehash.RELEASE_ROOTS}, cache.get("code")
    )
    code, release_code = hashes["datasets"], hashes["release"]
    hasher = FolderHasher(cache.get("files"), GitTrees.read(root))
    metadata_digest = hasher.folder(root / "metadata", "metadata")
    site, site_cache = _read_site(root, f"{code}:{metadata_digest}", cache.get("site"))
    # digests of resolved descriptors frictionless passed, while the code that checked them is this
    checked = cache.get("frictionless") or {}
    passed: set[str] = set(checked.get("passed") or []) if checked.get("code") == code else set()
    dates, git_cache = git_dates.dataset_dates(root / "datasets", cache.get("git"))
    plans = []
    for folder in dataset_folders(root):
        digest = _combine(code, metadata_digest, hasher.folder(folder, _label(folder)))
        old = old_datasets.get(folder.name)
        reuse = bool(previous and old and old.get("hash") == digest and "tables" in old)
        plans.append(_Plan(folder, digest, old, reuse))
    # Starting from the previous catalogue pays when most datasets are reused.
    incremental = bool(
        previous
        and old_state.get("release_code") == release_code
        and (previous / catalogue.FILE).is_file()
        and sum(p.reuse for p in plans) * 2 >= len(plans)
    )
    # Nothing the catalogue holds moved: the previous file is linked, not copied and rewritten.
    catalogue_unchanged = (
        incremental
        and all(p.reuse and _final_dates(p, dates) == (p.old or {}).get("dates") for p in plans)
        and [p.folder.name for p in plans] == list(old_datasets)
    )
    latest = _Latest(out / "reports")

    def save_caches() -> None:
        latest.save({p.folder.name for p in plans})
        _save_cache(
            out,
            {
                "files": hasher.cache(),
                "git": git_cache,
                "code": code_cache,
                "site": site_cache,
                "frictionless": {
                    "code": code,
                    "passed": sorted(passed) if len(passed) <= 2 * len(plans) + 100 else [],
                },
            },
        )

    if not new_release and previous is not None and catalogue_unchanged and not site.errors:
        kept = _keep_release(plans, previous, out, latest)
        if kept is not None:
            save_caches()
            if dropped or killed:
                _collect(out, dropped, {}, sweep=bool(killed))
            seconds = time.perf_counter() - started
            say(
                f"✓ 未变化 Nothing changed: {len(kept)} 个数据集 datasets, "
                f"仍发布 still serving {previous.name}, {seconds:.2f}s"
            )
            return BuildResult(ok=True, site_dir=out / "site", datasets=kept, seconds=seconds)
    release = releases.create(out)
    (release / "reports").mkdir()  # the rejected rows of datasets built in this build
    (out / OBJECTS).mkdir(exist_ok=True)
    say(
        f"构建 Building {len(plans)} 个数据集 datasets → {release.relative_to(out.parent) if out.parent in release.parents else release}"
    )
    builds: list[DatasetBuild] = []
    objects: dict[str, str] = {}  # dataset -> the object this release refers to
    created: list[Path] = []  # objects this build wrote (thrown away if it fails)
    try:
        # Every dataset's entry, before any is built: the plans say what the release holds (an
        # entry dangles until its object is committed; nothing reads the release before then).
        release_buckets.link(out, release, {p.folder.name: _key(p.digest) for p in plans})
        writer = (
            None
            if catalogue_unchanged
            else catalogue.CatalogueWriter(
                release, site, previous / catalogue.FILE if incremental and previous else None
            )
        )
        warm = None
        if not all(p.reuse for p in plans):
            # Importing frictionless (for a changed descriptor) takes seconds; it overlaps with
            # linking the unchanged datasets, which an updating build does first. Joined before
            # any dataset is loaded: a big table's validation forks, and a fork must not happen
            # while another thread holds an import lock.
            warm = threading.Thread(target=descriptors.warm_frictionless, daemon=True)
            warm.start()
        order = sorted(range(len(plans)), key=lambda i: not plans[i].reuse) if incremental else range(len(plans))
        try:
            for plan in (plans[i] for i in order):
                build = _reuse(plan, previous, out, dates, say) if plan.reuse else None
                if build is not None:
                    objects[build.name] = _key(build.hash)
                    latest.refresh(build.name, build.hash, out)
                    if writer is not None and [build.issued, build.modified] != (plan.old or {}).get("dates"):
                        writer.set_dates(build.name, build.issued, build.modified)
                    if not incremental:
                        assert writer is not None
                        dataset = read_dataset(plan.folder, site, passed=passed)
                        writer.add(dataset, build)
                else:
                    if warm is not None:
                        warm.join()
                        warm = None
                    dataset = read_dataset(plan.folder, site, passed=passed)
                    staging = _staging(out, dataset.name, plan.digest)
                    try:
                        build = _build_one(dataset, plan, staging, out, dates, say, watch)
                        if build.valid and build.published:
                            _publish_files(dataset, staging, _previous_downloads(previous, dataset.name))
                        _write_reports(staging / "reports", build)
                        _write_rejected(out / "reports", release / "reports", build)
                        latest.link(build.name, build.hash, staging / "reports")
                        if build.valid:
                            if _commit_object(staging, _object(out, build.name, build.hash)):
                                created.append(_object(out, build.name, build.hash))
                            objects[build.name] = _key(build.hash)
                    finally:
                        shutil.rmtree(staging, ignore_errors=True)  # gone once committed
                    if build.valid:
                        assert writer is not None  # a dataset built afresh is never catalogue_unchanged
                        writer.add(dataset, build)
                builds.append(build)
            position = {p.folder.name: i for i, p in enumerate(plans)}
            builds.sort(key=lambda b: position[b.name])  # build order again: the files list them so
            names = [b.name for b in builds]
            if incremental and writer is not None:
                for gone in old_datasets.keys() - set(names):
                    writer.remove(gone)
        finally:
            save_caches()
        result = BuildResult(ok=False, site_dir=None, datasets=builds, site_errors=list(site.errors))
        if site.errors or result.failed:
            if writer is not None:
                writer.conn.close()
            for error in site.errors:
                say(f"✗ {error.message_zh}\n  {error.message}")
            if result.failed:
                say(
                    f"✗ 构建失败 Build failed: {', '.join(result.failed)} 未通过校验 invalid; 报告 reports in {out / 'reports'}"
                )
            releases.discard(out, release)
            _trash_objects(out, created)  # nothing refers to them
            release_buckets.collect(out)
            result.seconds = time.perf_counter() - started
            return result
        if writer is None:
            assert previous is not None
            os.link(previous / catalogue.FILE, release / catalogue.FILE)
        else:
            writer.close()
        # An incremental build's catalogue files are mostly the kernel copying the previous
        # release's bytes and zlib/SHA-256 over them, which release the GIL: in a thread, beside
        # the Python-bound steps below (0.4–0.5 s of a one-change rebuild at 10,000 datasets, on
        # two cores). A full build renders every dataset's fragments: in line, so that memory
        # is not on top of the steps below (+17 MB of a 10,000-dataset build's peak).
        files_step = _Background(
            _write_catalogue_files,
            release,
            previous,
            release_code,
            builds,
            catalogue_unchanged=writer is None,
            inline=not incremental,
        )
        try:
            if (
                writer is None
                and previous is not None
                and all((previous / f).is_file() for f in ("metadata.json", "inspect.json"))
            ):
                # nothing the catalogue holds moved, with the same code: Datasette's files neither
                for f in ("metadata.json", "inspect.json"):
                    os.link(previous / f, release / f)
            else:
                # str paths, no Path per dataset (in_objects(...) / name made two: 0.5 s at 10,000;
                # one was still 0.27 s of a one-change rebuild)
                databases = {
                    f"{release_files.in_objects(release, b.name)}/{b.name}.db": b.reused
                    for b in builds
                    if b.valid and b.published
                }
                datasette_files.write(release, site, [], {}, previous, databases)
            _write_search_shards(release, previous, builds)
            _write_state(release / STATE_FILE, _state_head(code, release_code, previous), builds)
            _write_text(release / OBJECTS_FILE, json.dumps(objects, separators=(",", ":")))
        finally:
            files_step.wait()  # before anything below can discard the release it writes into
        files_step.check()
        releases.finish(release)  # last: a server only ever opens a release the build finished
    except BaseException:
        if release.exists():
            releases.discard(out, release)
        _trash_objects(out, created)
        release_buckets.collect(out)
        raise
    _swap(out, release)
    # The previous release stays one more build (a server may be resolving the link right now);
    # older ones go unless a server still holds them, and so do the objects only they refer to.
    releases.prune(out, [release, previous], on_remove=lambda path: _referred(path, dropped))
    _collect(out, dropped, {release.name: objects}, sweep=bool(killed))
    total = sum(t.get("rows", 0) for b in builds for t in b.tables.values())
    seconds = time.perf_counter() - started
    say(
        f"✓ 完成 Built {len(builds)} 个数据集 datasets, {total} 行 rows, "
        f"{len(result.reused)} 个未变化 unchanged, {seconds:.2f}s"
    )
    result.ok, result.site_dir, result.seconds = True, out / "site", seconds
    return result


class _Background:
    """One build step run in a thread beside the next ones. `wait` joins it; `check` then
    raises what it raised, so its failure fails the build as if it had run in line."""

    def __init__(self, step: Callable[..., object], *args: object, inline: bool = False, **kwargs: object):
        """`inline`: run it here and now (its error is raised at once)."""
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if inline:
            step(*args, **kwargs)
            return

        def run() -> None:
            try:
                step(*args, **kwargs)
            except BaseException as exc:  # re-raised in the build's thread by check()
                self.error = exc

        self.thread = threading.Thread(target=run, name=getattr(step, "__name__", "step"), daemon=True)
        self.thread.start()

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()

    def check(self) -> None:
        if self.error is not None:
            raise self.error


def _write_catalogue_files(
    release: Path, previous: Path | None, release_code: str, builds: list[DatasetBuild], *, catalogue_unchanged: bool
) -> None:
    """The catalogue downloads and the DCAT-US documents (gongkai.catalogue_files). A
    dataset's entry in them is made from its catalogue rows, which its object (the digest
    covers its folder, metadata/ and the code), its dates and the code writing catalog.db
    decide: that is its key, and an unchanged key's fragments are copied, not rendered."""
    keys = {
        b.name: hashlib.sha256(f"{release_code}\0{b.hash}\0{b.issued}\0{b.modified}".encode()).hexdigest()[:32]
        for b in builds
        if b.valid
    }
    catalogue_files.write(release, previous, catalogue_unchanged, keys)


def _write_search_shards(release: Path, previous: Path | None, builds: list[DatasetBuild]) -> None:
    """The site-wide search index (gongkai.search.site_index): an unchanged dataset's shard is
    linked from the previous release, a changed one's rewritten with only its rows replaced."""
    entries = [
        site_index.Entry(b.name, b.hash, {t: int(s.get("rows", 0)) for t, s in b.tables.items()})
        for b in builds
        if b.valid and b.published  # a withheld dataset's rows are never searchable
    ]
    site_index.write(release, previous, entries)


def _save_cache(out: Path, cache: dict) -> None:
    _write_text(out / CACHE_FILE, json.dumps(cache))


def _read_site(root: Path, key: str, cache: dict | None) -> tuple[Site, dict]:
    """The site metadata, parsed again only when its files (or the code reading them) changed:
    YAML of hundreds of publishers takes a second to parse. Only metadata without errors is kept."""
    if cache and cache.get("key") == key:
        return Site(root=root, **{k: cache[k] for k in SITE_PARTS}), cache
    site = read_site(root)
    return site, ({"key": key, **{k: getattr(site, k) for k in SITE_PARTS}} if not site.errors else {})


def _dates(plan: _Plan, dates: git_dates.Dates) -> tuple[str | None, str | None, str]:
    """(git's issued, git's modified, first_built) of a dataset."""
    issued, modified = dates.get(plan.folder.name, (None, None))
    return issued, modified, (plan.old or {}).get("first_built") or _now()


def _final_dates(plan: _Plan, dates: git_dates.Dates) -> list[str | None]:
    """[issued, modified] as the catalogue of a reused dataset shows them (see `_reuse`)."""
    issued, modified, first_built = _dates(plan, dates)
    return [issued or first_built, modified or (plan.old or {}).get("first_seen")]


def _key(digest: str) -> str:
    """An object's folder name: the dataset hash (code, site metadata, folder), shortened."""
    return digest[:32]


def _object(out: Path, name: str, digest: str) -> Path:
    return out / OBJECTS / name / _key(digest)


def _staging(out: Path, name: str, digest: str) -> Path:
    """Where a dataset built afresh is written before it becomes its object in one rename."""
    folder = out / OBJECTS / name / f".staging-{_key(digest)}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "reports").mkdir(parents=True)
    return folder


def _commit_object(staging: Path, final: Path) -> bool:
    """The staging folder becomes the object; False when the object is there already (the same
    content built before and still kept: it stays as it is, immutable, and this copy goes)."""
    try:
        os.rename(staging, final)
        return True
    except OSError:
        if final.is_dir():
            return False
        raise


def _keep_release(plans: list[_Plan], previous: Path, out: Path, latest: _Latest) -> list[DatasetBuild] | None:
    """A no-op rebuild: every dataset of the served release unchanged (its catalogue too, which
    the caller checked) keeps that release; a new one would only repeat it, link for link (at
    10,000 datasets most of a no-op rebuild's time). The builds as the state recorded them, or
    None when an object or a file of the release is missing (the build then makes a new one)."""
    if not all((previous / f).is_file() for f in ("metadata.json", "inspect.json", OBJECTS_FILE)):
        return None
    kept = []
    for plan in plans:
        name, old = plan.folder.name, plan.old
        assert old is not None  # catalogue_unchanged: every plan is reused
        if not os.path.isdir(f"{out}/{OBJECTS}/{name}/{_key(plan.digest)}"):
            return None
        issued, modified = old.get("dates") or [None, None]  # as the catalogue shows them
        kept.append(_reused_build(plan, out, issued, modified, old.get("first_built")))
    for build in kept:
        latest.refresh(build.name, build.hash, out)
    return kept


def _reuse(
    plan: _Plan, previous: Path | None, out: Path, dates: git_dates.Dates, say: Callable[[str], None]
) -> DatasetBuild | None:
    """An unchanged dataset's build, its object kept (the release's bucket links name it);
    None when the object is missing (the dataset is then built again). A previous release of the flat layout (before objects) has
    its files hard-linked into an object once."""
    assert previous is not None and plan.old is not None
    name, old = plan.folder.name, plan.old
    # str paths, not pathlib: this runs 10,000 times in a no-op rebuild
    obj = f"{out}/{OBJECTS}/{name}/{_key(plan.digest)}"
    if not os.path.isdir(obj) and not _migrate(previous, out, name, plan.digest, old):
        return None
    issued, modified, first_built = _dates(plan, dates)
    say(f"· {name}: 未变化 unchanged")
    return _reused_build(plan, out, issued or first_built, modified or old.get("first_seen"), first_built)


def _reused_build(
    plan: _Plan, out: Path, issued: str | None, modified: str | None, first_built: str | None
) -> DatasetBuild:
    """An unchanged dataset's build as its state entry records it, with the catalogue's dates."""
    assert plan.old is not None
    old = plan.old
    return DatasetBuild(
        name=plan.folder.name,
        hash=plan.digest,
        valid=True,
        tables=old["tables"],
        # the latest copy, which the build makes the object's (it outlives a failed release)
        report_file=f"{out}/reports/{plan.folder.name}.json",
        modified=modified,
        first_seen=old.get("first_seen") or _now(),
        reused=True,
        issued=issued,
        first_built=first_built,
        published=old.get("published", True),
    )


def _migrate(previous: Path, out: Path, name: str, digest: str, old: dict) -> bool:
    """A flat release's files of one dataset hard-linked into its object (once per dataset,
    the first build after the layout changed); False when the previous release lacks one."""
    if "files" not in old or not release_files._flat(previous):
        return False
    staging = _staging(out, name, digest)
    src, dst = str(previous), str(staging)
    try:
        if old.get("published", True):  # a withheld dataset has no database in any release
            os.link(f"{src}/{name}.db", f"{dst}/{name}.db")
        for ext in ("json", "md"):
            os.link(f"{src}/reports/{name}.{ext}", f"{dst}/reports/{name}.{ext}")
        for rel in old["files"]:
            os.makedirs(os.path.dirname(f"{dst}/downloads/{rel}"), exist_ok=True)
            os.link(f"{src}/downloads/{name}/{rel}", f"{dst}/downloads/{rel}")
        _commit_object(staging, _object(out, name, digest))
        return True
    except FileNotFoundError:
        return False
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _referred(release: Path, into: dict[str, set[str]]) -> None:
    """Add the objects a release refers to (its `objects.json`) to `into`."""
    for name, key in _read_json(release / OBJECTS_FILE).items():
        into.setdefault(name, set()).add(key)


def _collect(out: Path, gone: dict[str, set[str]], kept: dict[str, dict[str, str]], *, sweep: bool = False) -> None:
    """Throw away the objects that only pruned releases referred to. `gone`: what the pruned
    ones referred to; `kept`: the manifests already in memory (the new release's). The other
    releases still there (the previous one, any a server holds) are read, so only objects no
    release refers to go. `sweep` (after a killed build, whose objects no manifest names)
    looks at every object instead of only the pruned releases' ones."""
    referred: dict[str, set[str]] = {}
    for release in (out / "releases").iterdir():
        if release.name in kept:
            for name, key in kept[release.name].items():
                referred.setdefault(name, set()).add(key)
        else:
            _referred(release, referred)
    if sweep:
        gone = {}
        with os.scandir(out / OBJECTS) as names:
            for entry in names:
                with os.scandir(entry.path) as keys:
                    gone[entry.name] = {k.name for k in keys}
    garbage = [out / OBJECTS / name / key for name, keys in gone.items() for key in keys - referred.get(name, set())]
    _trash_objects(out, garbage)
    release_buckets.collect(out)


def _trash_objects(out: Path, objects: list[Path]) -> None:
    """Objects out of their path in one rename each, deleted by the background trash emptier."""
    releases.trash(out, [(obj, f"object-{obj.parent.name}-{obj.name}") for obj in objects])


def _build_one(
    dataset: Dataset,
    plan: _Plan,
    folder: Path,
    out: Path,
    dates: git_dates.Dates,
    say: Callable[[str], None],
    watch: RowWatch | None = None,
) -> DatasetBuild:
    """Validate and load one dataset into `folder` (its staging object)."""
    old = plan.old
    issued, modified, first_built = _dates(plan, dates)
    published = not openness.is_withheld(openness.openness_class(dataset.descriptor))
    t0 = time.perf_counter()
    # a withheld dataset is loaded as any other (the same checks, the same stats), into a
    # file no server lists (not `<name>.db`), removed before its object is committed
    db_path = folder / (f"{dataset.name}.db" if published else ".withheld.sqlite")
    try:
        result = load_dataset(dataset, db_path, watch=watch)
    finally:
        if not published:
            for suffix in ("", "-wal", "-shm", "-journal"):
                db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    tables = {t.resource.name: {k: v for k, v in t.stats.items() if k not in _UNKEPT_STATS} for t in result.tasks}
    rows = sum(t.get("rows", 0) for t in tables.values())
    n_errors = len(result.errors) + sum(len(t.errors) for t in result.tasks)
    mark = "✓" if result.valid else "✗"
    say(
        f"{mark} {dataset.name}: {len(result.tasks)} 个资源 resources, {rows} 行 rows, "
        f"{n_errors} 个错误 errors, {time.perf_counter() - t0:.2f}s"
    )
    first_seen: str = old["first_seen"] if old and old.get("hash") == plan.digest and old.get("first_seen") else _now()
    build = DatasetBuild(
        name=dataset.name,
        hash=plan.digest,
        valid=result.valid,
        tables=tables,
        modified=modified or first_seen,
        first_seen=first_seen,
        issued=issued or first_built,
        first_built=first_built,
        report_file=f"{out}/reports/{dataset.name}.json",
        rejected=rejected_rows.for_result(result),
        published=published,
    )
    late = report.overdue(dataset.descriptor, modified or first_seen, datetime.now(UTC).date())
    build._report, build._markdown = report.with_rejected_rows(
        report.report([result], warnings={dataset.name: late}),
        report.markdown_summary(result, warnings=late),
        build.rejected,
    )
    return build


def _previous_downloads(previous: Path | None, name: str) -> Path | None:
    """The dataset's downloads folder in the previous release (its object's), if it has one."""
    if previous is None:
        return None
    folder = release_files.downloads(previous, name)
    return folder if folder.is_dir() else None


def _publish_files(dataset: Dataset, folder: Path, compressed_from: Path | None = None) -> list[str]:
    """The files people download: the descriptor and each resource's original file, under
    the object's `downloads/` at the paths the descriptor gives. Copied, not linked to the
    working tree (an edit in place there must not change a published release). Returns the
    paths published (relative to `downloads/`)."""
    target = folder / "downloads"
    # only the descriptor names and the validated resources' paths, each read through the same
    # checks as validation (inside the folder, a regular file, within the size limit)
    names = [n for n in DESCRIPTOR_NAMES if os.path.lexists(dataset.folder / n)]
    names += [r.path for r in dataset.resources if r.fullpath is not None]
    for name in dict.fromkeys(names):
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            files.copy_file(dataset.folder, name, dest)
        except files.FileRefused as refused:  # changed since it was validated
            raise BuildError(f"{dataset.name}/{name}: {refused.note} / {refused.note_zh}") from None
    # every resource in every open format (gongkai/exports/); only a dataset built afresh gets here
    # (`compressed_from`: its downloads in the previous release, whose compressed copy of a
    # byte-identical export is linked rather than compressed again)
    written = exports.publish(dataset, folder / f"{dataset.name}.db", target, compressed_from)
    return list(dict.fromkeys([*names, *(e.path for e in written), exports.MANIFEST]))


def _write_reports(served: Path, build: DatasetBuild) -> None:
    """A dataset built afresh: its reports into the release (the latest copies link to them)."""
    _write_text(served / f"{build.name}.json", json.dumps(build.report, ensure_ascii=False, indent=2, default=str))
    _write_text(served / f"{build.name}.md", build.markdown)
    if build.valid:  # read back from the file when asked: a build of 10,000 keeps none in memory
        build._report = build._markdown = None


def _write_rejected(latest: Path, served: Path, build: DatasetBuild) -> None:
    """The rejected-rows files of this attempt only, beside both copies of the reports: a
    dataset fixed since has none left (gongkai.rejected_rows)."""
    for folder in (latest, served):
        shutil.rmtree(folder / rejected_rows.FOLDER / build.name, ignore_errors=True)
        for rejected in build.rejected:
            (folder / rejected.path).parent.mkdir(parents=True, exist_ok=True)
            _write_text(folder / rejected.path, rejected.text)


def _state_head(code: str, release_code: str, previous: Path | None) -> dict:
    """The release's state (STATE_FILE) but its `datasets` (`_write_state` adds them)."""
    return {
        "code": code,
        "release_code": release_code,
        "previous_release": previous.name if previous else None,
        "built": _now(),
    }


def _state_entry(b: DatasetBuild) -> dict:
    return {
        "hash": b.hash,
        "tables": b.tables,
        "first_seen": b.first_seen,
        "first_built": b.first_built,
        "dates": [b.issued, b.modified],  # as the catalogue shows them
        "published": b.published,
    }


def _write_state(path: Path, head: dict, builds: list[DatasetBuild]) -> None:
    """`head` (`_state_head`) with every build's entry, a dataset at a time (gongkai.json_files)."""
    json_files.write_object(
        path, ((b.name, _state_entry(b)) for b in builds), head=head, key="datasets", ensure_ascii=False
    )
