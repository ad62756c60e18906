"""`python -m gongkai.cluster` (`make cluster`): see gongkai/cluster/run.py."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .nginx import ConfigChanged
from .run import measure, summary, write
from .tools import ToolMissing


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default="build/cluster",
    show_default=True,
    help="Build folder the replicas serve (built when it has no site yet).",
)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True)
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), default="build/cluster.json", show_default=True
)
@click.option("--replicas", type=click.IntRange(2, 16), default=2, show_default=True)
@click.option("--seconds", type=click.FloatRange(1, 300), default=10.0, show_default=True, help="Length of each phase.")
@click.option("--connections", type=click.IntRange(1, 2000), default=64, show_default=True)
@click.option(
    "--fault-connections",
    type=click.IntRange(1, 2000),
    default=16,
    show_default=True,
    help="Load of the kill and rollout phases.",
)
@click.option("--threads", type=click.IntRange(1, 16), default=2, show_default=True)
def main(out, root, report, replicas, seconds, connections, fault_connections, threads):
    """One process vs N replicas vs the nginx cache tier, a replica killed, a release rolled out."""
    try:
        result = measure(
            out,
            root,
            replicas=replicas,
            seconds=seconds,
            connections=connections,
            fault_connections=fault_connections,
            threads=threads,
        )
    except (ToolMissing, ConfigChanged, RuntimeError) as exc:
        # A missing tool, a replica or nginx that did not start, a failed build: each says
        # what happened in both languages; no traceback.
        raise click.ClickException(str(exc)) from None
    write(result, report)
    click.echo(summary(result), err=True)
    click.echo(f"→ {report}", err=True)
    sys.exit(0 if all(result["targets"].values()) else 1)


if __name__ == "__main__":
    main()
