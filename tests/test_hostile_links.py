"""Hostile links: whatever a URL holds, the page opens, draws a chart and settles on a valid state.

Hypothesis generates query strings with unknown and repeated keys, NaN/inf, huge and
negative numbers, wrong types, unicode, control characters, very long values and
unknown lesson ids. The page-level test opens the real page (AppTest) for 1000 of
them in four chunks (so `pytest -n 2` runs them on both cores); the state-level test
feeds thousands more to the URL parser alone.
"""

import math
import os

import pytest
from helpers import APP, charts
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

import optviz
from optviz.bounds import KAPPAS, LEARNING_RATES, MAX_PAGE_STEPS, MIN_STEPS, MOMENTA
from optviz.lessons import load_lessons
from optviz.models import DATA_SURFACES
from optviz.page.markdown_text import code_text
from optviz.state import SCHEDULE_FIELDS, PageState
from optviz.url import parse_query, to_query

KNOWN_KEYS = ["lang", "surface", "preset", "opt", "lr", "mom", "steps", "x", "y", "kappa", "noise", "seed", "lesson",
              "present", "f", "box", "sched", "view", "tab"] + [
    f"{o}.{h.name}" for o, opt in optviz.optimizers.ALL_OPTIMIZERS.items() for h in (*opt.hparams, *opt.options)] + [
    f"sched.{k}" for fields in SCHEDULE_FIELDS.values() for k in fields]

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
values = st.one_of(numbers, texts, lesson_ids)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(min_size=1, max_size=30))
query_strategy = st.dictionaries(keys, st.one_of(values, st.lists(values, min_size=2, max_size=3)), max_size=8)


def _assert_valid(state: PageState):
    assert state.learning_rate in LEARNING_RATES
    assert state.momentum in MOMENTA
    assert MIN_STEPS <= state.steps <= MAX_PAGE_STEPS
    assert all(math.isfinite(v) for v in state.start)
    assert state.kappa in KAPPAS or state.kappa == 10.0
    assert set(state.optimizers) <= set(optviz.optimizers.ALL_OPTIMIZERS) and state.optimizers
    assert state.surface in (*optviz.SURFACES, *DATA_SURFACES) and state.lang in ("en", "ko")
    if state.is_data:  # a data surface's batches: within its data, and within the page's steps
        assert 1 <= state.batch_size <= state.surface_object().data.size
        assert 1 <= state.epochs and state.run_steps() <= MAX_PAGE_STEPS
    for name, values in state.hparams.items():  # Keras takes one clipping option at most
        assert sum(c in values for c in optviz.optimizers.CLIP_OPTIONS) <= 1, (name, values)
    if state.view is not None:  # a zoom lies inside the surface's box, and is not empty
        (x0, x1), (y0, y1) = optviz.get_surface(state.surface).x_range, optviz.get_surface(state.surface).y_range
        a, b, c, d = state.view
        assert x0 <= a < b <= x1 and y0 <= c < d <= y1


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query_strategy)
def test_the_url_parser_always_settles_on_a_valid_state(query):
    state, problems = parse_query(query)
    _assert_valid(state)
    # Every unknown key is reported; what the page writes back parses cleanly.
    for key in query:
        if key not in KNOWN_KEYS:
            assert any(p.key == key[:40] for p in problems)
    again, more = parse_query(to_query(state))
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


@pytest.mark.parametrize("chunk", [pytest.param(i, marks=pytest.mark.xdist_group(f"hostile-{i % 2}"))
                                   for i in range(4)])
def test_any_link_opens_the_page_with_a_chart(chunk):
    """1000 generated links in all (4 chunks of 250)."""
    _open({})  # warm

    @settings(max_examples=250, deadline=None, database=None, derandomize=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(query_strategy)
    @example({"sgd.clipnorm": "1.0", "sgd.clipvalue": "1.0"})  # found in CI: no chart was drawn
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
        assert at.sidebar.select_slider(key="lr").value in LEARNING_RATES
        if state.is_data:  # Batch size and Epochs instead of Steps
            size = state.surface_object().data.size
            assert 1 <= at.sidebar.select_slider(key="batch").value <= size
            assert 1 <= at.sidebar.slider(key="epochs").value <= MAX_PAGE_STEPS
        else:
            assert MIN_STEPS <= at.sidebar.slider(key="steps").value <= MAX_PAGE_STEPS

    check()


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
