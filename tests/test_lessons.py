"""Guided lessons, presenter mode and step-through."""

import html
from dataclasses import replace

import numpy as np
import pytest
from helpers import array, chart_spec, open_page, path_traces, paths

import optviz
from optviz import i18n
from optviz.lessons import LESSONS_FILE, load_lessons, parse_lessons
from optviz.models import data_surface

LESSONS = load_lessons()


def test_at_least_eight_lessons_cover_the_topics():
    assert len(LESSONS) >= 8
    for topic in ["learning-rate", "momentum-overshoot", "nesterov", "adagrad-stalls", "adam-bias-correction",
                  "saddle", "rosenbrock-valley", "local-minima", "article"]:
        assert topic in LESSONS
    for lesson in LESSONS.values():
        for lang in ("en", "ko"):
            text = lesson.text[lang]
            assert text.title and text.look_for and text.question
            assert 3 <= len(text.narrative) <= 5
        assert any("\uac00" <= ch <= "\ud7a3" for ch in lesson.text["ko"].title)


def test_article_lesson_is_the_seeds_settings():
    state = LESSONS["article"].state()
    code = {n: optviz.ARTICLE_OPTIMIZERS[n].keras_code(state.hyperparameters(n)) for n in state.optimizers}
    assert code["sgd"] == "keras.optimizers.SGD(learning_rate=0.001, momentum=0.9)"
    assert code["nesterov"] == "keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)"
    assert code["adagrad"] == "keras.optimizers.Adagrad(learning_rate=0.01)"
    assert code["rmsprop"] == "keras.optimizers.RMSprop(learning_rate=0.001)"


def test_lessons_show_what_they_say():
    """The scenes make their points with the engine's real numbers."""
    def run(lesson_id):
        s = LESSONS[lesson_id].state()
        return optviz.race(s.surface_object(), s.start, s.steps, s.race_spec(), noise=s.noise, seed=s.seed,
                           surface_params=s.surface_params())

    assert run("learning-rate")["sgd"].diverged_at is not None
    stalls = run("adagrad-stalls")
    assert stalls["adagrad"].final_loss > 5 * stalls["rmsprop"].final_loss
    first = run("adam-bias-correction")
    np.testing.assert_allclose(np.abs(first["adam"].path[1] - first["adam"].path[0]), [0.1, 0.1], rtol=1e-4)
    np.testing.assert_allclose(np.abs(first["rmsprop"].path[1] - first["rmsprop"].path[0]), 0.1 / np.sqrt(0.1),
                               rtol=1e-3)
    saddle = run("saddle")
    assert abs(saddle["adam"].path[-1, 1]) > 10 * abs(saddle["sgd"].path[-1, 1])
    assert run("article")["nesterov"].diverged_at is not None


@pytest.mark.parametrize(
    "edit,needle",
    [
        (lambda t: t.replace('id = "saddle"', 'id = "Saddle!"'), "`id`"),
        (lambda t: t.replace('surface = "saddle"', 'surface = "volcano"'), "lesson 'saddle': `surface`"),
        (lambda t: t.replace('optimizers = ["sgd", "rmsprop", "adam"]', 'optimizers = ["sgd", "sophia"]'),
         "lesson 'saddle': `optimizers`"),
        (lambda t: t.replace("start = [-1.8, 0.001]", "start = [-1.8]"), "lesson 'saddle': `start`"),
        (lambda t: t.replace("steps = 300\n[lesson.en]\ntitle = \"Escaping",
                             "steps = 0\n[lesson.en]\ntitle = \"Escaping"),
         "lesson 'saddle': `steps`"),
        (lambda t: t.replace('title = "Escaping a saddle point"', 'title = ""'), "lesson 'saddle': `en.title`"),
        (lambda t: t.replace("[lesson.own.adam]\nlearning_rate = 0.05", "[lesson.own.adam]\nbeta_1 = 1.5"),
         "`own.adam.beta_1`"),
        (lambda t: t.replace('id = "nesterov"', 'id = "saddle"'), "used by two lessons"),
        (lambda t: t + "\n[[lesson]]\nid = 3\n", "`id`"),
        (lambda t: t.replace("kappa = 25", "kappa = -1"), "lesson 'nesterov': `kappa`"),
        (lambda t: t.replace('id = "learning-rate"', 'id = "learning-rate'), "not valid TOML"),
        (lambda t: t.replace("view = [-2.9, -1.1, 0.3, 1.9]", "view = [-2.9, -1.1, 0.3]"),
         "lesson 'adam-bias-correction': `view`"),
        (lambda t: t.replace("view = [-2.9, -1.1, 0.3, 1.9]", "view = [-1.1, -2.9, 0.3, 1.9]"),
         "lesson 'adam-bias-correction': `view` must have x0 < x1"),
        (lambda t: t.replace("view = [-2.9, -1.1, 0.3, 1.9]", "view = [7, 8, 0.3, 1.9]"),
         "lesson 'adam-bias-correction': `view` outside the surface's box"),
        (lambda t: t.replace('frameworks = ["pytorch:adam", "optax:adam"]', 'frameworks = ["torch:adam"]'),
         "lesson 'adam-epsilon': `frameworks`"),
        (lambda t: t.replace('formula = "-exp(-(x**2 + y**2))"', 'formula = "__import__(1)"'),
         "lesson 'adam-epsilon': `formula`"),
        (lambda t: t.replace('[lesson.framework_own."pytorch:rmsprop"]\nlr = 0.01',
                             '[lesson.framework_own."pytorch:rmsprop"]\nrho = 0.9'),
         "lesson 'rmsprop-defaults': `framework_own.pytorch:rmsprop`"),
    ],
)
def test_a_broken_lessons_file_names_the_lesson_and_field(edit, needle):
    text = LESSONS_FILE.read_text(encoding="utf-8")
    changed = edit(text)
    assert changed != text
    with pytest.raises(ValueError, match=needle.replace("(", r"\(").replace("[", r"\[")):
        parse_lessons(changed)


def _plateau_gradient(w: np.ndarray) -> np.ndarray:
    """The gradient of -exp(-(x² + y²)) in float32, op by op (the epsilon lesson's plateau)."""
    w = w.astype(np.float32)
    e = np.exp(-(w[0] * w[0] + w[1] * w[1]))
    return (np.float32(2) * w * e).astype(np.float32)


def _real_paths(start, steps: int, lr: float) -> dict:
    """Keras's and torch.optim's own Adam on the plateau, each at its defaults and ``lr``."""
    import keras
    import torch

    out = {}
    var = keras.Variable(np.asarray(start, np.float32))
    keras_adam = keras.optimizers.Adam(learning_rate=lr)
    path = [np.asarray(var)]
    for _ in range(steps):
        keras_adam.apply_gradients([(keras.ops.convert_to_tensor(_plateau_gradient(np.asarray(var))), var)])
        path.append(np.asarray(var))
    out["adam"] = np.asarray(path)
    w = torch.tensor(start, dtype=torch.float32)
    torch_adam = torch.optim.Adam([w], lr=lr)
    path = [w.numpy().copy()]
    for _ in range(steps):
        w.grad = torch.from_numpy(_plateau_gradient(w.numpy()))
        torch_adam.step()
        path.append(w.numpy().copy())
    out["pytorch:adam"] = np.asarray(path)
    return out


def test_the_framework_lessons_show_what_they_say():
    """Adam's epsilon on a plateau and RMSprop's defaults: the frameworks' paths part widely,
    and each is its own framework's (real Keras and torch.optim, stepped here)."""
    s = LESSONS["adam-epsilon"].state()
    race = optviz.race(s.surface_object(), s.start, s.steps, s.race_spec())
    real = _real_paths(list(s.start), s.steps, s.learning_rate)
    for key in ("adam", "pytorch:adam"):
        np.testing.assert_allclose(race[key].path, real[key], rtol=1e-3, atol=1e-4)
    # PyTorch's (and optax's: the same place for eps) falls into the well; Keras's still crawls
    # on the plateau, its epsilon-hat ten times PyTorch's eps, more before the bias correction.
    assert race["pytorch:adam"].final_loss < -0.99 and race["optax:adam"].final_loss < -0.99
    assert race["adam"].final_loss > -0.01
    assert np.linalg.norm(race["adam"].path[100] - race["pytorch:adam"].path[100]) > 1.0
    first = [np.linalg.norm(race[k].path[1] - race[k].path[0]) for k in ("adam", "pytorch:adam")]
    assert first[1] > 100 * first[0]  # "Keras's first steps are 100 times shorter" (the narrative)
    assert np.linalg.norm(race["adam"].path[-1] - race["pytorch:adam"].path[-1]) > 3.0
    # PyTorch's eps at Keras's 1e-7: much closer to Keras's path, not the same (its place differs).
    closer = optviz.race(s.surface_object(), s.start, s.steps, {"adam": {"learning_rate": 0.01},
                                                                "pytorch:adam": {"lr": 0.01, "eps": 1e-7}})
    gap = np.linalg.norm(closer["adam"].path[100] - closer["pytorch:adam"].path[100])
    assert 0 < gap < 0.5 * np.linalg.norm(race["adam"].path[100] - race["pytorch:adam"].path[100])

    s = LESSONS["rmsprop-defaults"].state()
    race = optviz.race(s.surface_object(), s.start, s.steps, s.race_spec(), surface_params=s.surface_params())
    assert s.race_spec()["pytorch:rmsprop"] == {"lr": 0.01}  # PyTorch's default rate; alpha and eps its own
    assert race["pytorch:rmsprop"].final_loss < 0.01 * race["rmsprop"].final_loss
    np.testing.assert_array_equal(race["optax:rmsprop"].path, race["rmsprop"].path)  # optax's rule is Keras's


def _check_lesson_drawn(at, lesson_id):
    lesson = LESSONS[lesson_id]
    spec = chart_spec(at)
    names = i18n.OPTIMIZER_SHORT_NAMES[at.sidebar.radio(key="lang").value]
    assert set(paths(spec)) == {names[o] for o in lesson.settings.racers}  # other frameworks' too
    surface = lesson.settings.surface_object()  # (a data surface too)
    view = lesson.settings.view  # a lesson may open zoomed in
    assert spec["layout"]["xaxis"]["range"] == (list(surface.x_range) if view is None else list(view[:2]))
    assert spec["layout"]["yaxis"]["range"] == (list(surface.y_range) if view is None else list(view[2:]))
    starts = [trace for trace in spec["data"] if trace.get("name") in ("start", "시작")]
    assert starts[0]["x"][0] == pytest.approx(lesson.settings.start[0], rel=1e-6)
    text = lesson.text[at.sidebar.radio(key="lang").value]
    shown = " ".join(m.value for m in at.markdown)
    assert html.escape(text.title) in shown and html.escape(text.question) in shown


@pytest.mark.parametrize("lesson_id", list(LESSONS))
def test_every_lesson_opens_from_its_link(lesson_id):
    at = open_page({"lesson": lesson_id})
    assert not [w for w in at.warning if "lesson" in w.value]
    _check_lesson_drawn(at, lesson_id)


def test_lessons_open_from_the_picker_and_previous_next_in_korean():
    at = open_page({"lang": "ko"})
    at.sidebar.selectbox(key="lesson").set_value("nesterov").run()
    _check_lesson_drawn(at, "nesterov")
    ids = list(LESSONS)
    at.sidebar.button(key="lesson_next").click().run()
    assert at.sidebar.selectbox(key="lesson").value == ids[ids.index("nesterov") + 1]
    _check_lesson_drawn(at, ids[ids.index("nesterov") + 1])
    at.sidebar.button(key="lesson_prev").click().run()
    at.sidebar.button(key="lesson_prev").click().run()
    assert at.sidebar.selectbox(key="lesson").value == ids[ids.index("nesterov") - 1]
    assert at.query_params["lesson"] in (ids[ids.index("nesterov") - 1], [ids[ids.index("nesterov") - 1]])


def test_a_lesson_may_open_zoomed_in_and_the_whole_surface_link_stays_whole():
    """The Adam lesson zooms to its start (a 0.1 step is a speck on the whole box); after
    "Whole surface" the link says so (view=all) instead of opening zoomed again."""
    lesson = LESSONS["adam-bias-correction"]
    assert lesson.settings.view is not None
    at = open_page({"lesson": "adam-bias-correction"}, expanded=False)
    spec = chart_spec(at)
    assert [*spec["layout"]["xaxis"]["range"], *spec["layout"]["yaxis"]["range"]] == list(lesson.settings.view)
    at.button(key="reset_view").click().run()
    assert at.query_params["view"] == "all"
    again = open_page(dict(at.query_params.items()), expanded=False)
    assert chart_spec(again)["layout"]["xaxis"]["range"] == list(optviz.get_surface("quadratic").x_range)
    assert not again.warning


def test_controls_stay_free_after_choosing_a_lesson():
    at = open_page({"lesson": "nesterov"})
    at.sidebar.select_slider(key="momentum").set_value(0.5).run()
    assert at.sidebar.select_slider(key="momentum").value == 0.5
    assert at.sidebar.selectbox(key="lesson").value == "nesterov"  # still the lesson's narrative


def test_presenter_mode_raises_the_chart_text_and_lines():
    normal = chart_spec(open_page({"lesson": "saddle"}))
    at = open_page({"lesson": "saddle", "present": "1"})
    spec = chart_spec(at)
    assert spec["layout"]["font"]["size"] >= 20
    assert spec["layout"]["legend"]["font"]["size"] >= 20
    lines = path_traces(spec["data"])
    assert min(t["line"]["width"] for t in lines) >= 4 > path_traces(normal["data"])[0]["line"]["width"]
    assert at.sidebar.toggle(key="presenter").value is True
    # The narrative sits beside the chart, large.
    assert any("1.25rem" in m.value and html.escape(LESSONS["saddle"].text["en"].title) in m.value for m in at.markdown)
    # And the toggle switches it off again.
    at.sidebar.toggle(key="presenter").set_value(False).run()
    assert chart_spec(at)["layout"]["font"]["size"] < 20


def _heads(spec) -> dict:
    return {t["name"]: np.array([array(t["x"])[0], array(t["y"])[0]])
            for t in spec["data"] if t.get("mode") == "markers" and "customdata" in t}


def test_step_moves_every_head_by_exactly_one_engine_step():
    at = open_page({"lesson": "adam-bias-correction"})
    s = LESSONS["adam-bias-correction"].state()
    race = optviz.race(s.surface, s.start, s.steps, s.race_spec(), surface_params=s.surface_params())
    names = i18n.OPTIMIZER_NAMES["en"]

    def assert_at(step):
        heads = _heads(chart_spec(at))
        for name, tr in race.items():
            np.testing.assert_array_equal(heads[names[name]], tr.path[step])
        assert any(f"Step {step} of {s.steps}" in m.value for m in at.markdown)

    assert_at(s.steps)  # the whole race first
    for expected, key in [(1, "stepper_step"), (2, "stepper_step"), (3, "stepper_step"), (2, "stepper_back"),
                          (12, "stepper_ten"), (0, "stepper_first"), (1, "stepper_step")]:
        at.button(key=key).click().run()
        assert not at.exception
        assert_at(expected)
    at.button(key="stepper_last").click().run()
    assert_at(s.steps)


def test_inspector_numbers_are_the_engines_state():
    at = open_page({"lesson": "adagrad-stalls"})
    for _ in range(3):
        at.button(key="stepper_step").click().run()
    s = LESSONS["adagrad-stalls"].state()
    race = optviz.race(s.surface, s.start, s.steps, s.race_spec())
    table = at.dataframe[0].value
    for name, column in [("adagrad", "Adagrad"), ("rmsprop", "RMSprop")]:
        tr = race[name]
        assert float(table.loc["accumulator (x)" if name == "adagrad" else "velocity (x)", column]) == pytest.approx(
            float(tr.state["accumulator" if name == "adagrad" else "velocity"][4, 0]), rel=1e-3)
        assert float(table.loc["∂f/∂x", column]) == pytest.approx(float(tr.gradient[3, 0]), rel=1e-3)
        delta = tr.path[4] - tr.path[3]
        assert float(table.loc["|Δy| / |∂f/∂y|", column]) == pytest.approx(abs(delta[1] / tr.gradient[3, 1]), rel=1e-3)
    # Adagrad's effective step shrinks from step to step (the point of the lesson).
    first = float(table.loc["|Δx| / |∂f/∂x|", "Adagrad"])
    for _ in range(10):
        at.button(key="stepper_step").click().run()
    assert float(at.dataframe[0].value.loc["|Δx| / |∂f/∂x|", "Adagrad"]) < first
    # Arrows are drawn at the inspected step: an update arrow ends at the next point.
    spec = chart_spec(at)
    ends = {(round(a["x"], 4), round(a["y"], 4)) for a in spec["layout"]["annotations"] if "ax" in a}
    nxt = race["adagrad"].path[14]
    assert (round(float(nxt[0]), 4), round(float(nxt[1]), 4)) in ends


def _fit(lesson_id, **changes):
    from optviz.page.caches import race_of  # the page's own call

    state = replace(LESSONS[lesson_id].state(), **changes)
    return state, race_of(state)


def test_data_lessons_show_what_they_say():
    # Batch size 1 shakes near the minimum; the full batch takes one smooth step an epoch.
    state, noisy = _fit("batch-size-noise")
    sgd = noisy["sgd"]
    assert len(sgd.path) == 1 + 3 * 50 and sgd.distance_to_minimum() < 0.5

    def distances(path):
        return np.linalg.norm(path - np.array(sgd.minima[0]), axis=1)

    assert np.sum(np.diff(distances(sgd.path[-50:])) > 0) >= 10  # often away from the minimum
    _, full = _fit("batch-size-noise", batch_size=50, epochs=30)
    assert len(full["sgd"].path) == 31
    assert np.all(np.diff(distances(full["sgd"].path)) < 0)  # every step closer
    # Raw inputs: SGD crawls at its largest stable rate and diverges at 0.5; standardized,
    # 0.5 reaches the minimum.
    state, raw = _fit("standardize-inputs")
    assert raw["sgd"].distance_to_minimum() > 1.0
    _, fast_raw = _fit("standardize-inputs", learning_rate=0.5)
    assert fast_raw["sgd"].diverged_at is not None
    start = data_surface("data_line", True).default_start
    _, fast = _fit("standardize-inputs", learning_rate=0.5, standardize=True, start=start)
    assert fast["sgd"].distance_to_minimum() < 1e-3
    # The logistic plateau: a high loss and a small gradient at the start; Adam leaves it, SGD lags.
    _, plateau = _fit("logistic-plateau")
    assert plateau["sgd"].loss[0] > 8 and np.linalg.norm(plateau["sgd"].gradient[0]) < 0.2
    assert plateau["adam"].final_loss < plateau["sgd"].final_loss - 0.1


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('id = "saddle"\nsurface = "saddle"', 'id = "saddle"\nsurface = "saddle"\nbatch_size = 4'),
     "lesson 'saddle': `batch_size`"),
    (lambda t: t.replace("batch_size = 1\nepochs = 3", "batch_size = 1\nepochs = 300"),
     "lesson 'batch-size-noise': `epochs`"),
    (lambda t: t.replace("batch_size = 1\nepochs = 3", "batch_size = 0\nepochs = 3"),
     "lesson 'batch-size-noise': `batch_size`"),
    (lambda t: t.replace('surface = "data_line"\nstandardize = true', 'surface = "data_line"\nstandardize = 1'),
     "lesson 'batch-size-noise': `standardize`"),
])
def test_data_lesson_mistakes_name_the_field(edit, message):
    with pytest.raises(ValueError, match=message):
        parse_lessons(edit(LESSONS_FILE.read_text(encoding="utf-8")))
