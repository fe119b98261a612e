"""Exports: the standalone HTML page, the CSV and the animated GIF all open and hold the race."""

import csv
import io
import json
import re
import time

import numpy as np
import plotly.io as pio
import pytest
from helpers import array, path_traces
from PIL import Image
from plotly.utils import PlotlyJSONEncoder

import optviz
from optviz import figures
from optviz.custom import custom_surface
from optviz.export import CSV_COLUMNS, GIF_HOLD_MS, race_gif, race_html, trajectories_csv

SETTINGS = {  # every optimizer; SGD diverges at step 3
    "sgd": {"learning_rate": 0.05}, "nesterov": {"learning_rate": 0.001, "momentum": 0.9},
    "adagrad": {"learning_rate": 0.5}, "rmsprop": {"learning_rate": 0.01}, "adam": {"learning_rate": 0.05},
    "adamax": {"learning_rate": 0.1},
}


@pytest.fixture(scope="module")
def race():
    raced = optviz.race("rosenbrock", (-1.5, 2.0), 500, SETTINGS, noise=0.2, seed=3)
    assert raced["sgd"].diverged_at is not None and all(raced[n].diverged_at is None for n in list(SETTINGS)[1:])
    return raced


@pytest.fixture(scope="module")
def surface():
    return optviz.get_surface("rosenbrock")


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _frames(data: bytes) -> list[np.ndarray]:
    image = Image.open(io.BytesIO(data))
    out = []
    for k in range(image.n_frames):
        image.seek(k)
        out.append(np.asarray(image.convert("RGB")))
    return out


# --- HTML -------------------------------------------------------------------------------------------


def _call_arguments(page: str, call: str, count: int) -> list:
    """The first ``count`` JSON arguments after the figure's ``call(id, ...`` (the last one in the page)."""
    at = page.rindex(call + "(")
    at = page.index(",", at) + 1  # past the div id
    decoder = json.JSONDecoder()
    values = []
    for _ in range(count):
        while page[at] in " \n\t,":
            at += 1
        value, at = decoder.raw_decode(page, at)
        values.append(value)
    return values


def test_html_is_a_standalone_page_holding_the_race(race, surface):
    fig = figures.race_figure(surface, race)
    page = race_html(fig, title="Rosenbrock race <1>")
    assert page.lstrip().lower().startswith(("<!doctype html>", "<html>")) and page.rstrip().endswith("</html>")
    assert "<title>Rosenbrock race &lt;1&gt;</title>" in page
    # Offline: plotly.js is inlined, no script or stylesheet is loaded from anywhere.
    assert not re.search(r"<script[^>]*\ssrc=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\shref=", page, re.IGNORECASE)
    assert "plotly.js v" in page and len(page) > 3_000_000
    data, layout = _call_arguments(page, "Plotly.newPlot", 2)
    spec = json.loads(json.dumps(fig.to_dict(), cls=PlotlyJSONEncoder))
    assert data == spec["data"] and layout == spec["layout"]
    (frames,) = _call_arguments(page, "Plotly.addFrames", 1)
    assert frames == spec["frames"] and len(frames) == len(fig.spec["frames"]) > 10
    names = {trace.get("name") for trace in data}
    for name in SETTINGS:
        assert optviz.ARTICLE_OPTIMIZERS[name].display_name in names
    # The line traces are the engine's paths (thinned as on the page), ending where the runs end.
    lines = path_traces(data)
    assert len(lines) == len(SETTINGS)
    for name, trace in zip(SETTINGS, lines):
        path = np.stack([array(trace["x"]), array(trace["y"])], axis=1)
        np.testing.assert_array_equal(path[0], race[name].path[0])
        np.testing.assert_array_equal(path[-1], race[name].path[-1])


def test_html_takes_any_figure_or_dict(race):
    fig = figures.loss_figure(race, min_value=0.0)
    for figure in (fig, fig.to_dict(), pio.from_json(json.dumps(fig.to_dict(), cls=PlotlyJSONEncoder))):
        page = race_html(figure)
        (data,) = _call_arguments(page, "Plotly.newPlot", 1)
        assert [t["name"] for t in data] == [optviz.ARTICLE_OPTIMIZERS[n].display_name for n in SETTINGS]


# --- CSV -------------------------------------------------------------------------------------------------


def test_csv_parses_back_to_exactly_the_engine_paths(race):
    text = trajectories_csv(race)
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS) == "optimizer,step,x,y,loss,gx,gy,sharpness"
    assert "#" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == sum(len(tr.path) for tr in race.values())
    assert [r["optimizer"] for r in rows] == [n for n, tr in race.items() for _ in range(len(tr.path))]
    for name, tr in race.items():
        mine = [r for r in rows if r["optimizer"] == name]
        assert [int(r["step"]) for r in mine] == list(range(len(tr.path)))
        values = {key: np.array([float(r[key]) for r in mine], np.float32) for key in CSV_COLUMNS[2:]}
        np.testing.assert_array_equal(np.stack([values["x"], values["y"]], axis=1), tr.path)
        np.testing.assert_array_equal(values["loss"], tr.loss)
        np.testing.assert_array_equal(np.stack([values["gx"], values["gy"]], axis=1), tr.gradient)
        np.testing.assert_array_equal(values["sharpness"], tr.sharpness)
    assert len([r for r in rows if r["optimizer"] == "sgd"]) == race["sgd"].diverged_at  # ends where the run does
    # NumPy reads it as well.
    table = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, usecols=(1, 2, 3, 4, 5, 6), dtype=np.float64)
    assert table.shape == (len(rows), 6)
    np.testing.assert_array_equal(table[: len(race["sgd"].path), 1:3].astype(np.float32), race["sgd"].path)


def test_csv_of_no_runs_is_the_header():
    assert trajectories_csv({}) == "optimizer,step,x,y,loss,gx,gy,sharpness\n"


# --- GIF ---------------------------------------------------------------------------------------------------


def test_gif_opens_with_the_requested_frames_size_and_colours(race, surface):
    fractions = []
    began = time.perf_counter()
    data = race_gif(surface, race, progress=fractions.append)
    elapsed = time.perf_counter() - began
    assert elapsed < 20  # a few seconds on two cores (first call included)
    assert data[:6] == b"GIF89a" and len(data) < 5_000_000
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.is_animated
    assert image.n_frames == 40 and image.size == (720, 540)
    assert image.info.get("loop") == 0
    image.seek(image.n_frames - 1)
    assert image.info["duration"] >= GIF_HOLD_MS
    # progress: increasing fractions, one per frame, then 1.0 when the file is written
    assert len(fractions) == 41 and fractions[-1] == 1.0
    assert all(a < b for a, b in zip(fractions, fractions[1:])) and 0 < fractions[0]
    # Every path is drawn in its chart colour, and grows from the first frame to the last.
    frames = _frames(data)
    first, last = frames[0], frames[-1]
    for name in SETTINGS:
        colour = np.array(_rgb(figures.color(name)))
        at_start = np.all(first == colour, axis=2).sum()
        at_end = np.all(last == colour, axis=2).sum()
        assert at_end > 100 and at_end > at_start, name
    assert np.all(last == np.array(_rgb("#ffd700")), axis=2).sum() > 20  # the minimum's star
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))  # the step counter moves


def test_gif_options(race, surface):
    fractions = []
    data = race_gif("rosenbrock", race, frames=12, size=(480, 360), fps=6, progress=fractions.append,
                    labels={"adam": "아담"}, text={"step": "단계 "})
    image = Image.open(io.BytesIO(data))
    assert image.n_frames == 12 and image.size == (480, 360)
    assert image.info["duration"] == pytest.approx(1000 / 6, abs=10)
    assert len(fractions) == 13 and fractions[-1] == 1.0
    # A race shorter than the frames asked for: one frame a step.
    short = optviz.race(surface, None, 9, ["adam", "sgd"])
    assert Image.open(io.BytesIO(race_gif(surface, short, frames=40))).n_frames == 10
    # No runs at all: the surface alone, in one frame.
    assert Image.open(io.BytesIO(race_gif(surface, {}, frames=3))).n_frames == 1


def test_gif_of_a_custom_surface_with_undefined_regions():
    s = custom_surface("log(x + 2)*cos(3*y) + 0.1*y**2")
    raced = optviz.race(s, None, 200, {"adam": {"learning_rate": 0.01}, "sgd": {"learning_rate": 0.05}})
    assert raced["sgd"].diverged_at is not None
    frames = _frames(race_gif(s, raced, frames=8, size=(320, 240)))
    assert len(frames) == 8 and frames[0].shape == (240, 320, 3)
    # The undefined half-plane x < -2 is left white; the defined part is shaded.
    assert np.all(frames[-1][150, 60:70] == 255) and not np.all(frames[-1][150, 250:260] == 255)


@pytest.mark.parametrize("kwargs,field", [
    ({"frames": 0}, "frames"), ({"frames": 10_000}, "frames"), ({"frames": 2.5}, "frames"),
    ({"frames": True}, "frames"),
    ({"size": (10, 10)}, "size"), ({"size": "big"}, "size"), ({"size": (5000, 400)}, "size"),
    ({"fps": 0}, "fps"), ({"fps": "fast"}, "fps"), ({"fps": float("nan")}, "fps"),
    ({"surface_params": {"kappa": 2.0}}, "kappa"),
])
def test_gif_bad_arguments(race, surface, kwargs, field):
    with pytest.raises(ValueError, match=field):
        race_gif(surface, race, **kwargs)
