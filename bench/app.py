"""Page benchmark: script rerun time, chart size, and slider-to-redraw latency in a browser.

    cd /work/main && /work/venv/bin/python bench/app.py

Prints, in one run (1.5 to 2.5 min on 2 cores, most of it waiting for the app's warm-up):

(a) The script's own run time with six optimizers x 500 steps (the default page), under
    Streamlit's ``AppTest``. This script times the page's ``optviz.page.main.run`` itself
    (wrapped before the first run, see ``timed_page_runs``), so the figure covers the whole
    page (widgets, URL, race, figures, chart serialization into the delta) and none of
    AppTest's own bookkeeping; the page's modules are imported before the first run, so the
    cold figure leaves the imports out. One cold run (JAX compile in this process),
    then the app's background warm-up thread (which compiles every surface and the
    tuning tab's sweeps) is joined, so that it does not share the CPU with the reruns,
    then 30 warm reruns moving the learning-rate and the momentum select_sliders in
    turn. Every rerun asks for a (learning rate, momentum) pair not seen before, so
    every rerun computes a new race and builds new figures: no cache hit flatters it.
(b) The size of the race figure as Streamlit sends it: ``len(proto.spec)`` of the race
    chart's element, i.e. the Plotly JSON (data, layout and the animation frames), at 500
    steps (the default) and at 2000 steps (the slider's maximum).
(c) In a real browser (Debian's Chromium driven by Playwright, ``streamlit run app.py``
    on a free loopback port, stopped by its PID at the end): the time from a key press
    on the learning-rate slider to the race chart showing the new paths. Before each
    press a MutationObserver is installed on the page's main area, a capture-phase
    ``keydown`` listener records ``performance.now()`` when the key reaches the page,
    and the observer records ``performance.now()`` at the first DOM mutation after
    which the six path lines' SVG ``d`` attributes differ from before the press. Both
    clocks are the page's own, so the figure is what a visitor waits for: the slider's
    own handling, the websocket message to the server, the script rerun (up to the chart), the
    delta messages back (the race chart alone is ~0.36 MB), Streamlit's React
    update and Plotly redrawing the SVG. The paint follows in the next animation frame;
    the time that frame starts (``requestAnimationFrame``) is printed too.
    The latency is split in three: "key -> widget change sent" (page clock: a wrapped
    ``WebSocket.send``), "sent -> chart delta read" (the DevTools protocol's timestamps
    of the websocket frames: the server's rerun up to the race chart, then the page's own
    backlog: Chromium stamps a received frame when the page reads it, on its main thread,
    within ~1 ms of the page's ``onmessage``, and passes websocket data to the page through
    a flow-controlled pipe. With the server instrumented (twelfth session, bench/README.md)
    it handed the chart's delta to its socket 29-48 ms after the key, and the page read it
    at 97-118 ms, busy until then with the run's earlier messages), and
    "chart delta -> paths redrawn" (the rest: the page's React and Plotly work). The
    first-to-last frame time of a run is the run's messages as the page read them.
    Before the presses the server process is let to go idle (its warm-up thread compiles
    every surface and the tuning tab's sweeps); then 3 unmeasured presses, then 15
    measured ones; after each, the run is let to finish (Streamlit's status widget gone)
    and 0.3 s pass before the next. Each press sets a learning rate not seen before, so
    the server computes a new race every time.

Then a table: measured value, target, pass / fail.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import busy_cores, cpu_model, git_revision  # noqa: E402  (bench/machine.py)

APP = ROOT / "app.py"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}

WARM_RERUNS = 30
WARM_UP_JOIN_S = 90.0  # longest wait for the app's warm-up thread (surfaces, then the tuning tab's sweeps)
BROWSER_WARMUP_PRESSES = 3
BROWSER_PRESSES = 15

TARGETS = {
    "rerun_median_ms": 60.0,  # warm script rerun, median
    "spec_mb": 2.0,  # race figure JSON, default page
    "latency_median_ms": 150.0,  # key press -> chart redrawn, median
}

RACE = ".st-key-race_chart .js-plotly-plot"
# The optimizers' path lines (the surface's bands and level lines are pictures, not traces).
PATH_LINES = f"{RACE} .scatterlayer .trace path.js-line"
RUNNING = '[data-testid="stStatusWidget"]'
EXCEPTION = '[data-testid="stException"]'


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds >= 0.1 else f"{seconds * 1e3:.1f} ms"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else fmt_ms(seconds)


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def spread(values: list[float], fmt=fmt_ms) -> str:
    return (f"median {fmt(statistics.median(values))}, p90 {fmt(p90(values))}, "
            f"min {fmt(min(values))}, max {fmt(max(values))} (n = {len(values)})")


# --- (a) and (b): AppTest ------------------------------------------------------------------------


def race_spec(at) -> str:
    """The race chart's figure as sent: the spec of the page's own chart element
    (optviz/page/frontend/race_chart.js, key race_chart), or of the plotly_chart with animation frames."""
    for chart in at.get("bidi_component"):
        # optviz/page/charts.py chart_message: {"key", "config", "src", "spec"}, the spec last
        text = chart.proto.bytes.decode()
        if json.loads(text).get("key") == "race_chart":
            return text[text.index('"spec": ') + len('"spec": '):-1]  # the figure's JSON text as sent
    for chart in at.get("plotly_chart"):
        if '"frames"' in chart.proto.spec:
            return chart.proto.spec
    raise RuntimeError("no race chart on the page")


def option_values(widget) -> list[float]:
    """A select_slider's option values (AppTest lists them formatted, e.g. '0.133', '0.90')."""
    return [float(o) for o in widget.options]


def walk(options: list[float], current: float, count: int) -> list[float]:
    """``count`` option values next to ``current``, downwards first (as a user nudging the slider)."""
    i = options.index(current)
    below, above = options[:i][::-1], options[i + 1:]
    out = below[:count]
    return out + above[:count - len(out)]


def timed_page_runs() -> list[float]:
    """Time every run of the page in this process (AppTest runs app.py here, which calls
    ``optviz.page.main.run``): the list it returns gets each run's seconds, a run that
    st.stop() or st.rerun() ends included."""
    from optviz.page import main as page

    seconds, run = [], page.run

    def timed_run() -> None:
        started = time.perf_counter()
        try:
            run()
        finally:
            seconds.append(time.perf_counter() - started)

    page.run = timed_run
    return seconds


def bench_script(rows: list) -> None:
    from streamlit.testing.v1 import AppTest

    print("\n(a) script run time, default page (six optimizers x 500 steps), AppTest")
    run_seconds = timed_page_runs()
    at = AppTest.from_file(str(APP), default_timeout=300)
    t0 = time.perf_counter()
    at.run()
    cold_wall = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"the page raised: {at.exception}")
    cold = run_seconds[-1]
    print(f"  cold first run: {fmt_s(cold)} (script's own clock; AppTest wall {fmt_s(cold_wall)})")

    warm_up = [t for t in threading.enumerate() if t.name == "optviz-warm-up"]
    t0 = time.perf_counter()
    for thread in warm_up:
        thread.join(WARM_UP_JOIN_S)
    if warm_up:
        state = "still running" if any(t.is_alive() for t in warm_up) else "finished"
        print(f"  warm-up thread (compiles every surface): {state} after another {fmt_s(time.perf_counter() - t0)}")
    else:
        print("  warm-up thread not found; waiting 10 s instead")
        time.sleep(10)

    lr_widget, mom_widget = at.sidebar.select_slider(key="lr"), at.sidebar.select_slider(key="momentum")
    lrs = walk(option_values(lr_widget), float(lr_widget.value), WARM_RERUNS // 2)
    moms = walk(option_values(mom_widget), float(mom_widget.value), WARM_RERUNS - WARM_RERUNS // 2)
    runs, walls = [], []
    for i in range(WARM_RERUNS):
        key, value = ("lr", lrs[i // 2]) if i % 2 == 0 else ("momentum", moms[i // 2])
        at.sidebar.select_slider(key=key).set_value(value)
        t0 = time.perf_counter()
        at.run()
        walls.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(f"the page raised after {key}={value}: {at.exception}")
        runs.append(run_seconds[-1])
    print(f"  warm reruns (lr {lrs[0]:g}..{lrs[-1]:g} and momentum {moms[0]:g}..{moms[-1]:g} in turn, "
          f"each a new race):")
    print(f"    script run: {spread(runs)}")
    print(f"    AppTest wall per rerun (adds AppTest's own work): median {fmt_ms(statistics.median(walls))}")
    median = statistics.median(runs)
    rows.append(("warm rerun, script run time, median", fmt_ms(median), f"<= {TARGETS['rerun_median_ms']:g} ms",
                 median * 1e3 <= TARGETS["rerun_median_ms"]))
    rows.append(("warm rerun, p90", fmt_ms(p90(runs)), "-", None))
    rows.append(("warm rerun, max", fmt_ms(max(runs)), "-", None))
    rows.append(("cold first run (JAX compile)", fmt_s(cold), "-", None))

    print("\n(b) race figure JSON as sent (len of the chart element's spec)")
    sizes = {}
    for steps in (500, 2000):
        if steps != at.sidebar.slider(key="steps").value:
            at.sidebar.slider(key="steps").set_value(steps).run()
            if at.exception:
                raise RuntimeError(f"the page raised at steps={steps}: {at.exception}")
        spec = race_spec(at)
        figure = json.loads(spec)
        sizes[steps] = len(spec)
        print(f"  steps={steps:5d}: {len(spec) / 1e6:.3f} MB ({len(spec):,} bytes; {len(figure['data'])} traces, "
              f"{len(figure.get('frames', []))} frames)")
    rows.append(("race figure JSON, 500 steps (default)", f"{sizes[500] / 1e6:.2f} MB", f"<= {TARGETS['spec_mb']:g} MB",
                 sizes[500] / 1e6 <= TARGETS["spec_mb"]))
    rows.append(("race figure JSON, 2000 steps", f"{sizes[2000] / 1e6:.2f} MB", f"<= {TARGETS['spec_mb']:g} MB",
                 sizes[2000] / 1e6 <= TARGETS["spec_mb"]))


# --- (c): a real browser ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log_path: Path, timeout: float = 90.0, checkout: Path = ROOT) -> subprocess.Popen:
    """``streamlit run app.py`` of ``checkout`` on a loopback port, once it answers its health check."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=checkout, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}: see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"streamlit did not answer in {timeout:.0f} s: see {log_path}")
        time.sleep(0.25)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads (from /proc; Linux only)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, timeout: float = WARM_UP_JOIN_S, window: float = 1.0, busy: float = 0.1) -> bool:
    """Until the process used less than ``busy`` of a core over ``window`` seconds (False on timeout)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            before = cpu_seconds(pid)
            time.sleep(window)
            if cpu_seconds(pid) - before < busy * window:
                return True
    except (OSError, ValueError, IndexError):  # no /proc: fall back to a fixed wait
        time.sleep(10)
        return True
    return False


# Runs before the page's own scripts: when the page hands a message to its websocket (page clock).
WEBSOCKET_PROBE = """
window.__sent = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) { window.__sent.push(performance.now()); return send.call(this, data); };
"""

# Before a press: remember the paths, time the key, watch the DOM until the paths differ.
ARM = """
lines => {
  // Streamlit 1.67 mounts a new chart element for each rerun's figure and keeps it
  // `visibility: hidden` until it has set the figure's width to its container's, which
  // takes a second Plotly.react: the new paths are in the DOM before anyone can see them.
  // `__drawn`: the first mutation after which the paths differ; `__redrawn`: the first after
  // which they differ AND their chart is visible (what a visitor waits for).
  const signature = () => [...document.querySelectorAll(lines)].map(p => p.getAttribute('d')).join('|');
  const visible = () => {
    const line = document.querySelector(lines);
    const chart = line && line.closest('.js-plotly-plot');
    return !!chart && getComputedStyle(chart).visibility === 'visible';
  };
  const before = signature();
  // `__figure`: when the chart element has drawn the server's new figure (its `data-drawn`
  // count moves): the paths may have moved before that, to a preview (optviz/page/frontend/race_preview.js).
  const chartDiv = () => document.querySelector('.st-key-race_chart .js-plotly-plot');
  const drawnBefore = chartDiv() ? chartDiv().dataset.drawn : null;
  const previewsBefore = chartDiv() ? (chartDiv().dataset.previews || '') : '';
  window.__key = null; window.__drawn = null; window.__redrawn = null; window.__painted = null; window.__sent = [];
  window.__figure = null; window.__previewed = false;
  document.addEventListener('keydown', () => { if (window.__key === null) window.__key = performance.now(); },
                            {capture: true, once: true});
  if (window.__observer) window.__observer.disconnect();
  window.__observer = new MutationObserver(() => {
    const div = chartDiv();
    if (window.__figure === null && div && div.dataset.drawn !== drawnBefore) window.__figure = performance.now();
    if (window.__figure !== null && window.__redrawn !== null) { window.__observer.disconnect(); return; }
    // (No paths at all is not new paths: the old chart is removed before the new one draws.)
    const now = signature();
    if (window.__redrawn !== null || now === before || now === '') return;
    if (window.__drawn === null) window.__drawn = performance.now();
    if (visible()) {
      window.__redrawn = performance.now();
      window.__previewed = !!div && (div.dataset.previews || '') !== previewsBefore;
      requestAnimationFrame(() => { window.__painted = performance.now(); });
    }
  });
  window.__observer.observe(document.querySelector('[data-testid="stMain"]'),
                            {subtree: true, childList: true, attributes: true});
}
"""


def bench_browser(rows: list) -> None:
    print("\n(c) learning-rate key press -> race chart redrawn, Chromium + streamlit run app.py")
    if not os.path.exists(CHROMIUM):
        print(f"  skipped: {CHROMIUM} is missing")
        rows.append(("key press -> chart redrawn, median", "skipped", f"<= {TARGETS['latency_median_ms']:g} ms", None))
        return
    from playwright.sync_api import sync_playwright

    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"optviz-bench-app-{os.getpid()}.log"
    proc = start_server(port := free_port(), log_path)
    m: dict[str, list[float]] = {k: [] for k in ("latency", "drawn", "painted", "to_send", "server", "browser", "run",
                                                 "mb", "figure", "previewed")}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                page.add_init_script(WEBSOCKET_PROBE)
                # Websocket frames as DevTools timestamps them, in seconds on the browser's
                # monotonic clock. NOT the network's arrival: a received frame is stamped when
                # the page reads it, on its main thread (within ~1 ms of the page's own
                # `onmessage`; a big message waits in the socket meanwhile). The server had handed
                # the race chart's delta to its socket 60-80 ms earlier (bench/README.md, twelfth
                # session): "sent -> chart delta received" is the server's rerun plus the page's
                # work on the run's earlier messages.
                frames: list[tuple[str, float, int]] = []
                cdp = page.context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.on("Network.webSocketFrameSent",
                       lambda e: frames.append(("sent", e["timestamp"], len(e["response"]["payloadData"]))))
                cdp.on("Network.webSocketFrameReceived",
                       lambda e: frames.append(("received", e["timestamp"], len(e["response"]["payloadData"]))))
                t0 = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector(f"{RACE} .main-svg, {EXCEPTION}", timeout=120_000)
                if page.locator(EXCEPTION).count():
                    raise RuntimeError(f"the page shows an exception (server log: {log_path}):\n"
                                       + page.locator(EXCEPTION).first.inner_text()[:2000])
                page.wait_for_function(f"() => !document.querySelector('{RUNNING}')", timeout=120_000)
                print(f"  Chromium {browser.version}; first chart after a cold server start: "
                      f"{fmt_s(time.perf_counter() - t0)}")
                # The server's warm-up thread compiles every surface and the tuning tab's sweeps:
                # wait until the server process is idle so that it does not share the CPU with the reruns.
                t0 = time.perf_counter()
                idle = wait_until_idle(proc.pid)
                print(f"  server warm-up: {'idle' if idle else 'still busy'} after another "
                      f"{fmt_s(time.perf_counter() - t0)}")
                slider = page.locator('[data-testid="stSidebar"] input[type="range"][aria-label="Learning rate"]').first
                high, now = (int(slider.get_attribute(a)) for a in ("max", "value"))
                total = BROWSER_WARMUP_PRESSES + BROWSER_PRESSES
                key = "ArrowRight" if high - now >= total else "ArrowLeft"
                start_value = slider.get_attribute("aria-valuetext")
                for i in range(total):
                    page.evaluate(ARM, PATH_LINES)
                    frames.clear()
                    slider.focus()
                    page.keyboard.press(key)
                    page.wait_for_function("() => window.__redrawn !== null && window.__painted !== null "
                                           "&& window.__figure !== null", timeout=30_000, polling=5)
                    page.wait_for_function(f"() => !document.querySelector('{RUNNING}')", timeout=30_000)
                    page.wait_for_timeout(300)  # the run's last frames are in; the next press starts clean
                    r = page.evaluate("() => ({key: window.__key, redrawn: window.__redrawn, drawn: window.__drawn, "
                                      "painted: window.__painted, sent: window.__sent, figure: window.__figure, "
                                      "previewed: window.__previewed})")
                    if i < BROWSER_WARMUP_PRESSES:
                        continue
                    latency = (r["redrawn"] - r["key"]) / 1e3
                    m["latency"].append(latency)
                    m["painted"].append((r["painted"] - r["key"]) / 1e3)
                    m["drawn"].append((r["drawn"] - r["key"]) / 1e3)
                    m["figure"].append((r["figure"] - r["key"]) / 1e3)
                    m["previewed"].append(1.0 if r["previewed"] else 0.0)
                    sent = [t for kind, t, _ in frames if kind == "sent"]
                    received = [(t, n) for kind, t, n in frames if kind == "received"]
                    if r["sent"] and sent and received:
                        to_send = (r["sent"][0] - r["key"]) / 1e3
                        chart_frame = max(received, key=lambda f: f[1])[0]  # the race chart's delta
                        server = chart_frame - sent[0]
                        m["to_send"].append(to_send)
                        m["server"].append(server)
                        m["browser"].append(m["figure"][-1] - to_send - server)
                        m["run"].append(received[-1][0] - received[0][0])
                        m["mb"].append(sum(n for _, n in received) * 3 / 4 / 1e6)  # base64 payloads
                end_value = slider.get_attribute("aria-valuetext")
                print(f"  {total} presses of {key} on 'Learning rate' ({start_value} -> {end_value}); "
                      f"the first {BROWSER_WARMUP_PRESSES} not counted")
                print(f"    key -> new paths shown:          {spread(m['latency'])}  (in the DOM, their chart visible)")
                print(f"    key -> new paths in the DOM:     {spread(m['drawn'])}  (drawn, maybe still hidden)")
                print(f"    key -> next animation frame:     {spread(m['painted'])}  (the frame that paints it)")
                shown = f"{sum(m['previewed']):.0f} of {len(m['previewed'])} presses"
                print(f"    of which shown by a preview:     {shown} "
                      "(the paths one notch away, sent with the last run: frontend/race_preview.js)")
                print(f"    key -> server's figure drawn:    {spread(m['figure'])}  (the chart element's own draw of "
                      "the rerun's figure: frames, layout, paths)")
                if m["server"]:
                    print(f"    key -> widget change sent:       {spread(m['to_send'])}  (the slider, in the page)")
                    print(f"    sent -> chart delta read:        {spread(m['server'])}  "
                          "(server rerun, then the page busy with the run's earlier messages)")
                    print(f"    chart delta -> figure drawn:     {spread(m['browser'])}  (React + Plotly in the page)")
                    print(f"    first -> last frame of the run:  {spread(m['run'])}  (the run's messages as the "
                          f"page read them; {statistics.median(m['mb']):.2f} MB a run)")
            finally:
                browser.close()
    finally:
        stop_server(proc)
    median = statistics.median(m["latency"])
    rows.append(("key press -> chart redrawn, median", fmt_ms(median), f"<= {TARGETS['latency_median_ms']:g} ms",
                 median * 1e3 <= TARGETS["latency_median_ms"]))
    rows.append(("key press -> chart redrawn, p90", fmt_ms(p90(m["latency"])), "-", None))
    rows.append(("key press -> new paths in the DOM (hidden or not), median", fmt_ms(statistics.median(m["drawn"])),
                 "-", None))
    rows.append(("  presses whose new paths came from a preview", f"{sum(m['previewed']):.0f} of {len(m['previewed'])}",
                 "-", None))
    rows.append(("key press -> the rerun's figure drawn, median", fmt_ms(statistics.median(m["figure"])), "-", None))
    if m["server"]:
        rows.append(("  of which sent -> chart delta read by the page, median", fmt_ms(statistics.median(m["server"])),
                     "-", None))
        rows.append(("  of which chart delta -> figure drawn, median", fmt_ms(statistics.median(m["browser"])),
                     "-", None))
        rows.append(("a run's messages read by the page (first -> last), median", fmt_ms(statistics.median(m["run"])),
                     "-", None))


def main() -> None:
    wall = time.perf_counter()
    warnings.filterwarnings("ignore")
    import plotly
    import streamlit

    print("optviz page benchmark")
    print(f"  machine : {os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.machine()}")
    print(f"  software: Python {platform.python_version()}, streamlit {streamlit.__version__}, "
          f"plotly {plotly.__version__}")
    print(f"  optviz  : git {git_revision('app.py', 'optviz')}")
    busy = busy_cores()
    if busy is not None:
        print(f"  other work at start: {busy:.2f} of {os.cpu_count()} cores busy"
              + ("  -- timings will be slower and noisier than on an idle machine" if busy > 0.2 else ""))
    rows: list = []  # (figure, measured, target, passed or None)
    bench_script(rows)
    bench_browser(rows)

    print("\nSummary")
    width = max(len(r[0]) for r in rows)
    print(f"  {'figure':{width}s}  {'measured':>10s}  {'target':>10s}  result")
    print(f"  {'-' * width}  {'-' * 10}  {'-' * 10}  ------")
    for figure, measured, target, passed in rows:
        result = "info" if passed is None else ("PASS" if passed else "FAIL")
        print(f"  {figure:{width}s}  {measured:>10s}  {target:>10s}  {result}")
    busy = busy_cores()
    if busy is not None:
        print(f"\nother work at the end: {busy:.2f} of {os.cpu_count()} cores busy")
    failed = [r[0] for r in rows if r[3] is False]
    print(f"\n{len(failed)} target(s) missed" + (": " + "; ".join(failed) if failed else ""))
    print(f"benchmark wall time: {time.perf_counter() - wall:.1f} s")


if __name__ == "__main__":
    main()
