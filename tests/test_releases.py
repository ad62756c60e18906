"""Releases stay whole while served; a running site moves to a new build without a failed request.

Real builds of the fixture site, a real `gongkai serve` (two workers) on a free 127.0.0.1 port.
Each build adds a row to the budget table, so the row count tells which release answered.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from gongkai import releases
from gongkai.build import build_site, current_release
from gongkai.loadtest.server import Server, child_env, gongkai_cmd

REPO = Path(__file__).resolve().parents[1]  # the plugins and templates the server uses

PAGES = [
    "/",
    "/datasets",
    "/datasets/budget",
    "/datasets/budget/report",
    "/datasets/budget/report.json",
    "/downloads/budget/budget.csv",
    "/downloads/budget/datapackage.json",
    "/downloads/towns/data/cities.csv",
    "/budget/budget",
    "/towns/cities.json?_shape=array",
    "/towns/provinces",
]


def build(site_root, out):
    # these tests are about releases' lives: every build makes one, even of the same datasets
    # (a plain no-op rebuild keeps the served release: tests/test_build_scale.py)
    result = build_site(site_root, out, new_release=True)
    assert result.ok, [d.report for d in result.datasets if not d.valid]
    return current_release(out)


def add_row(site_root, year: int) -> None:
    csv = site_root / "datasets/budget/budget.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + f"教育,{year},1,{year}-12-31,true\n", encoding="utf-8")


def budget_rows(client) -> int:
    r = client.get("/budget/budget.json?_shape=array&_size=max")
    assert r.status_code == 200, r.text
    return len(r.json())


def assert_site_answers(client, rows: int) -> None:
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
    csv = client.get("/downloads/budget/budget.csv").text
    assert csv.count("\n") == rows + 1  # the download is the served release's file, not the latest
    assert budget_rows(client) == rows


def test_prune_skips_a_held_release_and_takes_it_once_let_go(site_root, tmp_path):
    out = tmp_path / "out"
    first = build(site_root, out)
    held = releases.hold(first)
    for _ in range(3):
        build(site_root, out)
    assert releases.is_complete(first) and releases.in_use(first)
    held.release()
    assert not releases.in_use(first)
    build(site_root, out)
    assert not first.exists()


def test_a_crashed_holder_does_not_keep_a_release(site_root, tmp_path):
    out = tmp_path / "out"
    first = build(site_root, out)
    code = "import sys, time; from gongkai import releases; releases.hold(sys.argv[1]); print('held', flush=True); time.sleep(60)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(first)], stdout=subprocess.PIPE, text=True, env=child_env()
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        build(site_root, out), build(site_root, out)
        assert first.exists()
    finally:
        proc.kill()
        proc.wait()
    build(site_root, out)  # the lock died with the process
    assert not first.exists()


def test_an_unfinished_release_is_never_served(site_root, tmp_path):
    out = tmp_path / "out"
    good = build(site_root, out)
    assert (good / releases.COMPLETE_FILE).is_file()
    # What a killed build leaves: everything but the marker the build writes last.
    unfinished = releases.create(out)
    for f in good.iterdir():
        if f.is_file() and f.name not in (releases.COMPLETE_FILE, releases.LOCK_FILE):
            os.link(f, unfinished / f.name)
    with pytest.raises(releases.ReleaseUnavailable):
        releases.hold(unfinished)
    (tmp_path / "link").symlink_to(unfinished)
    os.replace(tmp_path / "link", out / "site")
    proc = subprocess.run(
        gongkai_cmd("serve", "--out", str(out), "--root", str(REPO), "--port", "1"),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
    )
    assert proc.returncode == 1
    assert "no complete release" in proc.stderr and "没有完整的发布版本" in proc.stderr


def test_rebuilds_keep_the_served_release_and_restarted_workers_serve_it(site_root, tmp_path):
    out = tmp_path / "out"
    served = build(site_root, out)
    with Server(out, REPO, workers=2) as server, httpx.Client(base_url=server.base, timeout=30) as client:
        assert_site_answers(client, rows=2)
        for n, year in enumerate((2024, 2025, 2026), start=1):  # two, then three builds
            add_row(site_root, year)
            build(site_root, out)
            if n >= 2:
                assert served.exists() and releases.in_use(served)
                assert_site_answers(client, rows=2)  # still the release it opened
        assert budget_rows(client) == 2 and current_release(out) != served
        # Kill each worker in turn (SIGKILL, as a crash): the replacements must serve every
        # dataset of the same release, not the newest build and not nothing.
        original = set(server.worker_pids())
        for pid in sorted(original):
            os.kill(pid, signal.SIGKILL)
            server.wait_workers(exclude={pid})
        assert not original & set(server.worker_pids())  # every answer now comes from a replacement
        assert_site_answers(client, rows=2)
        assert server.status()["release"] == served.name
        assert {w["release"] for w in server.status()["workers"]} == {served.name}


def test_reload_moves_to_the_new_build_without_a_failed_request(site_root, tmp_path):
    out = tmp_path / "out"
    old = build(site_root, out)
    with Server(out, REPO, workers=2) as server:
        add_row(site_root, 2024)
        new = build(site_root, out)
        counts = {"ok": 0, "failed": []}
        stop = threading.Event()

        def client_loop(keep_alive: bool) -> None:
            # Bounded: stops when told, and after 2,000 requests or 120 s whatever happens.
            limits = httpx.Limits(max_keepalive_connections=1 if keep_alive else 0)
            deadline = time.monotonic() + 120
            with httpx.Client(base_url=server.base, timeout=30, limits=limits) as c:
                for i in range(2000):
                    if stop.is_set() or time.monotonic() > deadline:
                        return
                    path = PAGES[i % len(PAGES)]
                    try:
                        r = c.get(path)
                        if 200 <= r.status_code < 300:
                            counts["ok"] += 1
                        else:
                            counts["failed"].append((path, r.status_code))
                    except httpx.HTTPError as exc:
                        counts["failed"].append((path, repr(exc)))

        threads = [threading.Thread(target=client_loop, args=(i % 2 == 0,)) for i in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1)
            before = counts["ok"]
            proc = subprocess.run(
                gongkai_cmd("reload", "--out", str(out)), capture_output=True, text=True, env=child_env(), timeout=200
            )
            during = counts["ok"] - before
            time.sleep(1)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert f"now serving {new.name}" in proc.stderr and "正在提供" in proc.stderr
        assert counts["failed"] == [], counts["failed"][:10]
        assert before > 0 and during > 0  # the loop really ran across the reload
        with httpx.Client(base_url=server.base, timeout=30) as client:
            assert_site_answers(client, rows=3)
        status = server.status()
        assert status["release"] == new.name and {w["release"] for w in status["workers"]} == {new.name}
        # Once the old workers have drained and exited, nothing uses the old release: the next
        # build prunes it.
        deadline = time.monotonic() + 60
        while releases.in_use(old) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not releases.in_use(old) and server.status()["retiring"] == []
        build(site_root, out)
        assert not old.exists() and new.exists()


def test_reload_without_a_running_server_says_so(tmp_path):
    proc = subprocess.run(
        gongkai_cmd("reload", "--out", str(tmp_path)), capture_output=True, text=True, env=child_env(), timeout=60
    )
    assert proc.returncode == 0
    assert "No running server" in proc.stderr and "没有正在运行的服务器" in proc.stderr
