"""The page in a real browser: Streamlit server + Playwright driving Debian's Chromium.

AppTest (tests/test_app.py) checks what the script sends; these tests check what a
visitor sees: Plotly draws the race, a keyboard move on a slider reruns the page and
redraws the paths, Play animates, Korean text renders, a bad link warns.

No pytest-playwright plugin: the fixtures below start one ``streamlit run app.py`` on a
free loopback port for the module and stop it by its PID at the end. Without
/usr/bin/chromium the tests skip, unless ``CI`` is set, where they fail.

``python tests/test_browser.py [NAME ...]`` (not pytest) writes the README's screenshots,
``assets/page.png`` and ``assets/page-ko.png`` (1400 × 900) and
``assets/lesson-data-presenter.png`` (a data lesson in presenter mode, 1280 × 720).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}
START_TIMEOUT = 90.0  # seconds for the server to answer its health check

RACE = ".st-key-race_chart .js-plotly-plot"  # the race chart: its own element (optviz/page/frontend/race_chart.js)
# One per optimizer's path (the surface's bands and level lines are pictures: .imagelayer).
PATH_LINES = f"{RACE} .scatterlayer .trace path.js-line"
# The surface's pictures' sources, in drawing order: its bands (PNG), its level lines (SVG).
PICTURES = f"() => [...document.querySelectorAll('{RACE} .imagelayer image')].map(i => i.getAttribute('href'))"
SLIDER_VALUE = f"{RACE} .slider-container .slider-group > text.slider-label"  # Plotly's "Step 500"
RUNNING = '[data-testid="stStatusWidget"]'  # shown while a script run is in progress
EXCEPTION = '[data-testid="stException"]'
ALERT = '[data-testid="stAlert"]'

# One worker for the whole module under `pytest -n auto --dist loadgroup`: one server, one browser.
pytestmark = [pytest.mark.xdist_group(name="browser"), pytest.mark.slow]


# --- server and browser -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    """``streamlit run app.py`` from the repository root; returns once /_stcore/health says ok."""
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()  # the child has its own handle
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"streamlit did not answer in {START_TIMEOUT:.0f} s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.25)


def stop_server(proc: subprocess.Popen) -> None:
    """Stop this one process by its PID: terminate, wait, kill if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


SERVER_LOGS: list[Path] = []  # the running server's log, quoted when the page shows an exception


@contextlib.contextmanager
def running_app(log_dir: Path):
    SERVER_LOGS.append(log_dir / "streamlit.log")
    proc = start_server(port := free_port(), SERVER_LOGS[-1])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


def require_chromium() -> str:
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {message}")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def chromium_browser():
    require_chromium()  # before the server starts: a skip costs nothing
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def app_url(chromium_browser, tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("streamlit")) as url:
        yield url


def page_errors(page) -> list:
    """The page's uncaught JavaScript errors (and unhandled promise rejections), as they come."""
    errors = []
    page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}\n{error.stack or ''}"[:2000]))
    return errors


@pytest.fixture
def web(chromium_browser, app_url):
    """A fresh page (its own Streamlit session) and a function opening the app with a query.
    Any uncaught JavaScript error on the page fails the test."""
    context = chromium_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = page_errors(page)

    def open_app(query: str = "") -> None:
        page.goto(f"{app_url}/{query}")
        wait_for_chart(page)

    try:
        yield page, open_app
        assert not errors, f"uncaught errors on the page: {errors}"
    finally:
        context.close()


# --- page helpers ------------------------------------------------------------------------------


def wait_idle(page, timeout: float = 60_000) -> None:
    """Until no script run is in progress (Streamlit's status widget is gone)."""
    page.wait_for_function(f"() => !document.querySelector('{RUNNING}')", timeout=timeout)


def open_tab(page, name: str) -> None:
    """A click on the tab ``name`` (the row of buttons above the view: radio buttons to a
    screen reader, one checked)."""
    page.locator(".st-key-tab").get_by_role("radio", name=name, exact=True).click()


def wait_for_chart(page, timeout: float = 90_000) -> None:
    """Until the race chart is drawn with its six paths and the run is over (first run compiles JAX)."""
    page.wait_for_selector(f"{RACE} .main-svg, {EXCEPTION}", timeout=timeout)
    if page.locator(EXCEPTION).count():
        log = SERVER_LOGS[-1].read_text() if SERVER_LOGS and SERVER_LOGS[-1].exists() else ""
        log = re.sub(r"\x1b\[[0-9;]*m", "", log)[-4000:]  # without the colour codes
        raise AssertionError(f"the page shows an exception: {page.locator(EXCEPTION).first.inner_text()[:500]}\n"
                             f"server log:\n{log}")
    page.wait_for_function(f"() => document.querySelectorAll('{PATH_LINES}').length >= 1", timeout=timeout)
    wait_idle(page, timeout)
    # The race and loss charts are the page's own elements (optviz/page/frontend/race_chart.js), drawn by
    # plotly.js once it has loaded: until both have drawn, the page has not settled.
    page.wait_for_function("""() => ['race_chart', 'loss_chart'].every(
      key => document.querySelector(`.st-key-${key} [data-drawn]`))""", timeout=timeout)
    wait_idle(page, timeout)


def wait_sized(page, key: str, timeout: float = 90_000) -> None:
    """Until the chart ``key``'s width has been reported to the server and the run that draws
    it at that width is over. A chart first shown (a first visit, a tab opened) reports its
    width, and the server draws it again: until then the element can be swapped under a click."""
    page.wait_for_function("""key => {
      const probe = document.querySelector('.st-key-chart_widths [data-known]');
      return probe && probe.dataset.known.split(' ').some(k => k.startsWith(key));
    }""", arg=key, timeout=timeout)
    wait_idle(page, timeout)


def path_signature(page) -> str:
    """Every drawn path's SVG `d`: changes whenever any path's data changes."""
    return page.evaluate(
        f"() => [...document.querySelectorAll('{PATH_LINES}')].map(p => p.getAttribute('d')).join('|')")


def wait_for_new_paths(page, before: str, timeout: float = 30_000) -> None:
    """Wait until the drawn paths differ from ``before`` (a :func:`path_signature`) and are the
    rerun's figure's, not a slider's preview of them (frontend/race_preview.js; drawing the figure
    clears the chart's `previewed`)."""
    page.wait_for_function(
        f"""before => [...document.querySelectorAll('{PATH_LINES}')]
                         .map(p => p.getAttribute('d')).join('|') !== before
                      && !((window.optvizCharts || {{}}).race_chart || {{previewed: new Set()}}).previewed.size""",
        arg=before, timeout=timeout)


def lr_slider(page, label: str = "Learning rate"):
    # Streamlit's slider <input type=range> carries aria-label=<label>; its accessible name
    # repeats the label ("Learning rate Learning rate"), so match the attribute. In Korean the
    # optimizers' own learning-rate sliders (in closed expanders) share the label: the shared one
    # is the first, and the only visible one.
    return page.locator(f'[data-testid="stSidebar"] input[type="range"][aria-label="{label}"]').first


def level_line_count(source: str) -> int:
    """How many lines the level-lines picture (an SVG data URI) draws: its path's movetos."""
    prefix = "data:image/svg+xml;base64,"
    assert source.startswith(prefix), source[:40]
    return base64.b64decode(source[len(prefix):]).decode("ascii").count("M")


def url_query(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


# --- tests ---------------------------------------------------------------------------------------


def click_chart(page, chart: str, fx: float, fy: float, until: str, tries: int = 3) -> None:
    """Click a chart's plot area at (fx, fy) of its width and height until the JS condition
    ``until`` holds: on a busy machine the chart can be redrawn under the pointer between
    the hover and the click, and that click is lost (a user would click again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        box = page.locator(f"{chart} .nsewdrag").first.bounding_box()
        if box is None:  # the chart was being replaced by a rerun's new one: wait for it
            page.wait_for_selector(f"{chart} .nsewdrag", timeout=20_000)
            wait_idle(page)
            box = page.locator(f"{chart} .nsewdrag").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.wait_for_timeout(400)
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        try:
            page.wait_for_function(until, timeout=20_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            wait_idle(page)


def results_table_overflow(page) -> float:
    """How far (px) the results table reaches past the column it sits in (0: it fits, no
    horizontal scroll), after checking it shows the five columns."""
    table = page.locator('[data-testid="stTableStyledTable"]').last
    assert table.locator("thead th").count() == 5
    return table.evaluate("""t => t.getBoundingClientRect().right
                                  - t.closest('[data-testid="stColumn"]').getBoundingClientRect().right""")


def test_page_draws_the_race(web, tmp_path):
    page, open_app = web
    open_app()
    assert page.locator(f"{RACE} .main-svg").count() >= 1
    # The surface: its bands a picture below the plot, its level lines a vector picture
    # over it (many pieces); no contour trace for plotly.js to compute.
    bands, lines = page.evaluate(PICTURES)
    assert bands.startswith("data:image/png") and lines.startswith("data:image/svg+xml")
    assert level_line_count(lines) >= 20
    assert page.locator(f"{RACE} .contourlayer .contour").count() == 0
    lines = page.locator(PATH_LINES)
    assert lines.count() == 6, "one path line per optimizer"
    for i in range(6):
        assert len(lines.nth(i).get_attribute("d") or "") > 20, f"path {i} is empty"
    # Legend: the six optimizers by name.
    legend = page.locator(f"{RACE} .legend .traces .legendtext").all_text_contents()
    for name in ("SGD", "SGD + Nesterov", "Adagrad", "RMSprop", "Adam", "Adamax"):
        assert name in legend, legend
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(ALERT).count() == 0, page.locator(ALERT).all_text_contents()
    # Each chart is drawn once a rerun: its margins already hold its tick labels, legend,
    # colour bar, Play buttons and step slider (plotly.js draws the whole chart a second
    # time when it has to widen a margin; that was ~40 % of a slider move's redraw).
    assert widened_margins(page) == []
    assert results_table_overflow(page) <= 1  # all five columns beside the chart, no scrolling
    page.screenshot(path=tmp_path / "page.png")
    # A laptop-wide page: the legend of six still fits the margin kept for it (with the
    # minimum's star in it, it took a third row there, and a second draw on every rerun).
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(2000)
    assert widened_margins(page) == []


def widened_margins(page) -> list:
    """Margins plotly.js had to widen on the page's charts (each one a second full draw)."""
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(g => {
        const size = g._fullLayout._size, margin = g._fullLayout.margin;
        return ['l', 'r', 't', 'b'].filter(side => Math.round(size[side]) > margin[side])
                                    .map(side => `${side}: ${margin[side]} -> ${size[side]}`);
    })""")


def test_learning_rate_slider_redraws_and_writes_the_url(web, tmp_path):
    page, open_app = web
    open_app()
    page.wait_for_function("() => location.search.includes('lr=')")
    before_paths, before_lr = path_signature(page), url_query(page)["lr"]
    slider = lr_slider(page)
    before_value = slider.get_attribute("aria-valuetext")
    assert float(before_value) == float(before_lr)

    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_for_new_paths(page, before_paths)
    page.wait_for_function(
        "before => new URLSearchParams(location.search).get('lr') !== before", arg=before_lr, timeout=30_000)
    wait_idle(page)

    after_value, after_lr = slider.get_attribute("aria-valuetext"), url_query(page)["lr"]
    assert float(after_value) > float(before_value)
    assert float(after_lr) == float(after_value)
    assert path_signature(page) != before_paths
    assert page.locator(PATH_LINES).count() == 6
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=tmp_path / "after-lr.png")


# Every change of the race chart's paths, with what the chart had drawn by then.
WATCH_PATHS = """lines => {
  const chart = document.querySelector('.st-key-race_chart .js-plotly-plot');
  const signature = () => [...document.querySelectorAll(lines)].map(p => p.getAttribute('d')).join('|');
  let last = signature();
  window.__changes = [];
  window.__watched = performance.now();
  window.__watcher?.disconnect();  // one watcher: the last key press's would record every change again
  (window.__watcher = new MutationObserver(() => {
    const now = signature();
    if (now === last || now === '') return;
    last = now;
    window.__changes.push({paths: now, drawn: chart.dataset.drawn, previews: chart.dataset.previews || '',
                           t: performance.now()});
  })).observe(chart, {subtree: true, childList: true, attributes: true});
}"""

# Until the paths have not changed for half a second (whatever the last run left plotly.js to
# finish is over); then the watch starts afresh.
SETTLE_PATHS = """() => {
  const changes = window.__changes;
  const last = changes.length ? changes[changes.length - 1].t : window.__watched;
  if (performance.now() - last < 500) return false;
  window.__changes = [];
  return true;
}"""


def test_a_slider_notch_moves_the_paths_at_once_to_what_the_rerun_draws(web):
    """A key press on the learning-rate slider moves the paths to the next notch's before the
    rerun's figure comes (frontend/race_preview.js, from what the last run sent), and those are the
    rerun's paths: they change once, not twice. Back a notch: the same."""
    page, open_app = web
    open_app()
    wait_idle(page)
    chart = page.locator(RACE)
    slider = lr_slider(page)
    for key in ("ArrowRight", "ArrowLeft"):
        page.wait_for_function("() => window.optvizPreviews && window.optvizPreviews.data", timeout=30_000)
        page.evaluate(WATCH_PATHS, PATH_LINES)
        page.wait_for_function(SETTLE_PATHS, timeout=30_000)
        drawn, previews = chart.get_attribute("data-drawn"), chart.get_attribute("data-previews") or ""
        slider.focus()
        page.keyboard.press(key)
        page.wait_for_function(f"() => document.querySelector('{RACE}').dataset.drawn !== '{drawn}'", timeout=30_000)
        wait_idle(page)
        changes = page.evaluate("() => window.__changes")
        # (plotly.js may move the traces in more than one DOM change, all before the figure.)
        assert changes, "the paths did not move"
        assert all(c["drawn"] == drawn for c in changes), "the rerun's figure moved the paths again"
        assert changes[0]["previews"] == previews + "l"
        assert changes[-1]["paths"] == path_signature(page)
        assert chart.get_attribute("data-updates").endswith("a")  # the figure then drawn in place
    assert page.locator(EXCEPTION).count() == 0


def test_a_drag_across_many_notches_ends_on_the_paths_a_fresh_page_draws(web):
    """A drag runs past the one notch either side that a preview knows: wherever the previews
    and the reruns along the way leave the chart, it ends on the paths that the same link,
    opened afresh, draws."""
    page, open_app = web
    open_app()
    wait_idle(page)
    page.wait_for_function("() => window.optvizPreviews && window.optvizPreviews.data", timeout=30_000)
    slider = lr_slider(page)
    before, start = path_signature(page), slider.get_attribute("aria-valuetext")
    thumb = slider.locator("xpath=../..").bounding_box()  # (the <input> itself is visually hidden)
    x, y = thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    # Leftwards (the default rate is near the top): a pixel at a time at first (a notch: the
    # preview's), then 5 (2-3 notches a move: past any preview).
    for dx in [1, 2, 3] + [3 + 5 * i for i in range(1, 11)]:
        page.mouse.move(x - dx, y)
        page.wait_for_timeout(30)
    page.mouse.up()
    page.wait_for_function(f"() => document.querySelector('{RACE}').dataset.previews", timeout=30_000)
    page.wait_for_timeout(1000)
    wait_idle(page)
    page.wait_for_timeout(500)  # (the last run's figure drawn)
    wait_idle(page)
    assert slider.get_attribute("aria-valuetext") != start
    # Each path with its colour and dash; as a set: after moves in place plotly.js may paint a
    # path that changed above the others (as before the previews), a fresh page in trace order.
    styled = f"""() => [...document.querySelectorAll('{PATH_LINES}')]
                   .map(p => [p.getAttribute('d'), p.style.stroke, p.style.strokeDasharray].join(' '))"""
    dragged, link = sorted(page.evaluate(styled)), page.url
    assert path_signature(page) != before and "lr=" in link
    open_app("?" + link.split("?", 1)[1])
    wait_idle(page)
    assert sorted(page.evaluate(styled)) == dragged
    assert page.locator(EXCEPTION).count() == 0


# Every painted frame: is the race chart on the page, and visible? (Streamlit 1.67 mounts a new
# chart for each rerun's figure and hides it until the figure has a width.)
WATCH_RACE_CHART = """() => {
  window.__blank = [];
  const tick = () => {
    const chart = document.querySelector('.st-key-race_chart .js-plotly-plot');
    if (!chart || getComputedStyle(chart).visibility !== 'visible'
        || !chart.querySelector('.scatterlayer .trace path.js-line')) window.__blank.push(performance.now());
    if (window.__watching) requestAnimationFrame(tick);
  };
  window.__watching = true;
  requestAnimationFrame(tick);
}"""


def test_a_slider_move_never_blanks_the_race_chart(web, tmp_path):
    """The chart swaps old paths for new in one frame: no frame without it, or with it hidden
    (it was hidden for 100-200 ms a move while it measured its width). The race chart is the
    same chart after the moves, its paths moved in place (not drawn anew: ~60 ms of plotly.js
    and Streamlit's work on a new element saved a move), and every chart is as wide as its place."""
    page, open_app = web
    open_app()
    width_of = """key => {
      const chart = document.querySelector(`.st-key-${key} .js-plotly-plot`);
      // The page's own elements: as wide as their place on the page.
      return [chart && chart._fullLayout.width, document.querySelector(`.st-key-${key}`).getBoundingClientRect().width];
    }"""
    page.evaluate("() => { window.__race = document.querySelector('.st-key-race_chart .js-plotly-plot'); }")
    updates = "() => document.querySelector('.st-key-race_chart [data-updates]').dataset.updates"
    drawn_anew = page.evaluate(updates).count("r")
    page.evaluate(WATCH_RACE_CHART)
    slider = lr_slider(page)
    for _ in range(3):
        before = path_signature(page)
        slider.focus()
        page.keyboard.press("ArrowRight")
        wait_for_new_paths(page, before)
        wait_idle(page)
    page.evaluate("() => { window.__watching = false; }")
    assert page.evaluate("() => window.__blank.length") == 0, "frames painted without the race chart"
    assert page.evaluate("() => window.__race === document.querySelector('.st-key-race_chart .js-plotly-plot')")
    done = page.evaluate(updates)
    assert done.count("r") == drawn_anew and done.endswith("aaa"), done  # three moves, in place
    for key in ("race_chart", "loss_chart"):
        figure_width, frame_width = page.evaluate(width_of, key)
        assert abs(figure_width - frame_width) < 1 and frame_width > 100, (key, figure_width, frame_width)
    # A narrower window: the charts follow it.
    wide = page.evaluate(width_of, "race_chart")[1]
    page.set_viewport_size({"width": 1280, "height": VIEWPORT["height"]})  # (still side by side)
    page.wait_for_function(f"() => Math.abs(({width_of})('race_chart')[0] - ({width_of})('race_chart')[1]) < 1"
                           f" && ({width_of})('race_chart')[1] < {wide}", timeout=30_000)
    page.screenshot(path=tmp_path / "narrower.png")


def test_slider_into_divergence_warns_and_back_clears_it(web, tmp_path):
    """A slider move reruns only the page's fragment: its notices (a diverged race's warning)
    go into a container drawn on whole runs, which Streamlit allows only if the fragment
    wrote to it in the last whole run; a warning that first appears on a slider move must
    show, not raise (it did, on a server where no test moved a slider into divergence)."""
    page, open_app = web
    open_app("?preset=keras&lr=0.001")
    assert page.locator(ALERT).count() == 0
    before = path_signature(page)
    slider = lr_slider(page)
    slider.focus()
    page.keyboard.press("End")  # learning rate 1: plain SGD leaves Rosenbrock's chart
    wait_for_new_paths(page, before)
    wait_idle(page)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()[:500]
    alerts = " ".join(page.locator(ALERT).all_text_contents())
    assert "diverged" in alerts, alerts
    page.screenshot(path=tmp_path / "diverged.png")
    before = path_signature(page)
    page.keyboard.press("Home")  # the smallest rate: nobody diverges, the warning goes
    wait_for_new_paths(page, before)
    wait_idle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert "diverged" not in " ".join(page.locator(ALERT).all_text_contents())


LOSS_CHART = ".st-key-loss_chart .js-plotly-plot"
# The loss chart's y range (log10 units on its log axis) and its lines' lowest and highest
# value, in the same units, as plotly.js has drawn them.
LOSS_AXIS = f"""() => {{
  const div = document.querySelector('{LOSS_CHART}');
  if (!div || !div._fullLayout || !div._fullData) return null;
  const log = div._fullLayout.yaxis.type === 'log';
  const ys = div._fullData.flatMap((t) => Array.from(t.y)).map((v) => log ? Math.log10(v) : v);
  return {{range: div._fullLayout.yaxis.range, low: Math.min(...ys), high: Math.max(...ys)}};
}}"""


def test_the_loss_chart_follows_a_learning_rate_raised_into_divergence(web):
    """The loss lines move in place on a slider move (no new chart): the axis must move too.
    It did not (plotly.js's animate does not autorange), and SGD's blow-up was drawn off it."""
    page, open_app = web
    open_app("?surface=quadratic&opt=sgd,adam&lr=0.01")
    before = page.evaluate(LOSS_AXIS)
    assert before["range"][0] <= before["low"] and before["high"] <= before["range"][1], before
    old = path_signature(page)
    lr_slider(page).focus()
    page.keyboard.press("End")  # learning rate 1
    wait_for_new_paths(page, old)
    wait_idle(page)
    page.wait_for_function(f"() => ({LOSS_AXIS})().high > {before['high'] + 3}")  # SGD's loss now grows
    after = page.evaluate(LOSS_AXIS)
    assert after["range"][0] <= after["low"] and after["high"] <= after["range"][1], after


def test_the_paths_download_as_csv_after_the_run_and_after_a_slider_move(web, tmp_path):
    """The CSV is made when the button is clicked, after the run that drew it: it read the
    run's race from a name the run had cleared by then, and the click downloaded nothing."""
    import csv
    page, open_app = web
    open_app("?opt=adam,sgd&steps=50&lr=0.01")
    page.get_by_text("Export for slides and reports").click()
    wait_idle(page)

    def download() -> list[dict]:
        button = page.get_by_role("button", name="Paths as CSV")
        with page.expect_download(timeout=30_000) as info:
            button.click()
        target = tmp_path / "paths.csv"
        info.value.save_as(target)
        return list(csv.DictReader(target.open()))

    rows = download()
    assert {r["optimizer"] for r in rows} == {"adam", "sgd"}
    adam = [r for r in rows if r["optimizer"] == "adam"]
    assert len(adam) == 51 and (float(adam[0]["x"]), float(adam[0]["y"])) == pytest.approx((-1.5, 2.0))
    old = path_signature(page)
    lr_slider(page).focus()
    page.keyboard.press("Home")  # another learning rate: the CSV follows
    wait_for_new_paths(page, old)
    wait_idle(page)
    moved = [r for r in download() if r["optimizer"] == "adam"]
    assert len(moved) == 51 and moved[-1]["x"] != adam[-1]["x"]


def test_every_tab_survives_a_slider_move(web, tmp_path):
    """Each tab's content is drawn by the page's fragment into the tab (made on whole runs):
    a slider move (a fragment-only rerun, which AppTest cannot play) redraws the open tab
    without an exception, whichever tab it is."""
    page, open_app = web
    open_app()
    for tab in ("Tuning", "3D", "Update rules and Keras code", "Race"):
        open_tab(page, tab)
        page.wait_for_timeout(500)
        wait_idle(page)
        drawn = page.locator('[data-testid="stMain"] .js-plotly-plot, [data-testid="stMain"] .katex')  # charts, rules
        drawn.first.wait_for(state="attached", timeout=30_000)  # KaTeX's code loads on first use
        wait_idle(page)  # (the chart-width probe may rerun the tab once its charts are measured)
        drawn.first.wait_for(state="attached", timeout=30_000)
        lr_slider(page).focus()
        page.keyboard.press("ArrowLeft")
        page.wait_for_timeout(500)
        wait_idle(page)
        assert page.locator(EXCEPTION).count() == 0, (tab, page.locator(EXCEPTION).first.inner_text()[:500])
        drawn.first.wait_for(state="attached", timeout=30_000)
        assert drawn.count() >= 1, tab
    page.screenshot(path=tmp_path / "tabs.png")


def test_steps_move_the_chart_in_place_and_play_still_runs(web, tmp_path):
    """A step button (new frames, arrows, the step slider moved) updates the chart already drawn,
    not a new one; its frames are the new ones only; and ▶ Play then runs the race."""
    page, open_app = web
    open_app()
    chart = RACE  # (the chart's div: data-drawn, data-updates)
    updates = lambda: page.locator(chart).get_attribute("data-updates")  # noqa: E731
    label = page.locator(SLIDER_VALUE).first
    for key, shown in (("first", "Step 0"), ("step", "Step 1"), ("ten", "Step 11"), ("back", "Step 10")):
        done = int(page.locator(chart).get_attribute("data-drawn"))
        page.locator(f".st-key-stepper_{key} button").first.click()
        page.wait_for_function(f"() => +document.querySelector('{chart}').dataset.drawn > {done}", timeout=30_000)
        wait_idle(page)
        page.wait_for_function(f"() => +document.querySelector('{chart}').dataset.drawn > {done}", timeout=30_000)
        assert label.text_content().strip() == shown, (key, label.text_content())
    assert updates().endswith("aaaa"), updates()  # in place, each of them
    names = page.evaluate(f"() => document.querySelector('{chart}')._transitionData._frames.map(f => f.name)")
    assert len(names) == len(set(names)) and 40 <= len(names) <= 60, names
    before = path_signature(page)
    page.locator(f"{RACE} .updatemenu-button", has_text="Play").click()
    page.wait_for_timeout(1500)
    assert label.text_content() != "Step 10" and path_signature(page) != before
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=tmp_path / "stepped-then-played.png")


def test_play_animates_the_race(web, tmp_path):
    page, open_app = web
    received = []  # the server's messages after Play (there should be none: Play is the browser's)
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(len(payload))))
    open_app()
    label = page.locator(SLIDER_VALUE).first
    start = label.text_content()
    play = page.locator(f"{RACE} .updatemenu-button", has_text="Play")
    assert play.count() == 1
    before_paths = path_signature(page)
    received.clear()
    play.click()
    # Each tick: the step label, whether the paths differ from the whole race's, how many race
    # charts there are. Sampled through the animation (~1.8 s of its 4 s), not only at its end,
    # so that the test says what happened when it fails (one failure in ~7 full-suite runs on a
    # loaded machine showed a moving label over the whole paths at the last tick).
    ticks = []
    for _ in range(12):
        page.wait_for_timeout(150)
        ticks.append((label.text_content(), path_signature(page) != before_paths, page.locator(RACE).count()))
    seen = [tick[0] for tick in ticks]
    changed = [v for v in seen if v != start]
    assert len(set(changed)) >= 3, f"the step label did not move: {start!r} then {ticks}"
    assert all(v.startswith("Step ") for v in seen), seen
    redrawn = [tick[1] for tick in ticks]
    assert sum(redrawn) >= 3, f"the paths were not redrawn by the animation: {ticks}; messages after Play: {received}"
    # plotly.js drops a contour trace while a redraw-free animation runs (plotly.js #4491);
    # the surface stays in view as the pictures behind the paths.
    bands, lines = page.evaluate(PICTURES)
    assert bands.startswith("data:image/png") and level_line_count(lines) >= 20
    page.screenshot(path=tmp_path / "playing.png")


def test_korean_page(web, tmp_path):
    page, open_app = web
    open_app("?lang=ko")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("학습률", exact=True).count() >= 1
    assert lr_slider(page, "학습률").is_visible()
    assert page.locator(f"{RACE} .updatemenu-button", has_text="재생").count() == 1
    assert page.locator(SLIDER_VALUE).first.text_content().startswith("스텝")
    assert page.locator(PATH_LINES).count() == 6
    assert page.locator(EXCEPTION).count() == 0
    assert url_query(page)["lang"] == "ko"
    # Every chosen optimizer's tag shows its whole (long, Korean) name, inside the box.
    tags = sidebar.locator('[data-testid="stMultiSelect"] span[data-tag] > span[title]')
    assert tags.count() == 6
    clipped = tags.evaluate_all("spans => spans.filter(s => s.scrollWidth > s.clientWidth + 1).map(s => s.title)")
    assert clipped == []
    box = sidebar.locator('[data-testid="stMultiSelect"]').first.bounding_box()  # Keras's (not other frameworks')
    last = tags.last.bounding_box()
    assert last["y"] + last["height"] <= box["y"] + box["height"]  # the sixth is not scrolled away
    assert results_table_overflow(page) <= 1
    page.screenshot(path=tmp_path / "page-ko.png")
    assert (tmp_path / "page-ko.png").stat().st_size > 10_000


def test_bad_link_warns_and_still_draws(web, tmp_path):
    page, open_app = web
    open_app("?lr=abc&surface=moon")
    alerts = page.locator(ALERT)
    assert alerts.count() >= 2, alerts.all_text_contents()
    text = " ".join(alerts.all_text_contents())
    assert "lr=abc" in text and "surface=moon" in text, text
    assert page.locator(PATH_LINES).count() == 6
    assert page.locator(EXCEPTION).count() == 0
    query = url_query(page)
    assert query["surface"] == "rosenbrock" and query["lr"] != "abc"  # the page wrote the defaults back
    page.screenshot(path=tmp_path / "bad-link.png")


def test_a_link_s_bad_formula_is_quoted_as_typed_not_as_markdown(web):
    """The warning names the formula it falls back to: its `*` and `**` made italics and bold
    of it ("sin(x)cos(y) + 0.1(x2 + y2)")."""
    page, open_app = web
    open_app("?surface=custom&f=x%2A%2A%20%2B%20y_1&present=maybe")
    text = " ".join(page.locator(ALERT).all_text_contents())
    assert "using sin(x)*cos(y) + 0.1*(x**2 + y**2) instead" in text, text
    assert "f=x** + y_1" in text and "`y_1`" in text, text  # the refused name, as typed
    assert "using 0 instead" in text, text  # present=maybe: the default as a link writes it
    assert page.locator(f"{ALERT} em, {ALERT} strong").count() == 0


def test_learning_rate_key_presses_then_play_raise_no_page_error(web):
    """Six learning-rate key presses, then Play at once, three times over. plotly.js rejects
    an animation another interrupts with no reason, and a slider preview's rejection went
    uncaught: a page error whose message is `undefined` (one run in six). The fixture fails
    the test on any page error."""
    page, open_app = web
    open_app()
    wait_idle(page)
    play = page.locator(f"{RACE} .updatemenu-button", has_text="Play")
    for round_ in range(3):
        page.wait_for_function("() => window.optvizPreviews && window.optvizPreviews.data", timeout=30_000)
        lr_slider(page).focus()
        for _ in range(6):
            page.keyboard.press("ArrowRight" if round_ % 2 == 0 else "ArrowLeft")
        # (While the rerun runs, Streamlit makes the page inert to a mouse; the button's own
        # click handler is what Play runs, pressed while the rerun's figure lands.)
        play.dispatch_event("click")
        page.wait_for_timeout(1200)
        wait_idle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(RACE).count() == 1
    assert "could not be drawn" not in page.locator(".st-key-race_chart").inner_text()


MARKDOWN_INJECTION = ("?lr=%0A%23%20Injected%20heading%0A%5Bclick%5D(http%3A%2F%2Fevil.example%2F)%0A"
                      "!%5Bx%5D(http%3A%2F%2Fevil.example%2Fpixel.png)"
                      "&%0A%23%20Heading%20key%0A!%5Bk%5D(http%3A%2F%2Fevil.example%2Fk.png)=1"
                      "&sched=%60%0A%3Cimg%20src%3Dhttp%3A%2F%2Fevil.example%2Fs.png%3E")


def test_markdown_in_a_link_s_keys_and_values_renders_as_text(web):
    """Line breaks, headings, links, images and HTML in a link's keys and values are quoted
    as text in its warnings: no heading, link or image reaches the page's DOM."""
    page, open_app = web
    open_app(MARKDOWN_INJECTION)
    alerts = page.locator(ALERT)
    text = " ".join(alerts.all_text_contents())
    assert "Injected heading" in text and "Heading key" in text, text  # quoted, as text
    assert page.locator("h1, h2, h3, h4, h5, h6", has_text="Injected").count() == 0
    assert page.locator("h1, h2, h3, h4, h5, h6", has_text="Heading key").count() == 0
    assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0
    assert page.locator(f"{ALERT} a, {ALERT} img, {ALERT} h1, {ALERT} h2").count() == 0


# --- README screenshots (python tests/test_browser.py) -------------------------------------------


SCREENSHOTS = (  # name, query, viewport
    ("page.png", "", VIEWPORT),
    ("page-ko.png", "?lang=ko", VIEWPORT),
    ("lesson-data-presenter.png", "?lesson=standardize-inputs&present=1", {"width": 1280, "height": 720}),
)


def readme_screenshots(out_dir: Path = ROOT / "assets", only: tuple[str, ...] = ()) -> list[Path]:
    """The README's screenshots (``only``: those names alone)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} is missing")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with running_app(Path(os.environ.get("TMPDIR", "/tmp"))) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, query, viewport in SCREENSHOTS:
                if only and name not in only:
                    continue
                page = browser.new_page(viewport=viewport)
                page.goto(f"{url}/{query}")
                wait_for_chart(page)
                page.mouse.move(1, 1)  # no hover label on the chart
                page.wait_for_timeout(1500)  # fonts and the data grid settle
                page.screenshot(path=out_dir / name)
                written.append(out_dir / name)
                page.close()
        finally:
            browser.close()
    return written


if __name__ == "__main__":
    for path in readme_screenshots(only=tuple(sys.argv[1:])):  # e.g. lesson-data-presenter.png
        print(path)


def test_a_click_on_a_tuning_cell_loads_its_settings(web, tmp_path):
    page, open_app = web
    open_app("?opt=sgd,adam&steps=200")
    open_tab(page, "Tuning")
    tune = '.stPlotlyChart:has(.heatmaplayer)'
    page.wait_for_selector(f"{tune} .main-svg", timeout=90_000)
    wait_sized(page, "tune_chart")
    before = url_query(page)
    # A cell in the upper middle of the map: a mid-size learning rate, a high momentum.
    click_chart(page, tune, 0.45, 0.3, "() => location.search.includes('sgd.momentum=')")
    wait_idle(page)
    after = url_query(page)
    assert after["sgd.lr"] != before.get("sgd.lr")  # the cell's learning rate became SGD's own
    assert "sgd.momentum" not in before  # and its momentum
    assert page.get_by_text("Loaded learning_rate=").count() >= 1
    page.screenshot(path=tmp_path / "tuning-click.png")


def tuning_trace_names(page) -> list[str]:
    """The tuning map's traces' names, as plotly.js holds them."""
    return page.evaluate("""() => document.querySelector('.stPlotlyChart:has(.heatmaplayer) .js-plotly-plot')
                                   .data.map(t => t.name || '')""")


def test_the_tuning_map_draws_the_stability_boundary_on_a_quadratic_not_on_rastrigin(web, tmp_path):
    """On the quadratic the theory's boundary (a dashed line) and its best settings (stars)
    are drawn on the map; on Rastrigin, which is no quadratic, neither is."""
    page, open_app = web
    tune = '.stPlotlyChart:has(.heatmaplayer)'
    for surface, drawn in (("quadratic&kappa=10", True), ("rastrigin", False)):
        open_app(f"?surface={surface}&opt=sgd&steps=200")
        open_tab(page, "Tuning")
        page.wait_for_selector(f"{tune} .main-svg", timeout=90_000)
        wait_sized(page, "tune_chart")
        names = tuning_trace_names(page)
        assert ("boundary" in names) is drawn and ("best" in names) is drawn, (surface, names)
        dashed = page.locator(f"{tune} .scatterlayer .trace path.js-line[style*='stroke-dasharray']")
        assert (dashed.count() >= 1) is drawn, surface
        if drawn:  # the line is really on the map: a path of many points inside the plot
            box, plot = dashed.first.bounding_box(), page.locator(f"{tune} .nsewdrag").first.bounding_box()
            assert box["height"] > 0.5 * plot["height"] and plot["x"] <= box["x"] <= plot["x"] + plot["width"]
            assert page.get_by_role("button", name=re.compile("Use the best settings")).count() == 1
        page.screenshot(path=tmp_path / f"tuning-{surface.split('&')[0]}.png")


def test_the_theory_lessons_in_presenter_mode(web, tmp_path):
    """The two theory lessons on a projector: the stability boundary's loss chart carries the
    predicted-rate lines, the edge of stability's side chart is the sharpness with its 2/η line."""
    page, open_app = web
    page.set_viewport_size({"width": 1280, "height": 720})
    for lesson_id, expected in (("stability-boundary", "&#961;"), ("edge-of-stability", "stable below")):
        open_app(f"?lesson={lesson_id}&present=1")
        page.wait_for_timeout(500)
        names = page.evaluate("() => document.querySelector('.st-key-loss_chart .js-plotly-plot').data"
                              ".map(t => t.name || '')")
        assert any(expected in name for name in names), (lesson_id, names)
        assert page.locator(EXCEPTION).count() == 0
        page.screenshot(path=tmp_path / f"lesson-{lesson_id}.png")


def test_typing_a_formula_draws_its_contour(web, tmp_path):
    page, open_app = web
    open_app("?surface=custom")
    picture = f"({PICTURES})().join()"
    page.evaluate(f"() => {{ window.__contour = {picture}; }}")
    box = page.locator('[data-testid="stSidebar"] input[aria-label="Formula f(x, y)"]').first
    box.fill("(x - 1)**2 + 4*(y + 0.5)**2")
    box.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('f') === '(x - 1)**2 + 4*(y + 0.5)**2'",
                           timeout=60_000)
    wait_for_chart(page)
    # The surface drawn is the typed one: a new picture of its bands, and its level lines.
    page.wait_for_function(f"() => {picture} !== window.__contour", timeout=60_000)
    assert level_line_count(page.evaluate(PICTURES)[1]) >= 5
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=tmp_path / "formula.png")


def test_a_click_on_the_race_chart_starts_the_race_there(web, tmp_path):
    """Anywhere on the plot, a click moves the start to that point (to within the
    click grid's spacing): the URL and the start inputs follow, and the paths are redrawn."""
    page, open_app = web
    open_app()
    before_paths = path_signature(page)
    # The grid of click targets is invisible and plotly.js draws only one of its markers
    # (1681 drawn ones were a third of the chart's redraw), yet every point takes a click.
    grid_markers = page.locator(f"{RACE} .scatterlayer .trace").last.locator(".points path")
    assert grid_markers.count() <= 1, grid_markers.count()
    fx, fy = 0.7, 0.3  # right of the middle, upper part
    click_chart(page, RACE, fx, fy, "() => new URLSearchParams(location.search).get('x') !== '-1.5'")
    wait_for_new_paths(page, before_paths)  # (the URL is written before the chart is sent)
    wait_idle(page)
    query = url_query(page)
    import optviz  # (here: the other browser tests need no JAX)
    surface = optviz.get_surface("rosenbrock")
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    spacing = max(x1 - x0, y1 - y0) / 40  # the page's 41 x 41 click grid
    assert abs(float(query["x"]) - (x0 + fx * (x1 - x0))) <= spacing, query["x"]
    assert abs(float(query["y"]) - (y1 - fy * (y1 - y0))) <= spacing, query["y"]
    assert path_signature(page) != before_paths
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=tmp_path / "race-click.png")


def axis_ranges(page) -> list[float]:
    """The race chart's x and y axis ranges as plotly.js drew them."""
    return page.evaluate(f"""() => {{ const g = document.querySelector('{RACE}');
                                      return [...g._fullLayout.xaxis.range, ...g._fullLayout.yaxis.range]; }}""")


def test_a_box_zooms_the_race_chart_and_the_zoom_survives_a_slider_move(web, tmp_path):
    """Box Select from the chart's toolbar, a drag: the chart shows that box (the URL keeps
    it); a learning-rate key press redraws the paths and the zoom stays; "Whole surface"
    shows all of it again. (Plotly's own zoom was lost on every slider move: each rerun
    mounts a new chart.)"""
    page, open_app = web
    open_app()
    whole = axis_ranges(page)
    page.locator(RACE).hover()
    page.locator(f'{RACE} .modebar-btn[data-title="Box Select"]').click()
    box = page.locator(f"{RACE} .nsewdrag").first.bounding_box()
    (fx0, fy0), (fx1, fy1) = (0.45, 0.35), (0.8, 0.75)  # a box right of the middle, lower part
    page.mouse.move(box["x"] + box["width"] * fx0, box["y"] + box["height"] * fy0)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (fx0 + (fx1 - fx0) * k / 10),
                        box["y"] + box["height"] * (fy0 + (fy1 - fy0) * k / 10))
    page.mouse.up()
    page.wait_for_function("() => new URLSearchParams(location.search).has('view')", timeout=30_000)
    wait_for_chart(page)
    page.wait_for_function(f"""w => {{ const g = document.querySelector('{RACE}');
                                      return g && g._fullLayout.xaxis.range[0] !== w; }}""", arg=whole[0])
    x0, x1, y0, y1 = whole
    expected = [x0 + fx0 * (x1 - x0), x0 + fx1 * (x1 - x0), y1 - fy1 * (y1 - y0), y1 - fy0 * (y1 - y0)]
    zoomed = axis_ranges(page)
    assert zoomed == pytest.approx(expected, abs=0.02 * (x1 - x0)), (zoomed, expected)
    assert [float(v) for v in url_query(page)["view"].split(",")] == pytest.approx(zoomed, abs=1e-9)

    before_paths = path_signature(page)
    lr_slider(page).focus()
    page.keyboard.press("ArrowLeft")
    wait_for_new_paths(page, before_paths)
    wait_idle(page)
    assert axis_ranges(page) == pytest.approx(zoomed, abs=1e-9)
    page.screenshot(path=tmp_path / "zoomed.png")

    page.get_by_role("button", name="Whole surface").click()
    page.wait_for_function("() => !new URLSearchParams(location.search).has('view')", timeout=30_000)
    page.wait_for_function(f"""w => {{ const g = document.querySelector('{RACE}');
                                      return g && g._fullLayout.xaxis.range[0] === w; }}""", arg=whole[0])
    assert axis_ranges(page) == pytest.approx(whole, abs=1e-9)
    assert page.locator(EXCEPTION).count() == 0


def test_on_a_phone_the_step_buttons_stay_one_row(chromium_browser, app_url, tmp_path):
    """At 390 px wide Streamlit stacks columns: the five step-through buttons were five
    full-width rows, the whole first screen. They are one row, and the chart follows."""
    context = chromium_browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = page_errors(page)
    try:
        page.goto(app_url)
        wait_for_chart(page)
        tops = [page.get_by_role("button", name=label, exact=True).bounding_box()["y"]
                for label in ("⇤", "◀", "▶", "+10", "⇥")]
        assert max(tops) - min(tops) < 2, tops
        chart_top = page.locator(RACE).bounding_box()["y"]
        assert chart_top < 844, chart_top  # the chart starts on the first screen
        page.screenshot(path=tmp_path / "phone.png")
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("width,stacked", [(1024, True), (1400, False)])
def test_a_narrow_page_puts_the_loss_chart_and_table_below_the_race(chromium_browser, app_url, tmp_path, width,
                                                                      stacked):
    """At 1024 px with the sidebar open the race chart's column left its plot ~190 px: the
    Play and speed buttons were drawn over each other and the table lost two columns. A
    page under 780 px stacks the race above the loss chart and table; a wide one keeps them
    side by side."""
    context = chromium_browser.new_context(viewport={"width": width, "height": 768})
    page = context.new_page()
    errors = page_errors(page)
    try:
        page.goto(app_url)
        wait_for_chart(page)
        boxes = page.locator(f"{RACE} .updatemenu-button").evaluate_all(
            "bs => bs.map(b => { const r = b.getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; })")
        assert len(boxes) == 6, boxes  # Play, Pause, ½×, 1×, 2×, 4×
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                overlap = min(a[1], b[1]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[2], b[2]) > 1
                assert not overlap, (a, b)
        race, loss = page.locator(RACE).bounding_box(), page.locator(LOSS_CHART).bounding_box()
        assert (loss["y"] >= race["y"] + race["height"]) == stacked, (race, loss)
        assert results_table_overflow(page) <= 1
        page.screenshot(path=tmp_path / f"page-{width}.png")
        assert not errors, errors
    finally:
        context.close()


def test_presenter_mode_fits_the_chart_on_a_projector(web, tmp_path):
    """At 1280 x 720 (a classroom projector) in presenter mode, for every lesson in both
    languages: the whole race chart, its step slider included, is on the screen, the
    step-through buttons are large, and the lesson's narrative stands beside the chart,
    its question for the class on the screen too (it ran 190 px below the screen's edge
    in a narrow column, and a divergence banner above the chart pushed the slider off)."""
    from optviz.lessons import load_lessons

    page, open_app = web
    page.set_viewport_size({"width": 1280, "height": 720})
    for lang in ("en", "ko"):
        for lesson_id, lesson in load_lessons().items():
            where = f"{lesson_id} ({lang})"
            open_app(f"?lesson={lesson_id}&present=1&lang={lang}")
            page.wait_for_timeout(300)
            # The charts come as wide as presenter mode's columns (they size themselves).
            for key in ("race_chart", "loss_chart"):  # as wide as presenter mode's columns
                sized = page.evaluate("""key => [
                  document.querySelector(`.st-key-${key} .js-plotly-plot`)._fullLayout.width,
                  document.querySelector(`.st-key-${key}`).getBoundingClientRect().width]""", key)
                assert abs(sized[0] - sized[1]) < 1 and sized[1] > 100, (where, key, sized)
            slider = page.locator(f"{RACE} .slider-container").first.bounding_box()
            assert slider["y"] + slider["height"] <= 720, (where, slider)  # its step labels too
            step = page.get_by_role("button", name="▶", exact=True).bounding_box()
            assert step["height"] >= 48 and step["width"] >= 72, (where, step)
            chart = page.locator(RACE).bounding_box()
            text = lesson.text[lang]
            title = page.get_by_text(text.title, exact=True).first.bounding_box()
            assert title["x"] >= chart["x"] + chart["width"] - 5, (where, title, chart)  # beside it
            question = page.get_by_text(text.question).first.bounding_box()
            assert question["y"] + question["height"] <= 720, (where, question)
            assert page.locator(EXCEPTION).count() == 0, where
            if lesson_id == "article":  # six optimizers and a diverged path
                page.screenshot(path=tmp_path / f"presenter-{lang}.png")


def test_a_clicker_steps_the_race_in_presenter_mode(web):
    """A presentation clicker sends PageDown / PageUp: in presenter mode they are Step and
    Back. Not while a slider has the focus (the key moves the slider only), and not on the
    normal page, where PageDown scrolls."""
    page, open_app = web
    page.set_viewport_size({"width": 1280, "height": 720})
    step_label = page.locator("text=/^Step \\d+ of 30$/").first

    def press(key: str) -> None:
        page.keyboard.press(key)
        page.wait_for_timeout(500)
        wait_idle(page)

    def shows(text: str) -> None:  # the label, once the run a click or a key started is over
        page.wait_for_selector(f"text=/^{text}$/", timeout=30_000)
        wait_idle(page)
        assert step_label.inner_text() == text

    open_app("?lesson=adam-bias-correction&present=1")
    page.get_by_role("button", name="⇤", exact=True).click()
    shows("Step 0 of 30")
    page.mouse.click(640, 30)  # the page itself has the focus, as after a clicker's first press
    press("PageDown")
    shows("Step 1 of 30")
    press("PageDown")
    shows("Step 2 of 30")
    press("PageUp")
    shows("Step 1 of 30")

    page.locator('[data-testid="stExpandSidebarButton"]').click()
    slider = lr_slider(page)
    before = slider.get_attribute("aria-valuetext") or slider.input_value()
    slider.focus()
    press("PageDown")
    page.wait_for_timeout(1000)
    wait_idle(page)
    after = slider.get_attribute("aria-valuetext") or slider.input_value()
    assert after != before  # the slider took the key...
    assert step_label.inner_text() != "Step 2 of 30"  # ...and the race did not step
    assert page.locator(EXCEPTION).count() == 0

    open_app("?lesson=adam-bias-correction")  # the normal page: PageDown is the browser's
    page.get_by_role("button", name="⇤", exact=True).click()
    shows("Step 0 of 30")
    page.mouse.click(640, 30)
    press("PageDown")
    page.wait_for_timeout(1000)
    assert step_label.inner_text() == "Step 0 of 30"


def test_presenter_mode_update_rules_are_readable_from_the_back(web):
    """Presenter mode's Update rules tab: explanations at >= 20 px, Keras code at >= 18 px,
    formulas larger than on the normal page."""
    page, open_app = web

    def sizes() -> dict:
        open_tab(page, "Update rules and Keras code")
        # Once the tab's explanation, code and formula are all drawn (they arrive one by one).
        return page.wait_for_function("""() => {
            const px = el => parseFloat(getComputedStyle(el).fontSize);
            const main = document.querySelector('[data-testid="stMain"]');
            const text = [...main.querySelectorAll('[data-testid="stMarkdownContainer"] p')]
                .find(p => p.textContent.startsWith('Steps straight down the gradient'));
            const code = main.querySelector('code'), formula = main.querySelector('.katex');
            return text && code && formula && {text: px(text), code: px(code), formula: px(formula)};
        }""", timeout=30_000).json_value()

    open_app("?opt=sgd,adam")
    normal = sizes()
    open_app("?opt=sgd,adam&present=1")
    big = sizes()
    assert big["text"] >= 20 and big["code"] >= 18, big
    assert big["formula"] > 1.15 * normal["formula"], (big, normal)


def test_switching_to_korean_and_back_keeps_every_choice(web, tmp_path):
    """A language switch changes every selectbox's labels: Streamlit sends a choice back as its
    label, and a label of the other language came back as the value itself (switching back to
    English raised a KeyError in the lesson's callback: the page showed an exception)."""
    page, open_app = web
    open_app("?preset=article&opt=sgd,nesterov,adam&surface=himmelblau&lesson=article")
    before = url_query(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    for language, lang in (("한국어", "ko"), ("English", "en"), ("한국어", "ko")):
        sidebar.locator("label", has_text=language).first.click()
        page.wait_for_function(f"() => (new URLSearchParams(location.search).get('lang') || 'en') === '{lang}'",
                               timeout=60_000)
        wait_for_chart(page)
        assert page.locator(EXCEPTION).count() == 0, language
        now = url_query(page)
        assert {k: v for k, v in now.items() if k != "lang"} == \
            {k: v for k, v in before.items() if k != "lang"}, (language, before, now)
        assert page.locator(PATH_LINES).count() == 3, language
    page.screenshot(path=tmp_path / "korean-again.png")


# --- data surfaces ---------------------------------------------------------------------------------

FIT = ".st-key-fit_chart .js-plotly-plot"  # the fit view: the data and each optimizer's model


def fit_signature(page) -> str:
    return page.evaluate(
        f"() => [...document.querySelectorAll('{FIT} .scatterlayer .trace path.js-line')]"
        ".map(p => p.getAttribute('d')).join('|')")


def test_a_data_surface_s_batch_size_moves_the_paths_and_the_fit_view(web, tmp_path):
    page, open_app = web
    open_app("?surface=data_anscombe&batch=4&epochs=6")
    page.wait_for_selector(f"{FIT} .main-svg")
    page.wait_for_function(f"() => document.querySelectorAll('{FIT} .scatterlayer .trace path.js-line').length >= 6")
    assert page.locator(PATH_LINES).count() == 6
    before_paths, before_fit = path_signature(page), fit_signature(page)
    slider = lr_slider(page, "Batch size")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => new URLSearchParams(location.search).get('batch') === '5'", timeout=60_000)
    wait_for_new_paths(page, before_paths, timeout=60_000)
    page.wait_for_function(
        f"""before => [...document.querySelectorAll('{FIT} .scatterlayer .trace path.js-line')]
                      .map(p => p.getAttribute('d')).join('|') !== before""", arg=before_fit, timeout=60_000)
    wait_idle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert "(full batch)" in page.locator('[data-testid="stSidebar"]').inner_text()  # the largest notch's label
    page.screenshot(path=tmp_path / "data-surface.png")


def test_play_moves_the_fit_view_with_the_race(web, tmp_path):
    """The race chart's Play (the browser's animation, no rerun) moves the fit view's models
    step by step with the paths."""
    page, open_app = web
    open_app("?surface=data_classes&batch=6&epochs=8")
    page.wait_for_function(f"() => document.querySelectorAll('{FIT} .scatterlayer .trace path.js-line').length >= 6")
    end = fit_signature(page)
    page.locator(f"{RACE} .updatemenu-button", has_text="Play").click()
    seen = set()
    for _ in range(12):
        page.wait_for_timeout(150)
        seen.add(fit_signature(page))
    assert len(seen - {end}) >= 3, "the fit view did not follow Play"
    page.wait_for_timeout(4000)  # the animation's end: the models back at the last step (to a pixel's rounding)
    numbers = [[float(v) for v in re.findall(r"-?[0-9.]+", text)] for text in (fit_signature(page), end)]
    assert len(numbers[0]) == len(numbers[1]) and max(abs(a - b) for a, b in zip(*numbers)) < 0.5
    page.screenshot(path=tmp_path / "fit-played.png")


def test_a_pytorch_adam_beside_keras_s_adam_is_drawn_and_told_apart(web, tmp_path):
    """Choosing "Adam · PyTorch" in the sidebar's other frameworks' list races it beside Keras's
    Adam: two paths, two legend names, two dashes, and the link names it."""
    page, open_app = web
    open_app("?surface=saddle&opt=adam&lr=0.01&x=-1.5&y=0.01")
    assert page.locator(PATH_LINES).count() == 1
    before = path_signature(page)
    frameworks = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').nth(1)
    frameworks.click()
    page.keyboard.type("Adam · PyTorch")
    page.get_by_role("option", name="Adam · PyTorch", exact=True).click()
    page.keyboard.press("Escape")
    wait_for_new_paths(page, before)
    wait_idle(page)
    page.wait_for_function(f"() => document.querySelectorAll('{PATH_LINES}').length == 2")
    legend = page.locator(f"{RACE} .legend .legendtext").all_text_contents()
    assert "Adam" in legend and "Adam · PyTorch" in legend, legend
    dashes = page.evaluate(f"() => [...document.querySelectorAll('{PATH_LINES}')]"
                           ".map(p => p.style.strokeDasharray || 'solid')")
    assert len(set(dashes)) == 2, dashes  # solid for Keras's, dashed for PyTorch's
    assert url_query(page)["fw"] == "pytorch:adam"
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=tmp_path / "pytorch-adam.png")
