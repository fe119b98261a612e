"""Key press -> race chart redrawn, for two or more checkouts taken in turn in one browser.

    python bench/latency_ab.py . /tmp/old-checkout    # e.g. a `git worktree` of an older commit
    python bench/latency_ab.py                        # this checkout alone

bench/app.py's part (c) measures one checkout; this guest's speed drifts by ±30 % within
minutes, so two of its runs, one after the other, cannot tell a 10-20 ms change. Here one
`streamlit run app.py` per checkout (a free loopback port each, the same Python), one
Chromium with a page on each, and the learning-rate key presses alternate between the
pages (in turn, the order flipped every round), so the drift hits each checkout alike.
Each press is measured as in bench/app.py (the same MutationObserver on the six path
lines, the page's own clock) and the page is let to finish its run before the next one.
Prints each checkout's median and p90, and the median of the paired differences
(this round's press on a checkout minus the same round's press on the first).
Servers stopped by their PIDs; loopback only; bounded loops.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_app", HERE / "app.py")
bench_app = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_app)  # bench/app.py's probe, selectors and helpers

WARM_ROUNDS = 3


def press(page, key: str, figure: bool = False) -> float:
    """One key press on the learning-rate slider: seconds until the paths are redrawn (or,
    with ``figure``, until the chart element has drawn the rerun's figure: the paths may move
    before that, to a slider preview)."""
    slider = page.locator('[data-testid="stSidebar"] input[type="range"][aria-label="Learning rate"]').first
    page.evaluate(bench_app.ARM, bench_app.PATH_LINES)
    slider.focus()
    page.keyboard.press(key)
    page.wait_for_function("() => window.__redrawn !== null && window.__painted !== null"
                           + (" && window.__figure !== null" if figure else ""), timeout=30_000, polling=5)
    page.wait_for_function(f"() => !document.querySelector('{bench_app.RUNNING}')", timeout=30_000)
    page.wait_for_timeout(300)  # the run's last messages are in; the next press starts clean
    r = page.evaluate("() => ({key: window.__key, redrawn: window.__redrawn, figure: window.__figure})")
    return (r["figure" if figure else "redrawn"] - r["key"]) / 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", default=[str(HERE.parent)], help="directories holding app.py")
    parser.add_argument("--presses", type=int, default=16, help="measured presses per checkout")
    parser.add_argument("--figure", action="store_true",
                        help="time the rerun's figure drawn by the chart element, not the paths shown")
    parser.add_argument("--split-cores", action="store_true",
                        help="servers on the first core, Chromium on the second (as a server and a "
                             "student's machine would be: neither waits for the other's CPU)")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if args.split_cores and len(cores) < 2:
        parser.error("--split-cores needs two cores")
    from playwright.sync_api import sync_playwright

    roots = [Path(c).resolve() for c in args.checkouts]
    servers = []
    if args.split_cores:
        os.sched_setaffinity(0, {cores[0]})  # the servers (and every thread they start) inherit it
    try:
        for i, root in enumerate(roots):
            port = bench_app.free_port()
            log = Path("/tmp") / f"optviz-latency-ab-{i}.log"
            servers.append((root, port, bench_app.start_server(port, log, checkout=root)))
        times = {root: [] for root in roots}
        if args.split_cores:
            os.sched_setaffinity(0, {cores[1]})  # Playwright's driver and Chromium inherit this one
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=bench_app.CHROMIUM, args=bench_app.CHROMIUM_ARGS)
            try:
                pages = []
                for root, port, proc in servers:
                    page = browser.new_page(viewport=bench_app.VIEWPORT)
                    page.goto(f"http://127.0.0.1:{port}/")
                    page.wait_for_selector(f"{bench_app.RACE} .main-svg", timeout=120_000)
                    page.wait_for_function(f"() => !document.querySelector('{bench_app.RUNNING}')", timeout=120_000)
                    pages.append(page)
                for _, _, proc in servers:  # each server's warm-up compiles every surface: let it finish
                    bench_app.wait_until_idle(proc.pid)
                # Up the slider, then down again when the end is near (each value a new race).
                slider = pages[0].locator('[data-testid="stSidebar"] input[type="range"][aria-label="Learning rate"]')
                high, now = (int(slider.first.get_attribute(a)) for a in ("max", "value"))
                total = WARM_ROUNDS + args.presses
                key = "ArrowRight" if high - now >= total else "ArrowLeft"
                for r in range(total):
                    order = list(range(len(roots)))
                    for i in (order if r % 2 else order[::-1]):
                        latency = press(pages[i], key, args.figure)
                        if r >= WARM_ROUNDS:
                            times[roots[i]].append(latency)
            finally:
                browser.close()
    finally:
        os.sched_setaffinity(0, set(cores))
        for _, _, proc in servers:
            bench_app.stop_server(proc)
    where = (f"servers on CPU {cores[0]}, Chromium on CPU {cores[1]}" if args.split_cores
             else "servers and Chromium sharing the cores")
    what = "the rerun's figure drawn" if args.figure else "race chart redrawn"
    print(f"key press -> {what}, {args.presses} presses per checkout, taken in turn ({where}):")
    first = times[roots[0]]
    for root in roots:
        values = times[root]
        line = (f"  {root}: median {statistics.median(values) * 1e3:.0f} ms, "
                f"p90 {bench_app.p90(values) * 1e3:.0f} ms")
        if root != roots[0]:
            diffs = [b - a for a, b in zip(first, values)]
            line += f"; paired difference from the first: median {statistics.median(diffs) * 1e3:+.0f} ms"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
