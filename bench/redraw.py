"""The browser's share of a slider move: redrawing the race chart, for one checkout or several.

    python bench/redraw.py                        # this checkout
    python bench/redraw.py . /tmp/old-checkout    # compare (e.g. a `git worktree` of an older commit)

For each checkout given, a child process (that checkout's own optviz) builds the page's
default race chart (six optimizers x 500 steps on Rosenbrock, as app.py builds it) at four
learning rates and writes the four Plotly specs as the page sends them. Then one headless
Chromium page with plotly.js (the copy inside the plotly package; Streamlit bundles its own,
of the same major version) holds one chart per checkout and, round after round, in turn,
redraws each with the next of its specs, as a slider move does:

- parse: ``JSON.parse`` of the spec's text (what Streamlit's chart element does);
- theme: Streamlit's theme pass, emulated: it stringifies the whole figure, replaces its
  forty placeholder colours (forty ``replaceAll`` over the text) and parses it again, on
  every rerun (its element id hashes the spec, so every new spec is a new element state);
- react: ``Plotly.react`` with data, layout and frames, then the next animation frame.

Why this and not only bench/app.py's key-press latency: on this 2-core guest the browser
shares the CPU with the server, and the guest's speed drifts ±30 % within minutes, so a
10 ms change in the browser's work does not show in a latency median of ~170 ms. Here only
the browser's work is timed, charts taken in turn see the same drift, and 40 rounds give
medians stable to ~5 ms (two identical charts differed by 0-5 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
ROUNDS, WARM_ROUNDS = 40, 6

# Run in each checkout's own process: the page's default race chart at four learning rates.
BUILD = r"""
import json, sys
import optviz
import plotly.io
from optviz import figures, i18n
from optviz.state import default_state
state = default_state()
specs = []
for factor in (1.0, 1.2, 1.4, 1.6):
    spec = {name: {**hp, "learning_rate": hp["learning_rate"] * factor} for name, hp in state.race_spec().items()}
    race = optviz.race(state.surface_object(), state.start, state.steps, spec, noise=state.noise, seed=state.seed,
                       surface_params=state.surface_params())
    fig = figures.race_figure(state.surface_object(), race, surface_params=state.surface_params(),
                              text=i18n.figure_text("en"), labels=i18n.OPTIMIZER_SHORT_NAMES["en"], height=640,
                              click_grid=41)
    fig = fig.freeze() if hasattr(fig, "freeze") else fig
    # As st.plotly_chart writes it, "/" unescaped as the page has plotly.io write it (optviz/page/setup.py).
    specs.append(plotly.io.to_json(fig, validate=False).replace("\\u002f", "/"))
json.dump(specs, open(sys.argv[1], "w"))
"""

REDRAW = """async ([i, j]) => {
  const t0 = performance.now();
  let spec = JSON.parse(window.SPECS[i][j]);
  const t1 = performance.now();
  let text = JSON.stringify(spec);
  for (let k = 1; k <= 40; k++) text = text.replaceAll('#0000' + String(k).padStart(2, '0'), '#123456');
  spec = JSON.parse(text);
  const t2 = performance.now();
  if (window.FRESH) {  // as the page does: a new element, a new plot
    const old = document.getElementById('chart' + i);
    Plotly.purge(old);
    const div = document.createElement('div');
    div.id = old.id;
    div.style.cssText = old.style.cssText;
    old.replaceWith(div);
  }
  await Plotly.react('chart' + i, {data: spec.data, layout: spec.layout, frames: spec.frames,
                                   config: {displaylogo: false}});
  await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
  return [performance.now() - t0, t1 - t0, t2 - t1, performance.now() - t2];
}"""


def build_specs(checkout: Path, out: Path) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    subprocess.run([sys.executable, "-c", BUILD, str(out)], cwd=checkout, env=env, check=True)
    return json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", default=[str(ROOT)], help="directories holding optviz/")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--fresh", action="store_true",
                        help="draw each spec in a new element (Plotly.newPlot), as Streamlit 1.67's page does: "
                             "its chart element's id hashes the spec, so every rerun mounts a new chart")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing", file=sys.stderr)
        return 2
    import plotly
    from playwright.sync_api import sync_playwright

    roots = [Path(c).resolve() for c in args.checkouts]
    with tempfile.TemporaryDirectory() as tmp:
        specs = [build_specs(root, Path(tmp) / f"{i}.json") for i, root in enumerate(roots)]
    for root, texts in zip(roots, specs):
        print(f"  {root}: race chart spec {len(texts[0]) / 1e6:.2f} MB")
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    times = {root: [] for root in roots}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            divs = "".join(f"<div id='chart{i}' style='width:900px;height:640px'></div>" for i in range(len(roots)))
            page.set_content(f"<html><body>{divs}</body></html>")
            page.add_script_tag(path=str(plotly_js))
            page.evaluate("([specs, fresh]) => { window.SPECS = specs; window.FRESH = fresh; }", [specs, args.fresh])
            version = page.evaluate("() => Plotly.version")
            for r in range(args.rounds + WARM_ROUNDS):
                order = list(range(len(roots)))
                for i in (order if r % 2 else order[::-1]):
                    result = page.evaluate(REDRAW, [i, r % 4])
                    if r >= WARM_ROUNDS:
                        times[roots[i]].append(result)
        finally:
            browser.close()
    print(f"redraw of the race chart in Chromium (plotly.js {version}), {args.rounds} rounds, charts in turn, "
          f"{'each in a new element (--fresh)' if args.fresh else 'each in its element (Plotly.react)'}; medians:")
    first = None
    for root, rows in times.items():
        total, parse, theme, react = (statistics.median(col) for col in zip(*rows))
        first = first or total
        print(f"  {root}: {total:.1f} ms (parse {parse:.1f}, theme pass {theme:.1f}, Plotly.react + frame "
              f"{react:.1f}){'' if total is first else f'  = {total / first:.2f} x the first'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
