"""The page's computations behind Streamlit's caches, shared by every session of the process.

Each cached function takes the state's key as one string (``key``: Streamlit hashes a tuple
item by item) and the state itself unhashed (``_state``). cache_resource, where a result is
never changed once made: one shared result, not a pickled copy per call.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import streamlit as st

import optviz
from optviz import figures, i18n, theory
from optviz.bounds import LEARNING_RATES, MAX_PAGE_STEPS, MOMENTA
from optviz.engine import learning_rate_curves
from optviz.lessons import load_lessons
from optviz.models import batch_indices
from optviz.state import PageState

TOLERANCE = 1e-3  # "within tolerance" of a surface's minimum value: the results table and the tuning tab


@st.cache_resource(show_spinner=False)
def lessons() -> dict:
    return load_lessons()


def state_key(state: PageState) -> str:
    """The caches' key for a state, as ONE string: Streamlit hashes a tuple item by item."""
    return repr(state.key())


def race_of(state: PageState) -> dict:
    """The race for a state, computed (uncached: ``run_race`` is the shared one). On a data
    surface, model.fit's steps on its data (one program for every batch size and number of
    epochs: compile_steps)."""
    if state.is_data:
        surface = state.surface_object()
        return optviz.fit_race(surface.model, surface.data.x, surface.data.y, state.race_spec(),
                               batch_size=state.batch_size, epochs=state.epochs, start=state.start,
                               shuffle=state.shuffle, seed=state.seed, compile_steps=MAX_PAGE_STEPS)
    return optviz.race(state.surface_object(), state.start, state.steps, state.race_spec(), noise=state.noise,
                       seed=state.seed, surface_params=state.surface_params(), compile_steps=MAX_PAGE_STEPS)


class HeavyWork:
    """At most one heavy computation at a time in this server process, whichever visitor
    asks: a tuning map, the learning-rate curves, a typed formula's first race (its
    compile). Others wait their turn (the page says so), so one visitor's costly link
    leaves the CPU's other core to everyone else's ordinary runs, which never wait here."""

    def __init__(self):
        self._lock = threading.Lock()

    def busy(self) -> bool:
        return self._lock.locked()

    def __enter__(self):
        self._lock.acquire()

    def __exit__(self, *exc):
        self._lock.release()


heavy_work = HeavyWork()  # one per process
_raced_formulas: set[str] = set()  # typed formulas' shapes whose race program is compiled already


def in_turn(text: str, compute, *args):
    """``compute(*args)``, with a spinner saying ``text`` while another visitor's heavy run
    holds the turn (a cache hit returns at once all the same)."""
    if heavy_work.busy():
        with st.spinner(text):
            return compute(*args)
    return compute(*args)


# (64: a state's slider previews put its four neighbours' races here too.)
@st.cache_resource(max_entries=64, show_spinner=False)
def run_race(key: str, _state: PageState) -> dict:
    """The race for a state (cached by its key, so a class asking the same thing computes it once)."""
    surface = _state.surface_object()
    if surface.name != "custom" or surface.program_key in _raced_formulas:
        return race_of(_state)
    with heavy_work:  # a new formula: its compile waits its turn
        race = race_of(_state)
    _raced_formulas.add(surface.program_key)
    return race


def race_figure(state: PageState, race: dict, lang: str, presenter: bool, step: int | None,
                frames: int = figures.MAX_FRAMES):
    """The race chart's figure (``frames=0``: its traces alone, for a preview)."""
    return figures.race_figure(state.viewed_surface(), race, surface_params=state.surface_params(),
                               text=i18n.figure_text(lang), labels=i18n.OPTIMIZER_SHORT_NAMES[lang],
                               presenter=presenter, start_step=step, height=530 if presenter else 640,
                               arrows=step is not None, click_grid=41, frames=frames)


@st.cache_resource(max_entries=8, show_spinner=False)
def build_figures(key: str, lang: str, presenter: bool, step: int | None, view: tuple | None, _state: PageState,
                  _race: dict):
    """The race and loss charts' figures, kept as JSON text (a few strings, not thousands of dicts)."""
    surface = _state.surface_object()
    race_fig = race_figure(_state, _race, lang, presenter, step)
    if _state.is_data and step is not None and step < _state.run_steps():
        # Stepping through a fit: the batch the next step uses, its own loss drawn faintly.
        indices = batch_indices(surface.data.size, _state.batch_size, step, shuffle=_state.shuffle, seed=_state.seed)
        figures.add_batch_surface(race_fig, _state.viewed_surface(), indices, presenter=presenter)
    loss_fig = figures.loss_figure(_race, min_value=surface.min_value, text=i18n.figure_text(lang),
                                   labels=i18n.OPTIMIZER_SHORT_NAMES[lang], presenter=presenter)
    loss_fig = figures.add_predicted_rates(loss_fig, _race, theory.quadratic(surface, _state.surface_params()),
                                           text=i18n.figure_text(lang), labels=i18n.OPTIMIZER_SHORT_NAMES[lang],
                                           presenter=presenter)
    return race_fig.freeze(), loss_fig.freeze()


# The sliders whose neighbouring notches the race chart previews: (widget key, PageState field, options).
PREVIEW_SLIDERS = (("lr", "learning_rate", LEARNING_RATES), ("momentum", "momentum", MOMENTA))


@st.cache_resource(max_entries=16, show_spinner=False)
def slider_previews(key: str, lang: str, presenter: bool, view: tuple | None, _state: PageState,
                    _race_fig) -> bytes:
    """The sliders' previews of the race chart ``_race_fig`` (the figure drawn for the whole
    race), as the preview element's JSON: for each of PREVIEW_SLIDERS, option index -> the
    chart's traces to move (figures.moved_traces) to show the page with the slider one notch
    either side: the state the page reads after that move, its race by the same engine call,
    its figure by the same builder (without frames). None where that figure is not the drawn
    one's points moved (a path diverges or stops diverging); the slider's own notch is there
    too, to go back to. A slider that moves no path (no optimizer takes the shared value) has
    none. Made once for every visitor on these settings; each neighbour's race goes through
    the shared ``run_race``, so the move a preview shows finds its race already made."""
    out, spec = {}, _state.race_spec()
    for slider, field, options in PREVIEW_SLIDERS:
        value = getattr(_state, field)
        if value not in options:
            continue
        here, previews = options.index(value), {}
        for j in (here - 1, here + 1):
            if not 0 <= j < len(options):
                continue
            other = replace(_state, **{field: options[j]})
            if other.race_spec() == spec:
                break  # (the shared value is no optimizer's: the other notch moves nothing either)
            try:
                other_race = run_race(state_key(other), other)
            except ValueError:
                continue
            moved = figures.moved_traces(_race_fig, race_figure(other, other_race, lang, presenter, None,
                                                                frames=0).freeze())
            if moved and moved["traces"]:
                previews[str(j)] = moved
        if previews:
            traces = sorted({i for p in previews.values() for i in p["traces"]})
            previews[str(here)] = {"traces": traces, "data": [_race_fig.traces[i] for i in traces]}
            out[slider] = previews
    return json.dumps(out, separators=(",", ":")).encode()


@st.cache_data(max_entries=16, show_spinner=False)
def run_sweep(key: str, optimizer: str, axis: str, learning_rates: tuple, values: tuple, _state: PageState):
    """A learning rate × ``axis`` grid on the page's own slider values (a click lands on them)."""
    fixed = {k: v for k, v in _state.hyperparameters(optimizer).items() if k not in ("learning_rate", axis)}
    with heavy_work:
        return optviz.sweep(optimizer, _state.surface_object(), _state.start, _state.run_steps(), list(learning_rates),
                            list(values), axis=axis, tolerance=TOLERANCE, noise=_state.noise,
                            seed=_state.seed, surface_params=_state.surface_params(), **fixed)


@st.cache_data(max_entries=16, show_spinner=False)
def run_curves(key: str, learning_rates: tuple, _state: PageState):
    """Every optimizer's final loss against the learning rate, in one compiled race."""
    spec = {name: {k: v for k, v in _state.hyperparameters(name).items() if k != "learning_rate"}
            for name in _state.optimizers}
    with heavy_work:
        return learning_rate_curves(_state.surface_object(), _state.start, _state.run_steps(), spec,
                                    list(learning_rates), tolerance=TOLERANCE, noise=_state.noise, seed=_state.seed,
                                    surface_params=_state.surface_params(), compile_steps=MAX_PAGE_STEPS)


@st.cache_resource(max_entries=8, show_spinner=False)
def build_3d(key: str, lang: str, presenter: bool, _state: PageState, _race: dict):
    return figures.surface_3d_figure(_state.surface_object(), _race,
                                     surface_params=_state.surface_params(), text=i18n.figure_text(lang),
                                     labels=i18n.OPTIMIZER_SHORT_NAMES[lang], presenter=presenter,
                                     height=560 if presenter else 620)  # (on a 720-line projector, all of it)


class RunsInProgress:
    """How many runs of the page's live part (any visitor's) this server process is in now:
    the slider previews are extra work, left out when others wait for the CPU."""

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0

    def __enter__(self):
        with self._lock:
            self.count += 1

    def __exit__(self, *exc):
        with self._lock:
            self.count -= 1


runs_in_progress = RunsInProgress()  # one per process: this module is imported once
