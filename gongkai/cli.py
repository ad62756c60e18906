"""The `gongkai` command: a thin click layer over the library (build.py, report.py, serve.py).

Exit codes: 0 everything valid / built, 1 a data problem (reported, never a traceback),
2 a usage error (click's own convention).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from . import report
from .build import BuildError, build_site, check, overdue_warnings
from .descriptors import dataset_folders


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
@_root_option
def validate(paths, as_json, root):
    """Validate dataset folders (default: every folder in ROOT/datasets/).

    Prints a bilingual summary, or with --json one report in frictionless's shape. Exits 1 when
    anything is invalid.
    """
    folders = list(paths) or dataset_folders(root)
    if not folders:
        raise click.UsageError(f"no dataset folders found in {root / 'datasets'} / 未找到数据集文件夹")
    started = time.perf_counter()
    results = check(folders, root)
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


@cli.command()
@_out_option("Output folder; the served site is OUT/site.")
@_root_option
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def build(out, root, quiet):
    """Validate and load every dataset, then swap the new site in (only if all are valid)."""
    say = (lambda m: None) if quiet else (lambda m: click.echo(m, err=True))
    try:
        result = build_site(root, out, progress=say)
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


if __name__ == "__main__":  # pragma: no cover
    cli()
