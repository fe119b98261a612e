"""optviz as a user gets it: installed with pip, used from another directory, imported
into a process whose JAX is already running, with no side effects on that process."""

from __future__ import annotations

import json
import os
import signal
import site
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
# One worker for the module under `pytest -n auto --dist loadgroup`: one venv, and one
# `pip install .` at a time (pip builds in the checkout's build/ folder).
pytestmark = [pytest.mark.xdist_group(name="install"), pytest.mark.slow]


def _clean_env(**extra) -> dict:
    """This process's environment without XLA_FLAGS (which conftest may have set)."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with ``pip install .`` of this checkout. Its dependencies come from the
    test run's own environment (a .pth file), so the test needs no network."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "parent-env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
                   check=True, timeout=300, env=_clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"))
    return venv / "bin"


def _run(args, cwd, **kwargs):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, env=_clean_env(), **kwargs)


def test_the_installed_command_lists_the_fourteen_optimizers_from_any_directory(installed, tmp_path):
    help_text = _run([str(installed / "optviz"), "--help"], tmp_path)
    assert help_text.returncode == 0 and "serve" in help_text.stdout and "trajectory" in help_text.stdout
    listed = _run([str(installed / "optviz"), "list", "--format", "json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["optimizers"]) == 14
    where = _run([str(installed / "python"), "-c", "import optviz; print(optviz.__file__)"], tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout  # the installed copy


def test_import_optviz_leaves_the_environment_and_other_libraries_alone(installed, tmp_path):
    script = textwrap.dedent("""
        import os, sys, threading
        before = dict(os.environ)
        threads = threading.active_count()
        import optviz
        optviz.simulate("adam", "rosenbrock", steps=5)
        print(os.environ.get("XLA_FLAGS"))
        assert dict(os.environ) == before
        assert threading.active_count() == threads, threading.enumerate()
        assert "streamlit" not in sys.modules
    """)
    result = _run([str(installed / "python"), "-c", script], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


def test_the_installed_optviz_serve_serves_the_page(installed, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([str(installed / "optviz"), "serve", "--server.port", str(port),
                             "--server.address", "127.0.0.1"], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                            env=_clean_env(OPTVIZ_WARM_UP="0"))
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(0.25)
        if not os.path.exists("/usr/bin/chromium"):
            if os.environ.get("CI"):
                pytest.fail("/usr/bin/chromium is missing in CI")
            return
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                # The race chart drawn: one path per optimizer of the default page.
                page.wait_for_selector(".st-key-race_chart .js-plotly-plot .scatterlayer .trace path.js-line",
                                       timeout=90_000)
                assert page.locator('[data-testid="stException"]').count() == 0
            finally:
                browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def test_paths_are_keras_exact_when_jax_started_before_optviz(tmp_path):
    """A notebook's order: the user's own jitted JAX first, optviz after. The article's six on
    Rosenbrock still take Keras's float32 path bit for bit, and the user's own jitted code
    keeps the CPU's fused multiply-add (optviz capped nothing)."""
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["KERAS_BACKEND"] = "jax"
        import jax, jax.numpy as jnp, numpy as np
        rng = np.random.default_rng(0)
        a, b, c, d = (rng.standard_normal(4096).astype(np.float32) for _ in range(4))
        mine = jax.jit(lambda a, b, c, d: a * b - c * d)
        before = np.asarray(mine(a, b, c, d))
        sys.path[:0] = [{str(ROOT)!r}, {str(TESTS)!r}]
        import optviz
        from keras_reference import keras_path
        start = optviz.get_surface("rosenbrock").default_start
        for name in optviz.ARTICLE_SETTINGS:
            ours = optviz.simulate(name, "rosenbrock", start, 200, learning_rate=0.002)
            theirs = keras_path(name, "rosenbrock", start, 200, learning_rate=0.002)
            assert np.array_equal(ours.path, theirs[:len(ours.path)]), name
        eager = np.asarray(jnp.multiply(a, b)) - np.asarray(jnp.multiply(c, d))
        fused = np.asarray(jax.jit(lambda a, b, c, d: a * b - c * d)(a, b, c, d))
        assert np.array_equal(fused, before)
        print("fma", int(np.sum(fused != eager)))
    """)
    result = _run([sys.executable, "-c", script], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    cpuinfo = Path("/proc/cpuinfo")
    # The user's own program still fuses (it would not under an ISA cap).
    if cpuinfo.exists() and "fma" in cpuinfo.read_text().split():
        assert int(result.stdout.split()[-1]) > 0
