"""How the page puts a chart on the page: at the width the browser reported for it, or as the
page's own race chart element, which changes the chart already drawn."""

from __future__ import annotations

import itertools
import json
import math

import streamlit as st

from optviz.page.components import chart_widths_probe, race_chart_element
from optviz.page.context import RunContext

# The charts the browser measures (frontend/chart_widths.js), by their element keys.
CHART_KEYS = ("race_chart", "loss_chart", "tune_chart", "lr_curve", "surface_3d")


def reported_widths() -> dict:
    """The charts' widths as the browser last reported them (only sane numbers: it is the
    browser's word)."""
    report = st.session_state.get("chart_widths")
    reported = report.get("widths") if hasattr(report, "get") else None
    if not isinstance(reported, dict):
        return {}
    return {k: float(w) for k, w in itertools.islice(reported.items(), 4 * len(CHART_KEYS))
            if isinstance(k, str) and isinstance(w, (int, float)) and not isinstance(w, bool)
            and math.isfinite(w) and 10 <= w <= 20_000}


def measure_widths(ctx: RunContext) -> None:
    """The widths probe: after the charts, so that it measures them once they are on the page.
    A changed width reruns the page's live part, whose figures then say it."""
    chart_widths_probe(key="chart_widths", data={"keys": CHART_KEYS, "known": ctx.chart_widths, "layout": ctx.layout},
                       default={"widths": {}}, on_widths_change=lambda: None)


def plot(ctx: RunContext, figure, key: str, **kwargs) -> None:
    """One of the page's charts (``key``: one of CHART_KEYS), as wide as its container: at the
    width the browser reported for it, if it has. A figure that says its width is shown at
    its first draw; one that does not, Streamlit hides until it has drawn it twice."""
    st.plotly_chart(figure.sized(ctx.chart_widths.get(key + ctx.layout)), key=key, width="stretch", **kwargs)


def live_chart(ctx: RunContext, figure, key: str, config: dict, on_select=None, base: str | None = None,
               **kwargs) -> None:
    """A chart that every slider move changes (the race, its loss): the page's own element,
    which changes the chart already drawn (frontend/race_chart.js), or an st.plotly_chart
    (``kwargs`` its selection mode) if plotly.js cannot be served. ``base`` names the figure
    for the slider previews made from it."""
    if ctx.plotly_js_url is None:
        plot(ctx, figure, key, config=config, **({"on_select": on_select, **kwargs} if on_select else {}))
        return
    callbacks = {"on_select_change": on_select} if on_select else {}
    race_chart_element(key=key, data=chart_message(key, figure, config, ctx.plotly_js_url, base), **callbacks)


def chart_message(key: str, figure, config: dict, src: str, base: str | None = None) -> bytes:
    """What the chart element gets: one JSON object as bytes, {"key", "config", "src", "base",
    "spec"}, the figure's JSON text put in as it is. (As a dict, Streamlit would write the
    figure's text as a JSON string, escaping its every quote, and the page would parse it twice.)"""
    head = json.dumps({"key": key, "config": config, "src": src, "base": base})
    return f'{head[:-1]}, "spec": '.encode() + figure.json_bytes() + b"}"
