"""The load test: locust (as a library, one gevent process) against a real local server, with a
rebuild swapped in (build + SIGHUP reload) and a worker killed (SIGKILL) while the load runs.

Timeline (fractions of `seconds`): at `reload_at` a no-op rebuild (a new release folder, every
database hard-linked) and a reload of this run's own server (never any other server of the
same build folder); at `kill_at`, once the reload is done, one worker SIGKILLed; the load goes
on until `seconds`, and at least 1 s past the killed worker's replacement.

What counts:
- `errors`: answers outside 2xx/3xx and dropped connections. On the abuse endpoints (queries
  the SQL limits must refuse or cut short) a 4xx is the expected answer, counted as `refused`.
- `lost_in_kill`: connections that failed because the killed worker held them (a connection
  error ending within `KILL_WINDOW_S` of the kill), at most the connections it held when it was
  killed (`killed_worker_connections`, read from the kernel just before); any beyond that are
  errors.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
import locust  # noqa: F401  first: it monkey-patches the standard library for gevent
import psutil
from locust import HttpUser, between, task
from locust.env import Environment

from ..releases import current_release
from .server import Server, child_env, gongkai_cmd
from .targets import ABUSE, WEIGHTS, Targets, from_release

KILL_WINDOW_S = 3.0
TIMEOUT_S = (10.0, 60.0)  # connect, read


@dataclass
class Sample:
    name: str
    start: float
    end: float
    ms: float
    status: int  # 0: no HTTP answer (the connection failed)
    error: str | None


def _users(targets: Targets, think: float, abuse: list[str]):
    names, weights = list(WEIGHTS), list(WEIGHTS.values())

    # HttpUser (requests/urllib3), not FastHttpUser: geventhttpclient silently resends a GET
    # whose connection closed before the answer (RFC 9110 allows it, browsers do it), which
    # would hide exactly the dropped connections this test is about. urllib3 with locust's
    # zero retries only replaces a pooled connection it sees closed before it sends.
    counter = iter(range(1, 1 << 16))

    class Visitor(HttpUser):
        """A person or a script browsing: one keep-alive connection, a short pause between requests.

        Each visitor is its own client to the site's per-client limits: the load generator plays
        the reverse proxy in front of many people, so it is the server's one trusted proxy
        (`Server` sets GONGKAI_LIMIT_TRUSTED_PROXIES) and each visitor sends its own
        X-Forwarded-For (a loopback address: nothing is ever sent there)."""

        wait_time = between(0, 2 * think)

        def on_start(self):
            self.rng = random.Random(id(self))
            n = next(counter)
            self.client.headers["X-Forwarded-For"] = f"127.1.{n >> 8}.{n & 255}"

        @task
        def visit(self):
            name = self.rng.choices(names, weights)[0]
            self.client.get(targets.pick(self.rng)[name], name=name, timeout=TIMEOUT_S)

    class Abuser(HttpUser):
        """One client sending the expensive queries, one at a time (from the generator's own
        address: its per-client limits answer 429 once it has used them up, which counts as
        refused)."""

        fixed_count = 1
        wait_time = between(0.5, 1.5)

        def on_start(self):
            self.rng = random.Random(7)

        @task
        def abuse(self):
            for name, url in targets.abuse(self.rng, abuse).items():
                self.client.get(url, name=name, timeout=TIMEOUT_S)

    return [Visitor, Abuser] if abuse else [Visitor]


def _established(pid: int, port: int) -> int:
    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return 0
    return sum(1 for c in conns if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def run(
    out: Path,
    root: Path,
    *,
    clients: int = 50,
    seconds: float = 60.0,
    workers: int = 2,
    think: float = 0.25,
    reload_at: float = 0.25,
    kill_at: float = 0.5,
    abuse: list[str] | None = None,
    say=print,
) -> dict:
    abuse = list(ABUSE) if abuse is None else abuse
    out, root = Path(out).resolve(), Path(root).resolve()
    timeline: list[dict] = []
    t0 = time.time()

    def event(name: str, **details) -> None:
        timeline.append({"t": round(time.time() - t0, 3), "event": name, **details})
        say(f"[{time.time() - t0:6.2f}s] {name} {details if details else ''}")

    def build() -> None:
        proc = subprocess.run(
            # the same datasets each time: ask for a new release, which the reload then rolls in
            gongkai_cmd("build", "--out", str(out), "--root", str(root), "--quiet", "--new-release"),
            capture_output=True,
            text=True,
            env=child_env(),
        )
        if proc.returncode != 0:
            raise RuntimeError(f"build failed / 构建失败:\n{proc.stderr}")

    def release() -> Path:
        path = current_release(out)
        assert path is not None  # build() succeeded: out/site points to its release
        return path

    out.mkdir(parents=True, exist_ok=True)
    build()
    event("built", release=release().name)
    targets = from_release(release())
    samples: list[Sample] = []

    def on_request(
        request_type, name, response_time, response_length, response=None, exception=None, start_time=None, **kw
    ):
        status = getattr(response, "status_code", 0) or 0
        end = time.time()
        samples.append(
            Sample(
                name,
                start_time or end - response_time / 1000,
                end,
                response_time,
                status,
                repr(exception) if exception is not None else None,
            )
        )

    kill: dict = {}
    reload: dict = {}
    server = Server(out, root, workers=workers, log=out / "loadtest-server.log")
    server.start()
    try:
        env = Environment(user_classes=_users(targets, think, abuse), host=server.base)
        env.events.request.add_listener(on_request)
        runner = env.create_local_runner()
        t_load = time.time()
        runner.start(clients, spawn_rate=clients)
        event("load_started", clients=clients, url=server.base)

        def at(fraction: float) -> None:
            gevent.sleep(max(0.0, t_load + fraction * seconds - time.time()))

        at(reload_at)
        before = server.status()
        assert before is not None and server.proc is not None  # start() returned: it is serving
        event("rebuild_started")
        build()
        new = release().name
        event("rebuild_done", release=new)
        reload.update(requested=time.time() - t0, **{"from": before["release"], "to": new})
        os.kill(server.proc.pid, signal.SIGHUP)  # this run's server only
        event("reload_sent")
        deadline = time.time() + 180
        while True:
            st = server.status() or {}
            if len(st.get("reloads", [])) > len(before.get("reloads", [])):
                reload.update(done=time.time() - t0, ok=st["reloads"][-1]["ok"], serving=st["release"])
                break
            if time.time() > deadline:
                reload.update(done=None, ok=False, error="timeout")
                break
            gevent.sleep(0.1)
        event("reload_done", ok=reload["ok"], serving=reload.get("serving"))

        at(kill_at)
        # The worker holding the most connections: the kill then costs the most it can.
        held, victim = max((_established(pid, server.port), pid) for pid in server.worker_pids())
        kill_t = time.time()
        os.kill(victim, signal.SIGKILL)
        kill.update(t=kill_t - t0, pid=victim, connections=held)
        event("worker_killed", pid=victim, connections=held)
        replacement = server.wait_workers(exclude={victim})
        kill.update(restarted=time.time() - t0, workers=replacement)
        event("worker_restarted", workers=replacement)

        gevent.sleep(max(1.0, t_load + seconds - time.time()))
        runner.quit()  # stops the users; requests cut off here are not recorded
        event("load_stopped")
        load_s = time.time() - t_load
    finally:
        server.stop()

    return summarise(
        samples,
        kill_t=kill_t,
        held=held,
        timeline=timeline,
        reload=reload,
        kill=kill,
        config={
            "clients": clients,
            "seconds_planned": seconds,
            "seconds_run": round(load_s, 2),
            "workers": workers,
            "think_s": think,
            "reload_at": reload_at,
            "kill_at": kill_at,
            "host": "127.0.0.1",
            "abuse": abuse,
        },
    )


def summarise(samples: list[Sample], *, kill_t: float, held: int, **extra) -> dict:
    lost = [s for s in samples if s.status == 0 and kill_t - 0.05 <= s.end <= kill_t + KILL_WINDOW_S]
    lost_ids = {id(s) for s in lost[:held]}
    endpoints: dict[str, dict[str, Any]] = {}
    for name in [*WEIGHTS, *ABUSE]:
        mine = [s for s in samples if s.name == name]
        abuse = name in ABUSE
        statuses: dict[str, int] = {}
        for s in mine:
            statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
        errors = [s for s in mine if id(s) not in lost_ids and not _ok(s.status, abuse)]
        endpoints[name] = {
            "requests": len(mine),
            "errors": len(errors),
            "p50_ms": _percentile([s.ms for s in mine], 0.50),
            "p99_ms": _percentile([s.ms for s in mine], 0.99),
            "status": dict(sorted(statuses.items())),
            "dropped": sum(1 for s in mine if s.status == 0),
            **(
                {
                    "abuse": True,
                    "refused_4xx": sum(1 for s in mine if 400 <= s.status < 500),
                    "served_2xx": sum(1 for s in mine if 200 <= s.status < 300),
                }
                if abuse
                else {}
            ),
            "error_examples": sorted({f"{s.status} {s.error or ''}"[:200] for s in errors})[:5],
        }
    error_count = sum(e["errors"] for e in endpoints.values())
    reloaded = bool(extra.get("reload", {}).get("ok"))
    return {
        "ok": error_count == 0 and reloaded,  # and the rebuild really was swapped in
        "requests": len(samples),
        "errors": error_count,
        "lost_in_kill": len(lost_ids),
        "killed_worker_connections": held,
        "endpoints": endpoints,
        **extra,
    }


def _ok(status: int, abuse: bool) -> bool:
    return 200 <= status < 400 or (abuse and 400 <= status < 500)


def write(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1))
