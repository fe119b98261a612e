"""The page, top to bottom: set-up, sidebar, header, the tabs' row, and the live part.

Widgets -> PageState -> engine -> figures; no maths here. The URL holds the whole state: it
is read once per session into the widgets, and every rerun writes the widgets back into it.
"""

from __future__ import annotations

import streamlit as st

import optviz
from optviz import i18n
from optviz.bounds import TABS
from optviz.checks import TRUE_WORDS
from optviz.page import components, header, sidebar, widgets
from optviz.page.caches import in_turn, run_race, runs_in_progress, state_key
from optviz.page.charts import measure_widths, reported_widths
from optviz.page.context import RunContext
from optviz.page.markdown_text import plain_text
from optviz.page.setup import plotly_js_url, setup
from optviz.page.tabs import race, rules, tuning, view3d
from optviz.state import CUSTOM
from optviz.url import to_query

TAB_PAGES = {"race": race, "tune": tuning, "3d": view3d, "rules": rules}

ss = st.session_state


def run() -> None:
    """One run of the page's script."""
    # (Before the link is read into the widgets: the sidebar's first state is set here.)
    presenting = ss.get("presenter", str(st.query_params.get("present", "")).strip().lower() in TRUE_WORDS)
    st.set_page_config(page_title="optviz: Keras optimizers", page_icon="📉", layout="wide",
                       initial_sidebar_state="collapsed" if presenting else "auto")
    components.page_styles(presenting)
    setup()
    widgets.open_session()
    lang = ss.get("lang", "en")
    side = sidebar.render(lang)
    header.render(lang)
    # The tabs: a row of buttons above the view that is open, whose content alone runs (in
    # live), so a slider move does not build the 3D view. Not st.tabs: its tab panel makes
    # the browser recalculate styles on every change inside it (each chart redraw).
    st.segmented_control(i18n.text(lang)["tabs"], TABS, key="tab", required=True,
                         format_func=widgets.label_of(widgets.choice_labels("tab", lang)),
                         label_visibility="collapsed", width="stretch")
    live(lang, side, st.container())


@st.fragment
def live(lang: str, side: sidebar.Sidebar, tab_body) -> None:
    """Everything a slider moves, counted in ``runs_in_progress`` while it runs."""
    with runs_in_progress:
        _live(lang, side, tab_body)


def _live(lang: str, side: sidebar.Sidebar, tab_body) -> None:
    """Everything a slider moves: the sidebar's sliders (in ``side.live_controls``) and the open
    tab's content (in ``tab_body``), with the race's notices at its top. A widget in here
    reruns only this function: the page's other elements (language, lessons, presets,
    surface, optimizers, their settings, the start point, the title, the tabs' row),
    which none of these widgets changes, stay as they are on the page and on the server.
    A widget outside reruns the whole script, this included."""
    if ss.pop("_full_rerun", False):  # a callback in here changed a widget outside
        st.rerun(scope="app")
    t = i18n.text(lang)
    # Read once, before the widgets are drawn (their values are in session state already).
    state = widgets.read_widgets()
    chart_widths = reported_widths()  # read once a run: every chart and the probe use it
    with side.live_controls:
        sidebar.render_live(state, lang)
    # A fragment may fill a container made outside it only if it wrote to it in the last whole
    # run (Streamlit keeps its place then): so, before anything can stop this run, the open
    # tab's first element, a slot for what the race says (diverged, a bad setting).
    tab = TAB_PAGES[state.tab]  # (the tabs' row is a widget: its value is in the state read above)
    notice = tab_body.empty()
    if side.surface is None:
        notice.error(t["bad_formula"].format(reason=plain_text(side.formula_error.removeprefix("formula: "))))
        st.stop()
    key = state_key(state)
    query = to_query(state)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    if not state.racers:
        notice.info(t["no_optimizer"])
        st.stop()

    try:
        # (A typed formula's first race is a compile that waits its turn; any other is not.)
        race_result = (in_turn(t["waiting_turn"], run_race, key, state) if state.surface == CUSTOM
                       else run_race(key, state))
    except optviz.NonFiniteStartError as exc:
        # A start where the loss is NaN or inf (a click or link outside a formula's domain,
        # log(x) at x < 0): back to the surface's own start, saying why. (A whole new run:
        # the start's inputs are drawn already.) Its own start failing too is only said.
        if tuple(exc.start) != tuple(map(float, side.surface.default_start)):
            ss.bad_start = exc.start
            st.rerun()
        notice.error(t["bad_input"].format(reason=exc))
        st.stop()
    except ValueError as exc:  # a setting the engine refuses: say which, keep the page
        notice.error(t["bad_input"].format(reason=exc))
        st.stop()

    names = i18n.OPTIMIZER_NAMES[lang]
    diverged = [names[n] for n, tr in race_result.items() if tr.diverged_at is not None]
    # On a projector the race chart's own mark says it ("✖ SGD diverged at step 39"): the
    # banner's line of height would push the chart's step slider off a 720-line screen.
    if diverged and not (state.presenter and tab is race):
        notice.warning(t["diverged_warning"].format(names=", ".join(diverged)))

    ctx = RunContext(state=state, state_key=key, lang=lang, surface=side.surface, race=race_result,
                     chart_widths=chart_widths, plotly_js_url=plotly_js_url())
    with tab_body:  # (all of this run's elements go to containers drawn outside: none is its own)
        previews = tab.render(ctx)
        measure_widths(ctx)  # after the charts: it measures them once they are on the page
        if tab is race:
            race.show_previews(ctx, previews)
