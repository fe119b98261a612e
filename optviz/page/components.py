"""The page's own elements, declared once, with their JavaScript and CSS as files in
``frontend/`` beside this module."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

FRONTEND = Path(__file__).parent / "frontend"


def _script(name: str) -> str:
    return (FRONTEND / name).read_text(encoding="utf-8")


# Measures the charts in the browser and reports their widths (see charts.py CHART_KEYS).
chart_widths_probe = st.components.v2.component("optviz_chart_widths", js=_script("chart_widths.js"),
                                                isolate_styles=False)
# The race and loss charts: one chart per page, whose paths move in place (charts.py live_chart).
race_chart_element = st.components.v2.component("optviz_race_chart", js=_script("race_chart.js"),
                                                isolate_styles=False)
# Moves the race chart's paths to a slider's next notch before the rerun (tabs/race.py).
race_preview = st.components.v2.component("optviz_race_preview", js=_script("race_preview.js"),
                                          isolate_styles=False)


def page_styles(presenting: bool) -> None:
    """The page's own CSS (frontend/page.css), and presenter mode's on top."""
    st.html(FRONTEND / "page.css")
    if presenting:
        st.html(FRONTEND / "presenter.css")
