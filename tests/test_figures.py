"""Figure builders: valid Plotly, small, and drawing what the engine computed."""

import numpy as np
import plotly.graph_objects as go
import pytest
from helpers import array, image_box, level_line_offsets, level_line_points, path_traces, paths, unescape

import optviz
from optviz import figures, i18n
from optviz.state import default_state

ALL = list(optviz.ARTICLE_OPTIMIZERS)


@pytest.fixture(scope="module")
def race():
    s = default_state()
    return optviz.race(s.surface, s.start, 2000, s.race_spec())


def test_every_spec_is_valid_plotly(race):
    surface = optviz.get_surface("rosenbrock")
    grid = optviz.sweep("sgd", surface, None, 100, np.logspace(-4, 0, 8), np.linspace(0, 0.9, 5))
    curves = {"sgd": optviz.sweep("sgd", surface, None, 100, np.logspace(-4, 0, 8), [0.9])}
    for fig in [figures.race_figure(surface, race), figures.race_figure(surface, race, start_step=7, arrows=True,
                                                                        click_grid=10, presenter=True),
                figures.loss_figure(race, min_value=0.0), figures.surface_3d_figure(surface, race),
                figures.sweep_figure(grid, 0.0, current=(0.01, 0.5)),
                figures.learning_rate_curve_figure(curves, 0.0),
                figures.surface_3d_figure(surface, race, presenter=True),
                figures.sweep_figure(grid, 0.0, current=(0.01, 0.5), presenter=True),
                figures.learning_rate_curve_figure(curves, 0.0, presenter=True)]:
        strict = go.Figure(fig.to_dict())  # raises on any property Plotly does not know
        assert strict.data


def _texts_sizes(layout: dict) -> dict:
    """Every text size a chart's layout sets for its axes' ticks and titles and its legend."""
    sizes = {"legend": layout.get("legend", {}).get("font", {}).get("size")}
    scene = layout.get("scene", {})
    for name, axis in [*((k, layout.get(k)) for k in ("xaxis", "yaxis")),
                       *((f"scene.{k}", scene.get(k)) for k in ("xaxis", "yaxis", "zaxis"))]:
        if axis is not None:
            sizes[f"{name} ticks"] = axis.get("tickfont", {}).get("size")
            sizes[f"{name} title"] = axis.get("title", {}).get("font", {}).get("size")
    return sizes


def test_presenter_mode_reaches_the_tuning_and_3d_charts(race):
    """On a projector every chart's text is 20 px, not only the race chart's: the 3D view,
    the tuning heat map and the learning-rate curves (they kept plotly's 12 px)."""
    surface = optviz.get_surface("rosenbrock")
    grid = optviz.sweep("sgd", surface, None, 100, np.logspace(-4, 0, 8), np.linspace(0, 0.9, 5))
    curves = {"sgd": optviz.sweep("sgd", surface, None, 100, np.logspace(-4, 0, 8), [0.9])}
    made = {
        "3d": lambda **kw: figures.surface_3d_figure(surface, race, **kw),
        "heat map": lambda **kw: figures.sweep_figure(grid, 0.0, current=(0.01, 0.5), **kw),
        "curves": lambda **kw: figures.learning_rate_curve_figure(curves, 0.0, **kw),
    }
    for name, make in made.items():
        big, normal = make(presenter=True).spec, make().spec
        sizes = _texts_sizes(big["layout"])
        assert len(sizes) >= 5 and all(size is not None and size >= 20 for size in sizes.values()), (name, sizes)
        assert big["layout"]["font"]["size"] >= 20, name
        assert all(size is None or size < 20 for size in _texts_sizes(normal["layout"]).values()), name
    heads = [t for t in made["3d"](presenter=True).spec["data"] if t.get("mode") == "markers"]
    assert heads and min(t["marker"]["size"] for t in heads) >= 10


def test_default_figure_is_small_even_at_2000_steps(race):
    fig = figures.race_figure(optviz.get_surface("rosenbrock"), race)
    size = figures.figure_json_size(fig)
    assert size <= 2 * 1024 * 1024, size
    assert len(fig.to_dict()["frames"]) <= figures.MAX_FRAMES + 1


def test_shown_state_keeps_every_point_and_the_last_frame_is_the_end(race):
    fig = figures.race_figure(optviz.get_surface("rosenbrock"), race)
    drawn = paths(fig.to_dict())
    for name, tr in race.items():
        np.testing.assert_array_equal(drawn[optviz.ARTICLE_OPTIMIZERS[name].short_name], tr.path)
    last = fig.to_dict()["frames"][-1]["data"][0]
    np.testing.assert_array_equal(array(last["x"]), race["sgd"].path[:, 0])


def _frame_trails(fig, name_index):
    for frame in fig.to_dict()["frames"]:
        data = frame["data"][name_index]
        yield int(frame["name"]), np.stack([array(data["x"]), array(data["y"])], axis=1)


def _off_segment(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each point's distance from the segment a-b."""
    d = b - a
    length2 = float(d @ d)
    t = np.clip((points - a) @ d / length2, 0, 1) if length2 > 0 else np.zeros(len(points))
    return np.linalg.norm(a + t[:, None] * d - points, axis=1)


def test_every_frame_draws_the_path_so_far_to_within_a_hair(race):
    """A frame's trail leaves out only points that would not show: every point the newest
    TRAIL_TAIL drawn segments skip lies within 1.5/1000 of the view (under a pixel) of the
    segment drawn past it; the trail is the path's own points, in order, ending exactly at
    the head."""
    surface = optviz.get_surface("rosenbrock")
    fig = figures.race_figure(surface, race)
    view = np.array([np.ptp(surface.x_range), np.ptp(surface.y_range)])
    hair = figures.TRAIL_LEVELS * figures.TRAIL_TOLERANCE * 1.01  # (float32 points)
    assert hair < 2 / 1000
    skipped = 0
    for i, (name, tr) in enumerate(race.items()):
        path = tr.path.astype(np.float32)
        for k, trail in _frame_trails(fig, i):
            if k < tr.steps:  # (the last frame draws every point)
                assert len(trail) <= figures.MAX_TRAIL_POINTS, (name, k, len(trail))
            k = min(k, len(path) - 1)
            np.testing.assert_array_equal(trail[-1], path[k])
            rows, at = [], 0  # each drawn point is a path point at or after the one before
            for point in trail:
                at += int(np.flatnonzero((path[at:] == point).all(axis=1))[0])
                rows.append(at)
            unit = path / view  # distances as fractions of the view
            for a, b in zip(rows[-figures.TRAIL_TAIL:], rows[-figures.TRAIL_TAIL + 1:]):
                if b > a + 1:
                    skipped += b - a - 1
                    off = _off_segment(unit[a + 1:b], unit[a], unit[b])
                    assert (off <= hair).all(), (name, k, a, b, off.max())
    assert skipped > 100  # the check has something to check


def test_a_creeping_path_costs_its_frames_only_the_points_that_show():
    # Adagrad stalls on Rosenbrock: its points pile up inside a pixel.
    race = optviz.race("rosenbrock", None, 2000, {"adagrad": {"learning_rate": 0.01}})
    fig = figures.race_figure(optviz.get_surface("rosenbrock"), race)
    last_animated = list(_frame_trails(fig, 0))[-2][1]
    assert len(last_animated) < 100, len(last_animated)
    moved = np.abs(np.diff(race["adagrad"].path, axis=0)).max()
    assert moved > 0  # it does move: the points left out are real steps


def test_contour_levels_are_logarithmic_where_the_range_is_wide():
    wide = figures.colour_bar(optviz.get_surface("rosenbrock"))["marker"]["colorbar"]
    assert wide["ticktext"][:3] == ["0.001", "0.01", "0.1"]
    flat = figures.colour_bar(optviz.get_surface("saddle"))["marker"]["colorbar"]
    assert "ticktext" not in flat


@pytest.mark.parametrize("name", ["rosenbrock", "saddle", "himmelblau", "beale", "ackley"])
def test_level_lines_are_the_surface_contours(name):
    """The race chart's level lines lie where f (log10(f - min) where the range is wide)
    takes one of 23 evenly spaced values, checked by evaluating the surface there."""
    surface = optviz.get_surface(name)
    image = figures.level_lines(surface)
    lines = level_line_points(image)
    assert len(lines) >= 10 and sum(map(len, lines)) > 100  # several lines, apart
    off = level_line_offsets(surface, image)
    assert np.median(off) < 0.05 and np.quantile(off, 0.95) < 0.35, (np.median(off), np.quantile(off, 0.95))


def test_race_chart_has_no_contour_trace_for_the_browser_to_compute(race):
    """plotly.js computes a contour trace's bands and lines on every redraw; the race chart
    sends the bands as a picture and the lines as vectors instead, or, where the lines are
    too many to send (Rastrigin's rings), draws them in the picture."""
    for name in ("rosenbrock", "rastrigin"):
        surface = optviz.get_surface(name)
        spec = figures.race_figure(surface, race if name == "rosenbrock" else {}).to_dict()
        assert not [t for t in spec["data"] if t["type"] in ("contour", "heatmap")]
        image, *lines = spec["layout"]["images"]
        assert image["source"].startswith("data:image/png;base64,") and image["layer"] == "below"
        assert len(lines) == (1 if name == "rosenbrock" else 0)
        assert all(i["source"].startswith("data:image/svg+xml;base64,") and i["layer"] == "below" for i in lines)
        # Over the bands: the same box, drawn after them; anchored elsewhere, since plotly.js
        # draws only the first of two images with the same corner and size.
        assert all(image_box(i) == pytest.approx(image_box(image), abs=1e-12) and i["sizing"] == image["sizing"]
                   and (i["x"], i["y"]) != (image["x"], image["y"]) for i in lines)
        # (Rastrigin's 21,500 line points as vectors would be ~230 KB more.)
        assert figures.figure_json_size(figures.race_figure(surface, {})) < 160_000
    with_lines = figures.contour_backdrop(optviz.get_surface("rastrigin"))["source"]
    bands_only = figures.contour_backdrop(optviz.get_surface("rosenbrock"))["source"]
    assert len(with_lines) > 2 * len(bands_only)  # (the picture carries Rastrigin's lines)


def test_each_optimizer_has_one_colour_and_dash_in_every_chart(race):
    surface = optviz.get_surface("rosenbrock")
    colours = set()
    for name in ALL:
        colours.add(figures.color(name))
    assert len(colours) == len(ALL)
    race_lines = {t["name"]: t["line"] for t in figures.race_figure(surface, race).to_dict()["data"]
                  if t.get("mode") == "lines"}
    loss_lines = {t["name"]: t["line"] for t in figures.loss_figure(race, min_value=0).to_dict()["data"]}
    for name in ALL:
        label = optviz.ARTICLE_OPTIMIZERS[name].short_name
        assert race_lines[label]["color"] == loss_lines[label]["color"] == figures.color(name)
        assert race_lines[label]["dash"] == loss_lines[label]["dash"] == figures.style(name).dash


def test_divergence_is_marked_with_its_step():
    tr = optviz.race("rosenbrock", None, 100, {"sgd": {"learning_rate": 0.05}, "adam": None})
    fig = figures.race_figure(optviz.get_surface("rosenbrock"), tr).to_dict()
    notes = fig["layout"]["annotations"][0]["text"]
    assert f"SGD diverged at step {tr['sgd'].diverged_at}" in notes
    crosses = [t for t in fig["data"] if t.get("marker", {}).get("symbol") == "x-thin"]
    assert len(crosses) == 1


@pytest.mark.parametrize("start", [(-2.5, 1.5), (2.5, -1.5), (2.5, 1.5)])
def test_the_divergence_note_stays_clear_of_the_start(start):
    # It sat in the top-left corner, over the start of the learning-rate lesson's path.
    surface = optviz.get_surface("quadratic")
    tr = optviz.race(surface, start, 60, {"sgd": {"learning_rate": 0.12}})
    assert tr["sgd"].diverged_at is not None
    note = [a for a in figures.race_figure(surface, tr).to_dict()["layout"]["annotations"]
            if "diverged" in a.get("text", "")][0]
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    fx, fy = (start[0] - x0) / (x1 - x0), (start[1] - y0) / (y1 - y0)
    assert abs(note["x"] - fx) > 0.5 or abs(note["y"] - fy) > 0.5, (note["x"], note["y"], fx, fy)
    assert note["xanchor"] == ("left" if note["x"] < 0.5 else "right")


def test_loss_chart_never_draws_a_non_positive_value_on_its_log_axis(race):
    fig = figures.loss_figure(race, min_value=0.0).to_dict()
    assert fig["layout"]["yaxis"]["type"] == "log"
    for trace in fig["data"]:
        y = array(trace["y"])
        assert np.all(y > 0) and np.all(np.isfinite(y))


@pytest.mark.parametrize("min_value", [0.0, None])
def test_the_loss_chart_s_axes_hold_every_line_even_as_the_learning_rate_grows(min_value):
    # The page moves the loss lines in place (no autorange): the figure must carry ranges
    # that hold its lines. A rate raised into divergence: SGD's loss grows to ~1e11.
    quadratic = optviz.get_surface("quadratic")
    for lr in (0.01, 0.11, 1.0):
        tr = optviz.race(quadratic, None, 200, {"sgd": {"learning_rate": lr}, "adam": {"learning_rate": lr}})
        layout = figures.loss_figure(tr, min_value=min_value).to_dict()["layout"]
        y_low, y_high = layout["yaxis"]["range"]
        x_low, x_high = layout["xaxis"]["range"]
        for trace in figures.loss_figure(tr, min_value=min_value).to_dict()["data"]:
            y = array(trace["y"])
            y = np.log10(y) if min_value is not None else y
            assert y_low < y.min() and y.max() < y_high, (lr, trace["name"])
            assert x_low <= array(trace["x"]).min() and array(trace["x"]).max() <= x_high
        span = y_high - y_low
        assert span < 1.2 * (max(np.log10(t.loss.max()) if min_value is not None else t.loss.max() for t in tr.values())
                             - min(np.log10(max(t.loss.min(), 1e-12)) if min_value is not None else t.loss.min()
                                   for t in tr.values())) + 1.0  # tight: no wasted decades


def test_presenter_mode_is_readable_from_the_back_row(race):
    fig = figures.race_figure(optviz.get_surface("rosenbrock"), race, presenter=True).to_dict()
    assert fig["layout"]["font"]["size"] >= 20
    assert all(t["line"]["width"] >= 4 for t in path_traces(fig["data"]))
    assert all(t["marker"]["size"] >= 20 for t in fig["data"] if t.get("mode") == "markers" and "customdata" in t)


def test_a_frozen_figure_draws_exactly_the_same_chart(race):
    """The page keeps its figures as JSON text (freeze), all ASCII (other characters as
    HTML entities, which plotly.js draws as the characters): the same chart is drawn."""
    import json

    import plotly.io as pio

    surface = optviz.get_surface("rosenbrock")
    built = figures.race_figure(surface, race, text=i18n.figure_text("ko"))  # Hangul, ▶, ½, ×
    frozen = figures.race_figure(surface, race, text=i18n.figure_text("ko")).freeze()
    sent = json.loads(pio.to_json(built, validate=False))
    assert not pio.to_json(built, validate=False).isascii()
    text = pio.to_json(frozen, validate=False)
    assert text.isascii() and "&#9654;" in text  # ▶
    assert unescape(json.loads(text)) == sent
    sent = json.loads(text)
    assert frozen.spec["frames"] == sent["frames"] and frozen.spec["layout"]["sliders"] == sent["layout"]["sliders"]
    assert frozen.to_dict()["layout"]["height"] == built.spec["layout"]["height"]  # Streamlit reads it
    assert isinstance(frozen.to_dict()["data"], list)  # plotly.io walks the traces


def test_a_sized_figure_is_the_same_chart_at_the_given_width_and_leaves_the_original_alone(race):
    """The page gives each figure its chart's width (as the browser measured it), from one
    cached figure: a new figure, the same chart, the width set; the cached one unchanged."""
    import json

    import plotly.io as pio

    frozen = figures.race_figure(optviz.get_surface("rosenbrock"), race).freeze()
    before = pio.to_json(frozen, validate=False)
    wide = frozen.sized(556.25)
    sent = json.loads(pio.to_json(wide, validate=False))
    assert sent["layout"]["width"] == 556.25
    assert {**sent, "layout": {k: v for k, v in sent["layout"].items() if k != "width"}} == json.loads(before)
    assert pio.to_json(frozen, validate=False) == before and "width" not in frozen.spec["layout"]
    assert frozen.sized(None) is frozen
    # What the page sends (made once for a frozen figure): the same JSON, each size its own.
    assert frozen.json_bytes() == before.encode() and frozen.json_bytes() is frozen.json_bytes()
    assert json.loads(wide.json_bytes())["layout"]["width"] == 556.25
    for bad in (float("nan"), float("inf"), 3, -500):
        with pytest.raises(ValueError, match="width"):
            frozen.sized(bad)


def test_a_loss_chart_over_a_decade_or_two_labels_1_2_5_not_every_digit():
    narrow = optviz.race("rosenbrock", None, 1000, {"adagrad": {"learning_rate": 0.01}})  # 4 -> ~3.5
    wide = optviz.race("rosenbrock", None, 500, {"sgd": {"learning_rate": 0.00178, "momentum": 0.9}})  # 12.5 -> 5e-5
    surface = optviz.get_surface("rosenbrock")
    narrow_axis = figures.loss_figure(narrow, min_value=surface.min_value).to_dict()["layout"]["yaxis"]
    wide_axis = figures.loss_figure(wide, min_value=surface.min_value).to_dict()["layout"]["yaxis"]
    assert narrow_axis["type"] == wide_axis["type"] == "log"
    assert narrow_axis.get("dtick") == "D2"
    assert "dtick" not in wide_axis  # plotly.js's own decades


def test_colour_bar_reads_the_pictures_bands():
    """A point's colour in the backdrop picture is the colour bar's colour at f there (on
    the bar's log scale where the range is wide): sampled away from band edges."""
    import base64
    import io

    from PIL import Image

    surface = optviz.get_surface("rosenbrock")
    marker = figures.colour_bar(surface)["marker"]
    backdrop = figures.contour_backdrop(surface)
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(backdrop["source"].split(",", 1)[1]))).convert("RGB"))
    size = image.shape[0]
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    span = np.nanmax(surface.grid(figures.LINE_GRID)[2]) - surface.min_value
    checked = 0
    for px in range(10, size - 10, 9):
        for py in range(10, size - 10, 9):
            x, y = x0 + (px + 0.5) / size * (x1 - x0), y1 - (py + 0.5) / size * (y1 - y0)
            value = np.log10(float(surface(np.float64(x), np.float64(y))) - surface.min_value + max(span * 1e-6, 1e-6))
            where = (value - marker["cmin"]) / (marker["cmax"] - marker["cmin"])
            band = where * 24
            if not 0 < where < 1 or abs(band - round(band)) < 0.3:
                continue  # off the scale, or near a band's edge (the picture is 200 px)
            colour = next(c for stop, c in marker["colorscale"][1::2] if stop >= where)
            expected = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
            assert np.abs(image[py, px].astype(int) - expected).max() <= 4, (x, y, image[py, px], colour)
            checked += 1
    assert checked > 100


def test_3d_paths_lie_on_the_surface_with_heads_and_floor_shadows():
    """Each path is drawn at the surface's own height (log10(f − min) on Rosenbrock, f
    evaluated here, not taken from the engine) plus one small lift that keeps it in front
    of the surface; its head is its last point; its shadow lies flat on the floor below the
    surface; where it leaves the box it has a gap (a saddle path that runs off)."""
    for surface_name, start, spec_of in [("rosenbrock", (-1.5, 2.0), {"adam": {"learning_rate": 0.05}}),
                                         ("saddle", (-1.8, 0.001), {"adam": {"learning_rate": 0.05}})]:
        surface = optviz.get_surface(surface_name)
        race = optviz.race(surface_name, start, 300, spec_of)
        spec = figures.surface_3d_figure(surface, race).to_dict()
        on, shadow, head = [t for t in spec["data"] if t.get("legendgroup") == "adam"]
        x, y, z = (array(on[k]).astype(np.float64) for k in ("x", "y", "z"))
        drawn = np.isfinite(z)
        f = np.asarray(surface(x[drawn], y[drawn]), np.float64)
        _, _, grid = surface.grid(70)
        if surface.min_value is not None and np.nanmax(grid) - surface.min_value > 50:  # log height
            eps = max((np.nanmax(grid) - surface.min_value) * 1e-6, 1e-6)
            f = np.log10(np.maximum(f - surface.min_value, 0) + eps)
        lift = z[drawn] - np.maximum(f, np.nanmin(array(spec["data"][0]["z"])))
        assert np.ptp(lift) < 1e-3 * np.ptp(array(spec["data"][0]["z"])) and lift.min() > 0
        floor = array(shadow["z"])
        assert np.nanmax(floor) == np.nanmin(floor) < np.nanmin(array(spec["data"][0]["z"]))
        last = np.flatnonzero(drawn)[-1]
        assert (head["x"][0], head["y"][0]) == pytest.approx((x[last], y[last]))
        path = race["adam"].path
        (x0, x1), (y0, y1) = surface.x_range, surface.y_range
        outside = ((path[:, 0] < x0) | (path[:, 0] > x1) | (path[:, 1] < y0) | (path[:, 1] > y1)).any()
        assert (~drawn).any() == outside, surface_name  # a gap exactly where the path leaves
    assert outside  # (the saddle's Adam runs off the box)


def test_moved_traces_are_the_paths_that_moved_and_nothing_else_may_differ():
    """What a preview moves (figures.moved_traces): the traces whose points differ, as the other
    figure has them; None when anything but the points differs (a path that diverges brings
    its mark, a trace more), since moving points cannot show that."""
    surface = optviz.get_surface("rosenbrock")
    race = optviz.race(surface, None, 300, {"sgd": {"learning_rate": 0.001}, "adam": None})
    nudged = optviz.race(surface, None, 300, {"sgd": {"learning_rate": 0.0012}, "adam": None})
    drawn = figures.race_figure(surface, race, click_grid=41).freeze()
    other = figures.race_figure(surface, nudged, click_grid=41, frames=0).freeze()
    assert not other.spec.get("frames")
    moved = figures.moved_traces(drawn, other)
    names = [trace.get("name") for trace in drawn.traces]
    assert [names[i] for i in moved["traces"]] == ["SGD", "SGD"]  # its path and its head
    assert moved["data"] == [other.traces[i] for i in moved["traces"]]
    assert array(moved["data"][0]["x"]).tolist() == pytest.approx(nudged["sgd"].path[:, 0].tolist(), rel=1e-6)
    assert figures.moved_traces(drawn, figures.race_figure(surface, race, click_grid=41, frames=0).freeze()) == \
        {"traces": [], "data": []}
    diverging = optviz.race(surface, None, 300, {"sgd": {"learning_rate": 0.01}, "adam": None})
    assert diverging["sgd"].diverged_at is not None
    assert figures.moved_traces(drawn, figures.race_figure(surface, diverging, click_grid=41, frames=0)) is None
