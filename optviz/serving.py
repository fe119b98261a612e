"""``optviz serve``: the page as one Streamlit process, or as N replicas behind nginx.

One Streamlit process is one interpreter lock: every visitor's reruns take turns on one
core. ``optviz serve --replicas N`` starts N page processes on private loopback ports and
Debian's nginx in front of them on the public port (websocket upgrade, long read timeouts,
passive health, stickiness per browser by a cookie: see nginx.conf.in), and supervises them:

- a replica joins nginx's pool once it answers /_stcore/health, which it does only after its
  warm-up (optviz/page/replica.py): the warm-up runs once per replica, before its students;
- a replica that dies leaves the pool, is started again (with a growing pause if it keeps
  dying) and rejoins once healthy; its students' pages reconnect to a live replica and show
  the same view, since the URL holds it;
- Ctrl-C, SIGTERM or SIGHUP stops nginx and every replica (each child is its own process
  group, and asks the kernel for SIGTERM should this process die first).

Nothing here imports Streamlit: the replicas are child processes.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

PAGE_SCRIPT = Path(__file__).resolve().parent / "page" / "app.py"
STREAMLIT_CONFIG = Path(__file__).resolve().parent / "page" / "streamlit.toml"
PACKAGE_PARENT = Path(__file__).resolve().parents[1]
NGINX_TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.in"
DEFAULT_PORT = 8501  # Streamlit's
MAX_REPLICAS = 64
# A replica that keeps dying is started again after 1, 2, 4 ... up to 30 s.
RESTART_PAUSE, MAX_RESTART_PAUSE = 1.0, 30.0
# A replica that does not leave within this after SIGTERM is killed.
STOP_TIMEOUT = 15.0
# Passive health (nginx): one failure takes a replica out of the ring for this long.
SERVER_OPTIONS = "max_fails=1 fail_timeout=5s"
# Active health of a replica in the pool: asked this often; this many missed answers in a row
# (each given HEALTH_TIMEOUT) take it out until it answers again. A hung process still accepts
# connections, which nginx's passive check alone would wait on for the read timeout.
HEALTH_INTERVAL, HEALTH_MISSES, HEALTH_TIMEOUT = 5.0, 3, 5.0


def streamlit_command(options: Sequence[str], module: str = "streamlit") -> list[str]:
    """``streamlit run`` of the page with the page's own settings (:data:`STREAMLIT_CONFIG`,
    the file ``streamlit run app.py`` reads from the checkout) as options, then ``options``
    (which win: Streamlit takes an option's last value). ``module``: what runs it,
    ``streamlit`` or a replica's launcher (``optviz.page.replica``: warm-up first)."""
    config = tomllib.loads(STREAMLIT_CONFIG.read_text())
    settings = [f"--{section}.{key}={json.dumps(value) if isinstance(value, bool) else value}"
                for section, values in config.items() for key, value in values.items()]
    return [sys.executable, "-m", module, "run", str(PAGE_SCRIPT), *settings, *options]


def default_replicas() -> int:
    """One replica per core this process may run on (a container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class ServeOptions:
    replicas: int
    address: str  # the public address nginx listens on ("" = every interface, as Streamlit's default)
    port: int
    streamlit_options: list[str] = field(default_factory=list)  # the rest, for every replica


def _take(options: list[str], name: str) -> str | None:
    """Remove ``--name VALUE`` or ``--name=VALUE`` (every occurrence) from ``options``; the last value."""
    value = None
    i = 0
    while i < len(options):
        item = options[i]
        if item == name:
            if i + 1 >= len(options):
                raise ValueError(f"{name}: expected a value")
            value = options[i + 1]
            del options[i:i + 2]
        elif item.startswith(name + "="):
            value = item[len(name) + 1:]
            del options[i]
        else:
            i += 1
    return value


def parse_serve_options(options: Sequence[str]) -> ServeOptions:
    """``optviz serve``'s own options (``--replicas N``) and the public address and port
    (Streamlit's ``--server.address`` and ``--server.port``, which nginx takes over with
    replicas); everything else passes through to each replica's Streamlit."""
    rest = list(options)
    replicas_text = _take(rest, "--replicas")
    address = _take(rest, "--server.address")
    port_text = _take(rest, "--server.port")
    if replicas_text is None:
        replicas = default_replicas()
    else:
        try:
            replicas = int(replicas_text)
        except ValueError:
            raise ValueError(f"--replicas: expected a whole number, got {replicas_text!r}") from None
        if not 1 <= replicas <= MAX_REPLICAS:
            raise ValueError(f"--replicas: must be between 1 and {MAX_REPLICAS}, got {replicas}")
    try:
        port = DEFAULT_PORT if port_text is None else int(port_text)
    except ValueError:
        raise ValueError(f"--server.port: expected a port number, got {port_text!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"--server.port: must be between 1 and 65535, got {port}")
    if address is not None and any(c.isspace() or c in ";{}'\"" for c in address):
        raise ValueError(f"--server.address: not an address: {address!r}")
    return ServeOptions(replicas, address or "", port, rest)


def find_nginx() -> str:
    """nginx on PATH, or Debian's /usr/sbin/nginx (not on a normal user's PATH)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        raise ValueError("--replicas: nginx is not installed (Debian/Ubuntu: sudo apt-get install nginx); "
                         "or serve one process with --replicas 1")
    return found


def _has_nginx() -> bool:
    try:
        find_nginx()
    except ValueError:
        return False
    return True


def free_loopback_ports(count: int) -> list[int]:
    """``count`` different ports free on 127.0.0.1 now (held open together while chosen)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def render_nginx_config(servers: Sequence[str], listen: str, main: Sequence[str] = (),
                        http: Sequence[str] = ()) -> str:
    """nginx.conf from :data:`NGINX_TEMPLATE`: ``servers`` are the upstream's ``server`` lines'
    arguments (``127.0.0.1:40001 max_fails=1 fail_timeout=5s``), ``listen`` nginx's listen
    argument, ``main`` and ``http`` directives for those contexts (where its files go)."""
    text = NGINX_TEMPLATE.read_text()
    text = text.replace("@MAIN@", "\n".join(main))
    text = text.replace("@HTTP@", "\n".join(f"    {line}" for line in http))
    text = text.replace("@SERVERS@", "\n".join(f"        server {server};" for server in servers))
    return text.replace("@LISTEN@", listen)


LOG_FORMAT = "log_format optviz '$time_iso8601 $status $upstream_addr \"$request\"';"


def compose_nginx_config() -> str:
    """deploy/nginx.conf, for Docker Compose: the nginx image in front of the ``app`` service's
    containers (Docker's DNS gives nginx each container's address when it starts)."""
    header = ["# Generated from optviz/nginx.conf.in by optviz.serving.compose_nginx_config() (a test keeps",
              "# them equal): python -c 'import optviz.serving as s; print(s.compose_nginx_config(), end=\"\")'",
              "#   > deploy/nginx.conf",
              # (the image's own user, who owns its temp folders under /var/cache/nginx)
              "user nginx;", "worker_processes auto;", "pid /tmp/nginx.pid;", "error_log /dev/stderr warn;"]
    return render_nginx_config([f"app:8501 {SERVER_OPTIONS}"], "8080", header,
                               [LOG_FORMAT, "access_log /dev/stdout optviz;"])


def local_nginx_config(workdir: Path, listen: str, ports: Sequence[int], ready: Sequence[bool]) -> str:
    """The config ``optviz serve`` runs: replicas on loopback ports (those not ready marked
    ``down``), and every file nginx writes inside ``workdir``, so it runs unprivileged."""
    main = ["worker_processes 1;", f"pid {workdir / 'nginx.pid'};", f"error_log {workdir / 'error.log'} warn;"]
    if os.geteuid() == 0:  # else nginx's workers become `nobody`, who cannot write workdir
        import pwd

        main.append(f"user {pwd.getpwuid(os.geteuid()).pw_name};")
    http = [f"access_log {workdir / 'access.log'} optviz;",
            *(f"{kind}_temp_path {workdir / (kind + '_temp')};"
              for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))]
    http.insert(0, LOG_FORMAT)  # which replica served what (the tests read it; so may a teacher)
    servers = [f"127.0.0.1:{port} {SERVER_OPTIONS}" + ("" if up else " down") for port, up in zip(ports, ready)]
    return render_nginx_config(servers, listen, main, http)


def _die_with_parent() -> None:  # (runs in the child, between fork and exec)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the signal handlers still stop the children
        pass


def _healthy(port: int, timeout: float = 2.0) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never an http_proxy
    try:
        with opener.open(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class _Replica:
    number: int
    port: int
    log: Path
    proc: subprocess.Popen | None = None
    ready: bool = False
    start_at: float = 0.0
    pause: float = RESTART_PAUSE
    checked_at: float = 0.0
    misses: int = 0


class Supervisor:
    """nginx and the replicas, for as long as :meth:`run` runs."""

    def __init__(self, options: ServeOptions, out: TextIO, nginx: str | None = None):
        self.options = options
        self.out = out
        self.nginx = nginx or find_nginx()
        self.workdir = Path(tempfile.mkdtemp(prefix="optviz-serve-"))
        self.secret = secrets.token_hex(32)  # one cookie secret: any replica accepts any browser's
        self.replicas = [_Replica(i + 1, port, self.workdir / f"replica-{i + 1}.log")
                         for i, port in enumerate(free_loopback_ports(options.replicas))]
        self.nginx_proc: subprocess.Popen | None = None
        self.stopping = False

    def say(self, text: str) -> None:
        self.out.write(f"optviz serve: {text}\n")
        self.out.flush()

    def _spawn(self, command: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
        # The replicas import this same optviz, installed or from a checkout, wherever they start.
        path = os.pathsep.join(p for p in (str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")) if p)
        with open(log, "wb") as sink:
            return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                                    env={**os.environ, **(env or {}), "PYTHONPATH": path},
                                    start_new_session=True, preexec_fn=_die_with_parent)

    def _start_replica(self, replica: _Replica) -> None:
        command = streamlit_command([*self.options.streamlit_options, f"--server.port={replica.port}",
                                     "--server.address=127.0.0.1"], module="optviz.page.replica")
        # (Streamlit takes the cookie secret from its environment only, not from options.)
        replica.proc = self._spawn(command, replica.log, {"STREAMLIT_SERVER_COOKIE_SECRET": self.secret})
        replica.ready = False

    def _write_config(self) -> Path:
        listen = f"{self.options.address}:{self.options.port}" if self.options.address else str(self.options.port)
        conf = self.workdir / "nginx.conf"
        conf.write_text(local_nginx_config(self.workdir, listen, [r.port for r in self.replicas],
                                           [r.ready for r in self.replicas]))
        return conf

    def _check_port_free(self) -> None:
        host = "" if self.options.address in ("", "*") else self.options.address
        try:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx binds
                probe.bind((host.strip("[]"), self.options.port))
        except OSError as exc:
            raise ValueError(f"--server.port: cannot listen on {host or '*'}:{self.options.port} "
                             f"({exc.strerror})") from None

    def _start_nginx(self) -> None:
        self._check_port_free()
        conf = self._write_config()
        pid_file = self.workdir / "nginx.pid"
        pid_file.unlink(missing_ok=True)
        self.nginx_proc = self._spawn([self.nginx, "-e", str(self.workdir / "error.log"), "-p", str(self.workdir),
                                       "-c", str(conf), "-g", "daemon off;"], self.workdir / "nginx.out")
        deadline = time.monotonic() + 10
        while not pid_file.exists():  # nginx writes it once its sockets are bound
            if self.nginx_proc.poll() is not None or time.monotonic() > deadline:
                detail = _tail(self.workdir / "error.log", 3) or _tail(self.workdir / "nginx.out", 3)
                raise ValueError(f"nginx did not start: {detail.strip() or 'no answer within 10 s'}")
            time.sleep(0.1)

    def _reload_nginx(self) -> None:
        self._write_config()
        if self.nginx_proc is not None and self.nginx_proc.poll() is None:
            self.nginx_proc.send_signal(signal.SIGHUP)  # a new config; open websockets stay where they are

    def _stop_children(self) -> None:
        procs = [p for p in [self.nginx_proc, *(r.proc for r in self.replicas)] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the group too: anything a child left behind
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()

    def _step(self) -> None:
        changed = False
        now = time.monotonic()
        for replica in self.replicas:
            if replica.proc is None:
                if now >= replica.start_at:
                    self._start_replica(replica)
            elif replica.proc.poll() is not None:
                code = replica.proc.returncode
                self.say(f"replica {replica.number} (pid {replica.proc.pid}) exited with status {code}; "
                         f"starting it again in {replica.pause:.0f} s. Its log's end:\n{_tail(replica.log)}")
                changed |= replica.ready
                replica.proc, replica.ready = None, False
                replica.start_at = now + replica.pause
                replica.pause = min(2 * replica.pause, MAX_RESTART_PAUSE)
            elif not replica.ready:
                if _healthy(replica.port):
                    replica.ready, changed = True, True
                    replica.pause, replica.misses, replica.checked_at = RESTART_PAUSE, 0, now
                    self.say(f"replica {replica.number} (pid {replica.proc.pid}, 127.0.0.1:{replica.port}) ready")
            elif now - replica.checked_at >= HEALTH_INTERVAL:
                replica.checked_at = now
                replica.misses = 0 if _healthy(replica.port, HEALTH_TIMEOUT) else replica.misses + 1
                if replica.misses >= HEALTH_MISSES:
                    replica.ready, changed = False, True
                    self.say(f"replica {replica.number} (pid {replica.proc.pid}) has not answered its health "
                             f"check {HEALTH_MISSES} times: out of the pool until it does")
        if self.nginx_proc is not None and self.nginx_proc.poll() is not None:
            self.say(f"nginx exited with status {self.nginx_proc.returncode}; starting it again. "
                     f"{_tail(self.workdir / 'error.log', 3)}")
            self._start_nginx()
        elif changed:
            self._reload_nginx()

    def run(self) -> int:
        def stop(signum, frame):  # noqa: ARG001 - signal's hook
            self.stopping = True

        previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            self._check_port_free()  # before any replica starts
            for replica in self.replicas:
                self._start_replica(replica)
            self._start_nginx()
            shown = self.options.address or "0.0.0.0"
            self.say(f"nginx on http://{shown}:{self.options.port} in front of {len(self.replicas)} replicas "
                     f"(they join once warm); logs in {self.workdir}")
            while not self.stopping:
                self._step()
                time.sleep(0.25)
            self.say("stopping")
            return 0
        finally:
            self._stop_children()
            for s, handler in previous.items():
                signal.signal(s, handler)
            shutil.rmtree(self.workdir, ignore_errors=True)


USAGE = """usage: optviz serve [--replicas N] [streamlit options]

  --replicas N        page processes behind nginx (default: one per core); 1 = one Streamlit
                      process, no nginx
  --server.port P     the public port (nginx's with replicas; default 8501)
  --server.address A  the public address (default: every interface)
Every other option goes to each replica's `streamlit run`. Streamlit's options:

"""


def serve(options: Sequence[str], out: TextIO | None = None) -> int:
    """``optviz serve [--replicas N] [streamlit options]``. One replica: this process becomes
    Streamlit (no nginx needed, nothing to balance). More: :class:`Supervisor` until a signal."""
    if "-h" in options or "--help" in options:
        (out or sys.stdout).write(USAGE)
        (out or sys.stdout).flush()
        command = streamlit_command(["--help"])
        os.execv(command[0], command)  # then Streamlit's own options, which pass through
    parsed = parse_serve_options(options)
    if parsed.replicas > 1 and "--replicas" not in options and not _has_nginx():
        # A laptop without nginx still gets the page: one process, said once.
        (out or sys.stderr).write("optviz serve: nginx is not installed, so one page process serves "
                                  "(sudo apt-get install nginx for one per core)\n")
        parsed = replace(parsed, replicas=1)
    if parsed.replicas == 1:
        command = streamlit_command(_without_replicas(options))
        os.execv(command[0], command)  # Ctrl-C and SIGTERM reach Streamlit itself
    return Supervisor(parsed, out or sys.stderr).run()


def _without_replicas(options: Sequence[str]) -> list[str]:
    rest = list(options)
    _take(rest, "--replicas")
    return rest
