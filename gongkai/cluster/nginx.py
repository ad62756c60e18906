"""nginx with the deploy config (deploy/nginx/gongkai-cache.conf) on 127.0.0.1.

`render` makes the deploy file local by replacing exactly three things, each of which must be
found once (so the file run here is the file deployed, or this fails): the upstream's `server`
line (the Kubernetes Service) by one line per replica, `listen 8080` by a loopback port, and the
cache folder. With `cache=False` the same config runs as a plain load balancer
(`proxy_cache off`), which is how the replicas are measured without the cache.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from .tools import find

DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "gongkai-cache.conf"
STARTUP_TIMEOUT_S = 20.0

_UPSTREAM_SERVER = re.compile(r"^(\s*)server gongkai-replicas:8001 (.*);$", re.M)
_LISTEN = re.compile(r"^(\s*)listen 8080;$", re.M)
_CACHE_PATH = "/var/cache/nginx/gongkai"
_CACHE_ON = re.compile(r"^(\s*)proxy_cache gongkai;$", re.M)


class ConfigChanged(Exception):
    """The deploy config no longer has what `render` replaces."""


def _once(pattern: re.Pattern, repl, text: str, what: str) -> str:
    new, n = pattern.subn(repl, text)
    if n != 1:
        raise ConfigChanged(f"{DEPLOY_CONF.name}: expected one {what}, found {n} / 配置文件中应恰有一处 {what}")
    return new


def render(text: str, *, upstreams: list[int], port: int, cache_dir: Path, cache: bool = True) -> str:
    text = _once(
        _UPSTREAM_SERVER,
        lambda m: "\n".join(f"{m.group(1)}server 127.0.0.1:{p} {m.group(2)};" for p in upstreams),
        text,
        "upstream server line",
    )
    text = _once(_LISTEN, lambda m: f"{m.group(1)}listen 127.0.0.1:{port} reuseport;", text, "listen 8080")
    if text.count(_CACHE_PATH) != 1:
        raise ConfigChanged(f"{DEPLOY_CONF.name}: expected the cache path {_CACHE_PATH} once / 缓存路径应恰出现一次")
    text = text.replace(_CACHE_PATH, str(cache_dir))
    if not cache:
        text = _once(_CACHE_ON, lambda m: f"{m.group(1)}proxy_cache off;", text, "proxy_cache gongkai")
    return text


def main_conf(workdir: Path, include: Path, *, workers: int) -> str:
    """The nginx.conf around the site config: everything under `workdir`, nothing in /etc or /var."""
    user = ""
    if os.geteuid() == 0:  # nginx's workers drop to this user; it must write the cache
        user = f"user nobody {grp.getgrgid(pwd.getpwnam('nobody').pw_gid).gr_name};\n"
    temp = "\n".join(
        f"    {name}_temp_path {workdir / ('temp-' + name)};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes {workers};\n"
        "daemon off;\n"
        f"pid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'error.log'} warn;\n"
        "events {\n    worker_connections 4096;\n}\n"
        "http {\n"
        "    access_log off;\n"
        "    keepalive_requests 100000;\n"
        f"{temp}\n"
        f"    include {include};\n"
        "}\n"
    )


def new_workdir() -> Path:
    """A folder of its own in the system's temp folder for one nginx: as root, nginx's workers
    run as `nobody`, and every folder above their cache must let them through (a pytest or
    build folder need not)."""
    path = Path(tempfile.mkdtemp(prefix="gongkai-nginx-"))
    path.chmod(0o755)
    return path


def prepare(workdir: Path, site_conf: str, *, workers: int = 2) -> Path:
    """Write nginx.conf + the site config under `workdir` (see `new_workdir`); return its path."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "gongkai-cache.conf").write_text(site_conf)
    conf = workdir / "nginx.conf"
    conf.write_text(main_conf(workdir, workdir / "gongkai-cache.conf", workers=workers))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for name in ("cache", "temp-client_body", "temp-proxy", "temp-fastcgi", "temp-uwsgi", "temp-scgi"):
            (workdir / name).mkdir(exist_ok=True)
            os.chown(workdir / name, nobody.pw_uid, nobody.pw_gid)
    return conf


def _cmd(conf: Path) -> list[str]:
    return [find("nginx", "nginx"), "-p", str(conf.parent), "-e", str(conf.parent / "error.log"), "-c", str(conf)]


def check(conf: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on `conf`: returncode 0 and "syntax is ok" / "test is successful" on stderr."""
    return subprocess.run([*_cmd(conf), "-t"], capture_output=True, text=True, timeout=30)


class Nginx:
    def __init__(self, conf: Path, port: int):
        self.conf, self.port = Path(conf), port
        self.proc: subprocess.Popen | None = None

    def start(self) -> Nginx:
        with open(self.conf.parent / "nginx.out", "wb") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(_cmd(self.conf), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/cache-health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        said = [
            p.read_text(errors="replace")
            for p in (self.conf.parent / "error.log", self.conf.parent / "nginx.out")
            if p.exists()
        ]
        raise RuntimeError("nginx did not start / nginx 未能启动:\n" + "\n".join(said))

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
