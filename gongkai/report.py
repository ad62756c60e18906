"""Validation reports: frictionless's report shape as JSON, and a short bilingual Markdown summary.

Pure functions from validation results to dicts and text; writing files is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import Error

REPORT_VERSION = 1


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


def report(results: Iterable, seconds: float | None = None) -> dict:
    """One report for one or several datasets, in frictionless's shape: top-level `errors` are
    the dataset-level ones (descriptor, catalogue profile), `tasks` one per resource."""
    results = list(results)
    errors = [e.to_dict() for r in results for e in r.errors]
    tasks = [task_report(t) for r in results for t in r.tasks]
    n_errors = len(errors) + sum(t["stats"]["errors"] for t in tasks)
    return {
        "valid": n_errors == 0,
        "stats": {
            "tasks": len(tasks),
            "errors": n_errors,
            "warnings": 0,
            "seconds": round(seconds if seconds is not None else sum(t["stats"].get("seconds", 0) for t in tasks), 3),
            "datasets": len(results),
        },
        "warnings": [],
        "errors": errors,
        "tasks": tasks,
    }


def _error_line(e: Error) -> str:
    return f"- `{e.type}` {e.message_zh}\n  {e.message}"


def markdown_summary(result, first: int = 10) -> str:
    """A short bilingual summary for a publisher: status, then the first errors per resource."""
    name = result.dataset.name
    ok = result.valid
    n = len(result.errors) + sum(len(t.errors) for t in result.tasks)
    lines = [
        f"# {name}",
        "",
        "✅ 校验通过 / Valid" if ok else f"❌ 校验未通过，共 {n} 个错误 / Invalid: {n} errors",
        "",
    ]
    if result.errors:
        lines += ["## 数据集 / Dataset", ""]
        lines += [_error_line(e) for e in result.errors[:first]]
        if len(result.errors) > first:
            lines.append(f"- … 另有 {len(result.errors) - first} 个 / {len(result.errors) - first} more")
        lines.append("")
    if result.tasks:
        lines += ["| 资源 Resource | 行数 Rows | 错误 Errors |", "|---|---:|---:|"]
        for t in result.tasks:
            lines.append(f"| {t.resource.name} | {t.stats.get('rows', 0)} | {len(t.errors)} |")
        lines.append("")
    for t in result.tasks:
        if not t.errors:
            continue
        lines += [f"## {t.resource.name} (`{t.resource.path}`)", ""]
        lines += [_error_line(e) for e in t.errors[:first]]
        if len(t.errors) > first:
            lines.append(f"- … 另有 {len(t.errors) - first} 个 / {len(t.errors) - first} more")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def text_summary(results: Iterable, first: int = 5) -> str:
    """What `gongkai validate` prints for a person: one line per dataset, the first errors of each."""
    out = []
    for r in results:
        n = len(r.errors) + sum(len(t.errors) for t in r.tasks)
        rows = sum(t.stats.get("rows", 0) for t in r.tasks)
        if r.valid:
            out.append(f"✓ {r.dataset.name}: 通过 valid ({len(r.tasks)} 个资源 resources, {rows} 行 rows)")
            continue
        out.append(f"✗ {r.dataset.name}: {n} 个错误 errors")
        shown = list(r.errors) + [e for t in r.tasks for e in t.errors]
        for e in shown[:first]:
            out.append(f"    {e.message_zh}")
            out.append(f"    {e.message}")
        if len(shown) > first:
            out.append(f"    … 另有 {len(shown) - first} 个错误 / {len(shown) - first} more errors")
    return "\n".join(out)
