"""Links: the table of fields reads back what it writes, for any state the page can be in."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optviz
from optviz.bounds import (
    BOXES,
    KAPPAS,
    LANGS,
    LEARNING_RATES,
    MAX_COORDINATE,
    MAX_NOISE,
    MAX_PAGE_STEPS,
    MAX_SEED,
    MIN_STEPS,
    MOMENTA,
    TABS,
)
from optviz.lessons import load_lessons
from optviz.models import DATA_SURFACES
from optviz.optimizers import ALL_OPTIMIZERS, CLIP_OPTIONS
from optviz.presets import PRESETS
from optviz.state import (
    CUSTOM,
    DEFAULT_FORMULA,
    EXTRA_HPARAMS,
    FRAMEWORK_ENTRIES,
    MOMENTUM_OPTIMIZERS,
    SCHEDULE_FIELDS,
    PageState,
    default_state,
    fit_epochs,
    schedule_spec,
    with_surface,
    zoomed_view,
)
from optviz.url import FIELDS, Problem, parse_query, to_query

LESSONS = load_lessons()
FORMULAS = ("sin(x)*cos(y) + 0.1*(x**2 + y**2)", "(x - 1)**2 + 4*(y + 0.5)**2", "x**2 - y**2")


def _round_trip(state: PageState) -> None:
    again, problems = parse_query(to_query(state))
    assert problems == []
    assert again == state


@pytest.mark.parametrize("lesson_id", list(LESSONS))
def test_every_lesson_reads_back_from_its_link(lesson_id):
    for lang in LANGS:
        _round_trip(LESSONS[lesson_id].state(lang, presenter=lang == "ko"))
    # and the whole surface, where the lesson zooms
    _round_trip(replace(LESSONS[lesson_id].state(), view=None))


@pytest.mark.parametrize("surface", [*optviz.SURFACES, CUSTOM])
@pytest.mark.parametrize("preset", PRESETS)
def test_every_surface_and_preset_reads_back_from_its_link(surface, preset):
    _round_trip(default_state(surface, preset))


def _hparam_values(draw, name: str) -> dict:
    """Valid non-default values for a few of ``name``'s other hyperparameters (one clipping option at most)."""
    opt = ALL_OPTIMIZERS[name]
    chosen = draw(st.lists(st.sampled_from(EXTRA_HPARAMS[name]), unique=True, max_size=3))
    clips = [hp for hp in chosen if hp in CLIP_OPTIONS]
    values = {}
    for hp in chosen:
        if hp in clips[1:]:
            continue
        spec = opt.hparam(hp)
        if spec.kind == "bool":
            value = not spec.default
        else:
            raw = draw(st.one_of(st.floats(0.0, 1.0), st.integers(0, 1000)))
            try:
                value = spec.validate(raw, name)
            except ValueError:
                continue
            if spec.kind == "optional" and value == 0:
                continue
        if value != spec.default:
            values[hp] = value
    return values


def _framework_values(draw, key: str) -> dict:
    """Valid non-default values for a few of another framework's optimizer's hyperparameters,
    in its own names (its learning rate on the slider's grid, a pair as two numbers)."""
    opt = FRAMEWORK_ENTRIES[key]
    values = {}
    for spec in draw(st.lists(st.sampled_from(opt.hparams), unique=True, max_size=3)):
        if spec.name == opt.rate_name:
            value = draw(st.sampled_from(LEARNING_RATES))
        elif spec.kind == "bool":
            value = not spec.default
        else:
            raw = draw(st.one_of(st.floats(0.0, 1.0), st.integers(0, 1000)))
            raw = (raw, draw(st.floats(0.0, 0.999))) if spec.kind == "pair" else raw
            try:
                value = spec.validate(raw, key)
            except ValueError:
                continue
        if spec.name == opt.rate_name or value != spec.default:
            values[spec.name] = value
    try:  # each value valid, the set perhaps not (PyTorch's nesterov without momentum): not a state
        opt.resolve(values)
    except ValueError:
        return {}
    return values


def _schedule(draw) -> tuple[str, dict]:
    name = draw(st.sampled_from(["", *SCHEDULE_FIELDS]))
    if not name:
        return "", {}
    fields = {}
    for key, default in SCHEDULE_FIELDS[name].items():
        if not draw(st.booleans()):
            continue
        if isinstance(default, bool):
            fields[key] = not default
        elif isinstance(default, str):
            numbers = draw(st.lists(st.integers(0, 1000), min_size=1, max_size=4))
            fields[key] = ", ".join(map(str, sorted(numbers) if key == "boundaries" else numbers))
        elif isinstance(default, int):
            fields[key] = draw(st.integers(0, 10**6))
        else:
            fields[key] = draw(st.floats(0.0, 1e6))
    fields = {k: v for k, v in fields.items() if v != SCHEDULE_FIELDS[name][k]}
    try:
        schedule_spec(name, fields, 0.01)
    except ValueError:
        return "", {}
    return name, fields


@st.composite
def page_states(draw) -> PageState:
    """A state the page can be in: a lesson's or a surface's, then anything its controls change."""
    lang, presenter = draw(st.sampled_from(LANGS)), draw(st.booleans())
    lesson = draw(st.sampled_from(["", *LESSONS]))
    if lesson:
        state = LESSONS[lesson].state(lang, presenter)
    else:
        state = replace(default_state(draw(st.sampled_from(list(optviz.SURFACES))), draw(st.sampled_from(PRESETS)),
                                      lang), presenter=presenter)
    if draw(st.booleans()):
        surface = draw(st.sampled_from([*optviz.SURFACES, *DATA_SURFACES, CUSTOM]))
        if surface == CUSTOM:
            state = replace(state, formula=draw(st.sampled_from(FORMULAS)), box=draw(st.sampled_from(BOXES)))
        # (Standardize is a data surface's switch: a link carries it only there.)
        standardize = surface in DATA_SURFACES and draw(st.booleans())
        state = with_surface(replace(state, standardize=standardize), surface)
    if state.is_data:  # a data surface's batches, as its sliders and switches set them
        state = replace(state, batch_size=draw(st.integers(1, state.surface_object().data.size)),
                        shuffle=draw(st.booleans()))
        state = replace(state, epochs=draw(st.integers(1, fit_epochs(state, MAX_PAGE_STEPS))))
    surface = state.surface_object()
    if draw(st.booleans()):
        (x0, x1), (y0, y1) = surface.x_range, surface.y_range
        xs = draw(st.lists(st.floats(x0, x1), min_size=2, max_size=2))
        ys = draw(st.lists(st.floats(y0, y1), min_size=2, max_size=2))
        state = replace(state, view=zoomed_view(surface, xs, ys))
    optimizers = tuple(draw(st.lists(st.sampled_from(list(ALL_OPTIMIZERS)), min_size=1, max_size=5, unique=True)))
    rates = st.sampled_from(LEARNING_RATES)
    momenta = st.sampled_from(MOMENTA)
    schedule, schedule_fields = _schedule(draw)
    hparams = {name: values for name in draw(st.lists(st.sampled_from(list(ALL_OPTIMIZERS)), max_size=3, unique=True))
               if (values := _hparam_values(draw, name))}
    frameworks = tuple(draw(st.lists(st.sampled_from(list(FRAMEWORK_ENTRIES)), max_size=3, unique=True)))
    framework_hparams = {key: values for key in draw(st.lists(st.sampled_from(list(FRAMEWORK_ENTRIES)), max_size=3,
                                                              unique=True))
                         if (values := _framework_values(draw, key))}
    noise = draw(st.one_of(st.just(0.0), st.floats(0.0, MAX_NOISE)))
    coordinate = st.floats(-MAX_COORDINATE, MAX_COORDINATE)
    return replace(
        state, optimizers=optimizers, learning_rate=draw(rates), momentum=draw(momenta),
        # (A data surface's steps are its epochs x batches: no `steps` in its link.)
        steps=state.steps if state.is_data else draw(st.integers(MIN_STEPS, MAX_PAGE_STEPS)),
        start=(draw(coordinate), draw(coordinate)),
        noise=noise, seed=draw(st.integers(0, MAX_SEED)),
        kappa=draw(st.sampled_from(KAPPAS)) if "kappa" in surface.params else state.kappa,
        own_learning_rate=draw(st.dictionaries(st.sampled_from(list(ALL_OPTIMIZERS)), rates, max_size=4)),
        own_momentum=draw(st.dictionaries(st.sampled_from(MOMENTUM_OPTIMIZERS), momenta, max_size=3)),
        hparams=hparams, schedule=schedule, schedule_fields=schedule_fields, tab=draw(st.sampled_from(TABS)),
        frameworks=frameworks, framework_hparams=framework_hparams,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page_states())
def test_any_state_reads_back_from_its_link(state):
    _round_trip(state)


def test_the_table_declares_each_key_once_for_any_state():
    """Keys repeat only where one of them applies at a time (a field of each schedule)."""
    keys = [field.key for field in FIELDS]
    for key in {k for k in keys if keys.count(k) > 1}:
        assert key.startswith("sched."), key
        for schedule in SCHEDULE_FIELDS:
            state = replace(PageState(), schedule=schedule)
            assert sum(f.applies(state) for f in FIELDS if f.key == key) <= 1, key


def test_a_bad_value_names_its_fallback_and_an_unknown_key_is_reported():
    state, problems = parse_query({"steps": "5", "adam.beta_1": "2", "sgd.lr": "x", "kappa": "3", "zzz": "1"})
    assert state == parse_query({})[0]
    assert problems[0] == Problem("steps", "5", "outside 10 to 2000", "500")
    assert problems[1].key == "sgd.lr" and problems[1].default == "the shared learning rate"
    assert problems[2].key == "adam.beta_1" and "beta_1" in problems[2].reason and problems[2].default == "0.9"
    assert problems[3:] == [Problem("kappa", "3", "unknown", ""), Problem("zzz", "1", "unknown", "")]


def test_other_frameworks_optimizers_travel_in_the_link_by_their_own_names():
    state, problems = parse_query({"surface": "saddle", "opt": "adam,rmsprop", "fw": "pytorch:adam,optax:rmsprop",
                                   "pytorch:adam.betas": "0.9,0.99", "pytorch:adam.eps": "1e-7",
                                   "optax:rmsprop.eps_in_sqrt": "0", "optax:rmsprop.learning_rate": "0.1"})
    assert problems == []
    assert state.frameworks == ("pytorch:adam", "optax:rmsprop")
    spec = state.race_spec()
    # PyTorch's names for PyTorch's Adam (its rate: Keras's Adam's), optax's for optax's RMSprop.
    assert spec["pytorch:adam"] == {"lr": state.hyperparameters("adam")["learning_rate"], "betas": (0.9, 0.99),
                                    "eps": 1e-7}
    assert spec["optax:rmsprop"] == {"learning_rate": 0.1, "eps_in_sqrt": False}
    query = to_query(state)
    assert query["fw"] == "pytorch:adam,optax:rmsprop" and query["pytorch:adam.betas"] == "0.9,0.99"
    assert "pytorch:adam.lr" not in query  # it follows Keras's Adam
    _round_trip(state)
    # The preset races the three Adams; a link that takes them away says so with an empty fw.
    three = default_state("saddle", "frameworks")
    assert (three.optimizers, three.frameworks) == (("adam",), ("pytorch:adam", "optax:adam"))
    assert "fw" not in to_query(three)
    _round_trip(three)
    _round_trip(replace(three, frameworks=()))
    assert to_query(replace(three, frameworks=()))["fw"] == ""


@pytest.mark.parametrize("query, key, reason", [
    ({"fw": "torch:adam"}, "fw", "unknown framework optimizer"),
    ({"fw": "pytorch:adam,pytorch:lion"}, "fw", "unknown framework optimizer 'pytorch:lion'"),
    ({"fw": "pytorch:adam", "pytorch:adam.betas": "0.9"}, "pytorch:adam.betas", "two numbers"),
    ({"fw": "pytorch:adam", "pytorch:adam.eps": "-1"}, "pytorch:adam.eps", "`eps` must be >= 0"),
    ({"fw": "optax:adam", "optax:adam.beta_1": "0.5"}, "optax:adam.beta_1", "unknown"),  # Keras's name, not optax's
    # Each value valid, the set not: torch.optim.SGD refuses nesterov without momentum.
    ({"fw": "pytorch:sgd", "pytorch:sgd.nesterov": "1"}, "pytorch:sgd", "requires a `momentum` above 0"),
])
def test_a_bad_framework_value_falls_back_with_a_warning(query, key, reason):
    state, problems = parse_query(query)
    assert [p.key for p in problems] == [key] and reason in problems[0].reason
    assert not state.framework_hparams
    expected = () if key == "fw" else tuple(query["fw"].split(","))
    assert state.frameworks == expected
    _round_trip(state)


# Finite on the default box (±3) but nowhere on a smaller one the link may ask for.
NARROW_DOMAIN = ("log(x**2 - 4) + y**2", "sqrt(x - 2.5) + y**2")


@pytest.mark.parametrize(
    "query",
    [
        {"surface": "custom", "f": NARROW_DOMAIN[0], "box": "1"},
        {"surface": "custom", "f": NARROW_DOMAIN[1], "box": "2", "x": "1", "y": "1", "view": "-1,1,-1,1"},
        {"lesson": next(iter(LESSONS)), "surface": "custom", "f": NARROW_DOMAIN[0], "box": "1"},
    ],
    ids=["box", "box-start-view", "lesson"],
)
def test_a_formula_finite_nowhere_on_the_link_s_box_falls_back_with_a_warning(query):
    state, problems = parse_query(query)
    assert state.surface == CUSTOM and state.formula == DEFAULT_FORMULA and state.box == float(query["box"])
    assert problems[0].key == "f" and "not finite anywhere" in problems[0].reason
    assert problems[0].default == DEFAULT_FORMULA
    state.surface_object()  # the page can draw what the link settled on
    _round_trip(state)


# Formulas defined everywhere, and ones defined only on part of the plane.
ANY_FORMULAS = (*FORMULAS, "log(x) + y**2", "sqrt(y) + x**2", "1/x + y**2", "log(y - 1) + x**2",
                "sqrt(1 - x**2 - y**2)", *NARROW_DOMAIN)
COORDINATES = st.floats(-12, 12, allow_nan=False).map(repr)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formula=st.sampled_from(ANY_FORMULAS), box=st.sampled_from(["1", "2", "3", "5", "10", "0.5", "7"]),
       view=st.one_of(st.none(), st.just("all"), st.lists(COORDINATES, min_size=4, max_size=4).map(",".join)),
       start=st.one_of(st.none(), st.tuples(COORDINATES, COORDINATES)))
def test_any_formula_box_view_and_start_settle_on_a_state_that_reads_back(formula, box, view, start):
    query = {"surface": "custom", "f": formula, "box": box}
    if view is not None:
        query["view"] = view
    if start is not None:
        query["x"], query["y"] = start
    state, problems = parse_query(query)
    assert isinstance(state, PageState) and state.surface == CUSTOM
    assert {p.key for p in problems} <= {"f", "box", "view", "x", "y"}
    state.surface_object()
    _round_trip(state)


def test_a_formula_lesson_s_link_keeps_its_formula_unless_the_link_gives_a_good_one():
    lesson = LESSONS["adam-epsilon"].state()
    assert parse_query({"lesson": "adam-epsilon"}) == (lesson, [])
    state, problems = parse_query({"lesson": "adam-epsilon", "f": "x**2 + y**2"})
    assert (state.formula, state.box, problems) == ("x**2 + y**2", lesson.box, [])
    state, problems = parse_query({"lesson": "adam-epsilon", "f": "__import__('os')"})
    assert state.formula == lesson.formula and [p.key for p in problems] == ["f"]
