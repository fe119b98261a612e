"""optviz: the page. Widgets -> PageState -> engine -> figures; no maths here.

Run with ``streamlit run app.py``. The URL holds the whole state: it is read once per
session into the widgets, and every rerun writes the widgets back into it.
"""

from __future__ import annotations

import atexit
import gc
import html
import itertools
import json
import math
import os
import re
import shutil
import threading
import time
import zlib
from dataclasses import replace
from pathlib import Path

_RUN_STARTED = time.perf_counter()

import pandas as pd
import pyarrow as pa
import streamlit as st

import optviz.xla

optviz.xla.configure()  # before anything starts JAX's CPU backend

import optviz  # noqa: E402
from optviz import schedules as lr_schedules
from optviz import export, figures, i18n
from optviz.lessons import load_lessons
from optviz.optimizers import ALL_OPTIMIZERS, ARTICLE_OPTIMIZERS
from optviz.presets import PRESETS
from optviz.bounds import BOXES, KAPPAS, LEARNING_RATES, MAX_NOISE, MAX_PAGE_STEPS, MIN_STEPS, MOMENTA, STEP_STEP, TABS
from optviz.state import (
    CUSTOM, EXTRA_HPARAMS, MOMENTUM_OPTIMIZERS, SCHEDULE_FIELDS, PageState, schedule_spec, with_cell, with_preset,
    with_surface, zoomed_view,
)
from optviz.url import parse_query, to_query


def _unescape_slashes_in_chart_json() -> None:
    """plotly.io.to_json, which st.plotly_chart calls, writes every "/" as "\\u002f" so
    that "</script>" cannot end an HTML script tag; it escapes "<" too, so "</" cannot
    occur anyway. One character in 64 of a base64 array is a "/": that escape made the race
    chart 23 % bigger (0.69 -> 0.53 MB) and cost a pass over its text on every rerun.
    Streamlit reads the spec with JSON.parse, to which the two forms are the same. If a
    later plotly renames these private tables, the charts are simply a bit bigger again."""
    try:
        from plotly.io import _json as plotly_json
    except ImportError:
        return
    for name in ("_swap_json", "_swap_orjson"):
        swaps = getattr(plotly_json, name, None)
        if isinstance(swaps, tuple) and ("<", "\\u003c") in swaps:
            setattr(plotly_json, name, tuple(pair for pair in swaps if pair[0] != "/"))


_unescape_slashes_in_chart_json()
TOLERANCE = 1e-3

_PRESENTING = st.session_state.get("presenter", st.query_params.get("present") in ("1", "true"))
st.set_page_config(page_title="optviz: Keras optimizers", page_icon="📉", layout="wide",
                   initial_sidebar_state="collapsed" if _PRESENTING else "auto")
# The optimizer picker's tags show their whole name (Korean names are long: "확률적 경사
# 하강법 (SGD)" was cut to "확률적 경사 하강법 (..."), wrapping if need be, and the box grows
# instead of scrolling its sixth tag out of sight. The results table (a plain table: its
# five columns fit beside the chart, where a data grid needed a horizontal scroll) keeps
# each number on one line. Plain selectors: if Streamlit changes its markup, this simply
# stops applying.
st.html("""<style>
[data-testid="stMultiSelect"] div:has(> div > span[role="group"]) { max-height: none !important; }
[data-testid="stMultiSelect"] span[data-tag] { max-width: 100% !important; height: auto !important; }
[data-testid="stMultiSelect"] span[data-tag] > span[title] {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; line-height: 1.3; }
[data-testid="stTableStyledTable"] th, [data-testid="stTableStyledTable"] td {
  padding: 0.3rem 0.45rem !important; font-size: 0.85rem; }
[data-testid="stTableStyledTable"] p { word-break: keep-all !important; }
[data-testid="stTableStyledTable"] td:not(:first-child) p { white-space: nowrap; }
/* The step-through buttons: a touch target on a phone, and readable from the back row in
   presenter mode (the row carries the class .st-key-steps_big there). */
[class*="st-key-stepper_"] button { min-width: 2.5rem; }
.st-key-steps_big [class*="st-key-stepper_"] button { min-width: 4.6rem; min-height: 3.2rem; }
.st-key-steps_big [class*="st-key-stepper_"] button p { font-size: 1.5rem; }
.st-key-steps_big kbd { display: none; }  /* the clicker's keys: named in the tooltip, not on the button */
/* The update rules, their explanations and the Keras code, readable from the back row in
   presenter mode (the tab's content carries the class .st-key-rules_big there). */
.st-key-rules_big .katex { font-size: 1.45em; }
.st-key-rules_big [data-testid="stMarkdownContainer"] p { font-size: 1.3rem; }
.st-key-rules_big code { font-size: 1.15rem; }
.st-key-chart_widths, .st-key-race_preview { display: none; }  /* scripts, nothing to see (CHART_WIDTHS_JS, RACE_PREVIEW_JS) */
/* A narrow page (a small window, a 1024-px screen with the sidebar open): the race chart's
   column left its plot ~190 px, the Play and speed buttons on top of each other and the
   results table cut off. Below 780 px of page (not of screen: the sidebar counts) the race,
   then the loss chart and table, each take the whole width. */
[data-testid="stMainBlockContainer"] { container: optviz-main / inline-size; }
@container optviz-main (max-width: 780px) {
  .st-key-race_layout > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  .st-key-race_layout > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
    flex: 1 1 100% !important; width: 100% !important; min-width: 100% !important; }
}
</style>""")
if _PRESENTING:  # on a 720-line projector the page's 6rem top margin hid the chart's step slider
    st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 4rem !important; }</style>")


# --- process-wide work, shared by every session --------------------------------------


def _freeze_heap() -> None:
    """Move every object alive now (JAX, Plotly, Streamlit, compiled programs: ~350,000)
    out of the garbage collector's sight. Python's automatic full collections walked them
    all, again and again: a quarter of a warm rerun's time (AppTest, 60 reruns: 1.4 s of
    5.5 s in gc; 0.24 s once frozen). Collect first, so no garbage is frozen with them."""
    gc.collect()
    gc.freeze()


def _warm_all_surfaces(stop: threading.Event) -> None:
    """Compile every surface's race program once, in the background, for the next visitors."""
    for name in optviz.SURFACES:
        for optimizers in (["sgd"], ["sgd", "lion"]):  # the article's rules only; and all 14
            if stop.is_set():
                return
            optviz.race(name, None, MIN_STEPS, optimizers, compile_steps=MAX_PAGE_STEPS)
        figures.contour_backdrop(optviz.get_surface(name))  # the race chart's picture of it
    # The tuning tab's grids on the default surface and step count: the heat map (121 × 100
    # cells) for each optimizer with a momentum-like axis, and the learning-rate curves.
    for name, opt in ARTICLE_OPTIMIZERS.items():
        if stop.is_set():
            return
        if opt.momentum_like:
            optviz.sweep(name, "rosenbrock", None, PageState.steps, LEARNING_RATES, MOMENTA)
        optviz.sweep(name, "rosenbrock", None, PageState.steps, LEARNING_RATES,
                     [opt.defaults[opt.momentum_like]] if opt.momentum_like else None)
    _freeze_heap()  # and what the warm-up built


def _start_warm_up() -> threading.Thread | None:
    _freeze_heap()  # the imports' objects, once per server process
    if os.environ.get("OPTVIZ_WARM_UP", "1") == "0":  # e.g. a test process, or a one-surface class
        return None
    stop = threading.Event()
    thread = threading.Thread(target=_warm_all_surfaces, args=(stop,), name="optviz-warm-up", daemon=True)
    thread.start()

    def finish() -> None:  # a thread killed mid-compile at exit aborts the process
        stop.set()
        thread.join(timeout=30)

    atexit.register(finish)
    return thread


def _plotly_js_url() -> str | None:
    """Where the page loads plotly.js for the race and loss charts' own element (RACE_CHART_JS):
    the plotly package's own bundle, copied once into the app's static folder (Streamlit serves
    it with `server.enableStaticServing`). None, and those charts are st.plotly_chart elements as
    the others are, if static serving is off or the folder cannot be written."""
    import plotly

    if not st.get_option("server.enableStaticServing"):
        return None
    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    name = f"plotly-{plotly.__version__}.min.js"  # a new plotly, a new name: no stale browser cache
    target = Path(__file__).resolve().parent / "static" / name
    try:
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            target.parent.mkdir(exist_ok=True)
            part = target.with_suffix(f".{os.getpid()}.part")
            shutil.copyfile(source, part)
            os.replace(part, target)  # whole or not at all, whichever process copies first
    except OSError:
        return None
    return f"./app/static/{name}"


def _lessons() -> dict:
    return load_lessons()


def _run_race(key: str, _state: PageState) -> dict:
    """The race for a state (cached by its key, so a class asking the same thing computes it once)."""
    return optviz.race(_state.surface_object(), _state.start, _state.steps, _state.race_spec(), noise=_state.noise,
                       seed=_state.seed, surface_params=_state.surface_params(), compile_steps=MAX_PAGE_STEPS)


def _race_figure(state: PageState, race: dict, lang: str, presenter: bool, step: int | None,
                 frames: int = figures.MAX_FRAMES):
    """The race chart's figure (``frames=0``: its traces alone, for a preview)."""
    return figures.race_figure(state.viewed_surface(), race, surface_params=state.surface_params(),
                               text=i18n.figure_text(lang), labels=i18n.OPTIMIZER_SHORT_NAMES[lang],
                               presenter=presenter, start_step=step, height=530 if presenter else 640,
                               arrows=step is not None, click_grid=41, frames=frames)


def _build_figures(key: str, lang: str, presenter: bool, step: int | None, view: tuple | None, _state: PageState,
                   _race: dict):
    surface = _state.surface_object()
    race_fig = _race_figure(_state, _race, lang, presenter, step)
    loss_fig = figures.loss_figure(_race, min_value=surface.min_value, text=i18n.figure_text(lang),
                                   labels=i18n.OPTIMIZER_SHORT_NAMES[lang], presenter=presenter)
    # Kept as JSON text: the cache then holds a few strings, not thousands of dicts.
    return race_fig.freeze(), loss_fig.freeze()


def _run_sweep(key: str, optimizer: str, momenta: tuple | None, _state: PageState):
    """A learning rate × momentum grid on the page's own slider values (a click lands on them)."""
    fixed = {k: v for k, v in _state.hyperparameters(optimizer).items()
             if k not in ("learning_rate", ALL_OPTIMIZERS[optimizer].momentum_like)}
    return optviz.sweep(optimizer, _state.surface_object(), _state.start, _state.steps, LEARNING_RATES,
                        None if momenta is None else list(momenta), tolerance=TOLERANCE, noise=_state.noise,
                        seed=_state.seed, surface_params=_state.surface_params(), **fixed)


def _build_3d(key: str, lang: str, presenter: bool, _state: PageState, _race: dict):
    return figures.surface_3d_figure(_state.surface_object(), _race,
                                     surface_params=_state.surface_params(), text=i18n.figure_text(lang),
                                     labels=i18n.OPTIMIZER_SHORT_NAMES[lang], presenter=presenter,
                                     height=560 if presenter else 620)  # (on a 720-line projector, all of it)


# The charts' widths, measured in the browser. Streamlit 1.67 mounts a new chart element for
# every rerun's figure and keeps it hidden (`visibility: hidden`) until it has measured its
# container and drawn the figure a second time at that width: on every slider move, 100-200 ms
# of a blank where the race was, and each chart drawn twice. A figure that says its width is
# shown at its first draw, and, that width being its container's, drawn once. This component
# (script only, nothing drawn) measures each chart's frame as Streamlit does and reports the
# widths when they change (first visit, a resized window, the sidebar folded): one rerun of
# the fragment then. It skips a chart shown full screen (its frame is the whole window then,
# and the rerun would close it).
CHART_KEYS = ("race_chart", "loss_chart", "tune_chart", "lr_curve", "surface_3d")
CHART_WIDTHS_JS = """
export default function ({ data, setStateValue, parentElement }) {
  // Streamlit runs this function again whenever `data` changes, without the cleanup the last
  // run returned (it calls only the newest one's, when the element goes): so ONE watcher per
  // page, kept on `window`, which each run hands its data and its setter.
  const w = (window.optvizChartWidths ??= (() => {
    const self = { data: null, report: null, known: {}, timer: null, keyOf: new WeakMap() };
    // A ResizeObserver says a frame's size once the browser has laid it out (no forced
    // layout): when it is first watched, and whenever it changes.
    self.sizes = new ResizeObserver((entries) => {
      let changed = false;
      for (const { target } of entries) {
        if (!target.isConnected) { self.sizes.unobserve(target); continue; }  // a rerun's old chart
        const key = self.keyOf.get(target) + self.data.layout;
        if (getComputedStyle(target).position === "fixed") continue;  // full screen
        const width = target.getBoundingClientRect().width;  // as Streamlit measures it
        if (width >= 10 && self.known[key] !== width) { self.known[key] = width; changed = true; }
      }
      if (changed) {  // one report (one rerun) for a burst of changes, e.g. a window dragged wider
        clearTimeout(self.timer);
        self.timer = setTimeout(() => self.report && self.report("widths", { ...self.known }), 150);
      }
    });
    self.watch = (again) => {
      for (const key of self.data ? self.data.keys : []) {
        const frame = document.querySelector(`.st-key-${key} [data-testid="stFullScreenFrame"]`);
        if (!frame || (self.keyOf.has(frame) && !again)) continue;
        self.keyOf.set(frame, key);
        self.sizes.unobserve(frame);
        self.sizes.observe(frame);  // (observing again: measured again)
      }
    };
    // Each rerun mounts new charts: watch them as they come (elements added, not attributes).
    new MutationObserver(() => self.watch(false)).observe(document.body, { childList: true, subtree: true });
    return self;
  })());
  w.data = data;
  w.report = setStateValue;
  w.known = { ...(data.known || {}) };  // what the server has: measure against it again
  parentElement.dataset.known = Object.keys(w.known).join(" ");  // what this run's figures were sized by
  w.watch(true);
  return () => { w.report = null; };  // the element is gone: report nothing more
}
"""


# The race and loss charts' own element (when plotly.js can be served, see _plotly_js_url;
# live_chart draws with it; named for the race chart, its first user): st.plotly_chart
# keys its element by the figure, so every slider move mounted a new chart that plotly.js drew
# from nothing (~60 ms here, and Streamlit's own work on a 0.36 MB element besides). This one
# keeps ONE chart per page and moves the paths of the chart already drawn (Plotly.animate with
# no redraw, as Play does; the layout's changed parts by Plotly.relayout, the frames replaced):
# bench/README.md, twelfth session. Anything else (another surface, language, step count):
# Plotly.react. A click on the chart and a box drawn with Box Select come back as the
# "select" trigger, shaped as st.plotly_chart's selection event.
RACE_CHART_JS = """
const DATA_KEYS = new Set(["x", "y", "customdata", "text"]);  // figures.DATA_KEYS
const MOVE = { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" };
// What a spec is made of, as text, taken before plotly.js sees it (it writes into what it draws).
const digest = (spec, config) => ({
  shape: spec.data.map((t) => JSON.stringify(Object.entries(t).filter(([k]) => !DATA_KEYS.has(k)))),
  full: spec.data.map((t) => JSON.stringify(t)),
  layout: Object.fromEntries(Object.entries(spec.layout).map(([k, v]) => [k, JSON.stringify(v)])),
  frames: (spec.frames || []).map((f) => f.name).join("|"),
  config: JSON.stringify(config),
});

async function draw(Plotly, chart, spec, config) {
  const div = chart.div, prev = chart.digest;
  chart.font ??= getComputedStyle(document.body).fontFamily;  // once: it forces a style recalculation
  spec.layout.font = { family: chart.font, ...(spec.layout.font || {}) };
  const now = digest(spec, config);
  // In place if only the traces' data, some of the layout and the frames changed (a slider
  // move, a step: the Steps slider and the step buttons make new frames).
  const inPlace = prev && div._fullLayout && prev.shape.length === now.shape.length
    && prev.config === now.config && now.shape.every((t, i) => t === prev.shape[i]);
  if (!inPlace) {
    await Plotly.react(div, { data: spec.data, layout: spec.layout, frames: spec.frames || [], config });
  } else {
    // (A trace a preview moved is drawn again too: the preview may not be this figure's.)
    const moved = now.full.map((t, i) => i).filter((i) => now.full[i] !== prev.full[i] || chart.previewed.has(i));
    const relaid = Object.keys({ ...prev.layout, ...now.layout }).filter((k) => prev.layout[k] !== now.layout[k]);
    if (moved.length) {
      await Plotly.animate(div, { data: moved.map((i) => spec.data[i]), traces: moved }, MOVE);
    }
    if (relaid.length) await Plotly.relayout(div, Object.fromEntries(relaid.map((k) => [k, spec.layout[k] ?? null])));
    if (prev.frames !== now.frames) {  // a step or the Steps slider: other frames; the old ones go
      // (one at a time from the end: plotly.js 7.1's deleteFrames sorts a list of indices as
      // text, so [9, 10] deletes 10 then 9 wrongly, and with no list it throws)
      const keep = new Set((spec.frames || []).map((f) => f.name)), frames = div._transitionData._frames;
      for (let i = frames.length - 1; i >= 0; i--) if (!keep.has(frames[i].name)) await Plotly.deleteFrames(div, [i]);
    }
    if (spec.frames && spec.frames.length) await Plotly.addFrames(div, spec.frames);  // same names: replaced
  }
  chart.digest = now;
  chart.previewed.clear();
  div.dataset.drawn = String((Number(div.dataset.drawn) || 0) + 1);
  div.dataset.updates = (div.dataset.updates || "").slice(-40) + (inPlace ? "a" : "r");  // a: in place, r: drawn anew
}

async function drain(chart) {
  chart.busy = true;
  try {
    const Plotly = await window.optvizPlotly;
    while (chart.next) {
      const next = chart.next;
      chart.next = null;
      chart.base = null;
      await draw(Plotly, chart, next.spec, next.config);
      chart.base = next.base;  // what this figure's previews were made from (RACE_PREVIEW_JS)
      if (!chart.events) {  // once: the chart's div is kept for the page's life
        chart.events = true;
        chart.div.on("plotly_click", (e) => {
          const p = e && e.points && e.points[0];
          if (p && chart.trigger) chart.trigger("select", { selection: { points: [{ x: p.x, y: p.y }], box: [] } });
        });
        chart.div.on("plotly_selected", (e) => {
          if (e && e.range && e.range.x && chart.trigger) {
            chart.trigger("select", { selection: { points: [], box: [{ x: e.range.x, y: e.range.y }] } });
          }
        });
      }
    }
  } catch (err) {
    console.error("optviz chart:", err);
    chart.div.textContent = "The chart could not be drawn: " + err;
  } finally {
    chart.busy = false;
  }
}

export default function ({ data: sent, parentElement, setTriggerValue }) {
  // One JSON text, sent as bytes (see live_chart): one parse, the figure's included.
  const data = JSON.parse(new TextDecoder().decode(sent));
  window.optvizPlotly ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = data.src;
    script.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error("no Plotly in " + data.src)));
    script.onerror = () => reject(new Error("plotly.js did not load from " + data.src));
    document.head.appendChild(script);
  });
  const charts = (window.optvizCharts ??= {});
  const chart = (charts[data.key] ??= { div: null, digest: null, next: null, busy: false, events: false, base: null,
                                        previewed: new Set() });
  if (!chart.div) {
    chart.div = document.createElement("div");
    // As wide as its place on the page, whatever moves it (a window, the sidebar, presenter mode).
    chart.sizes = new ResizeObserver(() => window.Plotly && chart.div._fullLayout && window.Plotly.Plots.resize(chart.div));
  }
  if (chart.div.parentElement !== parentElement) {  // a remounted element: the drawn chart moves in
    parentElement.appendChild(chart.div);
    chart.sizes.disconnect();
    chart.sizes.observe(parentElement);
  }
  chart.trigger = setTriggerValue;
  chart.next = data;  // the newest figure wins; one draw at a time
  if (!chart.busy) drain(chart);
  return () => { chart.trigger = null; };
}
"""


# The race chart's preview of a slider's next notch. A key press (or a drag) on the
# learning-rate or momentum slider waits ~150-250 ms for the server's rerun and the page's
# work on it before the chart moves (bench/README.md); the paths one notch either side were
# sent with the last run (race_previews: the same engine, the same figure builder), so the
# chart moves its paths to them the moment the slider's value changes, and the server's
# figure (the frames, the loss chart, the table) follows and is drawn over them. Shown only
# for a move the visitor made (the slider has the focus: a preset or a link that sets the
# slider is not this), on the figure the previews were made from, while the chart is not
# being drawn.
RACE_PREVIEW_JS = """
const MOVE = { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" };

function show(self, input) {
  const data = self.data;
  if (!data || input.type !== "range" || document.activeElement !== input) return;
  const slider = Object.keys(data.sliders).find((key) => input.closest(`.st-key-${key}`));
  const preview = slider && data.sliders[slider][input.value];
  const chart = (window.optvizCharts || {})[data.chart];
  const ready = () => preview && chart && chart.div && !chart.busy && !chart.next && chart.base === data.base
    && window.Plotly;
  if (!ready()) return;
  // Moved once the slider's new position is painted and its value sent (Streamlit sends it
  // after that paint): moved now, Plotly's ~25 ms held both back, and the rerun with them.
  requestAnimationFrame(() => setTimeout(() => {
    if (!ready() || self.data !== data) return;
    for (const i of preview.traces) chart.previewed.add(i);
    window.Plotly.animate(chart.div, { data: preview.data, traces: preview.traces }, MOVE);
    chart.div.dataset.previews = ((chart.div.dataset.previews || "") + slider[0]).slice(-40);
  }, 0));
}

export default function ({ data: sent }) {
  // ONE watcher per page (Streamlit runs this again for each run's data, without the last
  // run's cleanup): a slider's <input type=range> holds its option's index in `value`,
  // which the slider sets as it moves.
  const self = (window.optvizPreviews ??= (() => {
    const self = { data: null };
    new MutationObserver((records) => { for (const record of records) show(self, record.target); })
      .observe(document.body, { attributes: true, attributeFilter: ["value"], subtree: true });
    return self;
  })());
  self.data = JSON.parse(new TextDecoder().decode(sent));
  return () => { self.data = null; };  // the element is gone (another tab): no previews
}
"""


class RunsInProgress:
    """How many runs of the page's live part (any visitor's) this server process is in now:
    the slider previews are extra work (~10 ms a run) left out when others wait for the CPU."""

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0

    def __enter__(self):
        with self._lock:
            self.count += 1

    def __exit__(self, *exc):
        with self._lock:
            self.count -= 1


@st.cache_resource(show_spinner=False)
def _cached_functions() -> dict:
    """The functions above behind Streamlit's caches, decorated once per server process:
    this script runs again on every rerun, and decorating reads a function's source."""
    return {
        "start_warm_up": st.cache_resource(show_spinner=False)(_start_warm_up),
        "lessons": st.cache_resource(show_spinner=False)(_lessons),
        # cache_resource: one shared result, not a pickled copy per call (~0.7 ms a rerun on the
        # server: a class's reruns share one interpreter). Nothing changes a race once made.
        "run_race": st.cache_resource(max_entries=32, show_spinner=False)(_run_race),
        "build_figures": st.cache_resource(max_entries=8, show_spinner=False)(_build_figures),
        "run_sweep": st.cache_data(max_entries=16, show_spinner=False)(_run_sweep),
        "build_3d": st.cache_resource(max_entries=8, show_spinner=False)(_build_3d),
        "chart_widths": st.components.v2.component("optviz_chart_widths", js=CHART_WIDTHS_JS, isolate_styles=False),
        "race_view": st.components.v2.component("optviz_race_chart", js=RACE_CHART_JS, isolate_styles=False),
        "race_preview": st.components.v2.component("optviz_race_preview", js=RACE_PREVIEW_JS, isolate_styles=False),
        "runs_in_progress": RunsInProgress(),
    }


_cached = _cached_functions()
start_warm_up, lessons, run_race = _cached["start_warm_up"], _cached["lessons"], _cached["run_race"]
build_figures, run_sweep, build_3d = _cached["build_figures"], _cached["run_sweep"], _cached["build_3d"]
chart_widths_probe = _cached["chart_widths"]
race_view, race_preview, runs_in_progress = _cached["race_view"], _cached["race_preview"], _cached["runs_in_progress"]
plotly_js_url = _plotly_js_url()  # (a stat a run: the folder may be emptied while the server runs)
chart_widths: dict = {}  # this run's reported widths (live() reads them once), by CHART_KEYS + layout
previews_for = None  # (race figure, its name, the step shown): the race tab's previews, drawn last (live())


# --- widgets <-> state -----------------------------------------------------------------

ss = st.session_state
# The race chart's toolbar without Plotly's own zoom (see show_race).
ZOOM_BUTTONS = ["zoom2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "lasso2d"]


def _kept() -> dict:
    """Widget values kept while their expander is closed (their widgets not drawn), in ONE
    session-state entry: every widget call copies the whole session state once, so a
    key per value (150 of them) cost every rerun ~2 ms on the server."""
    return ss.setdefault("_kept", {})


def _get(key: str, default=None):
    """A widget's value, or the copy kept while its expander is closed (its widget not drawn)."""
    return ss.get(key, _kept().get(key, default))


def _set(key: str, value) -> None:
    """Set an expander widget's value: kept here, and given to the widget when it is drawn
    (see :func:`_widget`); no session-state key while its expander is closed."""
    ss.pop(key, None)
    _kept()[key] = value


def write_widgets(state: PageState) -> None:
    """Put a state into the widgets' session-state keys (the widgets take no value=)."""
    ss.lang, ss.preset, ss.surface = state.lang, state.preset, state.surface
    ss.kappa, ss.optimizers = state.kappa, list(state.optimizers)
    ss.lr, ss.momentum, ss.steps = state.learning_rate, state.momentum, state.steps
    ss.x0, ss.y0 = float(state.start[0]), float(state.start[1])
    ss.noise, ss.seed = state.noise, state.seed
    ss.formula, ss.box = state.formula, state.box
    ss._formula, ss._box = state.formula, state.box  # kept while the formula box is hidden
    ss.lesson, ss.presenter, ss.view, ss.tab = state.lesson, state.presenter, state.view, state.tab
    for name, opt in ALL_OPTIMIZERS.items():
        _set(f"{name}.own_lr", name in state.own_learning_rate)
        _set(f"{name}.lr", state.own_learning_rate.get(name, state.learning_rate))
        if name in MOMENTUM_OPTIMIZERS:
            _set(f"{name}.own_momentum", name in state.own_momentum)
            _set(f"{name}.momentum", state.own_momentum.get(name, state.momentum))
        for hp in EXTRA_HPARAMS[name]:
            spec = opt.hparam(hp)
            value = state.hparams.get(name, {}).get(hp, spec.default)
            if value is None:  # an unset Keras option shows as 0 ("off")
                value = 0.0
            _set(f"{name}.{hp}", value if isinstance(value, bool) else int(value) if spec.kind == "int"
                 else float(value))
    ss.schedule = state.schedule
    for sched, fields in SCHEDULE_FIELDS.items():
        for key, default in fields.items():
            value = state.schedule_fields.get(key, default) if sched == state.schedule else default
            _set(f"sched.{sched}.{key}", value)


def read_widgets() -> PageState:
    """The state the widgets show.

    Read from one plain-dict snapshot of session state (kept values under the widgets'):
    each `st.session_state` lookup takes Streamlit's lock and maps widget ids, and the
    ~400 lookups this makes cost a rerun ~5 ms of the server's time, a third of the script."""
    default = PageState()
    get = {**ss.get("_kept", {}), **ss.to_dict()}.get
    own_lr, own_mom, hparams = {}, {}, {}
    for name, opt in ALL_OPTIMIZERS.items():
        if get(f"{name}.own_lr"):
            own_lr[name] = float(get(f"{name}.lr"))
        if name in MOMENTUM_OPTIMIZERS and get(f"{name}.own_momentum"):
            own_mom[name] = float(get(f"{name}.momentum"))
        for hp in EXTRA_HPARAMS[name]:
            spec = opt.hparam(hp)
            value = get(f"{name}.{hp}", spec.default)
            if spec.kind == "optional":
                value = float(value) if value else None  # 0 means "off", as Keras's None
            if value != spec.default:
                hparams.setdefault(name, {})[hp] = value
    schedule = get("schedule") or ""
    return PageState(
        lang=get("lang", default.lang), preset=get("preset", default.preset),
        surface=get("surface", default.surface), kappa=float(get("kappa", default.kappa)),
        optimizers=tuple(get("optimizers", default.optimizers)), learning_rate=float(get("lr", 0.01)),
        momentum=float(get("momentum", 0.0)), steps=int(get("steps", default.steps)),
        start=(float(get("x0", 0.0)), float(get("y0", 0.0))), noise=float(get("noise", 0.0)),
        seed=int(get("seed", 0)), own_learning_rate=own_lr, own_momentum=own_mom, hparams=hparams,
        lesson=get("lesson", ""), presenter=bool(get("presenter", False)),
        schedule=schedule,
        schedule_fields={k: get(f"sched.{schedule}.{k}", d) for k, d in SCHEDULE_FIELDS.get(schedule, {}).items()
                         if get(f"sched.{schedule}.{k}", d) != d},
        formula=str(get("formula", get("_formula", default.formula))),
        box=float(get("box", get("_box", default.box))),
        view=get("view"), tab=get("tab", default.tab),
    )


def choice_labels(key: str, lg: str) -> dict:
    """The labels that the choice widget ``key`` shows its options by, in language ``lg``."""
    words = i18n.text(lg)
    if key == "lesson":
        return {"": words["free_play"], **{i: lesson.text[lg].title for i, lesson in lessons().items()}}
    if key == "schedule":
        return {"": words["schedule_none"], **i18n.SCHEDULE_NAMES[lg]}
    if key == "tab":
        return {tab: words[f"tab_{tab}"] for tab in TABS}
    return {"preset": i18n.PRESET_NAMES, "surface": i18n.SURFACE_NAMES, "optimizers": i18n.OPTIMIZER_NAMES,
            "tune_optimizer": i18n.OPTIMIZER_NAMES}[key][lg]


LABELLED = ("lesson", "preset", "surface", "optimizers", "tune_optimizer", "schedule", "tab")


def label_of(labels: dict):
    """A choice widget's format_func that never fails: Streamlit formats the value it holds
    too, and after a language switch that can be a label (see unlabel)."""
    return lambda option: labels.get(option, str(option))


def unlabel(*keys: str) -> set:
    """Put back the options that came back as labels; returns the keys it changed.

    Streamlit sends a selectbox's (a multiselect's) choice back from the browser as its label,
    and a label that none of the widget's options has now comes back as the value itself: after
    a language switch, the old language's label ("— 자유 탐색 —" for the lesson's "", which
    then raised a KeyError in on_lesson and showed the page's exception)."""
    changed = set()
    for key in keys or LABELLED:
        value = ss.get(key)
        if not isinstance(value, (str, list)):
            continue
        options = {option for lg in i18n.LANGUAGES for option in choice_labels(key, lg)}
        by_label = {label: option for lg in i18n.LANGUAGES for option, label in choice_labels(key, lg).items()}
        back = lambda v: v if not isinstance(v, str) or v in options else by_label.get(v, v)  # noqa: E731
        fixed = [back(v) for v in value] if isinstance(value, list) else back(value)
        if fixed != value:
            ss[key] = fixed
            changed.add(key)
    return changed


def on_preset() -> None:
    if unlabel("preset"):  # only the language changed: the settings stay as they are
        return
    write_widgets(with_preset(read_widgets(), ss.preset))


def on_surface() -> None:
    if unlabel("surface"):
        return
    try:
        write_widgets(with_surface(read_widgets(), ss.surface))
    except ValueError:  # a bad formula: the page shows why; nothing to reset yet
        pass


def on_lesson() -> None:
    if unlabel("lesson"):
        return
    if ss.lesson:
        write_widgets(lessons()[ss.lesson].state(ss.get("lang", "en"), bool(ss.get("presenter"))))
    ss.view_step = None


def on_lesson_step(offset: int) -> None:
    ids = list(lessons())
    current = ids.index(ss.lesson) if ss.get("lesson") in ids else -1
    ss.lesson = ids[(current + offset) % len(ids)]
    on_lesson()


def on_view_step(action: str) -> None:
    """Step-through: every head moves together; None shows the whole race."""
    steps = int(ss.get("steps", 1))
    now = steps if ss.get("view_step") is None else int(ss.view_step)
    if action == "first":
        ss.view_step = 0
    elif action == "last":
        ss.view_step = None
    elif action == "back":
        ss.view_step = max(0, now - 1)
    else:  # "step" or "ten": from the end, start again from the beginning
        size = 1 if action == "step" else 10
        start = 0 if now >= steps else now
        ss.view_step = min(steps, start + size)


def _selected(chart_key: str, part: str) -> list:
    """One part ("points", "box") of a plotly chart's selection event: a dict in session
    state, or the attribute form a test may hand over."""
    event = ss.get(chart_key)
    if isinstance(event, dict) and "select" in event:  # the race chart's own element (race_chart)
        event = event["select"]
    if isinstance(event, dict):
        return event.get("selection", {}).get(part, []) or []
    return getattr(getattr(event, "selection", None), part, []) or []


def clicked_point(chart_key: str) -> dict | None:
    """The first point of a plotly chart's selection event (a click), or None."""
    points = _selected(chart_key, "points")
    if not points or "x" not in points[0] or "y" not in points[0]:
        return None
    return points[0]


def selected_boxes(chart_key: str) -> list:
    """The boxes of a plotly chart's selection event (Box Select), each {"x": [..], "y": [..]}."""
    return [b for b in _selected(chart_key, "box")
            if isinstance(b, dict) and len(b.get("x", ())) == 2 and len(b.get("y", ())) == 2]


def on_tune_click() -> None:
    """A heat-map cell was clicked: load its learning rate and momentum into the race."""
    point = clicked_point("tune_chart")
    name = ss.get("tune_optimizer")
    if point is None or name not in ALL_OPTIMIZERS:
        return
    learning_rate, value = 10 ** float(point["x"]), float(point["y"])
    write_widgets(with_cell(read_widgets(), name, learning_rate, value))
    ss.tune_loaded = (name, learning_rate, value)
    ss._full_rerun = True  # the optimizer list and its own settings are outside live()


def on_chart_click() -> None:
    """A click on the race chart sets the start point there (the number inputs stay); a box
    drawn with the chart's Box Select zooms the chart to it (kept, and in the link)."""
    boxes = selected_boxes("race_chart")
    if boxes:
        try:
            ss.view = zoomed_view(read_widgets().surface_object(), boxes[-1]["x"], boxes[-1]["y"])
        except (KeyError, TypeError, ValueError):  # a box outside the surface (or a bad event)
            pass
        return
    point = clicked_point("race_chart")
    if point is None:
        return
    x, y = float(point["x"]), float(point["y"])
    if all(abs(v) <= 1e4 for v in (x, y)):
        ss.x0, ss.y0 = round(x, 3), round(y, 3)
        ss.view_step = None
        ss.started_at = (ss.x0, ss.y0)
        ss._full_rerun = True  # the start's inputs are outside live()


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain_text(text: str) -> str:
    """``text`` as it is, inside Streamlit Markdown: every character Markdown (or its $math$)
    would read escaped."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def code_text(text: str) -> str:
    """``text`` for a Markdown code span (`...`), which escapes nothing: no backtick can end it."""
    return str(text).replace("`", "'")


def on_reset_view() -> None:
    ss.view = None


def on_reset_start() -> None:
    try:
        start = read_widgets().surface_object().default_start
    except ValueError:  # a bad formula: the page says so; keep the start
        return
    ss.x0, ss.y0 = float(start[0]), float(start[1])


def on_reset_optimizer(name: str) -> None:
    opt = ALL_OPTIMIZERS[name]
    _set(f"{name}.own_lr", False)
    if name in MOMENTUM_OPTIMIZERS:
        _set(f"{name}.own_momentum", False)
    for hp in EXTRA_HPARAMS[name]:
        _set(f"{name}.{hp}", opt.hparam(hp).default)


if "initialized" not in ss:
    url_state, problems = parse_query(st.query_params.to_dict())
    write_widgets(url_state)
    ss.url_problems = problems
    ss.initialized = True

if "bad_start" in ss:  # the last run's start had no finite loss (see the race below)
    ss.start_notice = ss.pop("bad_start")
    on_reset_start()

unlabel()  # (before anything reads the widgets; a callback that reads them does it first)
start_warm_up()
lang = ss.get("lang", "en")
t = i18n.text(lang)
names = i18n.OPTIMIZER_NAMES[lang]

def _widget(kind, label: str, key: str, **kwargs):
    """A widget inside a lazily drawn expander: restored from its kept value, and kept again."""
    kept = _kept()
    if key not in ss and key in kept:
        ss[key] = kept[key]
    value = kind(label, key=key, **kwargs)
    kept[key] = value
    return value


def show_optimizer_settings(name: str, opt) -> None:
    _widget(st.checkbox, t["own_learning_rate"], f"{name}.own_lr")
    _widget(st.select_slider, f"{i18n.HPARAM_HELP[lang]['learning_rate']}: {names[name]}", f"{name}.lr",
            options=LEARNING_RATES,
            format_func=lambda v: f"{v:.3g}", disabled=not _get(f"{name}.own_lr"))
    if name in MOMENTUM_OPTIMIZERS:
        _widget(st.checkbox, t["own_momentum"], f"{name}.own_momentum")
        _widget(st.select_slider, i18n.HPARAM_HELP[lang]["momentum"], f"{name}.momentum", options=MOMENTA,
                format_func=lambda v: f"{v:.2f}", disabled=not _get(f"{name}.own_momentum"))
    for hp in EXTRA_HPARAMS[name]:
        spec = opt.hparam(hp)
        label = i18n.HPARAM_HELP[lang].get(hp, hp)
        key = f"{name}.{hp}"
        if spec.kind == "bool":
            _widget(st.checkbox, label, key)
        elif spec.kind == "int":
            _widget(st.number_input, label, key, min_value=0, max_value=100_000, step=1)
        elif spec.kind == "optional":  # weight decay and clipping: 0 is "off"
            _widget(st.number_input, label, key, min_value=0.0, max_value=1e6, step=0.01, format="%.4g")
        elif "epsilon" in hp:
            _widget(st.number_input, label, key, min_value=1e-30, max_value=1.0, format="%.1e")
        else:
            high = spec.high if spec.high is not None else 1e6
            if spec.high_open:
                high = high - 1e-4
            low = spec.low if spec.low is not None else -1e6
            _widget(st.number_input, label, key, min_value=float(low), max_value=float(high), step=0.01,
                    format="%.4g")
    st.button(t["reset_optimizer"], key=f"{name}.reset", on_click=on_reset_optimizer, args=(name,))


def show_schedule_settings() -> None:
    """The learning-rate schedule: Keras's class, its fields, and a small plot of the shared rate."""
    st.selectbox(t["schedule"], ["", *SCHEDULE_FIELDS], key="schedule",
                 format_func=label_of(choice_labels("schedule", lang)))
    name = ss.get("schedule")
    if not name:
        return
    for key, default in SCHEDULE_FIELDS[name].items():
        widget_key = f"sched.{name}.{key}"
        if isinstance(default, bool):
            _widget(st.checkbox, key, widget_key)
        elif isinstance(default, str):
            _widget(st.text_input, t[key] if key in t else key, widget_key, max_chars=200)
        elif isinstance(default, int):
            _widget(st.number_input, key, widget_key, min_value=0 if "warmup" in key else 1, max_value=100_000,
                    step=10)
        else:
            _widget(st.number_input, key, widget_key, min_value=0.0, max_value=1e6, step=0.05, format="%.4g")
    st.caption(t["schedule_help"])
    try:
        chosen = read_widgets()
        spec = schedule_spec(name, chosen.schedule_fields, chosen.learning_rate)
        rates = lr_schedules.values(spec, chosen.steps)
        st.plotly_chart(figures.schedule_figure(rates, text=i18n.figure_text(lang)), key="schedule_chart",
                        width="stretch", config={"displayModeBar": False})
        st.code(lr_schedules.keras_code(spec), language="python")
    except ValueError as exc:
        st.error(t["bad_input"].format(reason=exc))


def show_live_controls(chosen: PageState) -> None:
    """The sidebar's sliders and inputs that change the race but not the page's make-up
    (``chosen``: the state they show, read before they are drawn)."""
    st.select_slider(t["learning_rate"], LEARNING_RATES, key="lr", format_func=lambda v: f"{v:.3g}")
    followers = [names[n] for n in chosen.optimizers if n not in chosen.own_learning_rate]
    st.caption(t["follows"].format(names=", ".join(followers)) if followers else t["follows_none"])
    st.select_slider(t["momentum"], MOMENTA, key="momentum", format_func=lambda v: f"{v:.2f}")
    followers = [names[n] for n in chosen.optimizers if n in MOMENTUM_OPTIMIZERS and n not in chosen.own_momentum]
    st.caption(t["follows"].format(names=", ".join(followers)) if followers else t["follows_none"])
    st.slider(t["steps"], MIN_STEPS, MAX_PAGE_STEPS, step=STEP_STEP, key="steps")
    show_schedule_settings()  # (its plot follows the learning rate)
    # (The same bound as a link or a lesson may set: a link with noise=30 had crashed the
    # page against a slider that stopped at 20.)
    st.slider(t["noise"], 0.0, MAX_NOISE, step=0.1, key="noise")


def show_start_controls() -> None:
    """The noise's seed and the start point: typed, not slid, so outside live() (a change
    reruns the whole page). Every element in live() is sent again on every slider move
    (server time a student's rerun, and the browser's work before it redraws the chart)."""
    st.number_input(t["seed"], min_value=0, max_value=2**31 - 1, step=1, key="seed")
    st.markdown(f"**{t['start']}**")
    col_x, col_y = st.columns(2)
    col_x.number_input(t["start_x"], min_value=-1e4, max_value=1e4, step=0.1, format="%.3f", key="x0")
    col_y.number_input(t["start_y"], min_value=-1e4, max_value=1e4, step=0.1, format="%.3f", key="y0")
    st.button(t["reset_start"], on_click=on_reset_start, key="reset_start", width="stretch")


# --- sidebar ----------------------------------------------------------------------------

with st.sidebar:
    st.radio(t["language"], list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key="lang", horizontal=True)
    st.toggle(t["presenter"], key="presenter")
    all_lessons = lessons()
    st.selectbox(t["lesson"], ["", *all_lessons], key="lesson", on_change=on_lesson,
                 format_func=label_of(choice_labels("lesson", lang)))
    col_prev, col_next = st.columns(2)
    col_prev.button(t["previous"], on_click=on_lesson_step, args=(-1,), key="lesson_prev", width="stretch")
    col_next.button(t["next"], on_click=on_lesson_step, args=(1,), key="lesson_next", width="stretch")
    st.selectbox(t["preset"], PRESETS, format_func=label_of(choice_labels("preset", lang)), key="preset", on_change=on_preset)
    st.selectbox(t["surface"], [*optviz.SURFACES, CUSTOM], format_func=label_of(choice_labels("surface", lang)), key="surface",
                 on_change=on_surface)
    st.caption(i18n.SURFACE_NOTES[lang][ss.surface])
    if ss.surface == CUSTOM:
        ss.formula, ss.box = ss.get("formula", ss.get("_formula")), ss.get("box", ss.get("_box"))
        st.text_input(t["formula"], key="formula", max_chars=300, on_change=on_surface)
        st.select_slider(t["box"], BOXES, key="box", format_func=lambda v: f"{v:g}", on_change=on_surface)
        ss._formula, ss._box = ss.formula, ss.box
    try:
        surface = read_widgets().surface_object()
    except ValueError as exc:  # a typed formula the parser refuses: say what and where, draw nothing
        surface = None
        formula_error = str(exc)
    if surface is not None and "kappa" in surface.params:
        st.select_slider(t["kappa"], KAPPAS, key="kappa", format_func=lambda v: f"{v:g}")
    st.multiselect(t["optimizers"], list(ALL_OPTIMIZERS), format_func=label_of(choice_labels("optimizers", lang)),
                   key="optimizers")
    live_controls = st.container()  # filled by live(), below: a slider there reruns only live()
    show_start_controls()
    for name in ss.get("optimizers", []):
        opt = ALL_OPTIMIZERS[name]
        # Lazy: a closed expander draws no widgets (most of a rerun's elements otherwise); their
        # values live on in session state (_get/_set) and come back when it opens.
        expander = st.expander(t["settings_of"].format(name=names[name]), key=f"exp.{name}", on_change="rerun")
        if expander.open:
            with expander:
                show_optimizer_settings(name, opt)

def show_lesson(big: bool) -> None:
    """The lesson's narrative, what to look for and the question (teacher-written text, escaped)."""
    lesson = lessons().get(ss.get("lesson", ""))
    if lesson is None:
        return
    text = lesson.text[lang]
    size, height = ("1.25rem", 1.4) if big else ("0.95rem", 1.5)
    lines = "<br>".join(html.escape(line) for line in text.narrative)
    st.markdown(
        f"<div style='font-size:{size}; line-height:{height}'><b>{html.escape(text.title)}</b><br>{lines}<br>"
        f"<b>{html.escape(t['look_for'])}:</b> {html.escape(text.look_for)}<br>"
        f"<b>{html.escape(t['question'])}:</b> {html.escape(text.question)}</div>",
        unsafe_allow_html=True,
    )


def shown_step() -> int | None:
    step = ss.get("view_step")
    return None if step is None else min(int(step), state.steps)


def show_step_controls(big: bool) -> None:
    # One row that stays a row on a phone (columns stack there: five full-width buttons
    # filled the first screen), and one block where six columns were seven.
    row = st.container(horizontal=True, vertical_alignment="center", gap="small", key="steps_big" if big else None)
    actions = [("first", "step_first"), ("back", "step_back"), ("step", "step_forward"), ("ten", "step_ten"),
               ("last", "step_last")]
    # On a projector, a presentation clicker's "next" and "previous" (PageDown, PageUp) step
    # the race; Streamlit skips a shortcut while a slider or a text box has the focus, so a
    # key meant for a slider never steps too. Not on the normal page, where PageDown scrolls.
    shortcuts = {"back": "PageUp", "step": "PageDown"} if big else {}
    for action, label in actions:
        row.button(t[label], key=f"stepper_{action}", on_click=on_view_step, args=(action,),
                   help=t["step_help"][action] + (f" ({shortcuts[action]})" if action in shortcuts else ""),
                   shortcut=shortcuts.get(action))
    if state.view is not None:  # zoomed in: the way back, where the eye is after zooming
        row.button(t["reset_view"], key="reset_view", on_click=on_reset_view)
    step = shown_step()
    now = t["step_now"].format(step=state.steps if step is None else step, steps=state.steps)
    row.markdown(f"<div style='font-size:{'1.75rem' if big else '1.1rem'}; font-weight:700; text-align:right; "
                 f"white-space:nowrap'>"
                 f"{html.escape(now)}</div>", unsafe_allow_html=True, width="stretch")


def _layout() -> str:
    """Which layout the page's charts are in (presenter mode's columns are not the page's)."""
    return "/presenter" if state.presenter else ""


def _chart_widths() -> dict:
    """The charts' widths as the browser last reported them (only sane numbers: it is the
    browser's word)."""
    report = ss.get("chart_widths")
    reported = report.get("widths") if hasattr(report, "get") else None
    if not isinstance(reported, dict):
        return {}
    return {k: float(w) for k, w in itertools.islice(reported.items(), 4 * len(CHART_KEYS))
            if isinstance(k, str) and isinstance(w, (int, float)) and not isinstance(w, bool)
            and math.isfinite(w) and 10 <= w <= 20_000}


def plot(figure, key: str, **kwargs) -> None:
    """One of the page's charts (``key``: one of CHART_KEYS), as wide as its container: at the
    width the browser reported for it, if it has (see CHART_WIDTHS_JS)."""
    st.plotly_chart(figure.sized(chart_widths.get(key + _layout())), key=key, width="stretch", **kwargs)


def race_chart(figure, base: str) -> None:
    """The race chart: its own element, which moves the paths of the chart already drawn
    (RACE_CHART_JS), or an st.plotly_chart if plotly.js cannot be served. ``base`` names the
    figure for the previews made from it (race_previews)."""
    config = {"displaylogo": False, "scrollZoom": False, "modeBarButtonsToRemove": ZOOM_BUTTONS}
    live_chart(figure, "race_chart", config, on_select=on_chart_click, selection_mode=("points", "box"), base=base)


# The sliders whose neighbouring notches the race chart previews: (widget key, PageState field, options).
PREVIEW_SLIDERS = (("lr", "learning_rate", LEARNING_RATES), ("momentum", "momentum", MOMENTA))


def race_previews(race_fig) -> dict:
    """For each of PREVIEW_SLIDERS, option index -> the race chart's traces to move
    (figures.moved_traces) to show the page with the slider one notch either side: the
    state the page reads after that move, its race by the same engine call, its figure by
    the same builder (without frames). None where that figure is not the drawn one's points
    moved (a path diverges or stops diverging); the slider's own notch is there too, to go
    back to. A slider that moves no path (no optimizer takes the shared value) has none."""
    out, spec = {}, state.race_spec()
    for key, field, options in PREVIEW_SLIDERS:
        value = getattr(state, field)
        if value not in options:
            continue
        here, previews = options.index(value), {}
        for j in (here - 1, here + 1):
            if not 0 <= j < len(options):
                continue
            other = replace(state, **{field: options[j]})
            if other.race_spec() == spec:
                break  # (the shared value is no optimizer's: the other notch moves nothing either)
            try:
                other_race = _run_race("", other)
            except ValueError:
                continue
            moved = figures.moved_traces(race_fig, _race_figure(other, other_race, lang, state.presenter, None,
                                                                frames=0).freeze())
            if moved and moved["traces"]:
                previews[str(j)] = moved
        if previews:
            traces = sorted({i for p in previews.values() for i in p["traces"]})
            previews[str(here)] = {"traces": traces, "data": [race_fig.traces[i] for i in traces]}
            out[key] = previews
    return out


def show_race_previews(race_fig, base: str, step: int | None) -> None:
    """The race chart's previews (RACE_PREVIEW_JS), as the tab's last element: made after
    everything else of the run is sent, so that nothing waits for them. None while another
    visitor's run is in progress: in a class whose students all move a slider at once, the
    previews' work would make everyone's rerun later (bench/classroom.py)."""
    wanted = step is None and plotly_js_url is not None and runs_in_progress.count <= 1
    previews = race_previews(race_fig) if wanted else {}
    race_preview(key="race_preview", data=json.dumps({"chart": "race_chart", "base": base, "sliders": previews},
                                                     separators=(",", ":")).encode())


def live_chart(figure, key: str, config: dict, on_select=None, base: str | None = None, **kwargs) -> None:
    """A chart that every slider move changes (the race, its loss): the page's own element,
    which changes the chart already drawn (RACE_CHART_JS), or an st.plotly_chart (``kwargs``
    its selection mode) if plotly.js cannot be served."""
    if plotly_js_url is None:
        plot(figure, key, config=config, **({"on_select": on_select, **kwargs} if on_select else {}))
        return
    callbacks = {"on_select_change": on_select} if on_select else {}
    race_view(key=key, data=chart_message(key, figure, config, plotly_js_url, base), **callbacks)


def chart_message(key: str, figure, config: dict, src: str, base: str | None = None) -> bytes:
    """What the chart element gets: one JSON object as bytes, {"key", "config", "src", "base",
    "spec"}, the figure's JSON text put in as it is. (As a dict, Streamlit would write the
    figure's text as a JSON string, escaping its every quote, and the page would parse it
    twice: ~4 ms a slider move, server and page together.)"""
    head = json.dumps({"key": key, "config": config, "src": src, "base": base})
    return f'{head[:-1]}, "spec": '.encode() + figure.to_json().encode() + b"}"


def show_inspector(step: int) -> None:
    rows = figures.inspector_rows(race, step, labels=i18n.OPTIMIZER_SHORT_NAMES[lang])  # as in the legend
    if not rows:
        return
    st.markdown(f"**{t['inspector'].format(step=step)}**")
    st.caption(t["inspector_help"])
    table = pd.DataFrame(rows).drop(columns=["name", "step"]).set_index("optimizer").T
    table.index = [i18n.INSPECTOR_ROWS[lang].get(row, row) for row in table.index]
    # (The row names' column as wide as they need: "velocity (x)" was cut to "velocity (".)
    st.dataframe(table.map(lambda v: "" if pd.isna(v) else f"{v:.4g}"), width="stretch",
                 column_config={"_index": st.column_config.TextColumn(width=120)})


def results_table() -> None:
    rows = figures.results_rows(race, TOLERANCE, labels=i18n.OPTIMIZER_SHORT_NAMES[lang])  # as in the legend
    # A pyarrow table: Streamlit sends it as is (0.04 ms; a pandas frame's conversion: 0.5 ms).
    table = pa.table({
        t["col_optimizer"]: [r["optimizer"] for r in rows],
        t["col_final_loss"]: [f"{r['final_loss']:.4g}" for r in rows],
        t["col_distance"]: [t["none"] if r["distance"] is None else f"{r['distance']:.3g}" for r in rows],
        # (A typed formula's minimum value is not known: nothing to be within tolerance of.)
        t["col_steps"].format(tol=TOLERANCE): [
            t["unknown"] if surface.min_value is None else t["never"] if r["steps_to_tolerance"] is None
            else str(r["steps_to_tolerance"]) for r in rows],
        t["col_diverged"]: [t["none"] if r["diverged_at"] is None else str(r["diverged_at"]) for r in rows],
    })
    st.markdown(f"**{t['results']}**")
    st.table(table, hide_index=True)


def show_race() -> None:
    presenter, step = state.presenter, shown_step()
    global previews_for
    race_fig, loss_fig = build_figures(state_key, lang, presenter, step, state.view, state, race)
    base = f"{zlib.crc32(state_key.encode()):08x}-{lang}-{int(presenter)}-{step}"
    previews_for = (race_fig, base, step)  # drawn last in the run (live())
    left, right = st.container(key="race_layout").columns([2, 1] if presenter else [3, 2])
    with left:
        show_step_controls(presenter)
        started = ss.pop("started_at", None)
        if started:
            st.success(t["started_at"].format(x=started[0], y=started[1]))
        # Zoom is Box Select, done by the server (the view is part of the state and the
        # link, and the surface is redrawn for the box): so Plotly's own zoom buttons are
        # gone from the toolbar.
        race_chart(race_fig, base)
        st.caption(f"{t['chart_marks']} {t['click_start']} {t['zoom_help'] if state.view is None else t['zoomed']}")
        if shown_step() is not None:
            show_inspector(shown_step())
    with right:
        if presenter:
            show_lesson(big=True)
        st.markdown(f"**{t['loss_title']}**")
        live_chart(loss_fig, "loss_chart", {"displaylogo": False})
        if not presenter:
            results_table()
    if presenter:
        results_table()
    show_exports(race_fig)


def show_exports(race_fig) -> None:
    """Standalone HTML, CSV and an animated GIF of the race, for slides and reports."""
    # Lazy: the download buttons register their files with the server on every run they
    # are drawn (holding the race and its figure); only an open expander draws them.
    expander = st.expander(t["export"], key="exp.export", on_change="rerun")
    if not expander.open:
        return
    with expander:
        html_col, csv_col, gif_col = st.columns(3)
        html_col.download_button(t["export_html"], data=lambda: export.race_html(race_fig, title=surface.display_name),
                                 file_name="optviz-race.html", mime="text/html", on_click="ignore",
                                 key="export_html")
        csv_col.download_button(t["export_csv"], data=lambda race=race: export.trajectories_csv(race),
                                file_name="optviz-paths.csv", mime="text/csv", on_click="ignore", key="export_csv")
        made_for = (state.key(), state.view)  # a GIF is offered only for the race and view it shows
        if gif_col.button(t["export_gif"], key="export_gif"):
            bar = gif_col.progress(0.0)
            # As the chart shows it: zoomed in if it is.
            gif = export.race_gif(state.viewed_surface(), race, surface_params=state.surface_params(),
                                  labels=i18n.OPTIMIZER_SHORT_NAMES[lang], text=i18n.figure_text(lang),
                                  progress=bar.progress)
            ss.gif = (made_for, lang, gif)
        made = ss.get("gif")
        if made and made[0] == made_for and made[1] == lang:
            gif_col.download_button(t["download_gif"], data=made[2], file_name="optviz-race.gif", mime="image/gif",
                                    on_click="ignore", key="download_gif")


def show_tuning() -> None:
    tunable = [n for n in state.optimizers if ALL_OPTIMIZERS[n].momentum_like]
    if not tunable:
        st.info(t["tune_none"])
        return
    if ss.get("tune_optimizer") not in tunable:
        ss.tune_optimizer = tunable[0]
    name = st.selectbox(t["tune_optimizer"], tunable, format_func=label_of(choice_labels("tune_optimizer", lang)),
                        key="tune_optimizer")
    axis = ALL_OPTIMIZERS[name].momentum_like
    loaded = ss.pop("tune_loaded", None)
    if loaded:
        st.success(t["tune_loaded"].format(name=names[loaded[0]], lr=loaded[1], axis=axis, value=loaded[2]))
    result = run_sweep(state_key, name, MOMENTA, state)
    hp = ALL_OPTIMIZERS[name].resolve(state.hyperparameters(name))
    st.caption(t["tune_help"].format(steps=state.steps, axis=axis))
    plot(figures.sweep_figure(result, surface.min_value, text=i18n.figure_text(lang),
                              current=(lr_schedules.initial_value(hp["learning_rate"]), hp[axis]),
                              presenter=state.presenter, height=440 if state.presenter else 520),
         "tune_chart", on_select=on_tune_click, selection_mode="points", config={"displaylogo": False})
    st.markdown(f"**{t['lr_curve']}**")
    curves = {}
    for other in state.optimizers:
        axis_other = ALL_OPTIMIZERS[other].momentum_like
        fixed_value = None if axis_other is None else \
            (ALL_OPTIMIZERS[other].resolve(state.hyperparameters(other))[axis_other],)
        curves[other] = run_sweep(state_key, other, fixed_value, state)
    plot(figures.learning_rate_curve_figure(curves, surface.min_value, text=i18n.figure_text(lang),
                                            labels=i18n.OPTIMIZER_SHORT_NAMES[lang], presenter=state.presenter),
         "lr_curve")


def show_3d() -> None:
    plot(build_3d(state_key, lang, state.presenter, state, race), "surface_3d")


def show_rules() -> None:
    with st.container(key="rules_big" if state.presenter else None):  # (larger on a projector: the CSS above)
        st.latex(surface.latex)
        for name in state.optimizers:
            st.subheader(names[name])
            st.latex(ALL_OPTIMIZERS[name].latex)
            st.write(i18n.EXPLANATIONS[lang][name])
            st.caption(t["code_caption"])
            st.code(ALL_OPTIMIZERS[name].keras_code(state.hyperparameters(name)), language="python")


SHOW_TAB = {"race": show_race, "tune": show_tuning, "3d": show_3d, "rules": show_rules}


@st.fragment
def live() -> None:
    """Everything a slider moves (``_live``), counted in ``runs_in_progress`` while it runs."""
    with runs_in_progress:
        _live()


def _live() -> None:
    """Everything a slider moves: the sidebar's sliders (in ``live_controls``) and the open
    tab's content (in ``tab_body``), with the race's notices at its top. A widget in here
    reruns only this function: the page's other elements (language, lessons, presets,
    surface, optimizers, their settings, the start point, the title, the tabs' row),
    which none of these widgets changes, stay as they are on the page and on the server.
    A widget outside reruns the whole script, this included."""
    global state, state_key, race, chart_widths, previews_for
    previews_for = None  # (show_race sets it)
    if ss.pop("_full_rerun", False):  # a callback in here changed a widget outside
        st.rerun(scope="app")
    # Read once, before the widgets are drawn (their values are in session state already).
    state = read_widgets()
    chart_widths = _chart_widths()  # read once a run: every chart and the probe use it
    with live_controls:
        show_live_controls(state)
    # A fragment may fill a container made outside it only if it wrote to it in the last whole
    # run (Streamlit keeps its place then): so, before anything can stop this run, the open
    # tab's first element, a slot for what the race says (diverged, a bad setting).
    show = SHOW_TAB[state.tab]  # (the tabs' row is a widget: its value is in the state read above)
    notice = tab_body.empty()
    if surface is None:
        notice.error(t["bad_formula"].format(reason=plain_text(formula_error.removeprefix("formula: "))))
        st.stop()
    # The caches' key as ONE string: Streamlit hashes a tuple item by item (~0.2 ms a call).
    state_key = repr(state.key())
    query = to_query(state)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)

    # --- main view (its frame, title and tabs' row are drawn outside, below) ---------------

    if not state.optimizers:
        notice.info(t["no_optimizer"])
        st.stop()

    try:
        race = run_race(state_key, state)
    except optviz.NonFiniteStartError as exc:
        # A start where the loss is NaN or inf (a click or link outside a formula's domain,
        # log(x) at x < 0): back to the surface's own start, saying why. (A whole new run:
        # the start's inputs are drawn already.) Its own start failing too is only said.
        if tuple(exc.start) != tuple(map(float, surface.default_start)):
            ss.bad_start = exc.start
            st.rerun()
        notice.error(t["bad_input"].format(reason=exc))
        st.stop()
    except ValueError as exc:  # a setting the engine refuses: say which, keep the page
        notice.error(t["bad_input"].format(reason=exc))
        st.stop()

    diverged = [names[n] for n, tr in race.items() if tr.diverged_at is not None]
    # On a projector the race chart's own mark says it ("✖ SGD diverged at step 39"): the
    # banner's line of height would push the chart's step slider off a 720-line screen.
    if diverged and not (state.presenter and show is show_race):
        notice.warning(t["diverged_warning"].format(names=", ".join(diverged)))

    with tab_body:  # (all of this run's elements go to containers drawn outside: none is its own)
        show()
        # After the charts: it measures them once they are on the page.
        chart_widths_probe(key="chart_widths", data={"keys": CHART_KEYS, "known": chart_widths, "layout": _layout()},
                           default={"widths": {}}, on_widths_change=lambda: None)
        if previews_for is not None:
            show_race_previews(*previews_for)

    # A finished run's namespace can outlive it (the callbacks it gave its widgets keep it until
    # the next run replaces them, and Streamlit's caches keep its decorated functions): let go
    # of the race in it (~0.15 MB a run; tracemalloc, 200 reruns: 29 MB of race results kept).
    race = previews_for = None


# --- main view: what no slider changes, drawn on a whole run only ------------------------------

if not ss.get("presenter"):  # on a projector every line of height goes to the chart
    st.subheader(t["title"])
    st.caption(f"{t['subtitle']} {t['share']}")
for problem in ss.get("url_problems", []):
    # What a link holds is shown as text, never as Markdown (a formula's `*` and `**` made
    # italics and bold of it): inside a code span, or with every Markdown character escaped.
    if problem.default:
        st.warning(t["bad_url"].format(key=code_text(problem.key), value=code_text(problem.value),
                                       reason=plain_text(problem.reason.removeprefix("formula: ")),
                                       default=plain_text(problem.default)), icon="⚠️")
    else:
        st.warning(t["unknown_url"].format(key=code_text(problem.key)), icon="⚠️")
ss.url_problems = []
if "start_notice" in ss:
    x, y = ss.pop("start_notice")
    st.warning(t["bad_start"].format(x=x, y=y, x0=ss.x0, y0=ss.y0), icon="⚠️")
if ss.get("lesson") in lessons() and not ss.get("presenter"):
    with st.container(border=True):
        show_lesson(big=False)
# The tabs: a row of buttons above the view that is open, whose content alone runs
# (in live()), so a slider move does not build the 3D view. Not st.tabs: its react-aria tab
# panel walks the panel for a focusable element, forcing a style recalculation, on every DOM
# change inside it (each of a slider move's messages, each chart redraw), and its tab list
# renders again with every message: -21 ms paired on a key press (bench/README.md).
st.segmented_control(t["tabs"], TABS, key="tab", required=True,
                     format_func=label_of(choice_labels("tab", lang)), label_visibility="collapsed", width="stretch")
tab_body = st.container()
live()

# The script's own run time, for bench/app.py (st.stop() above ends a run without it).
ss["_run_seconds"] = time.perf_counter() - _RUN_STARTED
