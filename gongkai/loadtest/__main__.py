"""`python -m gongkai.loadtest` (what `make loadtest` runs): see gongkai/loadtest/run.py."""

import argparse
import os
import sys
from pathlib import Path

import locust  # noqa: F401  first: gevent's monkey-patching must precede every other import

from .run import run, write
from .targets import ABUSE


def main(argv=None) -> int:
    env = os.environ.get
    p = argparse.ArgumentParser(
        prog="python -m gongkai.loadtest",
        description="Bounded load on a local site, with a worker kill and a reload "
        "/ 对本地站点施加有限负载，期间杀死一个工作进程并重新载入新构建",
    )
    p.add_argument("--out", type=Path, default=Path("build"), help="build folder / 构建目录 (default: build)")
    p.add_argument("--root", type=Path, default=Path("."), help="repository root (datasets/, plugins/) / 仓库根目录")
    p.add_argument(
        "--clients",
        type=int,
        default=int(env("LOADTEST_CLIENTS", 50)),
        help="concurrent clients / 并发客户端数 (LOADTEST_CLIENTS, default 50)",
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=float(env("LOADTEST_SECONDS", 60)),
        help="load duration / 负载时长, s (LOADTEST_SECONDS, default 60)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=int(env("LOADTEST_WORKERS", os.cpu_count() or 2)),
        help="server worker processes / 服务器工作进程数 (LOADTEST_WORKERS, default: one per core)",
    )
    p.add_argument(
        "--think",
        type=float,
        default=float(env("LOADTEST_THINK", 0.25)),
        help="mean pause between one client's requests / 每个客户端请求间的平均间隔, s",
    )
    p.add_argument(
        "--abuse",
        default=env("LOADTEST_ABUSE", ",".join(ABUSE)),
        help=f"abuse endpoints to send, comma-separated / 要发送的滥用请求，逗号分隔 ({', '.join(ABUSE)}; '' for none)",
    )
    p.add_argument(
        "--json", type=Path, default=None, help="where the figures go / 结果文件 (default: OUT/loadtest.json)"
    )
    a = p.parse_args(argv)
    if unknown := set(n for n in a.abuse.split(",") if n) - set(ABUSE):
        p.error(f"unknown abuse endpoints / 未知的滥用端点: {', '.join(sorted(unknown))}")
    result = run(
        a.out,
        a.root,
        clients=a.clients,
        seconds=a.seconds,
        workers=a.workers,
        think=a.think,
        abuse=[n for n in a.abuse.split(",") if n],
        say=lambda m: print(m, file=sys.stderr, flush=True),
    )
    path = a.json or a.out / "loadtest.json"
    write(result, path)
    for name, e in result["endpoints"].items():
        extra = f" refused(4xx)={e['refused_4xx']}" if e.get("abuse") else ""
        print(
            f"{name:22} {e['requests']:6} req  {e['errors']:3} err  p50 {e['p50_ms']} ms  p99 {e['p99_ms']} ms{extra}",
            file=sys.stderr,
        )
    mark = "✓" if result["ok"] else "✗"
    print(
        f"{mark} {result['requests']} 个请求 requests, {result['errors']} 个错误 errors, "
        f"{result['lost_in_kill']} 个连接随被杀进程丢失 lost with the killed worker "
        f"(它持有 it held {result['killed_worker_connections']}); → {path}",
        file=sys.stderr,
    )
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
