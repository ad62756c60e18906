"""Validation reports: frictionless's report shape as JSON, and a short bilingual Markdown summary.

Pure functions from validation results to dicts and text; writing files is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from . import rejected_rows
from .errors import Error, notes
from .portal import timeliness


def _both(key: str, sep: str = " / ", **params) -> str:
    """The report string `key` in Chinese, then in English."""
    en, zh = notes(f"report.{key}", **params)
    return f"{zh}{sep}{en}"


REPORT_VERSION = 1
Warnings = Mapping[str, list[str]]  # dataset name -> its warnings, each "中文 / English"


def overdue(descriptor: dict, modified, today: date) -> list[str]:
    """A warning when the dataset's last change is older than its `gov:frequency` allows: the
    site's own rule (gongkai/portal/timeliness.py, shown on the landing page), judged on `today`.
    A warning, not an error: late data is still valid data, and the publisher may be on the way."""
    frequency = descriptor.get("gov:frequency")
    judged = timeliness.judge(frequency if isinstance(frequency, str) else None, modified, today)
    if judged.status != "late" or judged.modified is None or judged.due is None:
        return []
    return [
        _both(
            "overdue",
            frequency=frequency,
            modified=judged.modified.isoformat(),
            due=judged.due.isoformat(),
            days=judged.days_late,
        )
    ]


def task_report(task) -> dict:
    """One resource, as a frictionless report task (plus `dataset`, `resource` and `title`)."""
    resource = task.resource
    return {
        "name": resource.name,
        "dataset": resource.dataset,
        "title": resource.descriptor.get("title", ""),
        "type": "table",
        "valid": task.valid,
        "place": resource.path,
        "labels": list(task.labels),
        "stats": {
            "errors": len(task.errors),
            "warnings": 0,
            **{k: v for k, v in task.stats.items() if k != "errors"},
        },
        "warnings": [],
        "errors": [e.to_dict() for e in task.errors],
    }


def report(results: Iterable, seconds: float | None = None, warnings: Warnings | None = None) -> dict:
    """One report for one or several datasets, in frictionless's shape: top-level `errors` are
    the dataset-level ones (descriptor, catalogue profile), `tasks` one per resource; top-level
    `warnings` (strings, as frictionless's) what does not make a dataset invalid (`overdue`)."""
    results = list(results)
    found = [w for r in results for w in (warnings or {}).get(r.dataset.name, [])]
    errors = [e.to_dict() for r in results for e in r.errors]
    tasks = [task_report(t) for r in results for t in r.tasks]
    n_errors = len(errors) + sum(t["stats"]["errors"] for t in tasks)
    return {
        "valid": n_errors == 0,
        "stats": {
            "tasks": len(tasks),
            "errors": n_errors,
            "warnings": len(found),
            "seconds": round(seconds if seconds is not None else sum(t["stats"].get("seconds", 0) for t in tasks), 3),
            "datasets": len(results),
        },
        "warnings": found,
        "errors": errors,
        "tasks": tasks,
    }


def _error_line(e: Error) -> str:
    return f"- `{e.type}` {e.message_zh}\n  {e.message}"


def markdown_summary(result, first: int = 10, warnings: list[str] | None = None) -> str:
    """A short bilingual summary for a publisher: status and warnings, then the first errors
    per resource."""
    name = result.dataset.name
    ok = result.valid
    n = len(result.errors) + sum(len(t.errors) for t in result.tasks)
    lines = [
        f"# {name}",
        "",
        "✅ " + _both("valid") if ok else "❌ " + _both("invalid", n=n),
        "",
    ]
    if warnings:
        lines += [f"⚠️ {w}" for w in warnings] + [""]
    if result.errors:
        lines += ["## " + _both("dataset"), ""]
        lines += [_error_line(e) for e in result.errors[:first]]
        if len(result.errors) > first:
            lines.append("- … " + _both("more", n=len(result.errors) - first))
        lines.append("")
    if result.tasks:
        header = " | ".join(_both(key, " ") for key in ("resource", "rows", "errors"))
        lines += [f"| {header} |", "|---|---:|---:|"]
        for t in result.tasks:
            lines.append(f"| {t.resource.name} | {t.stats.get('rows', 0)} | {len(t.errors)} |")
        lines.append("")
    for t in result.tasks:
        if not t.errors:
            continue
        lines += [f"## {t.resource.name} (`{t.resource.path}`)", ""]
        lines += [_error_line(e) for e in t.errors[:first]]
        if len(t.errors) > first:
            lines.append("- … " + _both("more", n=len(t.errors) - first))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def text_summary(results: Iterable, first: int = 5, warnings: Warnings | None = None) -> str:
    """What `gongkai validate` prints for a person: one line per dataset, its warnings, the first
    errors of each."""
    out = []
    for r in results:
        n = len(r.errors) + sum(len(t.errors) for t in r.tasks)
        rows = sum(t.stats.get("rows", 0) for t in r.tasks)
        if r.valid:
            out.append(f"✓ {r.dataset.name}: " + _both("passed", resources=len(r.tasks), rows=rows))
            out.extend(f"    ⚠ {w}" for w in (warnings or {}).get(r.dataset.name, []))
            continue
        out.append(f"✗ {r.dataset.name}: " + _both("failed", n=n))
        out.extend(f"    ⚠ {w}" for w in (warnings or {}).get(r.dataset.name, []))
        shown = list(r.errors) + [e for t in r.tasks for e in t.errors]
        for e in shown[:first]:
            out.append(f"    {e.message_zh}")
            out.append(f"    {e.message}")
        if len(shown) > first:
            out.append("    … " + _both("more_errors", n=len(shown) - first))
    return "\n".join(out)


def with_rejected_rows(report_dict: dict, markdown: str, files: list) -> tuple[dict, str]:
    """The report and its Markdown with each rejected-rows file linked (`gongkai.rejected_rows`):
    the task's ``rejectedRows`` in the JSON, a closing section in the Markdown. Paths are
    relative to the reports folder, where both are written."""
    if not files:
        return report_dict, markdown
    by_name = {f.path: f for f in files}
    for task in report_dict.get("tasks", []):
        found = by_name.get(rejected_rows.path_for(task["dataset"], task["name"]))
        if found is not None:
            task["rejectedRows"] = {
                "path": found.path,
                "rows": found.rows,
                "shown": found.shown,
                "capped": found.capped,
            }
    lines = [markdown.rstrip(), "", "## " + _both("rejected.title"), "", _both("rejected.about"), ""]
    for f in files:
        resource = f.path.rsplit("/", 1)[-1].removesuffix(".csv")
        shown = (
            _both("rejected.capped", rows=f.rows, shown=f.shown) if f.capped else _both("rejected.rows", rows=f.rows)
        )
        lines.append(f"- [{resource}]({f.path}): {shown}")
    return report_dict, "\n".join(lines) + "\n"
