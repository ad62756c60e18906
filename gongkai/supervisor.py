"""The server's parent process: starts the workers on one held release, restarts dead ones on
it, and on SIGHUP moves the site to the newest build one worker at a time.

uvicorn's own `Multiprocess` supervisor does most of this (one listening socket shared by
every worker, health pings, a dead worker restarted, SIGHUP restarting the workers one by one,
each replacement ready before the old one stops). What it cannot do is choose the release:
its workers all import the app the same way, so a worker restarted after a crash would open
whatever the environment said when the server started, a folder a later build may have
deleted. Here:

- the supervisor resolves `build/site` once, checks the release is complete and holds a
  shared lock on it (gongkai/releases.py), and starts every worker, including any restarted
  after a crash, on exactly that folder (gongkai/worker.py);
- SIGHUP (`gongkai reload`) re-resolves `build/site`, holds the new release, and replaces the
  workers one at a time, each replacement serving before its predecessor drains and stops,
  so the site keeps answering throughout; the old release's lock is dropped once no worker
  uses it, and the next build prunes it;
- each running supervisor registers in `<out>/servers/<pid>.json` (what it serves, its
  workers), next to `<pid>.lock`, which it holds locked for its whole life: `gongkai reload`
  finds live servers by that lock (a crashed server's lock is gone with it, whatever its pid
  now belongs to).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from socket import socket
from typing import cast

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess

from . import releases
from .worker import Worker

logger = logging.getLogger("uvicorn.error")
READY_TIMEOUT_S = 90.0  # a replacement worker imports Datasette and the plugins; a busy machine is slow
# A retiring worker finishes its requests first; one still busy after this long is killed.
RETIRE_TIMEOUT_S = 120.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Supervisor(Multiprocess):
    def __init__(self, config: Config, sockets: list[socket], *, site: Path, registry: Path | None = None) -> None:
        self.site = Path(site)
        self.hold = releases.hold_current(self.site)  # ReleaseUnavailable: nothing to serve
        self.holds = {self.hold.path: self.hold}
        self.registry = registry
        self.reloads: list[dict] = []
        self._registry_fd: int | None = None
        self.retiring: list[tuple[Worker, float]] = []  # stopped by a reload, still draining
        super().__init__(config, sockets)

    # --- workers -------------------------------------------------------------------------

    @property
    def workers(self) -> list[Worker]:
        """uvicorn's `processes` list itself: every one of them was started by `_spawn`."""
        return cast("list[Worker]", self.processes)

    def _parent_fds(self) -> tuple[int, ...]:
        fds = [h.fd for h in self.holds.values() if h.fd is not None]
        return tuple(fds + ([self._registry_fd] if self._registry_fd is not None else []))

    def _spawn(self, release: Path) -> Worker:
        worker = Worker(self.config, self.sockets, str(release), self._parent_fds())
        worker.start()
        return worker

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            self.processes.append(self._spawn(self.hold.path))
        self._publish()

    def keep_subprocess_alive(self) -> None:
        """uvicorn's, except that the replacement serves the supervisor's held release."""
        self._reap_retiring()
        if self.should_exit.is_set():
            return
        changed = False
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung or dead
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error(f"Child process [{process.pid}] failed to start, stopping the parent process.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(
                f"Child process [{process.pid}] died; restarting it on {self.hold.path.name} / 工作进程已退出，重新启动"
            )
            self.processes[idx] = self._spawn(self.hold.path)
            changed = True
        if changed:
            self._drop_unused_holds()
            self._publish()

    # --- reload --------------------------------------------------------------------------

    def handle_hup(self) -> None:
        logger.info("Received SIGHUP: serving the latest build / 收到 SIGHUP：切换到最新构建")
        record = {"requested": _now(), "from": self.hold.path.name}
        try:
            new = releases.hold_current(self.site)
        except releases.ReleaseUnavailable as exc:
            logger.error(str(exc))
            self._reloaded(record, ok=False, error=str(exc))
            return
        if new.path in self.holds:
            new.release()  # already held (a reload with nothing new still restarts the workers)
            new = self.holds[new.path]
        self.holds[new.path] = new
        previous, self.hold = self.hold, new
        for idx, old in enumerate(list(self.workers)):
            if self.should_exit.is_set():
                break
            fresh = self._spawn(new.path)
            if not fresh.wait_until_ready(
                max(READY_TIMEOUT_S, self.config.timeout_worker_healthcheck), self.should_exit
            ):
                fresh.kill()
                fresh.join()
                error = (
                    f"new worker [{fresh.pid}] did not start; kept worker [{old.pid}] / 新工作进程未能启动，保留旧进程"
                )
                logger.error(error)
                if idx == 0:
                    self.hold = previous  # nothing moved yet: stay where we were
                self._drop_unused_holds()
                self._reloaded(record, ok=False, error=error)
                return
            # SIGTERM: it stops accepting, drains (gongkai/worker.py) and exits on its own time;
            # not waited for here, so one slow request does not hold up the reload or the
            # supervisor (it holds its own lock on its release until it exits).
            old.terminate()
            self.retiring.append((old, time.monotonic() + RETIRE_TIMEOUT_S))
            self.processes[idx] = fresh
            self._publish()
        self._drop_unused_holds()
        logger.info(f"Serving {new.path.name} / 正在提供 {new.path.name}")
        self._reloaded(record, ok=True)

    def _reap_retiring(self) -> None:
        for entry in list(self.retiring):
            worker, deadline = entry
            if worker.process.is_alive() and time.monotonic() < deadline:
                continue
            if worker.process.is_alive():
                logger.error(
                    f"Retiring worker [{worker.pid}] still busy after {RETIRE_TIMEOUT_S:.0f}s; killing it "
                    f"/ 退役的工作进程超时，强制结束"
                )
                worker.process.kill()
            worker.process.join()
            self.retiring.remove(entry)
            self._publish()

    def join_all(self) -> None:
        super().join_all()
        for worker, _ in self.retiring:
            worker.process.join()
        self.retiring.clear()

    def _reloaded(self, record: dict, *, ok: bool, error: str | None = None) -> None:
        record.update(done=_now(), ok=ok, to=self.hold.path.name, **({"error": error} if error else {}))
        self.reloads.append(record)
        self._publish()

    def _drop_unused_holds(self) -> None:
        used = {Path(p.release) for p in self.workers} | {self.hold.path}
        for path in [p for p in self.holds if p not in used]:
            self.holds.pop(path).release()

    # --- the registry ---------------------------------------------------------------------

    def _publish(self) -> None:
        if self.registry is None:
            return
        status = {
            "pid": os.getpid(),
            "host": self.config.host,
            "port": self.config.port,
            "site": str(self.site),
            "release": self.hold.path.name,
            "release_dir": str(self.hold.path),
            "workers": [{"pid": p.pid, "release": Path(p.release).name} for p in self.workers],
            "retiring": [w.pid for w, _ in self.retiring],
            "reloads": self.reloads,
            "updated": _now(),
        }
        path = self.registry / f"{os.getpid()}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(status, indent=1))
        os.replace(tmp, path)

    def run(self) -> None:
        if self.registry is not None:
            self.registry.mkdir(parents=True, exist_ok=True)
            self._registry_fd = os.open(self.registry / f"{os.getpid()}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
            fcntl.flock(self._registry_fd, fcntl.LOCK_EX)
        try:
            super().run()
        finally:
            if self.registry is not None:
                for suffix in (".json", ".lock"):
                    (self.registry / f"{os.getpid()}{suffix}").unlink(missing_ok=True)
                if self._registry_fd is not None:
                    os.close(self._registry_fd)
            for hold in self.holds.values():
                hold.release()


# --- finding and signalling running servers (what `gongkai reload` does) --------------------


def running_servers(registry: Path) -> list[dict]:
    """The status of every live server registered in `registry`; stale entries are removed."""
    found = []
    for status_path in sorted(Path(registry).glob("*.json")) if Path(registry).is_dir() else []:
        lock_path = status_path.with_suffix(".lock")
        try:
            fd = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            status_path.unlink(missing_ok=True)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            # We got the lock: its server is gone (crashed or killed) and left its files behind.
            status_path.unlink(missing_ok=True)
            lock_path.unlink(missing_ok=True)
            continue
        except BlockingIOError:
            pass
        finally:
            os.close(fd)
        try:
            found.append(json.loads(status_path.read_text()))
        except (OSError, ValueError):
            continue  # it is being rewritten or just went away
    return found


def status(registry: Path, pid: int) -> dict | None:
    try:
        return json.loads((Path(registry) / f"{pid}.json").read_text())
    except (OSError, ValueError):
        return None


def reload_servers(registry: Path, *, wait: bool = True, timeout: float = 180.0) -> list[dict]:
    """SIGHUP every live server in `registry`; with `wait`, until each reports its reload done.

    Returns each server's last reload record ({"ok": ..., "to": release, ...}; `{"ok": False,
    "error": "timeout"}` if it did not finish in time)."""
    servers = running_servers(registry)
    for server in servers:
        os.kill(server["pid"], signal.SIGHUP)
    if not wait:
        return [{"pid": s["pid"], "ok": None} for s in servers]
    results = []
    deadline = time.monotonic() + timeout
    for server in servers:
        before = len(server.get("reloads", []))
        while True:
            now = status(registry, server["pid"])
            if now and len(now.get("reloads", [])) > before:
                results.append({"pid": server["pid"], **now["reloads"][-1]})
                break
            if time.monotonic() > deadline:
                results.append({"pid": server["pid"], "ok": False, "error": "timeout"})
                break
            time.sleep(0.1)
    return results
