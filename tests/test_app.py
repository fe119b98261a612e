"""The page, headless (Streamlit's AppTest): what a user sees and what a link restores."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    APP,
    array,
    block_markup,
    chart_message,
    chart_spec,
    charts,
    component,
    elements,
    image_box,
    level_line_offsets,
    level_lines_image,
    open_page,
    paths,
)
from streamlit.testing.v1 import AppTest

import optviz
from optviz import i18n
from optviz.bounds import LEARNING_RATES, MOMENTA
from optviz.page.markdown_text import code_text, plain_text

EN = i18n.OPTIMIZER_NAMES["en"]


@pytest.fixture(scope="module")
def page() -> AppTest:
    return open_page()


def test_six_optimizers_race_on_rosenbrock_by_default(page):
    spec = chart_spec(page)
    drawn = paths(spec)
    assert set(drawn) == {EN[n] for n in optviz.ARTICLE_OPTIMIZERS}
    assert len(spec["frames"]) >= 20  # animated
    buttons = [b["label"] for menu in spec["layout"]["updatemenus"] for b in menu["buttons"]]
    assert "▶ Play" in buttons and "❚❚ Pause" in buttons and "2×" in buttons
    assert spec["layout"]["sliders"][0]["steps"][-1]["label"] == "500"
    (bar,) = [t["marker"]["colorbar"] for t in spec["data"] if "colorbar" in t.get("marker", {})]
    assert bar["ticktext"][0] == "0.001"  # the surface's colour bar, on log levels
    assert spec["layout"]["images"][0]["source"].startswith("data:image/png")  # its bands
    assert not page.warning
    # The minimum is marked.
    stars = [t for t in spec["data"] if t.get("name") == "minimum"]
    assert stars and stars[0]["x"] == [1.0] and stars[0]["y"] == [1.0]


def test_drawn_paths_are_the_engines(page):
    spec = chart_spec(page)
    state_paths = paths(spec)
    params = {k: v for k, v in page.query_params.items()}
    own = {n: float(params[f"{n}.lr"]) for n in optviz.ARTICLE_OPTIMIZERS if f"{n}.lr" in params}
    lr, mom = float(params["lr"]), float(params["mom"])
    for name in optviz.ARTICLE_OPTIMIZERS:
        hp = {"learning_rate": own.get(name, lr)}
        if name in ("sgd", "nesterov", "rmsprop"):
            hp["momentum"] = float(params.get(f"{name}.momentum", mom))
        tr = optviz.simulate(name, "rosenbrock", (-1.5, 2.0), 500, **hp)
        drawn = state_paths[EN[name]]
        np.testing.assert_array_equal(drawn[-1], tr.path[-1])
        np.testing.assert_array_equal(drawn[0], tr.path[0])
        # Every drawn point is a point of the engine's path, in order.
        idx = [int(np.flatnonzero((tr.path == p).all(axis=1))[0]) for p in drawn]
        assert idx == sorted(idx)


def _signature(at) -> bytes:
    spec = chart_spec(at)
    parts = [str(spec["layout"]["xaxis"]["range"]).encode()]
    for trace in spec["data"]:
        for key in ("x", "y", "z"):
            if key in trace:
                parts.append(array(trace[key]).tobytes())
    return b"".join(parts)


CONTROLS = [
    ("surface", lambda at: at.sidebar.selectbox(key="surface").set_value("himmelblau")),
    ("preset", lambda at: at.sidebar.selectbox(key="preset").set_value("article")),
    ("optimizers", lambda at: at.sidebar.multiselect(key="optimizers").set_value(["adam", "sgd"])),
    ("learning rate", lambda at: at.sidebar.select_slider(key="lr").set_value(0.01)),
    ("momentum", lambda at: at.sidebar.select_slider(key="momentum").set_value(0.5)),
    ("steps", lambda at: at.sidebar.slider(key="steps").set_value(200)),
    ("start x", lambda at: at.sidebar.number_input(key="x0").set_value(-1.0)),
    ("start y", lambda at: at.sidebar.number_input(key="y0").set_value(1.0)),
    ("noise", lambda at: at.sidebar.slider(key="noise").set_value(2.0)),
    ("own learning rate", lambda at: (at.sidebar.checkbox(key="adagrad.own_lr").check().run(),
                                      at.sidebar.select_slider(key="adagrad.lr").set_value(0.01))),
    ("beta_1", lambda at: at.sidebar.number_input(key="adam.beta_1").set_value(0.5)),
    ("beta_2", lambda at: at.sidebar.number_input(key="adamax.beta_2").set_value(0.9)),
    ("rho", lambda at: at.sidebar.number_input(key="rmsprop.rho").set_value(0.5)),
    ("epsilon", lambda at: at.sidebar.number_input(key="adagrad.epsilon").set_value(0.5)),
    ("initial_accumulator_value", lambda at: at.sidebar.number_input(key="adagrad.initial_accumulator_value")
     .set_value(5.0)),
    ("centered", lambda at: at.sidebar.checkbox(key="rmsprop.centered").check()),
    ("amsgrad", lambda at: at.sidebar.checkbox(key="adam.amsgrad").check()),
    ("own momentum", lambda at: at.sidebar.checkbox(key="rmsprop.own_momentum").uncheck()),
]


@pytest.mark.parametrize("label,change", CONTROLS, ids=[c[0] for c in CONTROLS])
def test_each_control_changes_the_picture(label, change):
    at = open_page()
    before = _signature(at)
    change(at)
    at.run()
    assert not at.exception, at.exception
    assert _signature(at) != before, f"moving {label} left the chart as it was"


def test_kappa_and_seed_change_the_picture():
    at = open_page({"surface": "quadratic", "noise": "1"})
    before = _signature(at)
    at.sidebar.select_slider(key="kappa").set_value(50.0).run()
    after_kappa = _signature(at)
    at.sidebar.number_input(key="seed").set_value(7).run()
    assert before != after_kappa != _signature(at)


def test_reset_start_restores_the_surfaces_start():
    at = open_page()
    at.sidebar.number_input(key="x0").set_value(0.5).run()
    at.sidebar.button(key="reset_start").click().run()
    assert at.sidebar.number_input(key="x0").value == -1.5
    assert paths(chart_spec(at))["Adam"][0].tolist() == [-1.5, 2.0]


def test_widgets_keep_their_values_across_reruns():
    at = open_page()
    at.sidebar.select_slider(key="lr").set_value(0.01).run()
    at.sidebar.slider(key="steps").set_value(300).run()
    at.sidebar.select_slider(key="momentum").set_value(0.5).run()
    assert at.sidebar.select_slider(key="lr").value == 0.01
    assert at.sidebar.slider(key="steps").value == 300
    assert at.query_params["lr"] == ["0.01"] or at.query_params["lr"] == "0.01"


def test_a_link_opened_afresh_restores_the_same_paths():
    at = open_page()
    at.sidebar.selectbox(key="surface").set_value("beale").run()
    at.sidebar.multiselect(key="optimizers").set_value(["adam", "rmsprop", "nesterov"]).run()
    at.sidebar.select_slider(key="momentum").set_value(0.7).run()
    at.sidebar.number_input(key="adam.beta_1").set_value(0.8).run()
    at.sidebar.checkbox(key="rmsprop.centered").check().run()
    at.sidebar.radio(key="lang").set_value("ko").run()
    link = {k: v for k, v in at.query_params.items()}
    fresh = open_page(link)
    assert not fresh.warning
    assert _signature(fresh) == _signature(at)
    assert fresh.sidebar.radio(key="lang").value == "ko"
    assert fresh.sidebar.number_input(key="adam.beta_1").value == pytest.approx(0.8)


@pytest.mark.parametrize(
    "key,value,widget,default",
    [
        ("lr", "abc", ("select_slider", "lr"), None),
        ("lr", "1e9", ("select_slider", "lr"), None),
        ("surface", "everest", ("selectbox", "surface"), "rosenbrock"),
        ("steps", "-5", ("slider", "steps"), 500),
        ("steps", "nan", ("slider", "steps"), 500),
        ("x", "inf", ("number_input", "x0"), -1.5),
        ("opt", "sgd,__import__('os')", ("multiselect", "optimizers"), None),
        ("mom", "2", ("select_slider", "momentum"), 0.9),
        ("adam.beta_1", "1", ("number_input", "adam.beta_1"), 0.9),
        ("lang", "fr", ("radio", "lang"), "en"),
        ("seed", "-1", ("number_input", "seed"), 0),
    ],
)
def test_bad_url_values_warn_and_fall_back(key, value, widget, default):
    at = open_page({key: value})
    assert at.warning, "no warning shown"
    assert any(key in w.value for w in at.warning)
    assert charts(at), "no chart"
    kind, widget_key = widget
    shown = getattr(at.sidebar, kind)(key=widget_key).value
    if default is not None:
        assert shown == default
    # The warning lasts for the opening run only.
    at.sidebar.select_slider(key="momentum").set_value(0.5).run()
    assert not any(f"`{key}=" in w.value for w in at.warning)


def test_every_noise_a_link_or_lesson_may_set_fits_the_noise_slider():
    """The Rastrigin lesson says "try 30": a link with noise=30 (and the largest the URL takes)
    opens with that noise on the slider and draws, where the slider once stopped at 20 and the
    page crashed (found by the hostile-link property test)."""
    from optviz.bounds import MAX_NOISE
    for noise in (30.0, MAX_NOISE):
        at = open_page({"surface": "rastrigin", "noise": f"{noise:g}", "opt": "sgd"})
        assert not at.exception, at.exception
        assert at.sidebar.slider(key="noise").value == noise
        assert charts(at)


def test_unknown_url_keys_are_ignored_with_a_note():
    at = open_page({"evil": "<script>", "surface": "saddle"})
    assert any("evil" in w.value for w in at.warning)
    assert at.sidebar.selectbox(key="surface").value == "saddle"


@pytest.mark.parametrize(
    "query,escaped",
    [
        ({"x\n# Heading": "1"}, "`x\\n# Heading`"),
        ({"surface": "saddle\n![img](http://x/y.png)"}, "=saddle\\n![img](http://x/y.png)`"),
        ({"surface": "saddle\n\n![img](http://x/y.png)"}, "=saddle\\n\\n![img](http://x/y.png)`"),
        ({"surface": "saddle\r\n\r\n[link](http://x/)"}, "=saddle\\r\\n\\r\\n[link](http://x/)`"),
        ({"lesson": "a\u2028# Heading"}, "=a\\u2028# Heading`"),
        ({"surface": "custom", "f": "x**2\n# Heading"}, "=x**2\\n# Heading`"),
    ],
    ids=["key", "value-image", "value-paragraph-image", "value-paragraph-link", "lesson-separator", "formula"],
)
def test_a_line_break_in_a_link_stays_inside_the_warning_s_code_span(query, escaped):
    """A line break in the code span that quotes a link's key or value let the next line be
    Markdown: a heading, or after a blank line a link or image of the link's choosing."""
    at = open_page(query, expanded=False)
    warnings = [w.value for w in at.warning]
    assert any(escaped in w for w in warnings), warnings
    for text in warnings:
        assert not block_markup(text), text


def test_code_and_plain_text_write_every_control_character_out():
    for char in ("\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"):
        for quoted in (code_text(f"a{char}# b"), plain_text(f"a{char}# b")):
            assert char not in quoted and "\\" in quoted
    assert code_text("a\u2028b") == "a\\u2028b" and code_text("a`b") == "a'b"


def _view(at) -> list:
    spec = chart_spec(at)
    return [*spec["layout"]["xaxis"]["range"], *spec["layout"]["yaxis"]["range"]]


def test_a_zoomed_view_stays_through_slider_moves_until_reset():
    """A zoom (Box Select on the chart, or ?view= in a link) is part of the page's state: the
    surface is redrawn for that box, a slider move keeps it (each rerun mounts a new chart,
    where Plotly's own zoom was lost), the link carries it, and "Whole surface" or another
    surface gives the whole box back."""
    view = [0.3, 1.3, 0.1, 1.4]
    at = open_page({"view": "0.3,1.3,0.1,1.4"}, expanded=False)
    assert not at.warning
    assert _view(at) == view
    spec = chart_spec(at)
    for image in spec["layout"]["images"]:  # the bands and the lines, over the view only
        np.testing.assert_allclose(image_box(image), view, atol=1e-9)
    zoomed = optviz.get_surface("rosenbrock").zoomed(view[:2], view[2:])
    off = level_line_offsets(zoomed, level_lines_image(spec))  # this box's own levels, not the whole box's
    assert len(off) > 100 and np.median(off) < 0.05
    drawn = paths(spec)["Adam"]
    assert ((drawn[:, 0] < 0.3) | (drawn[:, 1] > 1.4)).any()  # the paths are whole; the chart shows a part

    at.sidebar.select_slider(key="lr").set_value(0.0316).run()
    at.sidebar.select_slider(key="momentum").set_value(0.5).run()
    assert _view(at) == view
    assert at.query_params["view"] == "0.3,1.3,0.1,1.4"
    assert _signature(open_page(dict(at.query_params.items()), expanded=False)) == _signature(at)

    at.button(key="reset_view").click().run()
    assert _view(at) == [-2.0, 2.0, -1.0, 3.0] and "view" not in at.query_params

    at = open_page({"view": "0.3,1.3,0.1,1.4"}, expanded=False)
    at.sidebar.selectbox(key="surface").set_value("himmelblau").run()
    assert _view(at) == [-5.0, 5.0, -5.0, 5.0] and "view" not in at.query_params


def test_a_drawn_box_becomes_a_view_inside_the_surface():
    from optviz.bounds import MIN_VIEW
    from optviz.state import zoomed_view
    rosenbrock = optviz.get_surface("rosenbrock")  # x in [-2, 2], y in [-1, 3]
    assert zoomed_view(rosenbrock, [1.2, 0.5], [1.5, 0.3]) == (0.5, 1.2, 0.3, 1.5)  # any corner order
    assert zoomed_view(rosenbrock, [1.0, 9.0], [-7.0, 0.5]) == (1.0, 2.0, -1.0, 0.5)  # clipped to the box
    assert zoomed_view(rosenbrock, [-3, 3], [-2, 4]) is None  # all of it: no zoom
    assert zoomed_view(rosenbrock, [0.123456789, 1.0], [0.5, 0.6]) == (0.1235, 1.0, 0.5, 0.6)  # short links
    x0, x1, y0, y1 = zoomed_view(rosenbrock, [1.0, 1.0], [2.99999, 2.99999])  # a click-sized box
    assert x1 - x0 == pytest.approx(4 * MIN_VIEW) and (x0 + x1) / 2 == pytest.approx(1.0)
    assert y1 == 3.0 and y1 - y0 == pytest.approx(4 * MIN_VIEW)  # widened inside the box
    for xs, ys in [([5, 6], [0, 1]), ([0, float("nan")], [0, 1]), ([0, 1], [-9, -8])]:
        with pytest.raises(ValueError):
            zoomed_view(rosenbrock, xs, ys)


@pytest.mark.parametrize("value", ["5,6,5,6", "1,2,3", "nan,1,0,1", "1,0,a,1"])
def test_a_bad_view_in_a_link_warns_and_shows_the_whole_surface(value):
    at = open_page({"view": value}, expanded=False)
    assert any("view" in w.value for w in at.warning)
    assert _view(at) == [-2.0, 2.0, -1.0, 3.0]


def test_diverging_optimizer_is_marked_with_its_step():
    at = open_page({"opt": "sgd,adam", "lr": "0.1", "mom": "0"})
    spec = chart_spec(at)
    notes = " ".join(a["text"] for a in spec["layout"]["annotations"])
    tr = optviz.simulate("sgd", "rosenbrock", None, 500, learning_rate=0.1, momentum=0.0)
    assert f"SGD diverged at step {tr.diverged_at}" in notes
    assert any("diverged" in w.value for w in at.warning)


def test_presenter_mode_marks_divergence_on_the_chart_only():
    """On a projector the banner above the chart would push its step slider off a 720-line
    screen; the chart's own mark says it there."""
    at = open_page({"opt": "sgd,adam", "lr": "0.1", "mom": "0", "present": "1"})
    notes = " ".join(a["text"] for a in chart_spec(at)["layout"]["annotations"])
    assert "SGD diverged at step" in notes
    assert not any("diverged" in w.value for w in at.warning)


LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
KERAS_NAMES = {h.name for o in optviz.optimizers.ALL_OPTIMIZERS.values() for h in (*o.hparams, *o.options)}


def _latin_left(label: str) -> list[str]:
    """Latin words a Korean label still shows, leaving out Keras argument names (code)
    and the optimizers' own names in parentheses, e.g. 아담 (Adam)."""
    label = re.sub(r"\([^)]*\)", "", label)
    label = re.sub(r"`[^`]*`", "", label)
    for name in sorted(KERAS_NAMES, key=len, reverse=True):
        label = label.replace(name, "")
    return LATIN_WORD.findall(label)


def test_korean_page_has_no_english_left_in_the_controls():
    at = open_page({"lang": "ko"})
    labels = []
    for kind in ("selectbox", "multiselect", "select_slider", "slider", "number_input", "checkbox", "radio", "button"):
        for widget in getattr(at.sidebar, kind):
            labels.append(widget.label)
            for option in getattr(widget, "options", []) or []:
                if kind in ("selectbox", "multiselect"):
                    labels.append(str(option))
    for expander in at.sidebar.expander:
        labels.append(expander.label)
    assert len(labels) > 40
    leftovers = {label: _latin_left(label) for label in labels if _latin_left(label)}
    assert not leftovers, leftovers
    hangul = [label for label in labels if re.search(r"[가-힣]", label)]
    assert len(hangul) >= len(labels) - 2  # every label but the language names themselves
    # The chart's own text is Korean too.
    spec = chart_spec(at)
    assert "▶ 재생" in [b["label"] for b in spec["layout"]["updatemenus"][0]["buttons"]]
    assert charts(at)
    assert "스텝" in spec["layout"]["sliders"][0]["currentvalue"]["prefix"]


def open_tab(at: AppTest, label_key: str) -> AppTest:
    at.session_state["tab"] = label_key.removeprefix("tab_")  # (its options; the labels are the language's)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_link_opens_the_tab_it_names_and_the_open_tab_goes_into_the_link():
    """A teacher's link to the update rules opens on them; the open tab is in the address bar
    (the race, the default, stays out of it) and a link of each tab opens that tab."""
    at = open_page({"opt": "adam", "tab": "rules"}, expanded=False)
    assert "keras.optimizers.Adam(learning_rate=" in at.code[0].value
    assert not charts(at)  # only the open tab's content is drawn
    assert at.query_params["tab"] in ("rules", ["rules"])
    at = open_tab(at, "tab_3d")
    assert at.query_params["tab"] in ("3d", ["3d"])
    assert chart_spec(at)["data"][0]["type"] == "surface"
    link = {k: v for k, v in at.query_params.items()}
    again = open_page(link, expanded=False)
    assert again.session_state["tab"] == "3d" and chart_spec(again)["data"][0]["type"] == "surface"
    at = open_tab(at, "tab_race")
    assert "tab" not in at.query_params
    assert [t["name"] for t in chart_spec(at)["data"] if t.get("mode") == "lines"] == ["Adam"]


@pytest.mark.parametrize("value", ["4d", "", "race;rules"])
def test_a_bad_tab_in_a_link_warns_and_opens_the_race(value):
    at = open_page({"tab": value}, expanded=False)
    assert any("tab" in w.value for w in at.warning)
    assert at.session_state["tab"] == "race"
    assert any(t.get("mode") == "lines" for t in chart_spec(at)["data"])


def test_the_article_preset_prints_the_articles_keras_code():
    at = open_tab(open_page({"preset": "article"}), "tab_rules")
    code_text = "\n".join(c.value for c in at.code)
    for snippet in [
        "keras.optimizers.SGD(learning_rate=0.001, momentum=0.9)",
        "keras.optimizers.Adagrad(learning_rate=0.01)",
        "keras.optimizers.RMSprop(learning_rate=0.001)",
        "keras.optimizers.Adam(learning_rate=0.001)",
        "keras.optimizers.Adamax(learning_rate=0.001)",
        "keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)",
    ]:
        assert snippet in code_text, (snippet, code_text)
    assert len(at.latex) >= 7  # the surface and each optimizer's rule
    assert any("Adagrad" in m.value for m in at.markdown)


def test_code_follows_the_sliders():
    at = open_page({"opt": "adam", "lr": "0.01"})
    at.sidebar.number_input(key="adam.beta_1").set_value(0.8).run()
    at.sidebar.checkbox(key="adam.amsgrad").check().run()
    at = open_tab(at, "tab_rules")
    assert "keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8, amsgrad=True)" in at.code[0].value


def test_3d_tab_draws_the_paths_on_the_surface():
    at = open_tab(open_page({"opt": "adam,sgd"}), "tab_3d")
    spec = chart_spec(at)
    assert spec["data"][0]["type"] == "surface"
    lines = [t for t in spec["data"] if t["type"] == "scatter3d" and t.get("showlegend", True)]
    assert [t["name"] for t in lines] == ["Adam", "SGD"]  # one legend entry each (head, shadow grouped)


def test_empty_optimizer_choice_says_so():
    at = open_page()
    at.sidebar.multiselect(key="optimizers").set_value([]).run()
    assert not at.exception
    assert at.info and "optimizer" in at.info[0].value.lower()


def test_tuning_tab_heat_map_is_the_engines_sweep():
    at = open_tab(open_page({"opt": "sgd,adam", "steps": "200"}), "tab_tune")
    spec = chart_spec(at)
    heat = spec["data"][0]
    assert heat["type"] == "heatmap"
    z = array(heat["z"])
    from optviz.bounds import LEARNING_RATES, MOMENTA
    assert z.shape == (len(MOMENTA), len(LEARNING_RATES)) and z.size >= 64 * 64
    params = {k: v for k, v in at.query_params.items()}
    result = optviz.sweep("sgd", "rosenbrock", None, 200, LEARNING_RATES, MOMENTA, tolerance=1e-3)
    expected = np.where(result.diverged, np.nan, np.log10(np.maximum(result.final_loss, 1e-12))).T
    np.testing.assert_allclose(z, expected.astype(np.float32), rtol=1e-5, equal_nan=True)
    cells = [d for d in spec["data"] if d.get("name") == "cells"][0]
    assert array(cells["x"]).size == z.size  # every cell takes a click
    assert params["opt"] == "sgd,adam"
    # The learning-rate curve has one line per optimizer.
    curve = chart_spec(at, 1)
    assert [d["name"] for d in curve["data"]] == ["SGD", "Adam"]


@pytest.mark.parametrize("name", list(optviz.ALL_OPTIMIZERS))
def test_every_optimizer_alone_on_the_tuning_tab_draws_a_map_and_a_curve(name):
    """Each optimizer's map spans its own second hyperparameter, named on the axis and
    inside its bounds (Lion's beta_1 > 0), and the learning-rate curve is drawn; the map's
    cells are the engine's runs."""
    from optviz.bounds import LEARNING_RATES, TUNING_GRIDS
    opt = optviz.ALL_OPTIMIZERS[name]
    at = open_page({"opt": name, "steps": "20", "tab": "tune"}, expanded=False)
    assert not at.error, [e.value for e in at.error]
    heat_map, curve = chart_spec(at, 0), chart_spec(at, 1)
    axis = opt.tuning_axis
    assert heat_map["layout"]["yaxis"]["title"]["text"] == axis
    values = [v for v in TUNING_GRIDS[axis] if opt.hparam(axis).allows(v)]
    assert len(values) >= 50 and all(opt.hparam(axis).allows(v) for v in values)
    z = array(heat_map["data"][0]["z"])
    assert z.shape == (len(values), len(LEARNING_RATES))
    from optviz.url import parse_query
    state, _ = parse_query({"opt": name, "steps": "20"})
    fixed = {k: v for k, v in state.hyperparameters(name).items() if k not in ("learning_rate", axis)}
    check = optviz.sweep(name, "rosenbrock", state.start, 20, LEARNING_RATES[::40], values[::25], axis=axis,
                         tolerance=1e-3, **fixed)
    gap = np.where(check.diverged, np.nan, np.log10(np.maximum(check.final_loss, 1e-12))).T
    np.testing.assert_allclose(z[::25, ::40], gap.astype(np.float32), rtol=1e-5, equal_nan=True)
    assert [d["name"] for d in curve["data"]] == [i18n.OPTIMIZER_SHORT_NAMES["en"][name]]
    assert np.isfinite(array(curve["data"][0]["y"])).any()


def test_a_costly_formula_gets_a_thinner_map_and_the_page_says_so():
    """A typed formula with more than 4 costly operations: every other cell of the map each
    way (a quarter of the work), said above it; the cells it keeps are the engine's runs."""
    from optviz.bounds import LEARNING_RATES, MOMENTA
    formula = "tanh(sinh(x*y)) + sin(cos(x)) + exp(-y**2)"  # 5 costly operations
    at = open_page({"opt": "adam", "steps": "20", "tab": "tune", "surface": "custom", "f": formula},
                   expanded=False)
    assert not at.error
    assert any("every other cell" in c.value for c in at.caption), [c.value for c in at.caption]
    z = array(chart_spec(at, 0)["data"][0]["z"])
    assert z.shape == (len(MOMENTA[::2]), len(LEARNING_RATES[::2]))
    from optviz.url import parse_query
    state, _ = parse_query({"surface": "custom", "f": formula, "opt": "adam", "steps": "20"})
    check = optviz.sweep("adam", state.surface_object(), state.start, 20, LEARNING_RATES[::2][::20],
                         MOMENTA[::2][::10], tolerance=1e-3)
    np.testing.assert_allclose(z[::10, ::20], np.where(check.diverged, np.nan, check.final_loss).T.astype(np.float32),
                               rtol=1e-5, equal_nan=True)
    plain = open_page({"opt": "adam", "steps": "20", "tab": "tune", "surface": "custom", "f": "x**2 + sin(y)"},
                      expanded=False)
    assert array(chart_spec(plain, 0)["data"][0]["z"]).shape == (len(MOMENTA), len(LEARNING_RATES))


def test_a_clicked_cell_reaches_the_race():
    from optviz.state import with_cell
    from optviz.url import parse_query
    state, _ = parse_query({"opt": "sgd,adam"})
    clicked = with_cell(state, "adam", 0.0316, 0.5)
    assert clicked.hyperparameters("adam")["learning_rate"] == 0.0316
    assert clicked.hyperparameters("adam")["beta_1"] == 0.5
    clicked = with_cell(clicked, "nesterov", 0.001, 0.97)
    assert "nesterov" in clicked.optimizers and clicked.hyperparameters("nesterov")["momentum"] == 0.97
    # Other axes: the nearest value on that optimizer's own grid (Adagrad's is log-spaced;
    # Lion's beta_1 must stay above 0)
    assert with_cell(state, "adagrad", 0.01, 0.0013).hyperparameters("adagrad")["initial_accumulator_value"] \
        == 0.00126
    assert with_cell(state, "lion", 0.01, 0.0).hyperparameters("lion")["beta_1"] == 0.01
    assert with_cell(state, "ftrl", 0.01, -0.305).hyperparameters("ftrl")["learning_rate_power"] == -0.3
    # and the page draws the race with it: open its link
    from optviz.url import to_query
    at = open_page(to_query(clicked))
    race = optviz.race("rosenbrock", state.start, state.steps, clicked.race_spec())
    np.testing.assert_array_equal(paths(chart_spec(at))["Adam"][-1], race["adam"].path[-1])


def test_a_typed_formula_draws_its_contour_and_goes_into_the_link():
    at = open_page()
    at.sidebar.selectbox(key="surface").set_value("custom").run()
    at.sidebar.text_input(key="formula").input("(x - 1)**2 + 4*(y + 0.5)**2").run()
    assert not at.exception and not at.error
    spec = chart_spec(at)
    from optviz.custom import custom_surface
    surface = custom_surface("(x - 1)**2 + 4*(y + 0.5)**2")
    off = level_line_offsets(surface, level_lines_image(spec))  # the lines drawn are this formula's contours
    assert len(off) > 100 and np.median(off) < 0.05 and np.quantile(off, 0.95) < 0.35
    stars = [t for t in spec["data"] if t.get("name") == "minimum"]
    assert stars and stars[0]["x"][0] == pytest.approx(1.0, abs=0.05)
    link = {k: v for k, v in at.query_params.items()}
    assert link["surface"] == "custom" and link["f"] == "(x - 1)**2 + 4*(y + 0.5)**2"
    assert _signature(open_page(link)) == _signature(at)


def test_a_hostile_typed_formula_is_refused_and_runs_nothing():
    at = open_page({"surface": "custom"})
    at.sidebar.text_input(key="formula").input("__import__('os').system('touch /tmp/optviz-pwned')").run()
    assert not at.exception
    assert at.error and "not allowed" in at.error[0].value
    assert not Path("/tmp/optviz-pwned").exists()
    at.sidebar.text_input(key="formula").input("sin(x) + y**2").run()  # and the page recovers
    assert not at.error and charts(at)


def test_a_start_where_the_loss_is_not_finite_falls_back_to_the_surface_s_start():
    # log(x) at x = -1 is NaN: no path can begin there. A link (or a click) that puts the
    # start there used to crash the page (an IndexError on the empty paths).
    at = open_page({"surface": "custom", "f": "log(x) + y**2", "x": "-1", "y": "1"})
    from optviz.custom import custom_surface
    default = custom_surface("log(x) + y**2").default_start
    assert any("not a finite number at (-1, 1)" in w.value for w in at.warning)
    assert (at.session_state["x0"], at.session_state["y0"]) == pytest.approx(default)
    assert float(at.query_params["x"]) == pytest.approx(default[0], abs=1e-3)
    for path in paths(chart_spec(at)).values():
        assert np.allclose(path[0], default, atol=1e-6) and np.all(np.isfinite(path))


def test_a_typed_formula_s_table_does_not_claim_a_tolerance_is_never_reached():
    # Its minimum value is not known (an estimate is not a tolerance): "never" was wrong even
    # where the final loss was 0 at the minimum.
    steps_column = "Steps to ≤ 0.001"
    custom = open_page({"surface": "custom"}).get("table")[0].value
    assert set(custom[steps_column]) == {"unknown minimum"}
    known = open_page({"surface": "quadratic"}).get("table")[0].value
    assert "unknown minimum" not in set(known[steps_column]) and any(v.isdigit() for v in known[steps_column])


def test_exports_are_offered_and_the_gif_is_made_on_request():
    at = open_page({"opt": "adam,sgd", "steps": "100"})
    labels = [b.label for b in at.get("download_button")]
    assert "Interactive HTML (works offline)" in labels and "Paths as CSV" in labels
    at.button(key="export_gif").click().run()
    assert not at.exception
    assert "Download the GIF" in [b.label for b in at.get("download_button")]


def test_the_gif_shows_the_zoomed_view_and_a_new_view_needs_a_new_gif():
    import io

    from PIL import Image
    at = open_page({"opt": "adam,sgd", "steps": "100", "view": "0.3,1.3,0.1,1.4"})
    at.button(key="export_gif").click().run()
    (button,) = [b for b in at.get("download_button") if b.label == "Download the GIF"]
    zoomed = at.session_state["gif"][2]
    at.button(key="reset_view").click().run()
    assert "Download the GIF" not in [b.label for b in at.get("download_button")]  # it showed the zoom
    at.button(key="export_gif").click().run()
    whole = at.session_state["gif"][2]
    first = [np.asarray(Image.open(io.BytesIO(g)).convert("L"), np.int16) for g in (zoomed, whole)]
    assert first[0].shape == first[1].shape and np.abs(first[0] - first[1]).mean() > 5  # another picture


def test_all_fourteen_optimizers_with_a_schedule_and_clipping_race_on_the_page():
    import optviz.optimizers as opts
    query = {"opt": ",".join(opts.ALL_OPTIMIZERS), "sched": "CosineDecay", "sched.decay_steps": "200",
             "lion.clipnorm": "0.5", "adamw.weight_decay": "0.1", "steps": "100"}
    at = open_page(query)
    drawn = paths(chart_spec(at))
    assert set(drawn) == {i18n.OPTIMIZER_SHORT_NAMES["en"][n] for n in opts.ALL_OPTIMIZERS}
    state, problems = __import__("optviz.url", fromlist=["x"]).parse_query(query)
    assert not problems
    race = optviz.race("rosenbrock", state.start, 100, state.race_spec())
    for name, tr in race.items():
        np.testing.assert_array_equal(drawn[i18n.OPTIMIZER_SHORT_NAMES["en"][name]][-1], tr.path[-1])
    # The schedule really applies: Lion's rate follows the cosine from its own start.
    assert race["lion"].learning_rate[0] > race["lion"].learning_rate[-1]
    at = open_tab(at, "tab_rules")
    code = "\n".join(c.value for c in at.code)
    assert "keras.optimizers.Lion(learning_rate=keras.optimizers.schedules.CosineDecay(" in code
    assert "clipnorm=0.5" in code and "keras.optimizers.AdamW(" in code


def test_two_clipping_options_are_refused_clearly():
    """Keras takes one of clipnorm, clipvalue and global_clipnorm. Set in the optimizer's
    settings, a second one is an error that says so; in a link (found by the hostile-link
    property test: the page then drew no chart), the second is dropped with a warning."""
    at = open_page({"opt": "sgd", "sgd.clipnorm": "1"})
    assert not at.error and at.sidebar.number_input(key="sgd.clipnorm").value == 1.0
    at.sidebar.number_input(key="sgd.clipvalue").set_value(0.5).run()
    assert not at.exception
    assert at.error and "only one of" in at.error[0].value
    at = open_page({"opt": "sgd", "sgd.clipnorm": "1", "sgd.clipvalue": "0.5"})
    assert not at.exception and not at.error and charts(at)
    assert any("sgd.clipvalue" in w.value and "only one of" in w.value for w in at.warning)
    assert at.sidebar.number_input(key="sgd.clipnorm").value == 1.0
    assert at.sidebar.number_input(key="sgd.clipvalue").value == 0.0 and "sgd.clipvalue" not in at.query_params


def test_presenter_mode_tuning_and_3d_tabs_are_big_too():
    """The page hands presenter mode to the Tuning and 3D tabs' charts (20 px text), and the
    3D view is short enough for a 720-line projector."""
    for tab, keys in (("tab_tune", ("tune_chart", "lr_curve")), ("tab_3d", ("surface_3d",))):
        at = open_tab(open_page({"opt": "sgd,adam", "steps": "200", "present": "1"}), tab)
        assert len(charts(at)) == len(keys)  # the open tab's charts, in order
        for index, key in enumerate(keys):
            spec = chart_spec(at, index)
            assert spec["layout"]["font"]["size"] >= 20, key
            assert spec["layout"]["legend"]["font"]["size"] >= 20, key
        if tab == "tab_3d":
            assert spec["layout"]["height"] <= 560


def test_charts_are_drawn_as_wide_as_the_browser_said_and_junk_widths_are_ignored():
    """The browser reports its charts' widths (a script component); each figure then says its
    width, so the browser shows it at its first draw. The report is the browser's word: what
    is not a sane number of pixels is left out, and the chart is as before. The race and loss
    charts, the page's own elements, size themselves in the browser: their figures never say one."""
    at = open_page(expanded=False)
    assert [chart.type for chart in charts(at)] == ["bidi_component", "bidi_component"]  # race, loss
    at = open_tab(at, "tab_3d")
    assert "width" not in chart_spec(at, 0)["layout"]  # nothing reported yet: the container decides
    at.session_state["chart_widths"] = {"widths": {
        "surface_3d": 556.25, "race_chart": 700, "loss_chart": float("nan"), 7: 300, "tune_chart": 1e9}}
    at.run()
    assert not at.exception, at.exception
    assert chart_spec(at, 0)["layout"]["width"] == 556.25
    at.session_state["chart_widths"] = {"widths": {"surface_3d": "wide"}}
    at.run()
    assert not at.exception, at.exception
    assert "width" not in chart_spec(at, 0)["layout"]
    at.session_state["chart_widths"] = "not a report"
    at.run()
    assert not at.exception, at.exception
    assert "width" not in chart_spec(at, 0)["layout"]
    at = open_tab(at, "tab_race")
    assert all("width" not in chart_spec(at, i)["layout"] for i in (0, 1))


def test_the_race_chart_is_its_own_element_with_plotly_served_and_a_plotly_chart_without():
    """The race and loss charts are drawn by the page's own element (which moves their paths in
    place on a slider move) from the plotly.js that the installed plotly package ships, copied
    into the app's static folder; with static serving off (or that folder not writable) they
    are st.plotly_chart elements as before, with the same figures."""
    import plotly
    from streamlit import config

    at = open_page(expanded=False)
    race = charts(at)[0]
    assert race.type == "bidi_component"
    data = chart_message(race)
    assert data["src"] == f"./app/static/plotly-{plotly.__version__}.min.js"
    served = Path(APP).parent / "static" / f"plotly-{plotly.__version__}.min.js"
    assert served.read_bytes() == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    spec = chart_spec(at, 0)
    assert len(paths(spec)) == 6 and spec["frames"]

    config.set_option("server.enableStaticServing", False)
    try:
        fallback = open_page(expanded=False)
    finally:
        config.set_option("server.enableStaticServing", True)
    assert [chart.type for chart in charts(fallback)] == ["plotly_chart", "plotly_chart"]
    assert {k: v.tolist() for k, v in paths(chart_spec(fallback, 0)).items()} == \
        {k: v.tolist() for k, v in paths(spec).items()}


def test_the_packaged_script_runs_the_same_page_with_plotly_served_beside_it():
    """optviz/page/app.py (what `optviz serve` runs from an installed package) is the same page;
    Streamlit serves static/ beside the main script, so plotly.js is copied there."""
    import plotly

    script = Path(APP).parent / "optviz" / "page" / "app.py"
    at = AppTest.from_file(str(script), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    race = charts(at)[0]
    assert race.type == "bidi_component"
    assert chart_message(race)["src"] == f"./app/static/plotly-{plotly.__version__}.min.js"
    served = script.parent / "static" / f"plotly-{plotly.__version__}.min.js"
    assert served.read_bytes() == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert paths(chart_spec(at, 0)).keys() == paths(chart_spec(open_page(expanded=False), 0)).keys()


def race_previews(at) -> dict:
    """What the race tab's preview element was sent (optviz/page/tabs/race.py show_previews)."""
    (element,) = elements(at, lambda node: component(node, "optviz_race_preview"))
    return json.loads(element.proto.bytes)


@pytest.mark.parametrize("query, key, values", [
    ({}, "lr", LEARNING_RATES),  # the tuned preset: the shared rate moves Adagrad and Adamax
    ({"preset": "keras", "lr": "0.001", "mom": "0.5"}, "lr", LEARNING_RATES),  # all six share it
    ({"preset": "keras", "lr": "0.001", "mom": "0.5"}, "momentum", MOMENTA),
])
def test_a_slider_preview_is_the_figure_the_page_draws_after_that_move(query, key, values):
    """The race chart moves its paths to the next notch's the moment a slider moves, before the
    rerun (optviz/page/frontend/race_preview.js): what it was sent for each notch either side must be exactly the
    traces that the page's figure has once the slider is there, and the slider's own notch
    the traces it has now (the way back)."""
    at = open_page(query, expanded=False)
    sent = race_previews(at)
    base = chart_message(charts(at)[0])
    assert sent["chart"] == "race_chart" and sent["base"] == base["base"]
    here = values.index(at.sidebar.select_slider(key=key).value)
    previews = sent["sliders"][key]
    assert sorted(map(int, previews)) == [here - 1, here, here + 1]
    assert previews[str(here)]["data"] == [base["spec"]["data"][i] for i in previews[str(here)]["traces"]]
    for notch in (here - 1, here + 1):
        preview = previews[str(notch)]
        assert preview["traces"]  # some path moves
        moved = open_page(query, expanded=False)
        moved.sidebar.select_slider(key=key).set_value(values[notch]).run()
        after = chart_message(charts(moved)[0])
        assert after["base"] != base["base"]
        assert [after["spec"]["data"][i] for i in preview["traces"]] == preview["data"]
        unmoved = [i for i in range(len(after["spec"]["data"])) if i not in preview["traces"]]
        assert [after["spec"]["data"][i] for i in unmoved] == [base["spec"]["data"][i] for i in unmoved]


def test_no_preview_where_a_move_would_change_more_than_the_paths():
    """Momentum is no optimizer's when each one that takes it has its own: nothing to preview.
    A step shown (the step-through controls: arrows drawn at that step) previews nothing."""
    at = open_page({"opt": "adam,adagrad"}, expanded=False)
    assert "momentum" not in race_previews(at)["sliders"] and "lr" in race_previews(at)["sliders"]
    at.session_state["view_step"] = 10
    at.run()
    assert race_previews(at)["sliders"] == {}


def test_no_previews_while_another_visitors_run_is_in_progress():
    """The previews are ~10 ms of extra work a run: when a class moves its sliders at once, each
    rerun leaves them out rather than make everyone's later (bench/classroom.py)."""
    at = open_page({}, expanded=False)
    assert race_previews(at)["sliders"]
    from optviz.page.caches import runs_in_progress as runs  # (the one the page counts in: one per process)
    with runs:  # another visitor's run, in progress
        at.sidebar.select_slider(key="lr").set_value(LEARNING_RATES[0]).run()
        assert race_previews(at)["sliders"] == {}
    assert runs.count == 0
    at.sidebar.select_slider(key="lr").set_value(LEARNING_RATES[1]).run()
    assert "lr" in race_previews(at)["sliders"]


def count_calls(monkeypatch, module, name: str) -> list:
    """Each call of ``module.name`` from now on, recorded (and made as before)."""
    calls, made = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(a) or made(*a, **k))
    return calls


def test_a_class_on_the_same_settings_makes_the_previews_once_and_a_previewed_move_finds_its_race(monkeypatch):
    """Less work a rerun for a class: the previews of one setting are made once for every
    visitor on it (a second student opening the same page computes no race and builds no
    figure), and the notch a preview showed has its race made already, so moving there
    runs no race; a notch that no preview showed runs one."""
    import streamlit as st

    from optviz.page import caches

    query = {"preset": "keras", "lr": "0.001", "mom": "0.5", "surface": "quadratic"}
    st.cache_resource.clear()
    races = count_calls(monkeypatch, caches, "race_of")
    figs = count_calls(monkeypatch, caches, "race_figure")
    first = open_page(query, expanded=False)
    assert race_previews(first)["sliders"]["lr"] and len(races) >= 3 and figs  # its own race and the neighbours'
    races.clear(), figs.clear()
    second = open_page(query, expanded=False)
    assert race_previews(second)["sliders"] == race_previews(first)["sliders"]
    assert races == [] and figs == []
    here = LEARNING_RATES.index(second.sidebar.select_slider(key="lr").value)

    def raced(rate) -> int:  # races run for the page's own state at this rate (not its new neighbours')
        return sum(1 for (state,) in races if state.learning_rate == rate and state.momentum == 0.5)

    for notch, made_before in ((here + 1, True), (here + 9, False)):
        races.clear()
        second.sidebar.select_slider(key="lr").set_value(LEARNING_RATES[notch]).run()
        assert not second.exception and raced(LEARNING_RATES[notch]) == (0 if made_before else 1)


ROOT = Path(APP).parent
PY_SOURCES = [ROOT / "app.py", *sorted((ROOT / "optviz").rglob("*.py"))]
# What JavaScript or CSS looks like inside a Python string: it belongs in optviz/page/frontend/.
WEB_CODE = re.compile(r"<style|<script|export default function|addEventListener|document\.|window\.|"
                      r"=>\s*\{|\{[^{}]*;\s*\}|!important|@media|@container|\[data-testid=")


def test_no_javascript_or_css_in_python_strings():
    """The page's scripts and styles are real .js and .css files (optviz/page/frontend/),
    read from the package; no Python string literal holds one."""
    import ast

    found = []
    for path in PY_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and WEB_CODE.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "\n".join(found)
    frontend = ROOT / "optviz" / "page" / "frontend"
    assert {p.name for p in frontend.iterdir()} >= {"chart_widths.js", "race_chart.js", "race_preview.js",
                                                    "page.css", "presenter.css"}


def test_the_page_keeps_to_its_package():
    """``import optviz`` imports no Streamlit; only optviz/page/ (and the scripts) import the
    page, and nothing rebinds a module's names through ``global``."""
    import ast
    import subprocess
    import sys

    code = "import sys, optviz, optviz.engine, optviz.figures; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.stdout.strip() == "False", out.stderr
    for path in PY_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not [node for node in ast.walk(tree) if isinstance(node, ast.Global)], path
        if path.parent == ROOT or "page" in path.relative_to(ROOT).parts:
            continue
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                     and node.module for alias in node.names}
        assert not [m for m in imported if m.startswith(("optviz.page", "streamlit"))], path
