"""The top of the main view, drawn on a whole run only: title, what a link got wrong, the lesson."""

from __future__ import annotations

import html

import streamlit as st

from optviz import i18n
from optviz.page.caches import lessons
from optviz.page.markdown_text import code_text, plain_text

ss = st.session_state


def render(lang: str) -> None:
    t = i18n.text(lang)
    if not ss.get("presenter"):  # on a projector every line of height goes to the chart
        st.subheader(t["title"])
        st.caption(f"{t['subtitle']} {t['share']}")
    for problem in ss.get("url_problems", []):
        # What a link holds is shown as text, never as Markdown (a formula's `*` and `**` made
        # italics and bold of it): inside a code span, or with every Markdown character escaped.
        if problem.default:
            st.warning(t["bad_url"].format(key=code_text(problem.key), value=code_text(problem.value),
                                           reason=plain_text(problem.reason.removeprefix("formula: ")),
                                           default=plain_text(problem.default)), icon="⚠️")
        else:
            st.warning(t["unknown_url"].format(key=code_text(problem.key)), icon="⚠️")
    ss.url_problems = []
    if "start_notice" in ss:
        x, y = ss.pop("start_notice")
        st.warning(t["bad_start"].format(x=x, y=y, x0=ss.x0, y0=ss.y0), icon="⚠️")
    if ss.get("lesson") in lessons() and not ss.get("presenter"):
        with st.container(border=True):
            show_lesson(lang, big=False)


def show_lesson(lang: str, big: bool) -> None:
    """The lesson's narrative, what to look for and the question (teacher-written text, escaped)."""
    lesson = lessons().get(ss.get("lesson", ""))
    if lesson is None:
        return
    t, text = i18n.text(lang), lesson.text[lang]
    size, height = ("1.25rem", 1.4) if big else ("0.95rem", 1.5)
    lines = "<br>".join(html.escape(line) for line in text.narrative)
    st.markdown(
        f"<div style='font-size:{size}; line-height:{height}'><b>{html.escape(text.title)}</b><br>{lines}<br>"
        f"<b>{html.escape(t['look_for'])}:</b> {html.escape(text.look_for)}<br>"
        f"<b>{html.escape(t['question'])}:</b> {html.escape(text.question)}</div>",
        unsafe_allow_html=True,
    )
