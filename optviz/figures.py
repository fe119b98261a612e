"""Plotly figure builders: plain functions, data in, ``go.Figure`` out (no Streamlit).

Every optimizer has one fixed colour (Okabe–Ito, colour-blind safe) and one line
style, used in every chart, so it can be told apart by colour and by dash.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
from typing import Mapping

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

try:  # plotly.io's fast JSON writer (requirements.txt): lets a figure keep its parts as text
    import orjson
except ImportError:  # pragma: no cover
    orjson = None

from .engine import Trajectory
from .optimizers import ENGINE_OPTIMIZERS, Style
from .surfaces import Surface
from .theory import Quadratic, optimal_setting, predicted_rate, sharpness_limit, stability_limit

# Each optimizer's colour, dash and marker live in its definition (optviz.optimizers):
# Okabe & Ito (2008) for the article's six, Paul Tol's "muted" scheme for the rest, both
# colour-blind safe; any two are told apart by colour and dash together.
DEFAULT_STYLE = Style("#444444", "solid", "circle")  # a name that is no optimizer's

# A light grey ramp (low = darker): the surface reads as terrain, the coloured paths stay on top.
SURFACE_COLORSCALE = [[0.0, "#8c8c8c"], [0.35, "#bdbdbd"], [0.7, "#e2e2e2"], [1.0, "#f8f8f8"]]
PRESENTER_FONT = 20  # px: chart text in presenter mode, read from the back of a classroom
MAX_FRAMES = 48  # animation frames per race: smooth enough at 12 fps, and a small figure
MAX_TRAIL_POINTS = 160  # points per path inside one frame (the shown state keeps every point)
LINE_GRID = 80  # grid points a side for the contour's bands and lines
MAX_LINE_POINTS = 8000  # past this (Rastrigin's ~1200 rings: 21,000), the backdrop draws the lines
LINE_UNITS = 10_000  # the level lines' SVG units a side: 1/10,000 of the view box, sharp zoomed in 10x
DEFAULT_TEXT = {
    "play": "▶ Play", "pause": "❚❚ Pause", "speed": "Speed", "step": "Step ", "start": "start",
    "minimum": "minimum", "diverged_at": "{name} diverged at step {step}", "loss": "loss",
    "loss_gap": "loss − minimum", "x": "x", "y": "y", "f": "f(x, y)", "steps_to_tol": "steps to tolerance",
    "diverged": "diverged", "set_start": "click: start here",
    "boundary": "divergence starts here (theory)", "best": "best (theory): learning_rate {lr:.3g}, {axis} {mu:.2f}",
    "best_gd": "best at {axis} 0 (theory): learning_rate {lr:.3g}", "rate": "predicted rate ρ = {rate:.4f}",
    "sharpness": "sharpness (largest Hessian eigenvalue)", "limit": "{name}: stable below {value:.4g}",
}


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _ascii(text: bytes) -> bytes:
    """JSON text with every non-ASCII character written as an HTML entity (``▶`` as
    ``&#9654;``), which plotly.js draws as the character itself in every text it shows.

    A frozen figure is kept and drawn again and again; pure-ASCII JSON takes the cheap
    path through every copy the page makes of it (plotly.io's escaping, Streamlit's
    hashing and protobuf encoding: ~1 ms less a rerun for the 0.5 MB race chart, whose
    only non-ASCII text in English was the Play buttons' ▶ ❚ ½ ×)."""
    if text.isascii():
        return text
    return _NON_ASCII.sub(lambda m: f"&#{ord(m.group())};", text.decode()).encode()


def _ascii_value(value):
    """A trace or a layout entry with its text as :func:`_ascii` writes it."""
    text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    return value if text.isascii() else orjson.loads(_ascii(text))


class SpecFigure(go.Figure):
    """A ``go.Figure`` carrying a ready Plotly JSON spec (data, layout, frames) unvalidated.

    plotly.py validates every property of every trace, frame and slider step when a
    figure is built: for a sixty-frame race that is most of a slider rerun's time.
    These builders write plain dicts with NumPy data in plotly.js's typed-array form,
    which is already what ``to_json`` would emit; the tests load every spec into a
    strict ``go.Figure`` to prove it valid. ``to_dict`` / ``to_json`` / ``to_html``
    and Streamlit's ``st.plotly_chart`` all read the spec; use ``spec`` to inspect it.
    """

    _empty_state: dict | None = None  # an empty go.Figure's attributes, made once

    def __init__(self, spec: dict | None = None, **_ignored):
        # The go.Figure part is an empty figure that nothing reads (the spec is what gets
        # drawn): made once, and its attributes shared, since building one (validators, the
        # layout object) is slow, and a slider rerun builds two. (No default
        # template: plotly.py would deep-copy it into every new figure.)
        if SpecFigure._empty_state is None:
            super().__init__(layout={"template": "none"})
            SpecFigure._empty_state = dict(self.__dict__)
        else:
            self.__dict__.update(SpecFigure._empty_state)
        self._spec = dict(spec or {"data": [], "layout": {}})
        self._text: dict[str, bytes] = {}  # frozen parts as JSON: "frames", "sliders" (of the layout)
        self._frozen = False
        self._json_bytes: bytes | None = None  # a frozen figure's whole JSON, made once (json_bytes)

    @property
    def spec(self) -> dict:
        if not self._text:
            return self._spec
        spec = {**self._spec, "layout": dict(self._spec.get("layout", {}))}
        if "frames" in self._text:
            spec["frames"] = orjson.loads(self._text["frames"])
        if "sliders" in self._text:
            spec["layout"]["sliders"] = orjson.loads(self._text["sliders"])
        return spec

    @property
    def traces(self) -> list:
        """The figure's traces (its spec's ``data``), as they are: read-only by convention."""
        return self._spec.get("data", [])

    def freeze(self) -> "SpecFigure":
        """Turn the frames and the layout's sliders into finished JSON text, in place;
        returns the figure.

        For a figure that is kept and drawn again and again (a cache, and ``st.plotly_chart``,
        which serialises a figure on every rerun): ``to_dict`` then hands plotly.io's orjson
        writer the text as ``orjson.Fragment``s, copied as they are. A race's frames are
        thousands of small dicts; kept alive in a cache (and freed only by Python's cyclic
        collector, since a ``go.Figure`` is a cycle) they were walked by every full
        collection: a quarter of a slider rerun's server time. Nothing changes without
        orjson, or if plotly.io is set to its ``json`` engine (which cannot write fragments).
        A frozen figure is finished: nothing changes it any more (``sized`` makes a new one).
        """
        self._frozen = True
        if orjson is None or pio.json.config.default_engine not in ("auto", "orjson") or self._text:
            return self
        layout = self._spec.get("layout", {})
        try:
            text = {}
            if self._spec.get("frames"):
                text["frames"] = _ascii(orjson.dumps(self._spec["frames"], option=orjson.OPT_SERIALIZE_NUMPY))
            if layout.get("sliders"):
                text["sliders"] = _ascii(orjson.dumps(layout["sliders"], option=orjson.OPT_SERIALIZE_NUMPY))
            data = [_ascii_value(trace) for trace in self._spec.get("data", [])]
            layout = {key: _ascii_value(value) for key, value in layout.items() if key != "sliders"}
        except TypeError:  # something orjson cannot write: leave the figure as it is
            return self
        self._spec = {part: value for part, value in self._spec.items() if part != "frames"}
        self._spec["data"], self._spec["layout"] = data, layout
        self._text = text
        return self

    def sized(self, width: float | None) -> "SpecFigure":
        """This figure drawn ``width`` px wide (None: as it is), as a new figure sharing its parts.

        For a page that knows its chart's width: Streamlit 1.67 keeps a chart hidden until
        it knows the figure's width, so a figure that says it is shown at its first draw
        (a figure that leaves it to the container: only after the chart has measured its
        container and drawn it a second time at that width)."""
        if width is None:
            return self
        width = float(width)
        if not (math.isfinite(width) and width >= 10):  # plotly.js's own minimum
            raise ValueError(f"width must be a finite number of pixels >= 10, not {width!r}")
        out = SpecFigure.__new__(SpecFigure)
        out.__dict__.update(self.__dict__)
        out._spec = {**self._spec, "layout": {**self._spec.get("layout", {}), "width": width}}
        out._json_bytes = None
        return out

    def json_bytes(self) -> bytes:
        """The figure's JSON as bytes; a frozen figure's made once. The page's cached figures
        are shared by every session on the same settings (page/caches.py build_figures), so a
        class on one setting writes each chart's few hundred kB once, not once a student."""
        if self._json_bytes is not None:
            return self._json_bytes
        made = self.to_json().encode()
        if self._frozen:
            self._json_bytes = made
        return made

    def to_dict(self):
        out = {"data": self._spec.get("data", []), "layout": self._spec.get("layout", {}),
               **({"frames": self._spec["frames"]} if self._spec.get("frames") else {})}
        if "sliders" in self._text:
            out["layout"] = {**out["layout"], "sliders": orjson.Fragment(self._text["sliders"])}
        if "frames" in self._text:
            out["frames"] = orjson.Fragment(self._text["frames"])
        return out

    def to_plotly_json(self):
        return self.to_dict()

    def __reduce__(self):
        return (SpecFigure, (self.spec,))


# Margins as wide as what they hold (tick labels and axis titles, the colour bar, a legend
# of two rows, the Play buttons and step slider): plotly.js widens a margin that is too
# small for them, and then draws the whole chart again. The race chart did that on
# every rerun (its margins were set to 10 px), which was a second full redraw of the
# chart for every slider move. A narrower window that needs more still gets it.
RACE_MARGIN = dict(l=50, r=92, t=72, b=156)
RACE_MARGIN_PRESENTER = dict(l=64, r=20, t=92, b=192)
LOSS_MARGIN = dict(l=90, r=10, t=30, b=70)
LEGEND_ROW, LEGEND_ROW_PRESENTER = 28, 32  # px a legend row takes (13 px and 20 px text)
# The look of plotly's "plotly_white", written out: applying the template by name is
# slow in plotly.py.
_WHITE = dict(paper_bgcolor="white", plot_bgcolor="white", hovermode="closest", hoverlabel=dict(align="left"))
_FONT_COLOR = "#2a3f5f"
_AXIS = dict(gridcolor="#EBF0F8", linecolor="#EBF0F8", zerolinecolor="#EBF0F8", ticks="", automargin=True)


def _typed(values) -> dict:
    """plotly.js's typed-array JSON form (what plotly.py writes for NumPy arrays), made directly."""
    array = np.ascontiguousarray(values, np.float32)
    spec = _typed_bytes(array.tobytes())
    if array.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in array.shape)
    return spec


def _typed_bytes(data: bytes) -> dict:
    """The typed-array form of float32 values given as their bytes."""
    return {"dtype": "f4", "bdata": binascii.b2a_base64(data, newline=False).decode("ascii")}


def _for_projector(layout: dict, presenter: bool, *, scene_ticks: int | None = None) -> dict:
    """In presenter mode, every text of a chart at PRESENTER_FONT, as the race chart's: the
    layout's font, the legend's, and each axis's ticks and title set one by one (the page's
    theme sets those itself, so they do not follow the layout's font). ``scene_ticks``: at
    most that many ticks on a 3D scene's axes (at 20 px its default ticks overlap)."""
    if not presenter:
        return layout
    size = {"size": PRESENTER_FONT}
    layout["font"] = {**layout.get("font", {}), **size}
    layout["legend"] = {**layout.get("legend", {}), "font": size}
    scene = layout.get("scene", {})
    flat = [layout[k] for k in ("xaxis", "yaxis") if k in layout]
    in_3d = [scene[k] for k in ("xaxis", "yaxis", "zaxis") if k in scene]
    for axis in flat + in_3d:
        axis["tickfont"] = size
        if isinstance(axis.get("title"), dict):
            axis["title"]["font"] = size
    for axis in in_3d if scene_ticks else []:
        axis["nticks"] = scene_ticks
    return layout


def style(name: str) -> Style:
    """The optimizer's colour, dash and marker symbol (:data:`DEFAULT_STYLE` for another name)."""
    opt = ENGINE_OPTIMIZERS.get(name.split("#", 1)[0])  # (a race label may end in "#tag")
    return DEFAULT_STYLE if opt is None else opt.style


def color(name: str) -> str:
    return style(name).color


def _text(text: Mapping[str, str] | None) -> dict:
    return {**DEFAULT_TEXT, **(text or {})}


def _display(name: str, labels: Mapping[str, str] | None = None) -> str:
    if labels and name in labels:
        return labels[name]
    opt = ENGINE_OPTIMIZERS.get(name)
    return name if opt is None else opt.short_name if opt.framework == "keras" else opt.label


def _round(values) -> dict:
    """float32, as a typed array: 4 bytes a number in base64, no per-element work."""
    return _typed(values)


@functools.lru_cache(maxsize=64)
def _grid(surface: Surface, box: tuple, params: tuple, resolution: int):
    xs, ys, z = surface.grid(resolution, **dict(params))
    z = np.where(np.isfinite(z), z, np.nan)
    return xs, ys, z


def surface_grid(surface: Surface, params: Mapping[str, float] | None = None, resolution: int = 100):
    """x, y and z over the surface's view box (cached: the page draws it on every rerun)."""
    # The box is part of the key: a typed formula keeps its key when its view box changes.
    return _grid(surface, (surface.x_range, surface.y_range), tuple(sorted((params or {}).items())), resolution)


def _view_key(surface: Surface, params: Mapping[str, float] | None) -> tuple:
    """The caches' key for a surface as drawn: its view box and its parameters, defaults
    filled in (the warm-up's call without parameters and the page's call with the surface's
    own values share one entry; a typed formula keeps its key when its view box changes)."""
    return (surface.x_range, surface.y_range), tuple(sorted(surface.resolve_params(params).items()))


@functools.lru_cache(maxsize=64)
def _contour_values(surface: Surface, box: tuple, params: tuple, resolution: int):
    """x, y, the values the contour shows (log10(f − min) where the range is wide), the
    colour bar's ticks, and the 25 values that bound its grey bands (None: a flat surface)."""
    xs, ys, z = _grid(surface, box, params, resolution)
    values, ticks, _ = _levels(surface, z)
    finite = values[np.isfinite(values)]
    levels = np.linspace(finite.min(), finite.max(), 25) if finite.size and finite.max() > finite.min() else None
    return xs, ys, values, ticks, levels


def draw_contour(ax, surface: Surface, params: Mapping[str, float] | None = None, resolution: int | None = None,
                 lines: bool = True) -> None:
    """The chart's contour drawn by matplotlib on ``ax``: grey bands and (with ``lines``)
    white lines over the values the chart shows (log10(f − min) where the range is wide).
    Used for the GIF export and for the race chart's backdrop (its bands only)."""
    from matplotlib.colors import LinearSegmentedColormap

    xs, ys, values, _, levels = _contour_values(surface, *_view_key(surface, params), resolution or LINE_GRID)
    if levels is not None:
        cmap = LinearSegmentedColormap.from_list("optviz", [(p, c) for p, c in SURFACE_COLORSCALE])
        ax.contourf(xs, ys, values, levels=levels, cmap=cmap)
        if lines:
            ax.contour(xs, ys, values, levels=levels, colors="white", linewidths=0.5, alpha=0.7)
    ax.set_xlim(*surface.x_range)
    ax.set_ylim(*surface.y_range)


@functools.lru_cache(maxsize=32)
def _backdrop_png(surface: Surface, box: tuple, params: tuple, pixels: int) -> str:
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1), dpi=pixels)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    # The lines too when they are too many to send as vectors (see level_lines).
    draw_contour(ax, surface, dict(params), lines=_level_lines(surface, box, params, LINE_GRID) is None)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=pixels)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def contour_backdrop(surface: Surface, params: Mapping[str, float] | None = None, pixels: int | None = None) -> dict:
    """The surface's grey bands as a picture behind the plot area (a layout image, cached
    per surface); :func:`level_lines` draws the lines between them over it, sharp (a second
    picture: vectors).

    Not a contour trace: plotly.js computes a contour trace's bands and lines in the
    browser on every redraw (a third of the race chart's redraw), and its redraw-free
    animation drops contour traces while Play runs (plotly.js #4491). A picture is decoded once and stays."""
    # (200 px: a larger picture put the browser's redraw after a slider move in its slow
    # mode most of the time. Bands are flat colour between sharp lines: they scale well.)
    box, params = _view_key(surface, params)
    if pixels is None:  # finer where the picture carries the lines too (Rastrigin: 50 -> 110 KB)
        pixels = 200 if _level_lines(surface, box, params, LINE_GRID) is not None else 300
    return _picture(_backdrop_png(surface, box, params, pixels), box)


def _picture(source: str, box: tuple, opposite: bool = False) -> dict:
    """A layout image stretched over the view box, below the traces; ``opposite``: anchored
    at the bottom-right corner instead of the top-left (the same place: plotly.js keys its
    images by corner and size, and of two images placed alike it draws only the first)."""
    (x0, x1), (y0, y1) = box
    corner = dict(x=x1, y=y0, xanchor="right", yanchor="bottom") if opposite else \
        dict(x=x0, y=y1, xanchor="left", yanchor="top")
    return dict(source=source, xref="x", yref="y", sizex=x1 - x0, sizey=y1 - y0, sizing="stretch", layer="below",
                **corner)


def _tick(value: float) -> str:
    """0.001, 0.1, 10, 1000, 1e+05: plain numbers where they are short."""
    return f"{value:g}" if 1e-3 <= abs(value) < 1e5 else f"{value:.0e}"


def _levels(surface: Surface, z: np.ndarray):
    """Contour values and colour-bar ticks: log10(f − min) where the range is wide."""
    if not np.isfinite(z).any():  # a view where a typed formula is defined nowhere: no levels
        return z, {}, None
    floor = surface.min_value if surface.min_value is not None else float(np.nanmin(z))
    span = float(np.nanmax(z)) - floor
    if surface.log_levels and span > 50:
        eps = max(span * 1e-6, 1e-6)
        values = np.log10(np.maximum(z - floor, 0) + eps)
        low, high = math.floor(np.nanmin(values)), math.ceil(np.nanmax(values))
        ticks = list(range(low, high + 1))
        labels = [_tick(floor + 10.0**k) for k in ticks]
        return values, dict(tickvals=ticks, ticktext=labels), (high - low) / 24
    return z, {}, None


@functools.lru_cache(maxsize=32)
def _level_lines(surface: Surface, box: tuple, params: tuple, resolution: int) -> str | None:
    """The level lines as an SVG picture's data URI: one path over the view box, in
    LINE_UNITS a side (y down), each line a moveto and relative linetos between whole
    units. None past MAX_LINE_POINTS points; "" for a surface with none."""
    import contourpy

    xs, ys, values, _, levels = _contour_values(surface, box, params, resolution)
    parts = []
    if levels is not None:
        lines = contourpy.contour_generator(xs, ys, np.ma.masked_invalid(values),
                                            line_type=contourpy.LineType.ChunkCombinedNan)
        for level in levels[1:-1]:  # (the first and last bound no band: a point or nothing)
            parts.extend(chunk for chunk in lines.lines(level)[0] if chunk is not None)
    if not parts:
        return ""
    points = np.concatenate([p for part in parts for p in (part, np.full((1, 2), np.nan))])
    if len(points) > MAX_LINE_POINTS:
        return None
    (x0, x1), (y0, y1) = box
    gaps = np.isnan(points[:, 0])
    units = np.zeros(points.shape, np.int64)
    units[~gaps] = np.round(np.column_stack([(points[~gaps, 0] - x0) / (x1 - x0),
                                             (y1 - points[~gaps, 1]) / (y1 - y0)]) * LINE_UNITS)
    path = []
    for i, line in enumerate(np.split(units, np.flatnonzero(gaps))):
        line = line[1:] if i else line  # (each piece after the first starts at its gap)
        if len(line) < 2:
            continue
        steps = np.diff(line, axis=0)
        steps = steps[(steps != 0).any(axis=1)]  # (points that fall on the same unit)
        path.append(f"M{line[0, 0]} {line[0, 1]}l" + " ".join(f"{a} {b}" for a, b in steps.tolist()))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {LINE_UNITS} {LINE_UNITS}" '
           f'preserveAspectRatio="none"><path d="{"".join(path).replace(" -", "-")}" fill="none" '
           'stroke="#ffffff" stroke-opacity="0.7" stroke-width="0.6" stroke-linejoin="round" '
           'vector-effect="non-scaling-stroke"/></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("ascii")).decode("ascii")


def level_lines(surface: Surface, params: Mapping[str, float] | None = None) -> dict | None:
    """The lines between the backdrop's bands (see :func:`contour_backdrop`): ONE SVG path
    in a second layout image over the bands, stretched over the view box as the bands are.
    The browser draws it as vectors, sharp at any size and zoom (its strokes keep their
    width), and plotly.js does no work for it on a redraw: as a scatter trace of the same
    points it was ~16 ms of a ~45 ms redraw of the race chart (plotly.js 4.1, Chromium).
    None when there are more than MAX_LINE_POINTS points (the backdrop then draws them) or
    none. Cached per surface and parameters."""
    box, params = _view_key(surface, params)
    source = _level_lines(surface, box, params, LINE_GRID)
    return {**_picture(source, box, opposite=True), "name": "level lines"} if source else None


def _banded_colorscale(bands: int) -> list:
    """SURFACE_COLORSCALE in ``bands`` flat steps, each the colour matplotlib gives that band
    of the picture (the colour map at the band's middle, linear between the stops)."""
    stops = np.array([p for p, _ in SURFACE_COLORSCALE])
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for _, c in SURFACE_COLORSCALE], float)
    scale = []
    for i in range(bands):
        mid = (i + 0.5) / bands
        colour = "#%02x%02x%02x" % tuple(round(float(np.interp(mid, stops, rgb[:, k]))) for k in range(3))
        scale += [[i / bands, colour], [(i + 1) / bands, colour]]
    return scale


def colour_bar(surface: Surface, params: Mapping[str, float] | None = None, *, font_size: int = 12) -> dict:
    """The surface's colour bar (f, on a log scale where its range is wide), in the picture's
    bands, carried by an invisible one-point trace: the bands themselves are a picture."""
    xs, ys, _, ticks, levels = _contour_values(surface, *_view_key(surface, params), LINE_GRID)
    low, high = (float(levels[0]), float(levels[-1])) if levels is not None else (0.0, 1.0)
    return dict(
        type="scatter", x=[float(xs[0])], y=[float(ys[0])], mode="markers", hoverinfo="skip", showlegend=False,
        name="f", marker=dict(size=1, opacity=0, color=[low], cmin=low, cmax=high,
                              colorscale=_BANDS if levels is not None else SURFACE_COLORSCALE, showscale=True,
                              colorbar=dict(title=dict(text="f", side="right"), thickness=12, x=1.0, len=0.9,
                                            tickfont=dict(size=font_size),
                                            **{k: list(v) for k, v in ticks.items()})),  # (cached: copied)
    )


_BANDS = _banded_colorscale(24)  # the picture's 25 levels bound 24 bands


def _frame_indices(n: int, frames: int) -> np.ndarray:
    """Path indices shown by each animation frame (first 0, last n - 1)."""
    return np.unique(np.round(np.linspace(0, n - 1, min(frames, n))).astype(int))


TRAIL_TAIL = 40  # past MAX_TRAIL_POINTS, a frame's newest drawn points stay unthinned
TRAIL_TOLERANCE = 1 / 4000  # of the view: a point this close to the line drawn past it adds nothing
TRAIL_LEVELS = 6  # rounds of leaving such points out (each round at most halves a trail)


def _drawn_rows(paths: list, x_range, y_range) -> list:
    """For each path (an (xs, ys) pair), the indices of the points a frame's trail draws:
    its first and last, and every point that bends the line. In rounds, every other
    remaining point is left out where it lies within TRAIL_TOLERANCE of the view from the
    straight segment between its remaining neighbours; so the drawn line stays within
    TRAIL_LEVELS x TRAIL_TOLERANCE (1.5/1000 of the view: under a pixel) of the path,
    corners and zig-zags kept. A smooth or creeping path (Adam gliding, Adagrad stalling)
    keeps a few dozen of its hundreds of points, a chaotic one nearly all; the frames,
    ~80 % of a race chart's bytes, shrink to match. All paths in one pass (end to end;
    their ends are never left out, so no segment joins two paths): a few NumPy calls a
    round for the race, not for each path."""
    lengths = [len(xs) for xs, _ in paths]
    if not lengths:
        return []
    offsets = np.cumsum([0, *lengths])
    u = (np.concatenate([np.asarray(xs, np.float64) for xs, _ in paths]) - x_range[0]) / (x_range[1] - x_range[0])
    v = (np.concatenate([np.asarray(ys, np.float64) for _, ys in paths]) - y_range[0]) / (y_range[1] - y_range[0])
    fixed = np.zeros(len(u), bool)
    fixed[offsets[:-1]] = True
    fixed[offsets[1:] - 1] = True
    keep = np.arange(len(u))
    for _ in range(TRAIL_LEVELS):
        if len(keep) < 3:
            break
        pu, pv = u[keep], v[keep]
        au, av, bu, bv = pu[:-2:2], pv[:-2:2], pu[2::2], pv[2::2]  # each candidate's neighbours
        cu, cv = pu[1:-1:2], pv[1:-1:2]  # candidates: every other point
        du, dv = bu - au, bv - av
        length2 = du * du + dv * dv
        t = np.clip(((cu - au) * du + (cv - av) * dv) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
        close = ((au + t * du - cu) ** 2 + (av + t * dv - cv) ** 2 <= TRAIL_TOLERANCE ** 2) & ~fixed[keep[1:-1:2]]
        if not close.any():
            break
        mask = np.ones(len(keep), bool)
        mask[1:-1:2][close] = False
        keep = keep[mask]
    bounds = np.searchsorted(keep, offsets)
    return [keep[a:b] - offset for a, b, offset in zip(bounds[:-1], bounds[1:], offsets[:-1])]


def race_figure(
    surface: Surface,
    trajectories: Mapping[str, Trajectory],
    *,
    surface_params: Mapping[str, float] | None = None,
    frames: int = MAX_FRAMES,
    text: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    presenter: bool = False,
    height: int = 580,
    start_step: int | None = None,
    arrows: bool = False,
    click_grid: int = 0,
) -> SpecFigure:
    """The contour with every optimizer's path, animated by Plotly frames.

    The figure opens showing every full path (the last frame); Play runs the race from
    step 0; the slider scrubs steps; the speed buttons replay at other frame rates.
    ``start_step`` opens the figure at that step instead (the step-through controls);
    with ``arrows`` it also draws, at that step, each optimizer's update (its true
    size), the downhill direction −∇f and its velocity / first moment (both scaled to
    a fixed length, as only their direction is comparable). ``click_grid`` adds an
    invisible n×n grid of points so that a click anywhere can set the start point.
    """
    t = _text(text)
    font = PRESENTER_FONT if presenter else 13
    line_width = 5 if presenter else 2.5
    head_size = 22 if presenter else 12
    names = list(trajectories)
    steps = max((tr.steps for tr in trajectories.values()), default=0)
    indices = _frame_indices(steps + 1, frames)
    shown = steps if start_step is None else int(np.clip(start_step, 0, steps))
    if start_step is not None and shown not in indices:
        indices = np.unique(np.append(indices, shown))

    traces: list = []
    annotations: list = []
    lines = level_lines(surface, surface_params)
    if not presenter:  # (on a projector the chart takes the colour bar's room)
        traces.append(colour_bar(surface, surface_params, font_size=font))
    if surface.minima:
        mx, my = zip(*surface.minima)
        traces.append(dict(type="scatter",
            # Not in the legend (the page's caption names the star): six optimizers and it made
            # three legend rows on a laptop-wide page, which plotly.js then fit by widening the
            # top margin and drawing the whole chart again on every rerun.
            x=list(mx), y=list(my), mode="markers", name=t["minimum"], showlegend=False,
            marker=dict(symbol="star", size=head_size + 6, color="gold", line=dict(color="black", width=1.5)),
            hovertemplate=t["minimum"] + " (%{x:.4g}, %{y:.4g})<extra></extra>",
        ))
    start = next(iter(trajectories.values())).path[0] if trajectories else np.array(surface.default_start)
    traces.append(dict(type="scatter",
        x=[float(start[0])], y=[float(start[1])], mode="markers", name=t["start"], showlegend=False,
        marker=dict(symbol="circle-open", size=head_size + 4, color="black", line=dict(width=2.5)),
        hovertemplate=t["start"] + " (%{x:.4g}, %{y:.4g})<extra></extra>",
    ))

    def at(tr: Trajectory, step: int) -> int:
        return min(step, len(tr.path) - 1)

    # Each path's x and y as contiguous float32 columns, and the rows a frame may draw,
    # made once for all the frames.
    columns = {name: (np.ascontiguousarray(tr.path[:, 0], np.float32), np.ascontiguousarray(tr.path[:, 1], np.float32))
               for name, tr in trajectories.items()}
    decimals = max(0, 6 - int(np.floor(np.log10(max(np.ptp(surface.x_range), np.ptp(surface.y_range))))))
    drawn = dict(zip(names, _drawn_rows([columns[name] for name in names], surface.x_range, surface.y_range))) \
        if len(indices) else {}

    def frames_at(frame_steps) -> list[list[dict]]:
        """Each frame's trails, then heads, at each of ``frame_steps``, as plain typed-array
        dicts. A frame at step k draws the path's drawn rows up to k (see
        :func:`_drawn_rows`) and k itself; past MAX_TRAIL_POINTS, the last TRAIL_TAIL
        of them at full resolution (where the eye is, so a zig-zag is never aliased away)
        and the older part thinned with a stride fixed per path (so old points do not
        flicker from frame to frame). The frame at the last step draws every point.

        Built one path at a time for all frames at once: each part of a trail is a prefix
        or a slice of one array, so its bytes are a slice of that array's bytes (made frame
        by frame this was ~15 NumPy calls a trail, 4 ms of a page rerun)."""
        frame_steps = np.asarray(frame_steps, np.int64)
        if not len(frame_steps):  # (frames=0: the figure's traces alone, e.g. a preview's)
            return []
        trails, heads = [], []
        for name in names:
            tr = trajectories[name]
            ks = np.minimum(frame_steps, len(tr.path) - 1)
            xs, ys = columns[name]
            rows = drawn[name]
            ends = np.searchsorted(rows, ks, side="right")  # drawn rows <= k: rows[:end]
            ends_at_k = np.zeros(len(ks), bool)
            ends_at_k[ends > 0] = rows[ends[ends > 0] - 1] == ks[ends > 0]
            x_bytes, y_bytes = xs[rows].tobytes(), ys[rows].tobytes()
            x_all, y_all = xs.tobytes(), ys.tobytes()
            # A long trail: every stride-th drawn point, then the last
            # TRAIL_TAIL points; the strided part is a prefix of one strided array too.
            stride = max(1, math.ceil(len(rows) / (MAX_TRAIL_POINTS - TRAIL_TAIL)))
            x_strided, y_strided = xs[rows[::stride]].tobytes(), ys[rows[::stride]].tobytes()
            name_trails = []
            for step, k, end, at_k in zip(frame_steps.tolist(), ks.tolist(), ends.tolist(), ends_at_k.tolist()):
                head_x, head_y = (b"", b"") if at_k else (x_all[4 * k: 4 * k + 4], y_all[4 * k: 4 * k + 4])
                if step == steps:  # the whole race: every point
                    bx, by = x_all[: 4 * (k + 1)], y_all[: 4 * (k + 1)]
                elif end + (not at_k) > MAX_TRAIL_POINTS:
                    split = end + (not at_k) - TRAIL_TAIL
                    old = 4 * -(-split // stride)
                    bx = x_strided[:old] + x_bytes[4 * split: 4 * end] + head_x
                    by = y_strided[:old] + y_bytes[4 * split: 4 * end] + head_y
                else:  # the drawn points so far, then the head if it is not one of them
                    bx, by = x_bytes[: 4 * end] + head_x, y_bytes[: 4 * end] + head_y
                name_trails.append({"x": _typed_bytes(bx), "y": _typed_bytes(by)})  # (a frame's traces keep their type)
            trails.append(name_trails)
            # One point: plain numbers (a typed array's encoding costs more than it saves here),
            # short ones: a millionth of the view, the loss to the 5 digits its hover shows 4 of
            # (the spec is text that the browser parses and scans ~5 times a redraw).
            points = np.round(tr.path[ks].astype(np.float64), decimals).tolist()
            losses = [float(f"{v:.5g}") for v in tr.loss[ks].tolist()]
            heads.append([{"x": [x], "y": [y], "customdata": [[k, loss]]}
                          for (x, y), k, loss in zip(points, ks.tolist(), losses)])
        return [[trail[i] for trail in trails] + [head[i] for head in heads] for i in range(len(frame_steps))]

    first_dynamic = len(traces)
    for name in names:
        tr = trajectories[name]
        trail = tr.path[: at(tr, shown) + 1]
        traces.append(dict(type="scatter",
            x=_round(trail[:, 0]), y=_round(trail[:, 1]), mode="lines", name=_display(name, labels), legendgroup=name,
            line=dict(color=color(name), width=line_width, dash=style(name).dash),
            hoverinfo="skip",
        ))
    for name in names:
        tr = trajectories[name]
        k = at(tr, shown)
        traces.append(dict(type="scatter",
            x=_typed(tr.path[k:k + 1, 0]), y=_typed(tr.path[k:k + 1, 1]), customdata=_typed([[k, tr.loss[k]]]),
            mode="markers", name=_display(name, labels), legendgroup=name, showlegend=False,
            marker=dict(symbol=style(name).symbol, size=head_size, color=color(name),
                        line=dict(color="white" if not presenter else "black", width=1.5)),
            hovertemplate=f"<b>{_display(name, labels)}</b><br>{t['step']}%{{customdata[0]}}<br>"
                          f"(%{{x:.4g}}, %{{y:.4g}})<br>{t['loss']} %{{customdata[1]:.4g}}<extra></extra>",
        ))
    dynamic = list(range(first_dynamic, len(traces)))

    # Divergence: a cross where the path left the chart, and a note saying when.
    notes = []
    for name in names:
        tr = trajectories[name]
        if tr.diverged_at is None:
            continue
        last = tr.path[-1]
        traces.append(dict(type="scatter",
            x=[float(np.clip(last[0], *surface.x_range))], y=[float(np.clip(last[1], *surface.y_range))],
            mode="markers", showlegend=False, legendgroup=name,
            marker=dict(symbol="x-thin", size=head_size + 10, color=color(name), line=dict(width=4, color=color(name))),
            hovertemplate=t["diverged_at"].format(name=_display(name, labels), step=tr.diverged_at) + "<extra></extra>",
        ))
        notes.append(f"<span style='color:{color(name)}'>✖</span> "
                     + t["diverged_at"].format(name=_display(name, labels), step=tr.diverged_at))
    if notes:
        # In the corner farthest from the start and the crosses (the top left covered the
        # start of a lesson's path, in presenter mode's large type).
        marks = [start, *(trajectories[n].path[-1] for n in names if trajectories[n].diverged_at is not None)]
        x, y = _emptiest_corner(surface, marks)
        annotations.append(dict(
            text="<br>".join(notes), xref="paper", yref="paper", x=x, y=y, xanchor="left" if x < 0.5 else "right",
            yanchor="top" if y > 0.5 else "bottom", showarrow=False, align="left", bgcolor="rgba(255,255,255,0.85)",
            bordercolor="#999", borderwidth=1, font=dict(size=font),
        ))

    if arrows and start_step is not None:
        annotations.extend(_inspector_arrows(surface, trajectories, shown, width=3 if presenter else 2))
    if click_grid:
        gx = np.linspace(*surface.x_range, click_grid)
        gy = np.linspace(*surface.y_range, click_grid)
        xx, yy = np.meshgrid(gx, gy)
        traces.append(dict(type="scatter", x=_typed(xx.ravel()), y=_typed(yy.ravel()), mode="markers",
                           # plotly.js draws one of these markers (each drawn one slows every
                           # redraw), but hovers and clicks on all of them.
                           marker=dict(size=14, color="rgba(0,0,0,0)", maxdisplayed=1), showlegend=False, name="click",
                           hovertemplate=t["set_start"] + " (%{x:.2f}, %{y:.2f})<extra></extra>"))

    frames = [{"name": str(int(k)), "data": data, "traces": dynamic} for k, data in zip(indices, frames_at(indices))]
    base_ms = max(30, int(4000 / max(len(indices), 1)))

    def play(ms: int) -> dict:
        return dict(frame=dict(duration=ms, redraw=False), transition=dict(duration=0), fromcurrent=False,
                    mode="immediate")

    # The Play buttons and the step slider below the plot, in fractions of its height: clear
    # of the tick labels, which are larger in presenter mode (the plot is also shorter).
    margin = dict(RACE_MARGIN_PRESENTER if presenter else RACE_MARGIN)
    if len(names) <= 4:  # the legend fits on one row: no second row's room
        margin["t"] -= LEGEND_ROW_PRESENTER if presenter else LEGEND_ROW
    plot_height = max(height - margin["t"] - margin["b"], 100)
    buttons_y = -(1.7 * font + 8) / plot_height
    slider_y = buttons_y - (font + 28) / plot_height
    layout = dict(
        height=height, margin=margin,
        font=dict(size=font, color=_FONT_COLOR),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=font)),
        # (No zero lines: they would cross the surface's picture, which lies below them.)
        xaxis=dict(range=list(surface.x_range), title=t["x"], constrain="domain", showgrid=False, zeroline=False),
        yaxis=dict(range=list(surface.y_range), title=t["y"], showgrid=False, zeroline=False),
        # Keeps a zoom across Plotly.react calls (the exported HTML page, a notebook). NOT
        # across the page's reruns: st.plotly_chart's element id hashes the spec, so each
        # rerun mounts a new chart (Plotly.newPlot) and a zoom is lost (checked in Chromium).
        # The page zooms by a view box of its own instead (Surface.zoomed; ?view=).
        uirevision=f"{surface.key}{surface.x_range}{surface.y_range}",
        updatemenus=[
            dict(type="buttons", direction="left", x=0.0, y=buttons_y, xanchor="left", yanchor="top",
                 pad=dict(t=4, r=6), showactive=False, font=dict(size=font),
                 buttons=[
                     dict(label=t["play"], method="animate", args=[None, play(base_ms)]),
                     dict(label=t["pause"], method="animate",
                          args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")]),
                 ]),
            dict(type="buttons", direction="left", x=1.0, y=buttons_y, xanchor="right", yanchor="top", pad=dict(t=4),
                 showactive=True, active=1, font=dict(size=font - 1),
                 buttons=[dict(label=f"{label}", method="animate", args=[None, play(int(base_ms / factor))])
                          for label, factor in (("½×", 0.5), ("1×", 1), ("2×", 2), ("4×", 4))]),
        ],
        sliders=[dict(
            active=int(np.searchsorted(indices, shown)), x=0.0, len=1.0, y=slider_y, yanchor="top", pad=dict(t=0),
            currentvalue=dict(prefix=t["step"], font=dict(size=font), xanchor="center", offset=6),
            font=dict(size=max(font - 3, 9)),
            steps=[dict(label=str(int(k)), method="animate",
                        args=[[str(int(k))], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                                  transition=dict(duration=0))]) for k in indices],
        )],
        annotations=annotations,
        images=[contour_backdrop(surface, surface_params), *([lines] if lines else [])],
    )
    layout.update(_WHITE)
    layout["xaxis"].update(_AXIS, tickfont=dict(size=font))
    layout["yaxis"].update(_AXIS, tickfont=dict(size=font))
    return SpecFigure({"data": traces, "layout": layout, "frames": frames})


# What the race chart's page element moves in place (its JS's DATA_KEYS): a figure that
# differs from the drawn one only in these is shown by moving the drawn chart's points.
DATA_KEYS = ("x", "y", "customdata", "text")


def moved_traces(drawn: SpecFigure, other: SpecFigure) -> dict | None:
    """How to show ``other`` by moving the points of ``drawn``: ``{"traces": [i, ...],
    "data": [trace, ...]}``, the traces whose data (x, y, customdata, text) differ, as
    ``other`` has them; None if anything else differs (a trace more or fewer, another
    name, colour or hover text: a diverged path's mark, say). Layout and frames are not
    compared: a preview moves the paths; the figure itself follows."""
    a, b = drawn.traces, other.traces
    if len(a) != len(b):
        return None
    moved = []
    for i, (old, new) in enumerate(zip(a, b)):
        if old == new:
            continue
        if {k: v for k, v in old.items() if k not in DATA_KEYS} != {k: v for k, v in new.items() if k not in DATA_KEYS}:
            return None
        moved.append(i)
    return {"traces": moved, "data": [b[i] for i in moved]}


def _emptiest_corner(surface: Surface, points) -> tuple[float, float]:
    """The plot's corner (paper coordinates, just inside) farthest from the nearest of ``points``."""
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    marks = [(np.clip((p[0] - x0) / (x1 - x0), 0, 1), np.clip((p[1] - y0) / (y1 - y0), 0, 1)) for p in points]
    corners = [(0.01, 0.99), (0.99, 0.99), (0.01, 0.01), (0.99, 0.01)]  # top left first: the usual place
    return max(corners, key=lambda c: min((math.hypot(c[0] - mx, c[1] - my) for mx, my in marks), default=1.0))


def _inspector_arrows(surface: Surface, trajectories: Mapping[str, Trajectory], step: int, width: int) -> list:
    """Layout arrows at ``step``: update (true size), −gradient and velocity (fixed length)."""
    diagonal = float(np.hypot(np.ptp(surface.x_range), np.ptp(surface.y_range)))
    length = 0.1 * diagonal
    out = []

    def arrow(start, end, colour, dash_width):
        if not (np.all(np.isfinite(start)) and np.all(np.isfinite(end))) or np.allclose(start, end):
            return
        out.append(dict(x=float(end[0]), y=float(end[1]), ax=float(start[0]), ay=float(start[1]), xref="x", yref="y",
                        axref="x", ayref="y", showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=dash_width,
                        arrowcolor=colour, text="", opacity=0.95))

    def scaled(vector):
        norm = float(np.linalg.norm(vector))
        return None if not np.isfinite(norm) or norm == 0 else vector / norm * length

    for name, tr in trajectories.items():
        if step >= len(tr.path) - 1:
            continue
        here = tr.path[step].astype(np.float64)
        arrow(here, tr.path[step + 1].astype(np.float64), color(name), width + 1)  # the update, true size
        down = scaled(-tr.gradient[step].astype(np.float64))
        if down is not None:
            arrow(here, here + down, "#222222", width)
        velocity = _velocity(name, tr, step + 1)
        if velocity is not None:
            v = scaled(velocity)
            if v is not None:
                arrow(here, here + v, _lighter(color(name)), width)
    return out


def _velocity(name: str, tr: Trajectory, index: int):
    """The direction the optimizer's memory pushes in after ``index`` steps (None if it has none)."""
    if "momentum" in tr.state and name in ("sgd", "nesterov"):
        return tr.state["momentum"][index].astype(np.float64)  # Keras adds m to w
    if name == "rmsprop" and "momentum" in tr.state:
        return -tr.state["momentum"][index].astype(np.float64)  # Keras subtracts m from w
    if name in ("adam", "adamax"):
        first = tr.state["momentum" if name == "adam" else "m"][index].astype(np.float64)
        return -first
    return None


def _lighter(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},0.55)"


def inspector_rows(trajectories: Mapping[str, Trajectory], step: int, labels=None) -> list[dict]:
    """Each optimizer's numbers at ``step``: point, gradient, update, state, effective step size.

    The effective step size per coordinate is |Δw| / |g|: how far the optimizer moved per
    unit of gradient. For plain SGD it is the learning rate; for Adagrad it shrinks as its
    accumulator grows; for RMSprop it is about lr / √(v + ε).
    """
    rows = []
    for name, tr in trajectories.items():
        if step >= len(tr.path):
            continue
        row = {"name": name, "optimizer": _display(name, labels), "step": step,
               "x": float(tr.path[step, 0]), "y": float(tr.path[step, 1]),
               "gx": float(tr.gradient[step, 0]), "gy": float(tr.gradient[step, 1])}
        if step + 1 < len(tr.path):
            delta = (tr.path[step + 1] - tr.path[step]).astype(np.float64)
            grad = tr.gradient[step].astype(np.float64)
            row.update(dx=float(delta[0]), dy=float(delta[1]))
            with np.errstate(divide="ignore", invalid="ignore"):
                effective = np.where(grad != 0, np.abs(delta) / np.abs(grad), np.nan)
            row.update(step_size_x=float(effective[0]), step_size_y=float(effective[1]))
        if tr.sharpness is not None and step < len(tr.sharpness) and np.isfinite(tr.sharpness[step]):
            row["sharpness"] = float(tr.sharpness[step])
        for key, values in tr.state.items():
            row[f"{key} (x)"] = float(values[min(step + 1, len(values) - 1), 0])
            row[f"{key} (y)"] = float(values[min(step + 1, len(values) - 1), 1])
        rows.append(row)
    return rows


def loss_figure(trajectories: Mapping[str, Trajectory], *, min_value: float | None, text=None, labels=None,
                presenter: bool = False, height: int = 320, max_points: int = 800) -> SpecFigure:
    """Loss against step, log y. With a known minimum it plots loss − minimum (always > 0)."""
    t = _text(text)
    font = PRESENTER_FONT if presenter else 12
    log_y = min_value is not None
    traces = []
    low, high = np.inf, -np.inf
    for name, tr in trajectories.items():
        stride = max(1, math.ceil(len(tr.loss) / max_points))
        steps = np.arange(len(tr.loss))[::stride]
        loss = tr.loss[::stride].astype(np.float64)
        y = np.maximum(loss - min_value, 1e-12) if log_y else loss
        if len(y):
            low, high = min(low, float(y.min())), max(high, float(y.max()))
        traces.append(dict(
            type="scatter", x=_typed(steps), y=_typed(y), mode="lines", name=_display(name, labels),
            line=dict(color=color(name), dash=style(name).dash, width=4 if presenter else 2),
            hovertemplate=f"{_display(name, labels)}<br>{t['step']}%{{x}}<br>%{{y:.4g}}<extra></extra>",
        ))
    layout = dict(
        height=height, margin=LOSS_MARGIN, font=dict(size=font, color=_FONT_COLOR), showlegend=False,
        xaxis=dict(title=dict(text=t["step"].strip()), **_AXIS),
        yaxis=dict(type="log" if log_y else "linear", title=dict(text=t["loss_gap"] if log_y else t["loss"]),
                   exponentformat="power", **_AXIS),
        **_WHITE,
    )
    if log_y and np.isfinite(low) and 0 < low and high / low < 10 ** 2.5:
        # Two decades or less: plotly.js would label every minor tick (2, 3, ... 9) in a
        # column of small digits; 2 and 5 only read better.
        layout["yaxis"]["dtick"] = "D2"
    # The ranges written out, not left to plotly.js's autorange: the page moves this chart's
    # lines in place on a slider move (Plotly.animate), which does not autorange again, so a
    # learning rate raised into divergence drew its loss off the old axis.
    if np.isfinite(low) and np.isfinite(high):
        longest = max(len(tr.loss) for tr in trajectories.values())
        layout["xaxis"]["range"] = [0, max(longest - 1, 1)]
        layout["yaxis"]["range"] = _padded_range(low, high, log_y)
    return SpecFigure({"data": traces, "layout": layout})


def _padded_range(low: float, high: float, log: bool, pad: float = 0.04) -> list[float]:
    """An axis range around [low, high] with a margin of ``pad`` of its span each side (in
    decades on a log axis, whose plotly.js range is in log10 units)."""
    if log:
        low, high = math.log10(low), math.log10(high)
    span = high - low
    if span <= 0:  # one value: a decade (or a unit) around it
        span = 1.0 if log or low == 0 else abs(low) * 0.2
        return [low - span / 2, high + span / 2]
    return [low - pad * span, high + pad * span]


def surface_3d_figure(surface: Surface, trajectories: Mapping[str, Trajectory], *,
                      surface_params: Mapping[str, float] | None = None, text=None, labels=None,
                      height: int = 620, max_points: int = 400, presenter: bool = False) -> SpecFigure:
    """The surface in 3D (log height where the range is wide) with each path drawn on it,
    lifted a hair above it so that the surface does not hide it, a marker at its head,
    and its shadow on a floor below that carries the surface's bands: Rosenbrock's
    valley is a deep trench on a log scale, and a path in it is seen from above only.
    A path leaves gaps where it leaves the box. ``presenter``: text, lines and heads for a
    projector, as the race chart's."""
    t = _text(text)
    path_width, shadow_width, head = (11, 6, 10) if presenter else (7, 4, 6)
    xs, ys, z = surface_grid(surface, surface_params, 70)
    values, _, size = _levels(surface, z)
    log = size is not None
    floor = surface.min_value if surface.min_value is not None else float(np.nanmin(z))
    eps = max((float(np.nanmax(z)) - floor) * 1e-6, 1e-6)

    def height_of(loss):
        loss = np.asarray(loss, np.float64)
        return np.log10(np.maximum(loss - floor, 0) + eps) if log else loss

    z_low, z_high = float(np.nanmin(values)), float(np.nanmax(values))
    span = max(z_high - z_low, 1e-9)
    z_floor = z_low - 0.25 * span  # the floor the shadows and level lines lie on, below the surface
    lift = 0.012 * span
    levels = dict(start=z_low, end=z_high, size=span / 16)
    traces = [dict(type="surface", x=_typed(xs), y=_typed(ys), z=_typed(values), colorscale=SURFACE_COLORSCALE,
                   opacity=0.75, showscale=False, hoverinfo="skip",
                   lighting=dict(ambient=0.65, diffuse=0.6, specular=0.05, roughness=0.9),
                   contours=dict(z=dict(show=True, color="white", width=1, **levels)))]
    # The surface's bands again on the floor, as the race chart draws them (a flat copy of the
    # surface), a little above the scene's floor plane (at the same height they flicker).
    traces.append(dict(type="surface", x=_typed(xs), y=_typed(ys), z=_typed(np.full_like(values, z_floor)),
                       surfacecolor=_typed(values), colorscale=SURFACE_COLORSCALE, cmin=z_low, cmax=z_high,
                       opacity=1.0, showscale=False, hoverinfo="skip", name="floor",
                       lighting=dict(ambient=1.0, diffuse=0.0, specular=0.0)))
    for name, tr in trajectories.items():
        inside = ((tr.path[:, 0] >= surface.x_range[0]) & (tr.path[:, 0] <= surface.x_range[1])
                  & (tr.path[:, 1] >= surface.y_range[0]) & (tr.path[:, 1] <= surface.y_range[1]))
        if not inside.any():
            continue
        keep = np.unique(np.append(np.arange(0, len(tr.path), max(1, math.ceil(len(tr.path) / max_points))),
                                   len(tr.path) - 1))
        x, y = tr.path[keep, 0].astype(np.float64), tr.path[keep, 1].astype(np.float64)
        on = np.maximum(height_of(tr.loss[keep]), z_low) + lift
        gap = ~inside[keep]
        x[gap] = y[gap] = on[gap] = np.nan  # plotly draws a line's NaN points as gaps
        label, colour = _display(name, labels), color(name)
        traces.append(dict(
            type="scatter3d", x=_typed(x), y=_typed(y), z=_typed(on), mode="lines", name=label, legendgroup=name,
            line=dict(color=colour, width=path_width), connectgaps=False, hovertemplate=f"{label}<extra></extra>",
        ))
        traces.append(dict(
            type="scatter3d", x=_typed(x), y=_typed(y), z=_typed(np.where(gap, np.nan, z_floor)), mode="lines",
            name=label, legendgroup=name, showlegend=False, line=dict(color=colour, width=shadow_width),
            connectgaps=False, hoverinfo="skip",
        ))
        last = np.flatnonzero(~gap)[-1]
        traces.append(dict(
            type="scatter3d", x=[float(x[last])], y=[float(y[last])], z=[float(on[last])], mode="markers",
            name=label, legendgroup=name, showlegend=False, hovertemplate=f"{label}<extra></extra>",
            marker=dict(color=colour, size=head, line=dict(color="black", width=1)),
        ))
    axis = dict(backgroundcolor="#F4F6FA", gridcolor="white", showbackground=True)
    layout = dict(
        height=height, margin=dict(l=0, r=0, t=10, b=0), font=dict(color=_FONT_COLOR),
        legend=dict(orientation="h", y=1.0),
        scene=dict(xaxis=dict(title=dict(text=t["x"]), range=list(surface.x_range), **axis),
                   yaxis=dict(title=dict(text=t["y"]), range=list(surface.y_range), **axis),
                   zaxis=dict(title=dict(text="log₁₀(f − min)" if log else t["f"]),
                              range=[z_floor - 0.03 * span, z_high + lift], **axis),
                   aspectmode="manual", aspectratio=dict(x=1, y=1, z=0.7),
                   camera=dict(eye=dict(x=-0.9, y=-1.6, z=1.7))),
        **_WHITE,
    )
    return SpecFigure({"data": traces, "layout": _for_projector(layout, presenter, scene_ticks=5)})


def results_rows(trajectories: Mapping[str, Trajectory], tolerance: float, labels=None) -> list[dict]:
    """The results table as plain rows: final loss, distance to the nearest minimum, steps to tolerance."""
    rows = []
    for name, tr in trajectories.items():
        reached = tr.steps_to_tolerance(tolerance)
        distance = tr.distance_to_minimum()
        rows.append({
            "name": name,
            "optimizer": _display(name, labels),
            "final_loss": float(tr.final_loss),
            "distance": None if distance is None else float(distance),
            "steps_to_tolerance": reached,
            "diverged_at": tr.diverged_at,
        })
    return rows


def figure_json_size(fig: go.Figure) -> int:
    """Bytes of the figure's JSON, as the browser receives it."""
    return len(fig.to_json())


def sweep_figure(result, min_value: float | None, *, text=None, labels=None,
                 current: tuple[float, float] | None = None, height: int = 520,
                 presenter: bool = False, log_y: bool = False) -> SpecFigure:
    """The tuning heat map: log10 of the final loss gap over learning rate (x, log) × the
    sweep's second hyperparameter (y, named on its axis; ``log_y``: drawn as log10, like x).

    Diverged cells are grey with a ✖; a transparent marker on every cell carries the
    hover text and takes the click (Plotly heat maps send Streamlit no selection).
    ``presenter``: text and the current-setting ring for a projector.
    """
    t = _text(text)
    lrs = np.asarray(result.learning_rates, np.float64)
    ms = np.asarray(result.momenta, np.float64)
    gap = result.final_loss - (min_value if min_value is not None else 0.0)
    z = np.log10(np.maximum(gap, 1e-12)) if min_value is not None else np.asarray(result.final_loss)
    z = np.where(result.diverged, np.nan, z).T  # rows: momenta (y), columns: learning rates (x)
    x = np.log10(lrs)
    y = (np.log10(ms) if log_y else ms) if result.momentum_name else np.zeros(1)
    axis_name = result.momentum_name or "—"
    ticks = list(range(int(np.floor(x.min())), int(np.ceil(x.max())) + 1))
    y_ticks = (dict(tickvals=list(range(int(np.floor(y.min())), int(np.ceil(y.max())) + 1)),
                    ticktext=[f"1e{k}" for k in range(int(np.floor(y.min())), int(np.ceil(y.max())) + 1)])
               if log_y else {})
    traces = [dict(
        type="heatmap", x=_typed(x), y=_typed(y), z=_typed(z), colorscale="Viridis", reversescale=False,
        hoverinfo="skip", zsmooth=False,
        colorbar=dict(title=dict(text=t["loss_gap"] if min_value is not None else t["loss"], side="right"),
                      thickness=12, **(dict(tickvals=list(range(-12, 9, 2)),
                                            ticktext=[f"1e{k}" for k in range(-12, 9, 2)]) if min_value is not None
                                       else {})),
    )]
    xx, yy = np.meshgrid(x, y)
    diverged = result.diverged.T
    if diverged.any():
        traces.append(dict(type="scatter", x=_typed(xx[diverged]), y=_typed(yy[diverged]), mode="markers",
                           marker=dict(symbol="x-thin", size=5, line=dict(width=1, color="#666")),
                           hoverinfo="skip", showlegend=False, name="diverged"))
    steps = result.steps_to_tolerance.T.astype(np.float32)
    final_loss = np.where(np.isfinite(result.final_loss.T), result.final_loss.T, np.nan)
    custom = np.stack([10 ** xx, 10 ** yy if log_y else yy, final_loss, steps, diverged.astype(np.float32)],
                      axis=-1).reshape(-1, 5)
    traces.append(dict(
        type="scatter", x=_typed(xx.ravel()), y=_typed(yy.ravel()), customdata=_typed(custom), mode="markers",
        marker=dict(size=9, opacity=0.01, color="black", symbol="square"), showlegend=False, name="cells",
        hovertemplate=(f"learning_rate %{{customdata[0]:.3g}}<br>{axis_name} %{{customdata[1]:.3g}}<br>"
                       f"{t['loss']} %{{customdata[2]:.4g}}<br>{t['steps_to_tol']} %{{customdata[3]:.0f}}"
                       f"<br>{t['diverged']} %{{customdata[4]:.0f}}<extra></extra>"),
    ))
    if current is not None and not (log_y and current[1] <= 0):  # (0 has no place on a log axis)
        traces.append(dict(type="scatter", x=[float(np.log10(current[0]))],
                           y=[float(np.log10(current[1]) if log_y else current[1])], mode="markers",
                           marker=dict(symbol="circle-open", size=24 if presenter else 16, color="red",
                                       line=dict(width=4 if presenter else 3)),
                           hoverinfo="skip", showlegend=False, name="current"))
    layout = dict(
        height=height, margin=dict(l=10, r=10, t=30, b=10), font=dict(color=_FONT_COLOR),
        xaxis=dict(title=dict(text="learning_rate"), tickvals=ticks, ticktext=[f"1e{k}" for k in ticks], **_AXIS),
        yaxis=dict(title=dict(text=axis_name), **y_ticks, **_AXIS), clickmode="event+select", dragmode=False,
        **_WHITE,
    )
    return SpecFigure({"data": traces, "layout": _for_projector(layout, presenter)})


def learning_rate_curve_figure(results: Mapping[str, object], min_value: float | None, *, text=None,
                               labels=None, height: int = 360, presenter: bool = False) -> SpecFigure:
    """Final loss gap against learning rate, one line per optimizer (its momentum fixed)."""
    t = _text(text)
    traces = []
    for name, result in results.items():
        gap = result.final_loss[:, 0] - (min_value if min_value is not None else 0.0)
        y = np.where(result.diverged[:, 0], np.nan, np.maximum(gap, 1e-12) if min_value is not None else gap)
        traces.append(dict(type="scatter", x=_typed(result.learning_rates), y=_typed(y), mode="lines",
                           name=_display(name, labels), connectgaps=False,
                           line=dict(color=color(name), dash=style(name).dash, width=4 if presenter else 2.5),
                           hovertemplate=f"{_display(name, labels)}<br>learning_rate %{{x:.3g}}<br>%{{y:.4g}}"
                                         "<extra></extra>"))
    layout = dict(
        height=height, margin=dict(l=10, r=10, t=30, b=10), font=dict(color=_FONT_COLOR),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        xaxis=dict(type="log", title=dict(text="learning_rate"), exponentformat="power", **_AXIS),
        yaxis=dict(type="log" if min_value is not None else "linear",
                   title=dict(text=t["loss_gap"] if min_value is not None else t["loss"]), exponentformat="power",
                   **_AXIS),
        **_WHITE,
    )
    return SpecFigure({"data": traces, "layout": _for_projector(layout, presenter)})


def schedule_figure(rates, *, text=None, height: int = 160) -> SpecFigure:
    """A small plot of the learning rate against step (the sidebar's schedule preview)."""
    t = _text(text)
    rates = np.asarray(rates, np.float64)
    traces = [dict(type="scatter", x=_typed(np.arange(len(rates))), y=_typed(rates), mode="lines",
                   line=dict(color="#0072B2", width=2),
                   hovertemplate=f"{t['step']}%{{x}}<br>%{{y:.4g}}<extra></extra>")]
    layout = dict(height=height, margin=dict(l=0, r=0, t=4, b=0), font=dict(size=10, color=_FONT_COLOR),
                  showlegend=False, xaxis=dict(**_AXIS), yaxis=dict(exponentformat="power", **_AXIS), **_WHITE)
    return SpecFigure({"data": traces, "layout": layout})


# --- theory overlays (optviz.theory): drawn only where the linear theory holds -------------------


def _appended(fig: SpecFigure, traces: list[dict], layout: Mapping | None = None) -> SpecFigure:
    spec = fig.spec
    return SpecFigure({**spec, "data": [*spec.get("data", []), *traces],
                       "layout": {**spec.get("layout", {}), **(layout or {})}})


def stability_traces(quadratic: Quadratic, rule: str, learning_rates, momenta, *, text=None,
                     presenter: bool = False) -> list[dict]:
    """The tuning map's theory: the learning rate past which ``rule`` diverges, for each
    momentum (a line), and the best settings (stars), in the map's coordinates (x: log10 of
    the learning rate). Only the part inside the map's learning rates is drawn."""
    t = _text(text)
    lrs = np.asarray(learning_rates, np.float64)
    low, high = float(np.log10(lrs.min())), float(np.log10(lrs.max()))
    mu = np.linspace(float(np.min(momenta)), float(np.max(momenta)), 200)
    x = np.log10(stability_limit(rule, mu, quadratic.eigenvalues[1]))
    x = np.where((x >= low) & (x <= high), x, np.nan)
    traces = []
    if np.isfinite(x).any():
        traces.append(dict(type="scatter", x=_typed(x), y=_typed(mu), mode="lines", name="boundary",
                           line=dict(color="white", width=7 if presenter else 5), hoverinfo="skip",
                           showlegend=False))
        traces.append(dict(type="scatter", x=_typed(x), y=_typed(mu), mode="lines", name="boundary",
                           line=dict(color="#D55E00", width=4 if presenter else 3, dash="dash"), showlegend=False,
                           hovertemplate=f"{t['boundary']}<br>learning_rate %{{customdata:.3g}}<extra></extra>",
                           customdata=_typed(10 ** x)))
    if not quadratic.positive_definite:
        return traces
    settings = [(optimal_setting(rule, quadratic.eigenvalues, momentum=False), "best_gd"),
                (optimal_setting(rule, quadratic.eigenvalues), "best")]
    for best, label in settings:
        if not low <= math.log10(best.learning_rate) <= high:
            continue
        words = t[label].format(lr=best.learning_rate, mu=best.momentum, axis="momentum")
        traces.append(dict(type="scatter", x=[math.log10(best.learning_rate)], y=[best.momentum], mode="markers",
                           name=label, showlegend=False,
                           marker=dict(symbol="star", size=22 if presenter else 16, color="#F0E442",
                                       line=dict(color="black", width=1.5)),
                           hovertemplate=f"{words}<br>{t['rate'].format(rate=best.rate)}<extra></extra>"))
    return traces


def add_stability_boundary(fig: SpecFigure, result, quadratic: Quadratic | None, *, text=None,
                           presenter: bool = False) -> SpecFigure:
    """The tuning map ``fig`` of sweep ``result`` with :func:`stability_traces` drawn on it:
    only for SGD (momentum) and Nesterov on a quadratic; ``fig`` itself otherwise."""
    if quadratic is None or result.optimizer not in ("sgd", "nesterov") or result.momentum_name != "momentum":
        return fig
    traces = stability_traces(quadratic, result.optimizer, result.learning_rates, result.momenta, text=text,
                              presenter=presenter)
    # The map's axes stay the map's: the boundary is cut to them.
    layout = fig.spec.get("layout", {})
    x = np.log10(np.asarray(result.learning_rates, np.float64))
    half = 0.5 * (float(np.min(np.diff(np.sort(x)))) if len(x) > 1 else 0.5)  # the edge cells' outer halves
    extra = {"xaxis": {**layout.get("xaxis", {}), "range": [float(x.min()) - half, float(x.max()) + half]}}
    return _appended(fig, traces, extra) if traces else fig


def add_predicted_rates(fig: SpecFigure, trajectories: Mapping[str, Trajectory], quadratic: Quadratic | None, *,
                        text=None, labels=None, presenter: bool = False) -> SpecFigure:
    """The loss chart ``fig`` with each SGD / Nesterov run's predicted linear rate beside it:
    a dashed line (loss − min at the start) · ρ^(2k), ρ the iteration's spectral radius.
    ``fig`` itself where there is no quadratic or no such run."""
    t = _text(text)
    if quadratic is None or quadratic.min_value is None:
        return fig
    layout = fig.spec.get("layout", {})
    # The line stays inside the axis the measured losses set (a hair inside: 10 ** range[0]
    # read back through log10 can land just outside it).
    low, high = layout.get("yaxis", {}).get("range", [-12, 30])
    floor, ceiling = 10 ** low * (1 + 1e-6), 10 ** high * (1 - 1e-6)
    traces = []
    for name, tr in trajectories.items():
        rate = predicted_rate(tr, quadratic)
        first = float(tr.loss[0]) - quadratic.min_value
        if rate is None or not first > 0:
            continue
        steps = np.arange(tr.steps + 1)
        with np.errstate(under="ignore", over="ignore"):
            gap = first * np.power(rate, 2.0 * steps)
        # Drawn down to the axis's floor (below it, plotly.js would get zeros on a log axis),
        # or up to its top where the theory predicts divergence.
        outside = np.flatnonzero((gap < floor) | (gap > ceiling))
        if outside.size:
            steps, gap = steps[:outside[0] + 1], gap[:outside[0] + 1]
        gap = np.clip(gap, floor, ceiling)
        label = _display(name, labels)
        traces.append(dict(type="scatter", x=_typed(steps), y=_typed(gap), mode="lines", name=f"{label} ρ",
                           line=dict(color=color(name), dash="dot", width=3 if presenter else 1.5), opacity=0.8,
                           hovertemplate=f"{label}: {t['rate'].format(rate=rate)}<br>{t['step']}%{{x}}"
                                         "<br>%{y:.3g}<extra></extra>"))
    return _appended(fig, traces) if traces else fig


def sharpness_figure(trajectories: Mapping[str, Trajectory], *, text=None, labels=None, presenter: bool = False,
                     height: int = 320, max_points: int = 800) -> SpecFigure:
    """Sharpness (the Hessian's largest eigenvalue at each point of each path) against step,
    with each SGD / Nesterov run's stability limit (2/η; with momentum 2(1 + μ)/η, Nesterov
    2(1 + μ)/((1 + 2μ)η)) as a dashed line: gradient descent at the edge of stability
    hovers at its line."""
    t = _text(text)
    traces, limits = [], []
    low, high = np.inf, -np.inf
    for name, tr in trajectories.items():
        if tr.sharpness is None or not len(tr.sharpness):
            continue
        stride = max(1, math.ceil(len(tr.sharpness) / max_points))
        steps = np.arange(len(tr.sharpness))[::stride]
        sharp = tr.sharpness[::stride].astype(np.float64)
        finite = np.isfinite(sharp)
        if finite.any():
            low, high = min(low, float(sharp[finite].min())), max(high, float(sharp[finite].max()))
        label = _display(name, labels)
        traces.append(dict(type="scatter", x=_typed(steps), y=_typed(np.where(finite, sharp, np.nan)), mode="lines",
                           name=label, connectgaps=False,
                           line=dict(color=color(name), dash=style(name).dash, width=4 if presenter else 2),
                           hovertemplate=f"{label}<br>{t['step']}%{{x}}<br>%{{y:.4g}}<extra></extra>"))
        rule = tr.optimizer if tr.optimizer in ("sgd", "nesterov") else None
        rate = tr.hyperparameters.get("learning_rate")
        if rule and isinstance(rate, (int, float)) and rate > 0:
            limit = sharpness_limit(rule, float(rate), float(tr.hyperparameters.get("momentum", 0.0)))
            limits.append((name, label, limit, tr.steps))
    for name, label, limit, steps in limits:
        words = t["limit"].format(name=label, value=limit)
        traces.append(dict(type="scatter", x=[0, steps], y=[limit, limit], mode="lines", name=words,
                           line=dict(color=color(name), dash="dot", width=3 if presenter else 1.5),
                           hovertemplate=f"{words}<extra></extra>"))
    if limits and np.isfinite(high):
        # The limit in view when it is near the paths' sharpness (an edge of stability),
        # not when it is far above them (a small learning rate: a flat line at 2e5).
        near = [v for _, _, v, _ in limits if v <= 3 * max(high, 1e-9)]
        if near:
            high = max(high, max(near))
    layout = dict(
        height=height, margin=LOSS_MARGIN, font=dict(size=PRESENTER_FONT if presenter else 12, color=_FONT_COLOR),
        showlegend=False, xaxis=dict(title=dict(text=t["step"].strip()), **_AXIS),
        yaxis=dict(title=dict(text=t["sharpness"]), **_AXIS), **_WHITE,
    )
    if np.isfinite(low) and np.isfinite(high):
        longest = max(len(tr.sharpness) for tr in trajectories.values() if tr.sharpness is not None)
        layout["xaxis"]["range"] = [0, max(longest - 1, 1)]
        layout["yaxis"]["range"] = _padded_range(low, high, False)
    return SpecFigure({"data": traces, "layout": _for_projector(layout, presenter)})
def fit_figure(surface, trajectories: Mapping[str, Trajectory], *, step: int | None = None, text=None,
               labels=None, presenter: bool = False, height: int = 320, frames: int = MAX_FRAMES) -> SpecFigure:
    """A data surface's data and each optimizer's model at ``step`` (None: its last point):
    the line (linear), the sigmoid (logistic), or for the plane each model's predictions
    against the targets (on the diagonal: a perfect fit). Its animation frames are named by
    step as the race figure's are (same ``frames``), so that the race chart's Play and
    scrubber can move it too (frontend/race_chart.js)."""
    t = _text(text)
    data, model = surface.data, surface.model
    x, y = np.asarray(data.x, np.float64), np.asarray(data.y, np.float64)
    font = PRESENTER_FONT if presenter else 12
    traces = []
    if model.features == 1:
        traces.append(dict(type="scatter", mode="markers", name=t.get("data_points", "data"), x=_typed(x[:, 0]),
                           y=_typed(y), marker=dict(color="#555555", size=9 if presenter else 6, opacity=0.6),
                           hoverinfo="skip"))
        low, high = float(x.min()), float(x.max())
        pad = 0.05 * (high - low or 1.0)
        grid = np.linspace(low - pad, high + pad, 120)
    else:
        top = max(float(np.abs(y).max()), 1e-9)
        traces.append(dict(type="scatter", mode="lines", x=[-top, top], y=[-top, top], hoverinfo="skip",
                           line=dict(color="#999999", dash="dot", width=1), showlegend=False))

    def model_data(tr: Trajectory, k: int) -> dict:
        w0, w1 = (float(v) for v in tr.path[min(int(k), len(tr.path) - 1)])
        if model.features == 1:
            z = grid * w0 + w1
            values = 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60))) if model.loss == "binary_crossentropy" else z
            return dict(x=_typed(grid), y=_typed(values))
        return dict(x=_typed(y), y=_typed(x[:, 0] * w0 + x[:, 1] * w1))

    steps = max((tr.steps for tr in trajectories.values()), default=0)
    shown = steps if step is None else int(step)
    for name, tr in trajectories.items():
        if model.features == 1:
            look = dict(mode="lines", line=dict(color=color(name), dash=style(name).dash, width=4 if presenter else 2))
        else:
            look = dict(mode="markers", marker=dict(color=color(name), symbol=style(name).symbol,
                                                    size=8 if presenter else 5))
        traces.append(dict(type="scatter", name=_display(name, labels), hoverinfo="name", **look,
                           **model_data(tr, shown)))
    indices = _frame_indices(steps + 1, frames) if frames else []
    movers = list(range(1, len(traces)))
    frame_list = [{"name": str(int(k)), "data": [model_data(tr, k) for tr in trajectories.values()], "traces": movers}
                  for k in indices]
    xs = data.feature_names[0] if model.features == 1 else data.target_name
    ys = data.target_name if model.features == 1 else f"{t.get('predicted', 'prediction')}"
    layout = dict(height=height, margin=dict(l=60, r=10, t=10, b=50), font=dict(size=font, color=_FONT_COLOR),
                  showlegend=False, xaxis=dict(title=dict(text=xs), **_AXIS), yaxis=dict(title=dict(text=ys), **_AXIS),
                  **_WHITE)
    if model.features == 1:
        span = float(y.max() - y.min()) or 1.0
        layout["yaxis"]["range"] = [float(y.min()) - 0.15 * span, float(y.max()) + 0.15 * span]
    else:
        layout["yaxis"]["range"] = [-top * 1.1, top * 1.1]
    return SpecFigure({"data": traces, "layout": layout, **({"frames": frame_list} if frame_list else {})})


def add_batch_surface(fig: SpecFigure, surface, indices, *, presenter: bool = False, resolution: int = 60) -> None:
    """Add to a race figure (not yet frozen) the loss of one batch (``indices`` into the data
    surface's points) over the view, as faint level lines: where that batch alone pulls."""
    from .models import loss_grid

    xs = np.linspace(*surface.x_range, resolution)
    ys = np.linspace(*surface.y_range, resolution)
    data = surface.data
    z = loss_grid(surface.model, data.x[indices], data.y[indices], *np.meshgrid(xs, ys))
    # Level lines spaced in log(loss - least): a wide range otherwise puts them all in the walls.
    shown = np.log10(z - z.min() + 1e-3 * max(float(np.ptp(z)), 1e-12))
    fig._spec["data"].append(dict(
        type="contour", x=_typed(xs), y=_typed(ys), z=_typed(shown.astype(np.float32)), name="batch",
        showscale=False, ncontours=14, contours=dict(coloring="none"), hoverinfo="skip", showlegend=False,
        line=dict(color="rgba(213, 94, 0, 0.6)", width=2 if presenter else 1, dash="dot"),
    ))
