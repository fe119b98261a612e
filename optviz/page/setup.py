"""What the page asks of the server process, once: the XLA loop setting, a frozen heap, a
warm-up thread, compact chart JSON; and the plotly.js file that the race chart element loads.

Nothing here runs on import: :func:`setup` runs it, once per process (``st.cache_resource``).
"""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import threading
from pathlib import Path

import plotly
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import optviz
import optviz.xla
from optviz import figures
from optviz.bounds import CURVE_RATES, LEARNING_RATES, MAX_PAGE_STEPS, MIN_STEPS
from optviz.engine import learning_rate_curves
from optviz.models import DATA_SURFACES, data_surface
from optviz.optimizers import ARTICLE_OPTIMIZERS
from optviz.state import PageState, tuning_axis


@st.cache_resource(show_spinner=False)
def setup() -> threading.Thread | None:
    """Set the server process up for the page, once; returns the warm-up thread (None if
    ``OPTVIZ_WARM_UP=0``, e.g. a test process, or a class that uses one surface)."""
    optviz.xla.configure()  # the faster loop kernels, if nothing has started JAX yet
    _unescape_slashes_in_chart_json()
    _freeze_heap()  # the imports' objects
    if os.environ.get("OPTVIZ_WARM_UP", "1") == "0":
        return None
    stop = threading.Event()
    thread = threading.Thread(target=_warm_all_surfaces, args=(stop,), name="optviz-warm-up", daemon=True)
    thread.start()

    def finish() -> None:  # a thread killed mid-compile at exit aborts the process
        stop.set()
        thread.join(timeout=30)

    atexit.register(finish)
    return thread


def _unescape_slashes_in_chart_json() -> None:
    """The page's choice: chart JSON with "/" as it is. plotly.io.to_json, which
    st.plotly_chart calls, writes every "/" as "\\u002f" so that "</script>" cannot end an
    HTML script tag; it escapes "<" too, so "</" cannot occur anyway. A base64 array is full
    of "/": the escape made the race chart much bigger, and cost a pass over its text on every
    rerun. Streamlit reads the spec with JSON.parse, to which the two forms are the same. If a
    later plotly renames these private tables, the charts are simply a bit bigger again."""
    try:
        from plotly.io import _json as plotly_json
    except ImportError:
        return
    for name in ("_swap_json", "_swap_orjson"):
        swaps = getattr(plotly_json, name, None)
        if isinstance(swaps, tuple) and ("<", "\\u003c") in swaps:
            setattr(plotly_json, name, tuple(pair for pair in swaps if pair[0] != "/"))


def _freeze_heap() -> None:
    """Move every object alive now (JAX, Plotly, Streamlit, compiled programs) out of the
    garbage collector's sight: Python's automatic full collections walked them all, again and
    again, a large part of a warm rerun. Collect first, so no garbage is frozen with them."""
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
    # The tuning tab's grids on the default surface and step count: each optimizer's heat
    # map, and the six's learning-rate curves (one program).
    for name in ARTICLE_OPTIMIZERS:
        if stop.is_set():
            return
        axis, values, _ = tuning_axis(name)
        optviz.sweep(name, "rosenbrock", None, PageState.steps, LEARNING_RATES, values, axis=axis)
    learning_rate_curves("rosenbrock", None, PageState.steps, {name: {} for name in ARTICLE_OPTIMIZERS},
                         CURVE_RATES, compile_steps=MAX_PAGE_STEPS)
    # The data surfaces' fit programs (one per model and padded data size), last: the
    # formula surfaces are the page's first view.
    for name in DATA_SURFACES:
        if stop.is_set():
            return
        surface = data_surface(name)
        optviz.fit_race(surface.model, surface.data.x, surface.data.y, ["sgd"], batch_size=surface.data.size,
                        compile_steps=MAX_PAGE_STEPS)
        figures.contour_backdrop(surface)
    _freeze_heap()  # and what the warm-up built


def plotly_js_url() -> str | None:
    """Where the page loads plotly.js for the race and loss charts' own element: the plotly
    package's own bundle, copied into the ``static/`` folder beside the main script (the
    folder Streamlit serves with ``server.enableStaticServing``: beside the top-level app.py
    for ``streamlit run app.py``, beside optviz/page/app.py for the installed package). None,
    and those charts are st.plotly_chart elements as the others are, if static serving is off
    or the folder cannot be written. Checked on every run (a stat): the folder may be emptied
    while the server runs."""
    ctx = get_script_run_ctx()
    if ctx is None or not st.get_option("server.enableStaticServing"):
        return None
    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    name = f"plotly-{plotly.__version__}.min.js"  # a new plotly, a new name: no stale browser cache
    target = Path(ctx.main_script_path).resolve().parent / "static" / name
    try:
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            target.parent.mkdir(exist_ok=True)
            part = target.with_suffix(f".{os.getpid()}.part")
            shutil.copyfile(source, part)
            os.replace(part, target)  # whole or not at all, whichever process copies first
    except OSError:
        return None
    return f"./app/static/{name}"
