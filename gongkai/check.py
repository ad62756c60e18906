"""The pull-request check: validate only what a branch changed, and say it as a PR comment.

`changed_datasets(root, ref)` asks git which files differ between the merge base of `ref` and
the working tree (commits on the branch, uncommitted and untracked files alike) and maps them to
datasets: a file under `datasets/<name>/` is that dataset; a shared schema under
`metadata/schemas/` affects every dataset whose descriptor names it (`"schema":
"shared:<name>"`); any other file under `metadata/` (publishers, themes, licences, the site)
can affect every dataset, so all are checked. A dataset whose foreign keys reference a changed
dataset's package (`reference.package`) is checked with it. Foreign keys inside one package are
covered already: a dataset is always validated whole.

`run_check` validates those datasets with every guard the build runs (gongkai.build.check),
adds the timeliness warnings and the scorecard, and `markdown` writes the bilingual report.
The CLI (`gongkai check`) is a thin layer over these; exit 0 clean, 1 errors, 2 usage.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from . import git_dates, i18n, rejected_rows, scorecard
from .build import check as validate_folders
from .catalogue.records import DatasetRecord, FieldRecord, ResourceRecord
from .descriptors import dataset_folders, read_site
from .errors import Error
from .portal.timeliness import judge

DEFAULT_REPORT = Path("build/check-report.md")
DESCRIPTOR_NAMES = ("datapackage.json", "datapackage.yaml", "datapackage.yml")
FIRST_ERRORS = 10  # per resource in the report: a PR comment must stay readable


class CheckUsageError(Exception):
    """Not a data problem: no git repository, or a ref git does not know (exit 2)."""


@dataclass
class Changes:
    datasets: list[str]  # to check, sorted
    files: list[str]  # changed paths, relative to root
    removed: list[str] = field(default_factory=list)  # dataset folders the branch deleted
    why: dict[str, str] = field(default_factory=dict)  # dataset → the first reason it is checked


@dataclass
class DatasetCheck:
    name: str
    result: Any  # gongkai.validate.package.DatasetResult
    card: dict
    warnings: list[tuple[str, str]]  # (zh, en)

    @property
    def errors(self) -> list[Error]:
        return [*self.result.errors, *(e for t in self.result.tasks for e in t.errors)]


@dataclass
class CheckResult:
    changes: Changes
    datasets: list[DatasetCheck]
    site_errors: list[Error]

    @property
    def ok(self) -> bool:
        return not self.site_errors and all(d.result.valid for d in self.datasets)


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CheckUsageError(f"{_both('no_git')}: {exc}") from None
    if done.returncode != 0:
        raise CheckUsageError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def _descriptor_text(folder: Path) -> str:
    return "\n".join(
        (folder / n).read_text(encoding="utf-8", errors="replace") for n in DESCRIPTOR_NAMES if (folder / n).is_file()
    )


def _package_refs(text: str) -> set[str]:
    """Names of other packages a descriptor's foreign keys reference (`reference.package`, a
    name or a path such as `../other/datapackage.json`)."""
    try:
        d = json.loads(text)
    except ValueError:
        return set()  # a YAML descriptor: no cross-package references are in use there
    out: set[str] = set()
    for res in d.get("resources") or [] if isinstance(d, dict) else []:
        schema = res.get("schema") if isinstance(res, dict) else None
        for fk in (schema.get("foreignKeys") or []) if isinstance(schema, dict) else []:
            pkg = (fk.get("reference") or {}).get("package") if isinstance(fk, dict) else None
            if isinstance(pkg, str) and pkg:
                parts = [p for p in pkg.replace("\\", "/").split("/") if p not in ("", ".", "..")]
                out.add(parts[-2] if len(parts) > 1 and parts[-1].startswith("datapackage") else parts[-1])
    return out


def changed_datasets(root: Path, ref: str) -> Changes:
    """What `ref`..the working tree changed, as the datasets to check (see the module doc)."""
    root = Path(root).resolve()
    try:
        top = Path(_git(root, "rev-parse", "--show-toplevel").strip()).resolve()
    except CheckUsageError as exc:
        raise CheckUsageError(f"{_both('not_git', path=root)} ({exc})") from None
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except CheckUsageError:
        raise CheckUsageError(_both("unknown_ref", ref=ref)) from None
    base = _git(root, "merge-base", ref, "HEAD").strip()
    listed = _git(root, "diff", "--name-only", "-z", base, "--", ".").split("\0")
    listed += _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".").split("\0")
    files = sorted({str((top / p).relative_to(root)) for p in listed if p and (top / p).resolve().is_relative_to(root)})
    folders = {f.name: f for f in dataset_folders(root)}
    texts = {name: _descriptor_text(f) for name, f in folders.items()}
    why: dict[str, str] = {}
    removed: set[str] = set()
    for path in files:
        parts = Path(path).parts
        if len(parts) >= 2 and parts[0] == "datasets":
            if parts[1] in folders:
                why.setdefault(parts[1], path)
            else:
                removed.add(parts[1])
        elif len(parts) >= 3 and parts[:2] == ("metadata", "schemas"):
            stem = Path(parts[-1]).name.split(".", 1)[0]
            users = [n for n, text in texts.items() if f"shared:{stem}" in text]
            for n in users:
                why.setdefault(n, path)
        elif parts and parts[0] == "metadata":
            for n in folders:  # publishers, themes, licences, the site: any dataset may use it
                why.setdefault(n, path)
    # datasets whose foreign keys reach into a changed one, until nothing new is added
    grew = True
    while grew:
        grew = False
        for n, text in texts.items():
            if n not in why and (hit := _package_refs(text) & (set(why) | removed)):
                why[n] = f"datasets/{sorted(hit)[0]}"
                grew = True
    return Changes(datasets=sorted(why), files=files, removed=sorted(removed), why=why)


@dataclass
class _BuildFacts:
    """What DatasetRecord.from_dataset reads of a build, from a validation without a build."""

    tables: dict
    valid: bool
    modified: str | None
    issued: str | None
    hash: str | None = None


def _scorecard(result, site, today: date, issued: str | None, modified: str | None) -> dict:
    ds = result.dataset
    facts = _BuildFacts(
        tables={t.resource.name: t.stats for t in result.tasks}, valid=result.valid, modified=modified, issued=issued
    )
    record = DatasetRecord.from_dataset(ds, facts)
    resources = ResourceRecord.from_dataset(ds, facts)
    # what the build would publish: each original file the descriptor names, if it is there
    published = frozenset(r.name for r in resources if r.path and (ds.folder / r.path).is_file())
    return scorecard.dataset_scorecard(
        record,
        resources,
        FieldRecord.from_dataset(ds),
        scorecard.Facts(served=result.valid, published=published, today=today),
        known_licences=set(site.licenses) if site else set(),
    )


def run_check(root: Path, ref: str, *, today: date | None = None) -> CheckResult:
    root = Path(root)
    changes = changed_datasets(root, ref)
    today = today or date.today()
    site = read_site(root) if (root / "metadata").is_dir() else None
    folders = [root / "datasets" / n for n in changes.datasets]
    results = validate_folders(folders, root) if folders else []
    site_errors = list(site.errors) if site else []
    if site_errors and results:  # build.check reports them on the first dataset: once is enough
        results[0].errors[:] = [e for e in results[0].errors if e not in site_errors]
    checks = []
    dates, _ = git_dates.dataset_dates(root / "datasets") if results else ({}, None)  # one git log for all
    for r in results:
        issued, modified = dates.get(r.dataset.name, (None, None))
        card = _scorecard(r, site, today, issued, modified)
        t = judge(r.dataset.descriptor.get("gov:frequency"), modified, today)
        warnings = []
        if t.status == "late":  # a warning, not an error: the data may simply not have changed
            warnings.append(_pair("overdue", days=t.days_late, due=t.due.isoformat() if t.due else ""))
        checks.append(DatasetCheck(r.dataset.name, r, card, warnings))
    return CheckResult(changes, checks, site_errors)


# ---------------------------------------------------------------------------------------------
# The report


def _pair(key: str, **params) -> tuple[str, str]:
    """(Chinese, English) of a `check.*` string (gongkai/locales/check.yaml)."""
    return i18n.t(f"check.{key}", "zh", **params), i18n.t(f"check.{key}", "en", **params)


def _both(key: str, sep: str = " / ", **params) -> str:
    zh, en = _pair(key, **params)
    return f"{zh}{sep}{en}"


def _cell(value: Any) -> str:
    """A value in a Markdown table cell: one line, pipes escaped, long values cut."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    return (text[:60] + "…") if len(text) > 61 else text


def write_rejected_rows(check: CheckResult, folder: Path) -> list[Path]:
    """The rejected-rows file of every failing resource (gongkai.rejected_rows), written under
    `folder` (the report's folder) at the paths the report links to."""
    written = []
    for d in check.datasets:
        for found in rejected_rows.for_result(d.result):
            path = folder / found.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(found.text, encoding="utf-8", newline="")
            written.append(path)
    return written


def _rejected_rows(dataset: str, task) -> str | None:
    """Where the report links a failing resource's rejected-rows file (relative to the report)."""
    found = rejected_rows.rejected_rows(dataset, task)
    return found.path if found else None


def markdown(check: CheckResult, *, first: int = FIRST_ERRORS) -> str:
    """The report for a pull-request comment: summary table with the scorecard, then the first
    errors of each failing resource (row, column, value, what is wrong and how to fix it)."""
    n_bad = sum(not d.result.valid for d in check.datasets)
    lines = ["## " + _both("check_title"), ""]
    if not check.datasets and not check.site_errors:
        lines += [_both("check_nothing"), ""]
    elif check.ok:
        lines += ["✅ " + _both("check_ok", n=len(check.datasets)), ""]
    else:
        lines += ["❌ " + _both("check_failed", n=n_bad, total=len(check.datasets)), ""]
    if check.changes.removed:
        lines += [_both("check_removed", names=", ".join(check.changes.removed)), ""]
    for e in check.site_errors:
        lines += [f"- ❌ `{e.type}` {e.message_zh}", f"  {e.message}"]
    if check.site_errors:
        lines.append("")
    if check.datasets:
        cols = ("dataset", "status", "errors", "mqa", "stars", "quality")
        lines += ["| " + " | ".join(_both(c, "<br>") for c in cols) + " |", "|---|---|---:|---:|---:|---:|"]
        for d in check.datasets:
            mqa = d.card["mqa"]
            status = "✅" if d.result.valid else "❌"
            rating = _both(f"rating_{mqa['rating']}", " ")
            lines.append(
                f"| `{d.name}` | {status} | {len(d.errors)} | {mqa['points']} / {mqa['max']} ({rating}) "
                f"| {'★' * d.card['stars']['level'] or '—'} | {d.card['quality']} / 100 |"
            )
        lines.append("")
    for d in check.datasets:
        for zh, en in d.warnings:
            lines += [f"- ⚠️ `{d.name}` {zh}", f"  {en}"]
        if d.warnings:
            lines.append("")
    header = " | ".join(_both(c, "<br>") for c in ("row", "column", "value", "problem"))
    for d in check.datasets:
        if d.result.errors:
            lines += [f"### `{d.name}`", ""]
            lines += [f"- `{e.type}` {e.message_zh}\n  {e.message}" for e in d.result.errors[:first]]
            lines.append("")
        for t in d.result.tasks:
            if not t.errors:
                continue
            lines += [f"### `{d.name}` / `{t.resource.name}` (`{t.resource.path}`)", ""]
            lines += [f"| {header} |", "|---:|---|---|---|"]
            for e in t.errors[:first]:
                column = e.field_name or (f"#{e.field_number}" if e.field_number else "")
                lines.append(f"| {e.row_number or ''} | {_cell(column)} | {_cell(e.cell)} | {_problem(e)} |")
            if len(t.errors) > first:
                lines += ["", "… " + _both("more", n=len(t.errors) - first)]  # noqa: RUF001
            if rejected := _rejected_rows(d.name, t):
                lines += ["", _both("check_rejected", path=rejected)]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _problem(e: Error) -> str:
    """What is wrong and what to do, in Chinese then English: the error's title and its note
    (the notes say how to fix it); the place is in the row's other columns."""
    zh = f"{e.title_zh}：{e.note_zh or e.note}" if (e.note_zh or e.note) else e.title_zh
    en = f"{e.title}: {e.note}" if e.note else e.title
    return f"{_md_escape(zh)}<br>{_md_escape(en)}"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
