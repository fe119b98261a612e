"""The page on a data surface (headless AppTest): the fit the engine computes is the one drawn,
Batch size and Epochs move it, the link restores it, every tab works, Korean too."""

import numpy as np
import pytest
from helpers import array, chart_message, chart_spec, charts, open_page, paths

import optviz
from optviz import i18n
from optviz.models import DATA_SURFACES, data_surface
from optviz.state import PageState
from optviz.url import parse_query, to_query

EN = i18n.OPTIMIZER_NAMES["en"]


@pytest.fixture(scope="module")
def page():
    return open_page({"surface": "data_anscombe", "batch": "4", "epochs": "6"})


def fit_chart(at) -> dict:
    """The fit view's figure (the page's own chart element, as the race chart's)."""
    (index,) = [i for i, c in enumerate(charts(at))
                if c.type == "bidi_component" and chart_message(c)["key"] == "fit_chart"]
    return chart_spec(at, index)


def test_drawn_paths_are_model_fit_steps(page):
    params = dict(page.query_params)
    assert (params["batch"], params["epochs"]) == ("4", "6")
    surface = data_surface("data_anscombe")
    state, problems = parse_query(params)
    assert not problems
    race = optviz.fit_race("linear", surface.data.x, surface.data.y, state.race_spec(), batch_size=4, epochs=6,
                           start=state.start)
    drawn = paths(chart_spec(page))
    for name, tr in race.items():
        assert len(tr.path) == 1 + 6 * 3  # 11 points: batches of 4, 4, 3
        np.testing.assert_array_equal(drawn[EN[name]][-1], tr.path[-1])


def test_fit_view_draws_the_data_and_each_model_line(page):
    spec = fit_chart(page)
    data = data_surface("data_anscombe").data
    points = spec["data"][0]
    np.testing.assert_allclose(array(points["x"]), data.x[:, 0])
    lines = {t["name"]: t for t in spec["data"][1:]}
    assert set(lines) == {i18n.OPTIMIZER_SHORT_NAMES["en"][n] for n in optviz.ARTICLE_OPTIMIZERS}
    # Frames named by step as the race chart's are (its Play moves this view): each the models there.
    race_frames = [f["name"] for f in chart_spec(page)["frames"]]
    assert [f["name"] for f in spec["frames"]] == race_frames
    state, _ = parse_query(dict(page.query_params))
    race = optviz.fit_race("linear", data.x, data.y, state.race_spec(), batch_size=4, epochs=6, start=state.start)
    k = int(race_frames[len(race_frames) // 2])
    frame = next(f for f in spec["frames"] if f["name"] == str(k))
    w, b = race["adam"].path[k]
    adam = list(race).index("adam")
    np.testing.assert_allclose(array(frame["data"][adam]["y"]), array(frame["data"][adam]["x"]) * w + b, rtol=1e-5)


def test_moving_batch_size_changes_paths_and_fit_view():
    at = open_page({"surface": "data_anscombe", "batch": "4", "epochs": "6"}, expanded=False)
    before_paths, before_fit = paths(chart_spec(at)), fit_chart(at)
    (batch,) = [s for s in at.sidebar.select_slider if s.key == "batch"]
    batch.set_value(11).run()  # the full batch
    assert not at.exception
    assert dict(at.query_params)["batch"] == "11"
    after_paths, after_fit = paths(chart_spec(at)), fit_chart(at)
    name = EN["adam"]
    assert len(after_paths[name]) < len(before_paths[name])  # one step an epoch now
    assert not np.array_equal(after_paths[name][-1], before_paths[name][-1])
    assert array(after_fit["data"][1]["y"]).tolist() != array(before_fit["data"][1]["y"]).tolist()
    # Batch size 1 at 6 epochs is 66 steps: within the page's steps, the epochs stay.
    (batch,) = [s for s in at.sidebar.select_slider if s.key == "batch"]
    batch.set_value(1).run()
    assert dict(at.query_params)["epochs"] == "6" and not at.exception


@pytest.mark.parametrize("surface", DATA_SURFACES)
def test_every_data_surface_opens_in_english_and_korean(surface):
    at = open_page({"surface": surface, "lang": "ko", "std": "1", "shuffle": "1", "seed": "3"}, expanded=False)
    assert not at.warning and not at.error
    state, _ = parse_query(dict(at.query_params))
    assert state.standardize and state.shuffle and state.seed == 3
    assert state.start == data_surface(surface, True).default_start  # the standardized surface's own start
    assert fit_chart(at)["data"]


@pytest.mark.parametrize("tab", ["tune", "3d", "rules"])
def test_other_tabs_work_on_a_data_surface(tab):
    at = open_page({"surface": "data_line", "tab": tab, "batch": "10", "epochs": "3"}, expanded=False)
    assert not at.exception and not at.error
    if tab == "rules":
        programs = [c.value for c in at.code if "model.fit(" in c.value]
        assert len(programs) == 6 and "batch_size=10, epochs=3" in programs[0]


def test_link_round_trip_and_bad_values():
    state = PageState(surface="data_classes", batch_size=5, epochs=40, standardize=True, shuffle=True, seed=9,
                      start=(0.0, 0.0))
    back, problems = parse_query(to_query(state))
    assert not problems
    assert (back.batch_size, back.epochs, back.standardize, back.shuffle, back.seed) == (5, 40, True, True, 9)
    _, problems = parse_query({"surface": "data_classes", "batch": "0", "epochs": "100000"})
    assert {p.key for p in problems} == {"batch", "epochs"}
    _, problems = parse_query({"surface": "rosenbrock", "batch": "4"})
    assert [p.key for p in problems] == ["batch"]  # not a data surface: unknown there


def test_stepping_through_draws_the_batch_s_own_loss_faintly():
    """At step k the race chart carries the loss of the batch step k uses: lowest at that
    batch's own least-squares line, not at the whole data's minimum."""
    at = open_page({"surface": "data_anscombe", "batch": "4", "epochs": "2"}, expanded=False)
    assert not [t for t in chart_spec(at)["data"] if t.get("name") == "batch"]  # not while showing the whole race
    at.session_state["view_step"] = 3  # 3 batches an epoch: step 3 is the second epoch's first, points 0-3
    at.run()
    (batch,) = [t for t in chart_spec(at)["data"] if t.get("name") == "batch"]
    xs, ys = array(batch["x"]), array(batch["y"])
    z = array(batch["z"]).reshape(len(ys), len(xs))
    surface = data_surface("data_anscombe")
    slope, intercept = np.polyfit(surface.data.x[:4, 0], surface.data.y[:4], 1)

    def z_at(w, b):
        return z[np.argmin(np.abs(ys - b)), np.argmin(np.abs(xs - w))]

    assert z_at(slope, intercept) < z_at(*surface.minima[0])
    assert z_at(slope, intercept) - z.min() < 0.05 * np.ptp(z)
