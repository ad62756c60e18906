"""A real `gongkai serve` on 127.0.0.1, started and stopped by the caller (the load test and the
release tests): its own process group, ready once a page answers, its registry status (which
release it serves, its worker pids) read from `<out>/servers/<pid>.json`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .. import supervisor

STARTUP_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gongkai_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "gongkai", *args]


def child_env() -> dict:
    # The children must import gongkai the way this process does.
    root = str(Path(__file__).resolve().parents[2])
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))


class Server:
    def __init__(self, out: Path, root: Path, *, workers: int = 2, port: int | None = None, log: Path | None = None):
        self.out, self.root, self.workers = Path(out), Path(root), workers
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log) if log else self.out / f"server-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        cmd = gongkai_cmd(
            "serve",
            "--out",
            str(self.out),
            "--root",
            str(self.root),
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        )
        with open(self.log_path, "wb") as log:
            # The load generator is the reverse proxy in front of its simulated visitors.
            env = dict(child_env(), GONGKAI_LIMIT_TRUSTED_PROXIES="127.0.0.1")
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            status = self.status()
            if status and len(status["workers"]) == self.workers and self._answers():
                return self
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not start / 服务器未能启动:\n{self.log()}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/-/versions.json", timeout=5) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def status(self) -> dict | None:
        return supervisor.status(self.out / "servers", self.proc.pid) if self.proc else None

    def worker_pids(self) -> list[int]:
        return [w["pid"] for w in (self.status() or {}).get("workers", [])]

    def wait_workers(self, exclude: set[int], timeout: float = STARTUP_TIMEOUT_S) -> list[int]:
        """Wait until the server lists `workers` workers, none of them in `exclude`, all alive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == self.workers and not exclude & set(pids) and all(_alive(p) for p in pids):
                return pids
            time.sleep(0.1)
        raise RuntimeError(f"workers did not come back / 工作进程未恢复:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group: the supervisor and its workers
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child stays a zombie until its supervisor reaps it.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
