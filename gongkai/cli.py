"""The `gongkai` command: a thin click layer over the library (build.py, report.py, serve.py).

Exit codes: 0 everything valid / built, 1 a data problem (reported, never a traceback),
2 a usage error (click's own convention).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import NoReturn

import click

from . import report
from .build import BuildError, build_site, check, overdue_warnings
from .descriptors import dataset_folders
from .i18n import t


def _help(key: str) -> str:
    """An option's help in both languages (gongkai/locales/publish.yaml)."""
    return f"{t(key, 'zh')} / {t(key, 'en')}"


def _out_option(help: str):
    return click.option(
        "--out", type=click.Path(file_okay=False, path_type=Path), default="build", show_default=True, help=help
    )


def _root_option(f):
    return click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=".",
        show_default=True,
        help="Repository root holding datasets/ and metadata/.",
    )(f)


@click.group()
@click.version_option(package_name="gongkai")
def cli():
    """Gongkai 公开: validate, build and serve open-government Data Packages."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one frictionless-style JSON report for all datasets.")
@click.option("--quiet", is_flag=True, help=_help("help_quiet"))
@_root_option
def validate(paths, as_json, quiet, root):
    """Validate dataset folders (default: every folder in ROOT/datasets/).

    Prints a bilingual summary, or with --json one report in frictionless's shape. Exits 1 when
    anything is invalid. Progress per resource goes to stderr: a bar in a terminal, plain
    lines otherwise (none with --quiet).
    """
    from .publish.progress import Progress

    folders = list(paths) or dataset_folders(root)
    if not folders:
        raise click.UsageError(f"no dataset folders found in {root / 'datasets'} / 未找到数据集文件夹")
    started = time.perf_counter()
    results = check(folders, root, sink=None if quiet else Progress())
    late = overdue_warnings(results)  # warnings only: they never change the exit status
    if as_json:
        click.echo(
            json.dumps(
                report.report(results, time.perf_counter() - started, warnings=late),
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
    else:
        click.echo(report.text_summary(results, warnings=late))
    sys.exit(0 if all(r.valid for r in results) else 1)


@cli.command(name="check")
@click.option("--changed-since", "ref", required=True, metavar="REF", help="Git ref the branch is compared with.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Markdown report for the pull request [default: ROOT/build/check-report.md].",
)
@_root_option
def check_changed(ref, report_path, root):
    """Validate only the datasets changed since REF (and what depends on them), with every
    guard, and write a bilingual Markdown report for the pull request. Exits 0 clean, 1 errors,
    2 usage (bad ref, not a git repository)."""
    from .check import DEFAULT_REPORT, CheckUsageError, markdown, run_check, write_rejected_rows

    try:
        result = run_check(root, ref)
    except CheckUsageError as exc:
        raise click.UsageError(f"{exc}") from None
    path = report_path or root / DEFAULT_REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(result), encoding="utf-8")
    write_rejected_rows(result, path.parent)
    checked = ", ".join(result.changes.datasets) or "—"
    click.echo(f"{'✓' if result.ok else '✗'} 已检查 checked: {checked}; 报告 report: {path}", err=True)
    sys.exit(0 if result.ok else 1)


@cli.command()
@_out_option("Output folder; the served site is OUT/site.")
@_root_option
@click.option("--quiet", is_flag=True, help="Print nothing but errors (no progress either).")
@click.option(
    "--new-release",
    is_flag=True,
    help="Make a new release even when nothing changed (the served one stays otherwise), "
    "e.g. to roll replicas onto it. 即使没有变化也生成新的发布版本。",
)
def build(out, root, quiet, new_release):
    """Validate and load every dataset, then swap the new site in (only if all are valid).

    When nothing changed, the served release stays. Progress per resource goes to stderr: a
    bar in a terminal, plain lines otherwise."""
    from .publish.progress import Progress

    say = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    try:
        result = build_site(root, out, progress=say, rows=None if quiet else Progress(), new_release=new_release)
    except BuildError as exc:
        raise click.ClickException(str(exc)) from None
    if not result.ok:
        if quiet:
            click.echo(f"build failed: {', '.join(result.failed) or 'site metadata'}", err=True)
        sys.exit(1)


@cli.command()
@_out_option("The build folder whose site/ is served.")
@_root_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True, envvar="PORT")
@click.option("--workers", type=int, default=None, help="Server processes (default: one per CPU core).")
def serve(out, root, host, port, workers):
    """Serve the last successful build with Datasette."""
    from .releases import ReleaseUnavailable
    from .serve import serve as run

    site = out / "site"
    if not site.exists():
        raise click.ClickException(
            f"nothing built yet in {out}: run `gongkai build` first / 尚未构建，请先运行 gongkai build"
        )
    try:
        run(site, root=root.resolve(), host=host, port=port, workers=workers, registry=out / "servers")
    except ReleaseUnavailable as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@_out_option("The build folder whose servers should pick up its latest site.")
@click.option(
    "--wait/--no-wait", default=True, show_default=True, help="Wait until every server has replaced all its workers."
)
@click.option("--timeout", type=float, default=180.0, show_default=True, help="Seconds to wait at most.")
def reload(out, wait, timeout):
    """Make every running server of OUT serve the latest build, without dropping requests.

    Sends SIGHUP to each live `gongkai serve` registered in OUT/servers/; each replaces its
    workers one at a time. Exits 1 if a server could not switch (it keeps serving what it had).
    """
    from .supervisor import reload_servers

    results = reload_servers(out / "servers", wait=wait, timeout=timeout)
    if not results:
        click.echo(f"没有正在运行的服务器 No running server for {out}; nothing to reload", err=True)
        return
    failed = False
    for r in results:
        if r.get("ok") is None:
            click.echo(f"已通知 Signalled server {r['pid']}", err=True)
        elif r["ok"]:
            click.echo(f"✓ 服务器 Server {r['pid']}: 正在提供 now serving {r['to']}", err=True)
        else:
            failed = True
            click.echo(
                f"✗ 服务器 Server {r['pid']}: 未能切换 could not switch ({r.get('error')}); "
                f"仍在提供 still serving {r.get('to', '?')}",
                err=True,
            )
    sys.exit(1 if failed else 0)


@cli.command(name="new", help=_help("help_new"))
@click.argument("name")
@click.option("--publisher", metavar="ID", help=_help("help_new_publisher"))
@click.option("--theme", metavar="ID", help=_help("help_new_theme"))
@click.option("--title", metavar="T", help=_help("help_new_title"))
@click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True, help=_help("help_root")
)
def new_dataset(name, publisher, theme, title, root):
    from .publish.new import DATA_FOLDER, scaffold
    from .publish.words import PublishError, both

    try:
        path = scaffold(root, name, publisher=publisher, theme=theme, title=title)
    except PublishError as exc:
        _fail(exc)
    click.echo(both("new_done", path=path, data=path.parent / DATA_FOLDER))


@cli.command(help=_help("help_describe"))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", metavar="S", help=_help("help_describe_sheet"))
@click.option(
    "--header-row", metavar="N", type=int, default=1, show_default=True, help=_help("help_describe_header_row")
)
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    help=_help("help_describe_output"),
)
def describe(file, sheet, header_row, output):
    from .publish.describe import describe as draft, is_descriptor, summary
    from .publish.words import PublishError, both

    try:
        d, text = draft(file, sheet=sheet, header_row=header_row, output=output)
    except PublishError as exc:
        _fail(exc)
    if output is None:
        click.echo(text, nl=False)
    else:
        click.echo(both("desc_appended" if is_descriptor(output) else "desc_written", path=output), err=True)
    click.echo(summary(d), err=True)


def _fail(exc) -> NoReturn:
    """A publisher's mistake: the message in both languages, the exit code it carries (1 data, 2 usage)."""
    click.echo(f"✗ {exc}", err=True)
    sys.exit(exc.code)


if __name__ == "__main__":  # pragma: no cover
    cli()
