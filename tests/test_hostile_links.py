"""Hostile links: whatever a URL holds, the page opens, draws a chart and settles on a valid state.

Hypothesis generates query strings with unknown and repeated keys, NaN/inf, huge and
negative numbers, wrong types, unicode, control characters, very long values and
unknown lesson ids. The page-level test opens the real page (AppTest) for 1000 of
them in four chunks (so `pytest -n 2` runs them on both cores); the state-level test
feeds thousands more to the URL parser alone.
"""

import math
import os
from dataclasses import replace

import numpy as np
import pytest
from helpers import APP, block_markup, charts
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

import optviz
from optviz.bounds import BOXES, KAPPAS, LEARNING_RATES, MAX_PAGE_STEPS, MIN_STEPS, MOMENTA
from optviz.lessons import load_lessons
from optviz.models import DATA_SURFACES
from optviz.page.markdown_text import code_text
from optviz.state import FRAMEWORK_ENTRIES, SCHEDULE_FIELDS, PageState
from optviz.url import parse_query, to_query

KNOWN_KEYS = ["lang", "surface", "preset", "opt", "lr", "mom", "steps", "x", "y", "kappa", "noise", "seed", "lesson",
              "present", "f", "box", "sched", "view", "tab"] + [
    f"{o}.{h.name}" for o, opt in optviz.optimizers.ALL_OPTIMIZERS.items() for h in (*opt.hparams, *opt.options)] + [
    f"sched.{k}" for fields in SCHEDULE_FIELDS.values() for k in fields] + ["fw"] + [
    f"{key}.{h.name}" for key, opt in FRAMEWORK_ENTRIES.items() for h in opt.hparams]  # PyTorch's, optax's names

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e308", "1e-320", "-0", "0x10", "1_000", "１２",
                     "1e9999", "--1", "0.5.5", "", " ", "true", "None"]),
)
texts = st.one_of(
    st.text(max_size=40),  # unicode, control characters, surrogates excluded by hypothesis
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=10),  # control characters
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "9", "é", "한", "\x00", ","]), st.integers(200, 5000)),
    st.sampled_from(["<script>alert(1)</script>", "__import__('os').system('id')", "sgd,adam,adam", "sgd,,",
                     "ROSENBROCK", "rosenbrock ", "ko", "article", "saddle", "lesson-x", "../../etc/passwd",
                     "${jndi:ldap://x}", "%00", "sgd;adam", "data_line", "data_iris_plane", "DATA_CLASSES"]),
)
lesson_ids = st.one_of(st.sampled_from(list(load_lessons())), st.text(max_size=20))
# Typed formulas: a few that draw (few, so that each page run compiles none it has not
# already: each new formula is a compile), ones finite only on part of a box (the crash
# `log(x**2 - 4) + y**2` with box=1: finite on the default box, nowhere on box 1), ones the
# cost cap refuses, malformed ones and text.
FORMULAS = ["sin(x)*cos(y) + 0.1*(x**2 + y**2)", "x**2 + 3*y**2", "log(x**2 - 4) + y**2", "sqrt(x) + y**2",
            "log(x - 2.5) + y**2", "1/(x*y)", "abs(x) + abs(y)", "max(x, y)**2 + min(x, y)",
            "tanh(sinh(cosh(tanh(sinh(cosh(tanh(sinh(cosh(tanh(sinh(cosh(tanh(x*y)))))))))))))",
            "x**", "x^2", "__import__('os')", "sin(x", "", "x*y*" * 60]
formulas = st.one_of(st.sampled_from(FORMULAS), st.text(max_size=30))
boxes = st.one_of(st.sampled_from(["1", "2", "3", "5", "10", "0", "-1", "0.5", "1e9", "nan", ""]), numbers)
views = st.one_of(
    st.lists(st.floats(-12, 12, allow_nan=False), min_size=4, max_size=4).map(lambda v: ",".join(f"{c:g}" for c in v)),
    st.sampled_from(["all", "0,0,0,0", "1,2,3", "-3,3,-3,3", "2.9,3,2.9,3", "1e5,1e6,0,1", "nan,1,2,3"]),
    texts,
)
values = st.one_of(numbers, texts, lesson_ids)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(min_size=1, max_size=30))
plain_queries = st.dictionaries(keys, st.one_of(values, st.lists(values, min_size=2, max_size=3)), max_size=8)
# A typed formula, its box and a view, with anything else beside them.
formula_queries = st.builds(
    lambda formula, box, view, lesson, rest: {**rest, "surface": "custom", "f": formula, "box": box,
                                              **({"view": view} if view is not None else {}),
                                              **({"lesson": lesson} if lesson is not None else {})},
    formulas, boxes, st.none() | views, st.none() | lesson_ids, plain_queries)
query_strategy = st.one_of(plain_queries, formula_queries)


def _assert_valid(state: PageState):
    assert state.learning_rate in LEARNING_RATES
    assert state.momentum in MOMENTA
    assert MIN_STEPS <= state.steps <= MAX_PAGE_STEPS
    assert all(math.isfinite(v) for v in state.start)
    assert state.kappa in KAPPAS or state.kappa == 10.0
    assert set(state.optimizers) <= set(optviz.optimizers.ALL_OPTIMIZERS) and state.optimizers
    assert state.surface in (*optviz.SURFACES, *DATA_SURFACES, "custom") and state.lang in ("en", "ko")
    surface = state.surface_object()  # a typed formula's on the box the state uses: no ValueError
    if state.surface == "custom":
        assert state.box in BOXES
        xs, ys = np.meshgrid(np.linspace(-state.box, state.box, 9), np.linspace(-state.box, state.box, 9))
        assert np.isfinite(surface(xs, ys)).any() and np.isfinite(surface(*surface.default_start))
    if state.is_data:  # a data surface's batches: within its data, and within the page's steps
        assert 1 <= state.batch_size <= state.surface_object().data.size
        assert 1 <= state.epochs and state.run_steps() <= MAX_PAGE_STEPS
    for name, values in state.hparams.items():  # Keras takes one clipping option at most
        assert sum(c in values for c in optviz.optimizers.CLIP_OPTIONS) <= 1, (name, values)
    assert set(state.frameworks) <= set(FRAMEWORK_ENTRIES)  # other frameworks' settings: each valid there
    for key, values in state.framework_hparams.items():
        for name, value in values.items():
            assert FRAMEWORK_ENTRIES[key].hparam(name).validate(value, key) == value, (key, name, value)
    if state.view is not None:  # a zoom lies inside the surface's box, and is not empty
        (x0, x1), (y0, y1) = surface.x_range, surface.y_range
        a, b, c, d = state.view
        assert x0 <= a < b <= x1 and y0 <= c < d <= y1


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_queries)  # (formulas, boxes and views: the test after this one)
def test_the_url_parser_always_settles_on_a_valid_state(query):
    state, problems = parse_query(query)
    _assert_valid(state)
    # Every unknown key is reported; what the page writes back parses cleanly.
    for key in query:
        if key not in KNOWN_KEYS:
            assert any(p.key == key[:40] for p in problems)
    again, more = parse_query(to_query(state))
    assert again == state and not more


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas, boxes, st.none() | views, st.none() | lesson_ids, st.sampled_from(["custom", "rosenbrock", "x"]))
@example("log(x**2 - 4) + y**2", "1", None, None, "custom")  # finite on box 3, nowhere on box 1: crashed
@example("log(x - 2.5) + y**2", "2", "-3,3,-3,3", "saddle", "custom")
def test_a_formula_its_box_a_view_and_a_lesson_settle_on_a_state_that_draws(formula, box, view, lesson, surface):
    """Any formula × view box × view × lesson: parse_query never raises; a typed formula in
    the state is finite on the box the state uses (its start too); what a refused part
    falls back to is named; the state's link reads back to it."""
    query = {"surface": surface, "f": formula, "box": box}
    if view is not None:
        query["view"] = view
    if lesson is not None:
        query["lesson"] = lesson
    state, problems = parse_query(query)
    _assert_valid(state)
    if state.surface == "custom" and state.formula != formula.strip():
        assert {p.key for p in problems} & {"f", "box", "surface", "lesson"}, (query, problems)
    again, more = parse_query(to_query(state))
    # (A link carries the formula and its box only with a typed formula's surface.)
    if state.surface != "custom":
        again = replace(again, box=state.box, formula=state.formula)
    assert again == state and not more


@pytest.fixture(scope="module", autouse=True)
def _fast_apptest():
    """AppTest scans every installed package for Streamlit components on each new page
    (0.1 s); optviz uses none, so the hostile-link runs skip that scan. Nor do they start
    the page's background warm-up (OPTVIZ_WARM_UP=0): compiling all 20 race programs and
    the tuning sweeps took ~25 s of CPU from each worker, while these runs need two."""
    import streamlit.components.v2.manifest_scanner as scanner

    original = scanner.scan_component_manifests
    scanner.scan_component_manifests = lambda *args, **kwargs: []
    previous = os.environ.get("OPTVIZ_WARM_UP")
    os.environ["OPTVIZ_WARM_UP"] = "0"
    yield
    scanner.scan_component_manifests = original
    if previous is None:
        os.environ.pop("OPTVIZ_WARM_UP", None)
    else:
        os.environ["OPTVIZ_WARM_UP"] = previous


def _open(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    return at


@pytest.mark.parametrize("chunk", [pytest.param(i, marks=[pytest.mark.xdist_group(f"hostile-{i % 2}"),
                                                          pytest.mark.slow]) for i in range(4)])
def test_any_link_opens_the_page_with_a_chart(chunk):
    """1000 generated links in all (4 chunks of 250)."""
    _open({})  # warm

    @settings(max_examples=250, deadline=None, database=None, derandomize=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(query_strategy)
    @example({"sgd.clipnorm": "1.0", "sgd.clipvalue": "1.0"})  # found in CI: no chart was drawn
    @example({"surface": "custom", "f": "log(x**2 - 4) + y**2", "box": "1"})  # crashed before the sidebar
    @example({"lesson": "BATCH-SIZE-NOISE"})  # a data surface: no Steps slider
    @example({"surface": "data_iris_plane", "batch": "1", "epochs": "99999", "std": "2", "x": "nan"})
    def check(query):
        at = _open(query)
        assert not at.exception, (query, at.exception)
        assert charts(at), query
        state, problems = parse_query(query)
        shown = " ".join(w.value for w in at.warning)
        for problem in problems:  # every bad value is named on the page, in a code span on one line
            assert f"`{code_text(problem.key)}" in shown, (problem, shown[:500])
        # Nothing the link holds becomes a heading, a link or an image in what the page says.
        for element in (*at.warning, *at.error, *at.info, *at.success):
            assert not block_markup(element.value), (query, element.value)
        assert at.sidebar.select_slider(key="lr").value in LEARNING_RATES
        if state.is_data:  # Batch size and Epochs instead of Steps
            size = state.surface_object().data.size
            assert 1 <= at.sidebar.select_slider(key="batch").value <= size
            assert 1 <= at.sidebar.slider(key="epochs").value <= MAX_PAGE_STEPS
        else:
            assert MIN_STEPS <= at.sidebar.slider(key="steps").value <= MAX_PAGE_STEPS

    check()


INJECTIONS = {
    "\n# Injected heading\n[click](http://evil.example/)\n![x](http://evil.example/pixel.png)": "1",
    "lr": "\n\n# Injected heading\n\n![x](http://evil.example/pixel.png)",
    "sched": "`\n<img src=http://evil.example/s.png>\n# Injected heading",
    "f": "x**2\u2028# Injected heading\u2029[click](http://evil.example/)",
    "surface": "custom",
    "lesson": "a\r\n\r\n![x](http://evil.example/l.png)",
    "sgd.momentum": "0.5`\n\n[click](http://evil.example/)",
}


def _markup(at: AppTest) -> set:
    """Every heading, link and image the page's text elements make, main area and sidebar."""
    texts = [e.value for kind in ("warning", "error", "info", "success", "caption", "markdown")
             for e in (*getattr(at, kind), *getattr(at.sidebar, kind))]
    return {(kind, text) for text in texts for kind in block_markup(text)}


def test_markdown_in_a_link_s_keys_and_values_makes_no_heading_link_or_image():
    """Keys and values with line breaks (\n, \r\n, U+2028/9), backticks, headings, links,
    images and HTML: each is quoted in a warning as text, and no element of the page gains
    a heading, a link or an image it does not have without the link."""
    clean = _open({"surface": "custom"})
    at = _open(INJECTIONS)
    assert not at.exception and charts(at)
    shown = " ".join(w.value for w in at.warning)
    assert shown.count("Injected heading") >= 3, shown  # quoted, as text (long values cut short)
    assert _markup(at) <= _markup(clean), _markup(at) - _markup(clean)
    assert not any("evil.example" in text for _, text in _markup(at))


@pytest.mark.parametrize("key,value", [("lr", "-1"), ("lr", "abc"), ("lr", "1e999"), ("lr", "nan"), ("mom", "1"),
                                       ("mom", "x")])
def test_a_bad_shared_rate_in_a_link_falls_back_to_the_whole_preset(key, value):
    # The warning says "using <the default> instead": the page must then be the default
    # page, the preset's own per-optimizer rates and momenta included. (They were dropped,
    # and SGD and Nesterov diverged under a shared rate the preset never gives them.)
    state, problems = parse_query({key: value})
    default, _ = parse_query({})
    assert [p.key for p in problems] == [key]
    assert state == default
