"""Shared test set-up: the page as a link opens it (AppTest), and reading Plotly specs back
into NumPy (the page sends float32 typed arrays)."""

import base64
import html
import json
import logging
import re
from pathlib import Path

import jax
import numpy as np
from streamlit.testing.v1 import AppTest

import optviz

APP = str(Path(__file__).resolve().parents[1] / "app.py")  # the page's script, as Streamlit Community Cloud runs it


def open_page(query: dict | None = None, expanded: bool = True) -> AppTest:
    """The page as a link opens it; ``expanded`` opens every optimizer's settings expander
    (they are lazy: a closed one draws no widgets)."""
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if expanded:
        for name in [*optviz.ARTICLE_OPTIMIZERS, "export"]:
            at.session_state[f"exp.{name}"] = True
    at.run()
    assert not at.exception, at.exception
    return at


def array(value) -> np.ndarray:
    """A Plotly data array (typed-array dict or list) as a NumPy array."""
    if isinstance(value, dict) and "bdata" in value:
        dtype = {"f4": np.float32, "f8": np.float64, "i4": np.int32, "i1": np.int8, "i2": np.int16}[value["dtype"]]
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=dtype)
        if "shape" in value:
            out = out.reshape([int(n) for n in str(value["shape"]).split(",")])
        return out
    return np.asarray(value, dtype=np.float64)


RACE_CHART_COMPONENT = "optviz_race_chart"  # the page's own element for the race chart (optviz/page/components.py)


def elements(at, match) -> list:
    """The main area's elements for which ``match(element)`` holds, in page order."""
    found = []

    def walk(node):
        if match(node):
            found.append(node)
        for key in sorted(getattr(node, "children", {}) or {}):
            walk(node.children[key])

    walk(at.main)
    return found


def component(node, name: str) -> bool:
    """Is ``node`` an element of the page's own component ``name`` (e.g. "optviz_race_preview")?"""
    return getattr(node, "type", None) == "bidi_component" and node.proto.component_name.endswith(name)


def charts(at) -> list:
    """The page's charts in page order: its st.plotly_chart elements and the race chart's own
    element (which carries the figure as its data's "spec")."""
    return elements(at, lambda node: getattr(node, "type", None) == "plotly_chart"
                    or component(node, RACE_CHART_COMPONENT))


def chart_spec(at, index: int = 0) -> dict:
    """A chart's spec as sent (``index`` in page order, see :func:`charts`), its text as
    plotly.js shows it (the page writes non-ASCII characters as HTML entities, e.g.
    ``&#9654;`` for ▶)."""
    chart = charts(at)[index]
    if chart.type == "bidi_component":
        return unescape(chart_message(chart)["spec"])
    return unescape(json.loads(chart.proto.spec))


def chart_message(chart) -> dict:
    """What the page's own chart element was sent: one JSON object as bytes (optviz/page/charts.py chart_message)."""
    return json.loads(chart.proto.bytes)


def unescape(value):
    """A spec with the HTML entities in its text as the characters plotly.js draws."""
    if isinstance(value, str):
        return html.unescape(value)
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    return value


def path_traces(data: list) -> list[dict]:
    """The optimizers' line traces of a race chart (the lines in its legend)."""
    return [t for t in data if t.get("type", "scatter") == "scatter" and t.get("mode") == "lines"
            and t.get("showlegend", True)]


def paths(spec: dict) -> dict:
    """name -> (n, 2) path of every optimizer's line in the race chart's shown state."""
    return {t["name"]: np.stack([array(t["x"]), array(t["y"])], axis=1) for t in path_traces(spec["data"])}


def level_line_points(image: dict) -> list[np.ndarray]:
    """The race chart's level lines, read back from their picture (a layout image holding
    one SVG path over the view box): each line as an (n, 2) array of data coordinates."""
    prefix = "data:image/svg+xml;base64,"
    assert image["source"].startswith(prefix), image["source"][:40]
    svg = base64.b64decode(image["source"][len(prefix):]).decode("ascii")
    _, _, width, height = (float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split())
    lines, pos, command = [], np.zeros(2), None
    for token in re.findall(r"[MmLl]|-?[0-9.]+", re.search(r' d="([^"]*)"', svg).group(1)):
        if token in "MmLl":
            command = token
            continue
        if isinstance(command, str):  # the first number of a pair
            command = (command, float(token))
            continue
        kind, x = command
        y = float(token)
        pos = np.array([x, y]) + (pos if kind in "ml" else 0)
        if kind in "Mm":
            lines.append([])
        lines[-1].append(pos)
        command = {"M": "L", "m": "l"}.get(kind, kind)  # (pairs after a moveto are linetos)
    x0, _, _, top = image_box(image)
    return [np.column_stack([x0 + p[:, 0] / width * image["sizex"], top - p[:, 1] / height * image["sizey"]])
            for p in map(np.array, lines)]


def image_box(image: dict) -> tuple[float, float, float, float]:
    """A layout image's (left, right, bottom, top) in data coordinates, from its anchor."""
    left = image["x"] - {"right": 1, "center": 0.5}.get(image.get("xanchor"), 0) * image["sizex"]
    top = image["y"] + {"bottom": 1, "middle": 0.5}.get(image.get("yanchor"), 0) * image["sizey"]
    return left, left + image["sizex"], top - image["sizey"], top


def level_lines_image(spec: dict) -> dict:
    """The race chart's level-lines picture (the SVG one of its layout images)."""
    (image,) = [i for i in spec["layout"]["images"] if i["source"].startswith("data:image/svg+xml")]
    return image


def level_line_offsets(surface, image: dict, grid: int = 80) -> np.ndarray:
    """For each point of a race chart's level lines: how far the surface's value there is
    from the nearest of the 23 inner levels (between the grid's lowest and highest value, on
    log10(f - min) where that range is wide), in level spacings. The surface is evaluated
    here, independently of the figure code."""
    points = np.concatenate(level_line_points(image))
    f = np.asarray(surface(points[:, 0], points[:, 1]), np.float64)
    _, _, z = surface.grid(grid)
    z = np.asarray(z, np.float64)
    if surface.min_value is not None and np.nanmax(z) - surface.min_value > 50:
        span = np.nanmax(z) - surface.min_value
        f, z = (np.log10(np.maximum(v - surface.min_value, 0) + max(span * 1e-6, 1e-6)) for v in (f, z))
    levels = np.linspace(np.nanmin(z), np.nanmax(z), 25)[1:-1]
    return np.abs(f[:, None] - levels[None, :]).min(axis=1) / (levels[1] - levels[0])


class _CompileCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if "Compiling" in message or "XLA compilation" in message:
            self.messages.append(message)


def count_compiles(fn) -> list[str]:
    """The XLA compilations (jax_log_compiles messages) that running ``fn`` caused."""
    counter = _CompileCounter()
    root = logging.getLogger("jax")
    root.addHandler(counter)
    try:
        with jax.log_compiles():
            fn()
    finally:
        root.removeHandler(counter)
    return counter.messages


def block_markup(text: str) -> set[str]:
    """The headings, links and images Markdown (CommonMark) makes of ``text``."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    found = {t.type for t in tokens if t.type in ("heading_open", "lheading_open")}
    for token in tokens:
        found |= {c.type for c in token.children or () if c.type in ("link_open", "image")}
    return found
