"""`optviz serve --replicas N`: N page processes behind Debian's nginx (optviz/serving.py).

The options and the nginx config are checked without servers; then real `optviz serve
--replicas 2` runs on free loopback ports: the page through nginx, one replica per browser
(its cookie), a browser that moves a slider and downloads the CSV through the proxy, the
replica serving that page killed (the page comes back, same settings), and SIGTERM
leaving no process behind. Without nginx these tests fail: CI installs it (.ci/run).
"""

from __future__ import annotations

import csv
import http.cookiejar
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    RUNNING,
    VIEWPORT,
    lr_slider,
    path_signature,
    require_chromium,
    url_query,
    wait_for_chart,
    wait_for_new_paths,
    wait_idle,
)

from optviz import serving
from optviz.cli import main

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 120.0  # two replicas starting at once on a busy two-core machine
# One worker for the module under `pytest -n auto --dist loadgroup`: its servers start one at a time.
pytestmark = [pytest.mark.xdist_group(name="serving"), pytest.mark.slow]


def _nginx() -> str:
    try:
        return serving.find_nginx()
    except ValueError:
        pytest.fail("nginx is missing: apt-get install nginx (.ci/run installs it)")


# --- options and config, no servers ------------------------------------------------------------


def test_serve_options_split_ours_from_streamlits():
    parsed = serving.parse_serve_options(["--replicas", "3", "--server.port=9000", "--theme.base", "dark",
                                          "--server.address", "127.0.0.1"])
    assert (parsed.replicas, parsed.port, parsed.address) == (3, 9000, "127.0.0.1")
    assert parsed.streamlit_options == ["--theme.base", "dark"]  # for every replica; the port is nginx's
    default = serving.parse_serve_options([])
    assert (default.port, default.address) == (8501, "")  # Streamlit's: every interface
    assert default.replicas == len(os.sched_getaffinity(0))  # one per core


@pytest.mark.parametrize("argv, named", [
    (["--replicas", "0"], "--replicas"), (["--replicas=two"], "--replicas"), (["--replicas"], "--replicas"),
    (["--replicas", "2", "--server.port", "http"], "--server.port"),
    (["--replicas", "2", "--server.address", "0.0.0.0; evil"], "--server.address"),
])
def test_a_bad_serve_option_is_one_line_naming_it(argv, named):
    err = io.StringIO()
    assert main(["serve", *argv], err=err) == 2
    message = err.getvalue()
    assert message.startswith(f"optviz: error: {named}") and message.count("\n") == 1, message


def test_serve_help_names_replicas_then_streamlits_options():
    result = subprocess.run([sys.executable, "-m", "optviz", "serve", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    ours, _, streamlits = result.stdout.partition("Streamlit's options:")
    assert "--replicas N" in ours and "--server.port" in streamlits  # no replica started with --help


def test_without_nginx_serve_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(serving.shutil, "which", lambda name: None)
    monkeypatch.setattr(serving.os, "access", lambda path, mode: False)
    err = io.StringIO()
    assert main(["serve", "--replicas", "2"], err=err) == 2
    assert "nginx is not installed" in err.getvalue() and "apt-get install nginx" in err.getvalue()


def test_without_nginx_plain_serve_still_serves_one_process(monkeypatch):
    """Not asked for replicas and no nginx (a laptop): one page process, and a line saying so."""
    monkeypatch.setattr(serving.shutil, "which", lambda name: None)
    monkeypatch.setattr(serving.os, "access", lambda path, mode: False)
    monkeypatch.setattr(serving, "default_replicas", lambda: 2)
    started = []

    def execv(path, argv):  # the real one never returns: this process would become Streamlit
        started.append(argv)
        raise SystemExit(0)

    monkeypatch.setattr(serving.os, "execv", execv)
    err = io.StringIO()
    with pytest.raises(SystemExit):
        serving.serve(["--server.port", "8600"], out=err)
    assert "nginx is not installed, so one page process serves" in err.getvalue()
    (argv,) = started
    assert "--server.port" in argv and "8600" in argv and "--replicas" not in argv


def test_the_generated_config_passes_nginx_t_and_pins_browsers_by_cookie(tmp_path):
    conf = serving.local_nginx_config(tmp_path, "127.0.0.1:18080", [40001, 40002, 40003], [True, False, True])
    (tmp_path / "nginx.conf").write_text(conf)
    result = subprocess.run([_nginx(), "-t", "-e", str(tmp_path / "error.log"), "-p", str(tmp_path),
                             "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    servers = re.findall(r"^\s*server (127\.0\.0\.1:\d+)(.*);$", conf, re.M)
    assert [(a, "down" in rest) for a, rest in servers] == [
        ("127.0.0.1:40001", False), ("127.0.0.1:40002", True), ("127.0.0.1:40003", False)]
    assert "hash $optviz_key consistent;" in conf and "$cookie_optviz_replica" in conf
    assert str(tmp_path) in conf and "/var/" not in conf  # every file it writes is ours


def test_deploy_nginx_conf_is_the_template_rendered_for_compose():
    """deploy/nginx.conf (Docker Compose's) is the same template: one home for the proxy's rules."""
    assert (ROOT / "deploy" / "nginx.conf").read_text() == serving.compose_nginx_config()


# --- a running `optviz serve --replicas 2` ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`optviz serve --replicas 2` on a free loopback port; its stderr in a file."""

    def __init__(self, tmp: Path, warm_up: bool = False):
        _nginx()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "serve.log"
        env = {**os.environ, "OPTVIZ_WARM_UP": "1" if warm_up else "0"}
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "optviz", "serve", "--replicas", "2", "--server.port", str(self.port),
                 "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text()

    def ready(self) -> dict[int, int]:
        """Replica port -> pid, for every replica that has joined (the latest pid per port)."""
        found = re.findall(r"\(pid (\d+), 127\.0\.0\.1:(\d+)\) ready", self.text())
        return {int(port): int(pid) for pid, port in found}

    def wait_for(self, condition, timeout: float = START_TIMEOUT, what: str = ""):
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout:.0f} s:\n{self.text()[-3000:]}")
            time.sleep(0.2)
        return value

    def wait_served(self) -> None:
        """Both replicas joined, and nginx answering with one (its reload after the last join
        can lag the supervisor's log line on a busy machine: a 503 until then)."""
        self.wait_for(lambda: len(self.ready()) == 2, what="both replicas ready")
        self.wait_for(lambda: _get(self.url + "/")[0] == 200, timeout=60, what="nginx serving a replica")
        # ...and that reload finished: an old worker still knows one replica only, and sends a
        # browser there while the new ones hash it to either.
        time.sleep(1)
        self.wait_for(lambda: not self.old_nginx_workers(), timeout=60, what="nginx's old workers gone")

    def old_nginx_workers(self) -> list[int]:
        """This server's nginx workers that a reload told to stop (they finish their requests first)."""
        old = []
        for pid in _descendants(self.proc.pid):
            try:
                if b"shutting down" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    old.append(pid)
            except OSError:
                pass
        return old

    def workdir(self) -> Path:
        return Path(re.search(r"logs in (\S+)", self.text()).group(1))

    def upstreams(self, request: str) -> list[str]:
        """The replica addresses nginx sent requests matching ``request`` to, from its access log."""
        lines = (self.workdir() / "access.log").read_text().splitlines()
        return [line.split()[2] for line in lines if re.search(request, line)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Served(tmp_path_factory.mktemp("serve"))
    try:
        server.wait_served()
        yield server
    finally:
        server.stop()


def _get(url: str, opener=None) -> tuple[int, str]:
    opener = opener or urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def test_the_page_comes_through_nginx_and_each_browser_stays_on_one_replica(served):
    status, body = _get(served.url + "/")
    assert status == 200 and "<title>Streamlit</title>" in body  # Streamlit's page, by way of nginx
    assert _get(served.url + "/_stcore/health") == (200, "ok")
    # Browsers: each its own cookie jar. One browser's requests all reach one replica; new
    # browsers are spread over both (a school behind one address is still spread).
    first_replicas = []
    for browser in range(16):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar))
        for _ in range(4):
            assert _get(f"{served.url}/_stcore/host-config?browser={browser}", opener)[0] == 200
        assert "optviz_replica" in {c.name for c in jar}
        # (nginx writes a request's log line after answering it: wait for the fourth)
        upstreams = served.wait_for(lambda: len(found := served.upstreams(rf"host-config\?browser={browser} ")) >= 4
                                    and found, timeout=10, what="four log lines")
        assert len(upstreams) == 4 and len(set(upstreams)) == 1, upstreams
        first_replicas.append(upstreams[0])
    assert set(first_replicas) == {f"127.0.0.1:{port}" for port in served.ready()}


def test_a_browser_through_nginx_moves_a_slider_downloads_the_csv_and_survives_its_replica_dying(served, tmp_path):
    require_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{served.url}/?opt=adam,sgd&steps=50&lr=0.01")
            wait_for_chart(page)
            before = path_signature(page)
            lr_slider(page).focus()
            page.keyboard.press("Home")  # another learning rate: a rerun through the proxy's websocket
            wait_for_new_paths(page, before)
            wait_idle(page)
            moved = url_query(page)
            assert moved["lr"] != "0.01"
            page.get_by_text("Export for slides and reports").click()
            wait_idle(page)
            with page.expect_download(timeout=30_000) as info:
                page.get_by_role("button", name="Paths as CSV").click()
            info.value.save_as(tmp_path / "paths.csv")
            rows = list(csv.DictReader((tmp_path / "paths.csv").open()))
            assert {r["optimizer"] for r in rows} == {"adam", "sgd"} and len(rows) == 2 * 51
            # The download came from the page's own replica (a /media/ file lives in one process).
            (replica,) = set(served.upstreams(r'"GET /media/'))
            shown = path_signature(page)

            sockets = []  # the page's websockets (from now on), each as the list of frames it received

            def opened(websocket) -> None:
                sockets.append(frames := [])
                websocket.on("framereceived", lambda frame: frames.append(frame))

            page.on("websocket", opened)
            pid = served.ready()[int(replica.rsplit(":", 1)[1])]
            os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            # Streamlit's page notices, reconnects through nginx (to the live replica) and runs again.
            deadline = killed + 15
            while not (sockets and len(sockets[-1]) >= 3 and not page.locator(RUNNING).count()):
                assert time.monotonic() < deadline, f"no new session within 15 s ({len(sockets)} websockets)"
                page.wait_for_timeout(100)
            wait_for_chart(page)
            assert f"pid {pid}) exited" in served.text()
            assert url_query(page) == moved
            assert path_signature(page) == shown  # the same settings draw the same paths
        finally:
            browser.close()
    # And the dead replica is started again and rejoins.
    served.wait_for(lambda: served.ready().get(int(replica.rsplit(":", 1)[1]), pid) != pid,
                    what="the killed replica started again")


def test_a_taken_port_is_one_line_naming_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "optviz", "serve", "--replicas", "2", "--server.port",
                                 str(port), "--server.address", "127.0.0.1"], cwd=ROOT, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "OPTVIZ_WARM_UP": "0"})
        err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 2
    assert err.startswith(f"optviz: error: --server.port: cannot listen on 127.0.0.1:{port}") and "in use" in err
    assert err.count("\n") == 1, err


def test_a_hung_replica_leaves_the_pool_and_rejoins_when_it_answers(served):
    """A replica that stops answering (SIGSTOP: alive, its port still accepting connections,
    which nginx's passive check would wait on) is taken out; new browsers all reach the other."""
    (hung_port, hung_pid), (live_port, _) = sorted(served.ready().items())
    os.kill(hung_pid, signal.SIGSTOP)
    try:
        served.wait_for(lambda: f"(pid {hung_pid}) has not answered" in served.text(), timeout=60,
                        what="the hung replica taken out")
        time.sleep(1)  # nginx's reload
        for browser in range(12):
            assert _get(f"{served.url}/_stcore/host-config?hung={browser}")[0] == 200
        assert set(served.upstreams(r"host-config\?hung=")) == {f"127.0.0.1:{live_port}"}
    finally:
        os.kill(hung_pid, signal.SIGCONT)
    served.wait_for(lambda: served.text().count(f"(pid {hung_pid}, 127.0.0.1:{hung_port}) ready") == 2,
                    timeout=30, what="the replica back in the pool")


def _descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (this machine's init may never reap it)


def _stop_and_check_nothing_is_left(server: Served) -> None:
    """SIGTERM to `optviz serve`: it exits 0, and nginx (master and workers), the replicas and
    its files are gone, the port closed."""
    workdir = server.workdir()
    everyone = _descendants(server.proc.pid)
    assert len(everyone) >= 4, everyone  # nginx's master and worker, two replicas
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=40) == 0
    assert not [pid for pid in everyone if _alive(pid)]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    assert not workdir.exists()


def test_sigterm_leaves_no_process_behind(tmp_path):
    server = Served(tmp_path)
    try:
        server.wait_served()
        _stop_and_check_nothing_is_left(server)
    finally:
        server.stop()


def test_a_replica_takes_no_student_while_it_warms_up_and_sigterm_then_stops_it(tmp_path):
    """With the warm-up on (half a minute of compiles per replica), nginx answers at once but
    sends nobody to a replica until it is warm; SIGTERM in the middle of the compiles stops all."""
    server = Served(tmp_path, warm_up=True)
    try:
        server.wait_for(lambda: "logs in" in server.text() and len(_descendants(server.proc.pid)) >= 4,
                        what="nginx (master and worker) and two replicas running")
        time.sleep(3)
        assert not server.ready()
        status, body = _get(server.url + "/")
        assert status == 503 and "optviz is starting" in body and "시작하는 중" in body
        _stop_and_check_nothing_is_left(server)
    finally:
        server.stop()
