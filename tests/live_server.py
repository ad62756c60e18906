"""A real `gongkai serve` on 127.0.0.1 for the tests that need one (one worker, a free port),
started and stopped by the test: `with live_server(site, env={...}) as base: ...`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from gongkai.bench.serve import free_port

REPO = Path(__file__).resolve().parent.parent
CODE = (
    "import sys; from pathlib import Path; from gongkai.serve import serve; "
    "serve(Path(sys.argv[1]), root=Path(sys.argv[2]), port=int(sys.argv[3]), workers=1, log_level='warning')"
)


@contextmanager
def live_server(site: Path, *, env: dict | None = None, ready: str = "/", log: Path | None = None) -> Iterator[str]:
    """Serve `site`; yield its base URL once `ready` answers 200. `env` is added to the
    environment (a value of None removes the variable); the server's output goes to `log`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value.replace("{base}", base)
    out = open(log, "wb") if log else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", CODE, str(site), str(REPO), str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environ,
            start_new_session=True,
        )
    finally:
        if log:
            out.close()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + ready, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (
                log.read_text() if log else "server did not start"
            )
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
