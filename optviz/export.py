"""Exports of a race for slides and reports: a standalone HTML page, a CSV, an animated GIF.

* :func:`race_html`: the interactive race chart as one HTML file with plotly.js
  inlined: it opens offline, from a USB stick or a slide deck, with Play and the slider.
* :func:`trajectories_csv`: every optimizer's path in long format (one row per step).
* :func:`race_gif`: the race as an animated GIF, drawn without a browser: matplotlib's
  Agg renderer draws the frames (the contour once, then only the paths on a copy of it)
  and Pillow assembles them with one shared palette. Plotly's own image export would
  need kaleido and a Chromium at run time; matplotlib and Pillow are plain wheels.

No Streamlit here: plain functions, data in, bytes or text out.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import math
import numbers
from itertools import repeat
from typing import Callable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .checks import NOT_A_NUMBER
from .engine import Trajectory
from .figures import DEFAULT_TEXT, MAX_TRAIL_POINTS, draw_contour, style
from .optimizers import ENGINE_OPTIMIZERS
from .surfaces import Surface, get_surface

CSV_COLUMNS = ("optimizer", "step", "x", "y", "loss", "gx", "gy", "sharpness")
MAX_GIF_FRAMES = 300
GIF_GRID = 160  # contour grid resolution of a GIF frame
GIF_HOLD_MS = 1500  # the last frame stays this long before the GIF loops

# plotly marker and dash names -> matplotlib's
_MARKERS = {"circle": "o", "diamond": "D", "square": "s", "triangle-up": "^", "star": "*", "hexagon": "h"}
_LINESTYLES = {"solid": "-", "dash": (0, (6, 3)), "dot": (0, (1.5, 2.5)), "dashdot": (0, (6, 2.5, 1.5, 2.5)),
               "longdash": (0, (11, 3))}


# --- HTML ------------------------------------------------------------------------------------


def race_html(figure: go.Figure | Mapping, *, title: str | None = None) -> str:
    """A standalone interactive HTML page of ``figure`` (plotly.js inlined, no CDN: works offline).

    ``figure`` is a figure builder's result (a ``SpecFigure``, whose ``to_dict()`` holds
    the frames) or any ``go.Figure`` or figure dict. The page opens on the figure as
    built (the full race) and does not auto-play; Play and the slider work as on the page.
    The file is about 5 MB, most of it plotly.js.
    """
    spec = getattr(figure, "spec", None) or (figure.to_dict() if hasattr(figure, "to_dict") else dict(figure))
    page = pio.to_html(
        spec, include_plotlyjs=True, include_mathjax=False, full_html=True, auto_play=False, validate=False,
        config={"displaylogo": False, "responsive": True},
    )
    if title:
        page = page.replace("<head>", f"<head><title>{html.escape(title)}</title>", 1)
    return page


# --- CSV ---------------------------------------------------------------------------------------


def trajectories_csv(trajectories: Mapping[str, Trajectory]) -> str:
    """The paths in long format: a header row, then optimizer, step, x, y, loss, gx, gy,
    sharpness per step.

    ``optimizer`` is the race's key for that run; ``gx, gy`` is the gradient the next step
    uses (noise included); ``sharpness`` the Hessian's largest eigenvalue at the point
    (empty on a data surface's fit, which does not compute it). Numbers are float32's
    shortest exact text, so reading the file back as float32 gives exactly the engine's
    arrays. A diverged run stops at its last finite point, like its :class:`Trajectory`.
    A fit's (:func:`optviz.fit_race`) has one more column, ``batch_loss``: the loss of the
    batch each step uses (``loss`` is over all the data; x and y are the model's two weights).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    fitted = bool(trajectories) and all(tr.batch_loss is not None for tr in trajectories.values())
    writer.writerow((*CSV_COLUMNS, "batch_loss") if fitted else CSV_COLUMNS)
    for name, tr in trajectories.items():
        sharpness = tr.sharpness if tr.sharpness is not None else np.full(len(tr.path), np.nan)
        columns = (tr.path[:, 0], tr.path[:, 1], tr.loss, tr.gradient[:, 0], tr.gradient[:, 1], sharpness)
        if fitted:
            columns += (tr.batch_loss,)
        text = [np.asarray(column, np.float32).astype(str) for column in columns]
        writer.writerows(zip(repeat(name), range(len(tr.path)), *text))
    return out.getvalue()


# --- GIF -----------------------------------------------------------------------------------------


def _check_gif_args(frames, size, fps) -> tuple[int, tuple[int, int], float]:
    if isinstance(frames, bool) or not isinstance(frames, numbers.Integral) or not 1 <= frames <= MAX_GIF_FRAMES:
        raise ValueError(f"`frames` must be a whole number from 1 to {MAX_GIF_FRAMES}, got {frames!r}")
    try:
        width, height = (int(v) for v in size)
    except NOT_A_NUMBER:
        raise ValueError(f"`size` must be (width, height) in pixels, got {size!r}") from None
    if not (160 <= width <= 1920 and 120 <= height <= 1080):
        raise ValueError(f"`size` must be between 160×120 and 1920×1080 pixels, got {size!r}")
    try:
        rate = float(fps)
    except NOT_A_NUMBER:
        raise ValueError(f"`fps` must be a number in (0, 50], got {fps!r}") from None
    if not (math.isfinite(rate) and 0 < rate <= 50):
        raise ValueError(f"`fps` must be a number in (0, 50], got {fps!r}")
    return int(frames), (width, height), rate


@functools.lru_cache(maxsize=1)
def _font_families() -> tuple[str, ...]:
    """DejaVu Sans (matplotlib's own), then a CJK font if the machine has one (Korean labels)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    cjk = sorted((n for n in names if "CJK" in n), key=lambda n: ("Sans" not in n, "KR" not in n, n))
    return ("DejaVu Sans", *cjk[:1])


def _display(name: str, labels: Mapping[str, str] | None) -> str:
    if labels and name in labels:
        return labels[name]
    return ENGINE_OPTIMIZERS[name].label if name in ENGINE_OPTIMIZERS else name


def _trail(path: np.ndarray, end: int) -> np.ndarray:
    """path[: end + 1] thinned to about MAX_TRAIL_POINTS points, keeping its last: as the chart draws it."""
    stride = max(1, math.ceil(len(path) / MAX_TRAIL_POINTS))
    idx = np.arange(0, end + 1, stride)
    if idx[-1] != end:
        idx = np.append(idx, end)
    return path[idx]


def _draw_surface(ax, surface: Surface, params: Mapping[str, float], t: Mapping[str, str], font: float,
                  families: list[str]) -> None:
    """The contour (grey bands and white lines, as on the chart), the box and the axis titles."""
    draw_contour(ax, surface, params, GIF_GRID)
    ax.set_xlabel(t["x"], fontsize=font, fontfamily=families)
    ax.set_ylabel(t["y"], fontsize=font, fontfamily=families)
    ax.tick_params(labelsize=font * 0.85)
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")


def _place_header(fig, ax, renderer, title: str, handles: list, font: float, families: list[str]) -> None:
    """The title at the top (shortened to leave room for the step counter), the legend below
    it in as few rows as fit, the axes below them."""
    width, height = fig.bbox.width, fig.bbox.height
    text = fig.text(0.01, 1 - 4 / height, title, fontsize=font * 1.1, fontweight="bold", va="top",
                    fontfamily=families)
    while text.get_window_extent(renderer).width > 0.7 * width and len(title) > 8:  # room for the counter
        title = title[: int(len(title) * 0.9)]
        text.set_text(title.rstrip() + "…")
    below = text.get_window_extent(renderer).y0 - 2
    if handles:
        for rows in range(1, len(handles) + 1):
            legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, below / height),
                                ncol=math.ceil(len(handles) / rows), frameon=False,
                                prop={"family": families, "size": font * 0.95}, handlelength=2.2,
                                columnspacing=1.2, borderaxespad=0.2)
            if legend.get_window_extent(renderer).width <= width - 4 or rows == len(handles):
                break
            legend.remove()
        below = legend.get_window_extent(renderer).y0
    bottom = 0.1 + 0.2 * font / height
    ax.set_position((0.09, bottom, 0.89, max(below / height - 0.015 - bottom, 0.2)))


def _nearest_indices(frames: list[np.ndarray], palette: np.ndarray) -> list[np.ndarray]:
    """Each RGB frame as indices of its nearest ``palette`` colour (exact colours map to themselves).

    Pillow's own palette mapping goes through a coarse colour cache, which can send an exact
    colour to a near neighbour; here each distinct colour is matched once, through a
    24-bit lookup table that is filled only for the colours that occur."""
    unknown = 255  # the palette has at most 255 entries: 255 is never an answer
    table = np.full(1 << 24, unknown, np.uint8)
    out = []
    for frame in frames:
        packed = (frame[..., 0].astype(np.int32) << 16) | (frame[..., 1].astype(np.int32) << 8) | frame[..., 2]
        indices = table[packed]
        missing = np.unique(packed[indices == unknown])
        if missing.size:
            for chunk in np.array_split(missing, math.ceil(missing.size / 4096)):  # bounded memory
                rgb = np.stack([chunk >> 16, (chunk >> 8) & 255, chunk & 255], axis=1)
                distance = ((rgb[:, None, :] - palette[None, :, :].astype(np.int32)) ** 2).sum(axis=2)
                table[chunk] = np.argmin(distance, axis=1).astype(np.uint8)
            indices = table[packed]
        out.append(indices)
    return out


def _encode_gif(frames: list[np.ndarray], colours: list[str], fps: float) -> bytes:
    """RGB frames -> GIF bytes: one shared palette, unchanged pixels transparent, last frame held."""
    from PIL import Image

    # The palette: the exact colours drawn (each path's, the star's, black, white), then the
    # last frame's most common other colours (median cut). At most 255 entries leave one index
    # free: with optimize=True Pillow makes every pixel that did not change since the previous
    # frame transparent, and stores only the changed box. No dithering: flat bands stay flat.
    exact = list(dict.fromkeys(tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colours))
    rest = Image.fromarray(frames[-1]).quantize(colors=255 - len(exact), method=Image.Quantize.MEDIANCUT)
    flat = rest.getpalette() or []
    entries = exact + [tuple(flat[i:i + 3]) for i in range(0, min(len(flat), 3 * (255 - len(exact))), 3)]
    palette = np.array(entries, np.uint8)
    images = []
    for indices in _nearest_indices(frames, palette):
        image = Image.frombytes("P", (indices.shape[1], indices.shape[0]), indices.tobytes())
        image.putpalette(palette.tobytes())
        images.append(image)
    durations = [round(1000 / fps)] * len(images)
    durations[-1] = max(durations[-1], GIF_HOLD_MS)
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0,
                   optimize=True)
    return out.getvalue()


def race_gif(
    surface: str | Surface,
    trajectories: Mapping[str, Trajectory],
    *,
    surface_params: Mapping[str, float] | None = None,
    frames: int = 40,
    size: Sequence[int] = (720, 540),
    fps: float = 12,
    progress: Callable[[float], object] | None = None,
    labels: Mapping[str, str] | None = None,
    text: Mapping[str, str] | None = None,
) -> bytes:
    """The race as an animated GIF (bytes), drawn without a browser.

    Like the chart: the contour of the surface (log levels where the chart uses them),
    each optimizer's path up to the frame's step in its colour and dash, its head, the
    minima as stars, the start, a step counter and a legend. A diverged path ends at its
    last point with an ✖ and a note. ``frames`` frames spread evenly from step 0 to the
    last (fewer if the race has fewer steps), shown at ``fps``; the last one is held
    1.5 s, then the GIF loops. ``progress(fraction)`` is called after each frame and
    once more with 1.0 when the file is written. ``labels`` and ``text`` are the
    optimizer names and chart words, as for ``race_figure`` (another language).
    ValueError for bad ``frames``, ``size``, ``fps`` or surface parameters.
    """
    # Imported here, not at the top: the page pays for matplotlib only when a GIF is asked for.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    surface = get_surface(surface)
    params = surface.resolve_params(surface_params)
    frames, (width, height), fps = _check_gif_args(frames, size, fps)
    t = {**DEFAULT_TEXT, **(text or {})}
    names = [name for name, tr in trajectories.items() if len(tr.path)]
    steps = max((tr.steps for tr in trajectories.values()), default=0)
    shown_steps = np.unique(np.round(np.linspace(0, steps, frames)).astype(int))
    families = list(_font_families())
    font = max(8.0, height / 48)

    # Everything that does not move is drawn once: the surface, minima, start, title, legend.
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    fig.patch.set_facecolor("white")
    ax = fig.add_axes((0.09, 0.1, 0.89, 0.8))
    _draw_surface(ax, surface, params, t, font, families)
    stars = []
    if surface.minima:
        mx, my = zip(*surface.minima)
        stars = ax.plot(mx, my, ls="none", marker="*", ms=font * 1.9, color="gold", mec="black", mew=1.0, zorder=6,
                        label=t["minimum"])
    start = trajectories[names[0]].path[0] if names else np.asarray(surface.default_start)
    ax.plot([start[0]], [start[1]], ls="none", marker="o", ms=font * 1.3, mfc="none", mec="black", mew=2, zorder=6)

    # What moves is drawn on a copy of that background, frame after frame (blitting).
    lines, heads, crosses = [], [], []
    for name in names:
        colour = style(name).color
        lines += ax.plot([], [], color=colour, lw=2.2, ls=_LINESTYLES.get(style(name).dash, "-"),
                         label=_display(name, labels), zorder=4, animated=True)
        heads += ax.plot([], [], ls="none", marker=_MARKERS.get(style(name).symbol, "o"), ms=font * 0.95,
                         color=colour, mec="white", mew=1.2, zorder=7, animated=True)
        # clip_on=False: a cross on the edge of the box (where a diverged path left it) shows whole
        crosses += ax.plot([], [], ls="none", marker="X", ms=font * 1.6, color=colour, mec="black", mew=0.8,
                           zorder=8, animated=True, clip_on=False)
    _place_header(fig, ax, renderer, surface.display_name, lines + stars, font, families)
    # The step counter on the title's line (never over a path); the divergence notes in the
    # box's corner, under the paths and their crosses.
    counter = fig.text(0.99, 1 - 4 / height, "", ha="right", va="top", fontsize=font * 1.1, fontweight="bold",
                       fontfamily=families, animated=True)
    box = dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="#999999", alpha=0.88)
    notes = ax.text(0.012, 0.985, "", transform=ax.transAxes, va="top", ha="left", fontsize=font * 0.9,
                    fontfamily=families, bbox=box, zorder=9, animated=True)
    dynamic = [notes, *lines, *crosses, *heads, counter]

    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    images = []
    for i, step in enumerate(int(s) for s in shown_steps):
        canvas.restore_region(background)
        ended = []
        for name, line, head, cross in zip(names, lines, heads, crosses):
            tr = trajectories[name]
            k = min(step, len(tr.path) - 1)
            trail = _trail(tr.path, k)
            line.set_data(trail[:, 0], trail[:, 1])
            head.set_data(tr.path[k:k + 1, 0], tr.path[k:k + 1, 1])
            if tr.diverged_at is not None and step >= len(tr.path) - 1:
                last = tr.path[-1]
                cross.set_data([np.clip(last[0], *surface.x_range)], [np.clip(last[1], *surface.y_range)])
                ended.append("✖ " + t["diverged_at"].format(name=_display(name, labels), step=tr.diverged_at))
            else:
                cross.set_data([], [])
        counter.set_text(f"{t['step'].strip()} {step} / {steps}")
        notes.set_text("\n".join(ended))
        notes.set_visible(bool(ended))
        for artist in dynamic:
            if artist.get_visible():
                ax.draw_artist(artist)
        images.append(np.asarray(canvas.buffer_rgba())[:, :, :3].copy())
        if progress is not None:
            progress((i + 1) / (len(shown_steps) + 1))

    colours = [style(name).color for name in names] + ["#ffd700", "#000000", "#ffffff"]
    data = _encode_gif(images, colours, fps)
    if progress is not None:
        progress(1.0)
    return data
