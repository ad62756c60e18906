"""One bounded wrk run (Debian's `wrk`, a native load generator: a Python one cannot drive the
cached tier's ~10,000+ requests/s on two cores) over a list of URLs.

Each request takes the next URL of the list and a distinct X-Forwarded-For (loopback addresses,
127.2.0.0 and up: a header value, nothing is sent there), as gongkai/loadtest does: the
replicas' per-client rate limits (gongkai/limits.py) apply to visitors, and this is many.
The Lua `done` hook prints one line of JSON, read back here.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from .tools import find

MARK = "GONGKAI_WRK "

SCRIPT = r"""
local urls = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(urls, line) end
  end
  counter = tid * 7919
end

function request()
  counter = counter + 1
  local xff = string.format("127.%d.%d.%d", 2 + tid % 200, math.floor(counter / 256) % 256, counter % 256)
  return wrk.format("GET", urls[(counter % #urls) + 1], {["X-Forwarded-For"] = xff})
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '__MARK__{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
""".replace("__MARK__", MARK)


def version() -> str:
    out = subprocess.run([find("wrk", "wrk"), "-v"], capture_output=True, text=True, timeout=10)
    return (out.stdout + out.stderr).strip().splitlines()[0]


def start(
    base: str, urls_file: Path, *, seconds: float, connections: int, threads: int, workdir: Path
) -> subprocess.Popen:
    """Start wrk on `base` for at most `seconds` (`finish` reads its figures; `stop` ends it early)."""
    script = Path(workdir) / "gongkai-cluster.lua"
    script.write_text(SCRIPT)
    cmd = [
        find("wrk", "wrk"),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
        "--",
        str(urls_file),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen) -> None:
    """End a run early: wrk stops on SIGINT and still reports what it did."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)


def finish(proc: subprocess.Popen, timeout: float = 900) -> dict:
    out, _ = proc.communicate(timeout=timeout)
    line = next((ln for ln in out.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures / wrk 没有输出结果:\n{out}")
    raw = json.loads(line[len(MARK) :])
    seconds = raw["duration_us"] / 1e6
    failed = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "mb": round(raw["bytes"] / 1e6, 1),
        "failed": failed,
        "errors": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
    }
