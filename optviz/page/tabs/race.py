"""The race tab: the race chart with its step-through controls, the loss chart, the results
table and the exports; and the slider previews, drawn last."""

from __future__ import annotations

import html
import json
import zlib
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import streamlit as st

from optviz import export, figures, i18n
from optviz.page.caches import TOLERANCE, build_figures, runs_in_progress, slider_previews
from optviz.page.charts import live_chart
from optviz.page.components import race_preview
from optviz.page.context import RunContext
from optviz.page.header import show_lesson
from optviz.page.theory_view import choose_side_chart, loss_note, show_sharpness
from optviz.page.widgets import on_chart_click, on_reset_view, on_view_step

ss = st.session_state

# The race chart's toolbar without Plotly's own zoom: zoom is Box Select, done by the server
# (the view is part of the state and the link, and the surface is redrawn for the box).
ZOOM_BUTTONS = ["zoom2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "lasso2d"]


@dataclass(frozen=True)
class Previews:
    """What the slider previews are made from: the race figure drawn, its name, the step shown."""

    race_fig: object
    base: str
    step: int | None


def shown_step(ctx: RunContext) -> int | None:
    """The step the step-through controls show; None: the whole race."""
    step = ss.get("view_step")
    return None if step is None else min(int(step), ctx.state.run_steps())


def render(ctx: RunContext) -> Previews:
    """The race tab; returns what its previews are made from (drawn last in the run: show_previews)."""
    state, t, presenter, step = ctx.state, ctx.text, ctx.state.presenter, shown_step(ctx)
    race_fig, loss_fig = build_figures(ctx.state_key, ctx.lang, presenter, step, state.view, state, ctx.race)
    base = f"{zlib.crc32(ctx.state_key.encode()):08x}-{ctx.lang}-{int(presenter)}-{step}"
    left, right = st.container(key="race_layout").columns([2, 1] if presenter else [3, 2])
    with left:
        show_step_controls(ctx, presenter)
        started = ss.pop("started_at", None)
        if started:
            st.success(t["started_at"].format(x=started[0], y=started[1]))
        config = {"displaylogo": False, "scrollZoom": False, "modeBarButtonsToRemove": ZOOM_BUTTONS}
        live_chart(ctx, race_fig, "race_chart", config, on_select=on_chart_click, selection_mode=("points", "box"),
                   base=base)
        st.caption(f"{t['chart_marks']} {t['click_start']} {t['zoom_help'] if state.view is None else t['zoomed']}")
        if step is not None:
            show_inspector(ctx, step)
    with right:
        if presenter:
            show_lesson(ctx.lang, big=True)
        if state.is_data:
            show_fit(ctx, step)
        if choose_side_chart(ctx) == "sharpness":
            show_sharpness(ctx)
        else:
            st.markdown(f"**{t['loss_title']}**")
            live_chart(ctx, loss_fig, "loss_chart", {"displaylogo": False})
            if note := loss_note(ctx):
                st.caption(note)
        if not presenter:
            results_table(ctx)
    if presenter:
        results_table(ctx)
    show_exports(ctx, race_fig)
    return Previews(race_fig, base, step)


def show_fit(ctx: RunContext, step: int | None) -> None:
    """A data surface's data and each optimizer's model at the step shown (the end: the last)."""
    t = ctx.text
    shown = ctx.state.run_steps() if step is None else step
    st.markdown(f"**{t['fit_title'].format(step=shown)}**")
    fig = figures.fit_figure(ctx.surface, ctx.race, step=step, text=i18n.figure_text(ctx.lang),
                             labels=i18n.OPTIMIZER_SHORT_NAMES[ctx.lang], presenter=ctx.state.presenter,
                             height=260 if ctx.state.presenter else 300)
    # The page's own chart element, as the race chart's: its Play and scrubber move this one too.
    live_chart(ctx, fig.freeze(), "fit_chart", {"displayModeBar": False})


def show_step_controls(ctx: RunContext, big: bool) -> None:
    t, state = ctx.text, ctx.state
    # One row that stays a row on a phone (columns stack there: five full-width buttons
    # filled the first screen).
    row = st.container(horizontal=True, vertical_alignment="center", gap="small", key="steps_big" if big else None)
    actions = [("first", "step_first"), ("back", "step_back"), ("step", "step_forward"), ("ten", "step_ten"),
               ("last", "step_last")]
    # On a projector, a presentation clicker's "next" and "previous" (PageDown, PageUp) step
    # the race; Streamlit skips a shortcut while a slider or a text box has the focus, so a
    # key meant for a slider never steps too. Not on the normal page, where PageDown scrolls.
    shortcuts = {"back": "PageUp", "step": "PageDown"} if big else {}
    for action, label in actions:
        row.button(t[label], key=f"stepper_{action}", on_click=on_view_step, args=(action,),
                   help=t["step_help"][action] + (f" ({shortcuts[action]})" if action in shortcuts else ""),
                   shortcut=shortcuts.get(action))
    if state.view is not None:  # zoomed in: the way back, where the eye is after zooming
        row.button(t["reset_view"], key="reset_view", on_click=on_reset_view)
    step = shown_step(ctx)
    steps = state.run_steps()
    now = t["step_now"].format(step=steps if step is None else step, steps=steps)
    row.markdown(f"<div style='font-size:{'1.75rem' if big else '1.1rem'}; font-weight:700; text-align:right; "
                 f"white-space:nowrap'>"
                 f"{html.escape(now)}</div>", unsafe_allow_html=True, width="stretch")


def show_inspector(ctx: RunContext, step: int) -> None:
    t = ctx.text
    rows = figures.inspector_rows(ctx.race, step, labels=i18n.OPTIMIZER_SHORT_NAMES[ctx.lang])  # as in the legend
    if not rows:
        return
    st.markdown(f"**{t['inspector'].format(step=step)}**")
    st.caption(t["inspector_help"])
    table = pd.DataFrame(rows).drop(columns=["name", "step"]).set_index("optimizer").T
    table.index = [i18n.INSPECTOR_ROWS[ctx.lang].get(row, row) for row in table.index]
    # (The row names' column as wide as they need: "velocity (x)" was cut to "velocity (".)
    st.dataframe(table.map(lambda v: "" if pd.isna(v) else f"{v:.4g}"), width="stretch",
                 column_config={"_index": st.column_config.TextColumn(width=120)})


def results_table(ctx: RunContext) -> None:
    t = ctx.text
    rows = figures.results_rows(ctx.race, TOLERANCE, labels=i18n.OPTIMIZER_SHORT_NAMES[ctx.lang])  # as in the legend
    # A pyarrow table: Streamlit sends it as it is (a pandas frame it would convert first).
    table = pa.table({
        t["col_optimizer"]: [r["optimizer"] for r in rows],
        t["col_final_loss"]: [f"{r['final_loss']:.4g}" for r in rows],
        t["col_distance"]: [t["none"] if r["distance"] is None else f"{r['distance']:.3g}" for r in rows],
        # (A typed formula's minimum value is not known: nothing to be within tolerance of.)
        t["col_steps"].format(tol=TOLERANCE): [
            t["unknown"] if ctx.surface.min_value is None else t["never"] if r["steps_to_tolerance"] is None
            else str(r["steps_to_tolerance"]) for r in rows],
        t["col_diverged"]: [t["none"] if r["diverged_at"] is None else str(r["diverged_at"]) for r in rows],
    })
    st.markdown(f"**{t['results']}**")
    st.table(table, hide_index=True)


def show_exports(ctx: RunContext, race_fig) -> None:
    """Standalone HTML, CSV and an animated GIF of the race, for slides and reports."""
    t, state, race, lang = ctx.text, ctx.state, ctx.race, ctx.lang
    # Lazy: the download buttons register their files with the server on every run they
    # are drawn (holding the race and its figure); only an open expander draws them.
    expander = st.expander(t["export"], key="exp.export", on_change="rerun")
    if not expander.open:
        return
    with expander:
        html_col, csv_col, gif_col = st.columns(3)
        title = ctx.surface.display_name
        html_col.download_button(t["export_html"], data=lambda: export.race_html(race_fig, title=title),
                                 file_name="optviz-race.html", mime="text/html", on_click="ignore",
                                 key="export_html")
        csv_col.download_button(t["export_csv"], data=lambda race=race: export.trajectories_csv(race),
                                file_name="optviz-paths.csv", mime="text/csv", on_click="ignore", key="export_csv")
        made_for = (state.key(), state.view)  # a GIF is offered only for the race and view it shows
        if gif_col.button(t["export_gif"], key="export_gif"):
            bar = gif_col.progress(0.0)
            # As the chart shows it: zoomed in if it is.
            gif = export.race_gif(state.viewed_surface(), race, surface_params=state.surface_params(),
                                  labels=i18n.OPTIMIZER_SHORT_NAMES[lang], text=i18n.figure_text(lang),
                                  progress=bar.progress)
            ss.gif = (made_for, lang, gif)
        made = ss.get("gif")
        if made and made[0] == made_for and made[1] == lang:
            gif_col.download_button(t["download_gif"], data=made[2], file_name="optviz-race.gif", mime="image/gif",
                                    on_click="ignore", key="download_gif")


def show_previews(ctx: RunContext, made_from: Previews) -> None:
    """The race chart's previews (frontend/race_preview.js; caches.slider_previews), as the
    tab's last element: made after everything else of the run is sent, so that nothing waits
    for them. None while another visitor's run is in progress: in a class whose students all
    move a slider at once, the previews' work would make everyone's rerun later
    (bench/classroom.py)."""
    wanted = made_from.step is None and ctx.plotly_js_url is not None and runs_in_progress.count <= 1
    state = ctx.state
    sliders = (slider_previews(ctx.state_key, ctx.lang, state.presenter, state.view, state, made_from.race_fig)
               if wanted else b"{}")
    head = json.dumps({"chart": "race_chart", "base": made_from.base}, separators=(",", ":"))
    race_preview(key="race_preview", data=f'{head[:-1]},"sliders":'.encode() + sliders + b"}")
