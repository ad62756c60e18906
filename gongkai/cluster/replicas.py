"""N replicas of one build folder on 127.0.0.1: each a `gongkai serve` of its own (its own
supervisor and workers, its own port, gongkai/loadtest/server.py), all registered in the same
`<out>/servers/`. They share nothing but the immutable release files, as pods of one image do.

Killing one is SIGKILL to its whole process group (supervisor and workers: a crashed pod);
restarting starts a new one on the same port. Rolling out a new release is the replicas'
own reload (SIGHUP, gongkai/supervisor.py), one replica at a time, each reload waited for
before the next starts, as a Kubernetes rolling update with maxUnavailable 0 does.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path

from .. import supervisor
from ..loadtest.server import Server, free_port

RELOAD_TIMEOUT_S = 180.0
SERVES_NEW_WITHIN_S = 5.0  # well past a retiring worker's last accept (one 0.1 s loop tick)


def health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health", timeout=10) as r:
        return json.loads(r.read())


class Replicas:
    def __init__(self, out: Path, root: Path, count: int, *, workers: int = 1):
        self.out, self.root, self.workers = Path(out), Path(root), workers
        self.ports = [free_port() for _ in range(count)]
        self.servers: list[Server | None] = [None] * count

    def _server(self, i: int) -> Server:
        return Server(self.out, self.root, workers=self.workers, port=self.ports[i], log=self.out / f"replica-{i}.log")

    def start(self) -> Replicas:
        for i in range(len(self.ports)):
            self.servers[i] = self._server(i).start()
        return self

    def kill(self, i: int) -> None:
        server = self.servers[i]
        assert server is not None and server.proc is not None
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
        self.servers[i] = None

    def restart(self, i: int) -> None:
        self.servers[i] = self._server(i).start()

    def roll(self) -> list[dict]:
        """Reload every replica onto the release `<out>/site` points to now, one at a time;
        each record says what it moved to and how long it took."""
        records = []
        for i, server in enumerate(self.servers):
            assert server is not None and server.proc is not None
            pid = server.proc.pid
            before = len((supervisor.status(self.out / "servers", pid) or {}).get("reloads", []))
            started = time.monotonic()
            os.kill(pid, signal.SIGHUP)
            deadline = started + RELOAD_TIMEOUT_S
            while True:
                now = supervisor.status(self.out / "servers", pid) or {}
                if len(now.get("reloads", [])) > before:
                    record = now["reloads"][-1]
                    break
                if time.monotonic() > deadline:
                    record = {"ok": False, "error": "timeout"}
                    break
                time.sleep(0.1)
            seconds = round(time.monotonic() - started, 2)
            records.append(
                {
                    "replica": i,
                    "ok": bool(record.get("ok")),
                    "to": record.get("to"),
                    "seconds": seconds,
                    **self._serving(i, record.get("to")),
                }
            )
        return records

    def _serving(self, i: int, release: str | None) -> dict:
        """What replica i answers with once its reload is recorded. A retiring worker takes
        up to one tick of uvicorn's main loop (0.1 s) to stop accepting after its SIGTERM, so
        a request in that window is still answered, correctly, by the old release: ask again
        until the new one answers or the retiring window is over, and say how long it took."""
        started = time.monotonic()
        while True:
            serves = health(self.ports[i])["release"]
            if serves == release or time.monotonic() - started > SERVES_NEW_WITHIN_S:
                return {"serves": serves, "serves_new_after_s": round(time.monotonic() - started, 2)}
            time.sleep(0.05)

    def stop(self) -> None:
        for server in self.servers:
            if server is not None:
                server.stop()
