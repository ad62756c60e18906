"""`make loadtest`, short: 10 clients for 8 s against a real server of the repository's datasets,
a rebuild reloaded in and a worker SIGKILLed while the load runs; no error outside the
connections the killed worker held.

The abuse endpoints sent here are the recursive CTE only (Datasette's time limit refuses it
with a 4xx after 3 s today); `select zeroblob(1000000000)` holds a worker for over a minute
until the SQL limits land, which would time out the requests queued behind it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gongkai.loadtest.server import child_env
from gongkai.loadtest.targets import ABUSE, WEIGHTS  # not run.py: locust would gevent-patch pytest

REPO = Path(__file__).resolve().parents[1]


def test_short_loadtest_survives_a_kill_and_a_reload(tmp_path):
    out, report = tmp_path / "out", tmp_path / "loadtest.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gongkai.loadtest",
            "--out",
            str(out),
            "--root",
            str(REPO),
            "--clients",
            "10",
            "--seconds",
            "8",
            "--workers",
            "2",
            "--abuse",
            "abuse_recursive_cte",
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=600,
    )
    result = json.loads(report.read_text())
    errors = {n: e["error_examples"] for n, e in result["endpoints"].items() if e["errors"]}
    assert proc.returncode == 0 and result["ok"], (errors, proc.stderr[-3000:])
    assert set(result["endpoints"]) == set(WEIGHTS) | set(ABUSE)
    for name, e in result["endpoints"].items():
        assert set(e) >= {"requests", "errors", "p50_ms", "p99_ms", "status"}
        if name in WEIGHTS:
            assert e["requests"] > 0 and e["errors"] == 0, name
    assert result["endpoints"]["abuse_recursive_cte"]["requests"] > 0
    assert result["endpoints"]["abuse_zeroblob"]["requests"] == 0
    assert result["errors"] == 0
    assert 0 <= result["lost_in_kill"] <= result["killed_worker_connections"]
    # It did what it says, in order: the rebuild was reloaded in, then a worker was killed and came back.
    events = [e["event"] for e in result["timeline"]]
    assert (
        events.index("rebuild_done")
        < events.index("reload_done")
        < events.index("worker_killed")
        < events.index("worker_restarted")
        < events.index("load_stopped")
    )
    assert result["reload"]["ok"] and result["reload"]["serving"] == result["reload"]["to"] != result["reload"]["from"]
    assert result["kill"]["pid"] not in result["kill"]["workers"]
    assert "✓" in proc.stderr and "错误 errors" in proc.stderr
