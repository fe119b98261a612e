"""The theory on the page (optviz.theory): the learning-rate slider's divergence note, the
tuning map's boundary and best settings, the sharpness chart and the derivation. Each tab
calls these in a line or two."""

from __future__ import annotations

import streamlit as st

from optviz import figures, i18n, theory
from optviz.bounds import SIDE_CHARTS
from optviz.optimizers import ALL_OPTIMIZERS
from optviz.page.charts import live_chart
from optviz.page.context import RunContext
from optviz.page.widgets import choice_labels, label_of, read_widgets, write_widgets
from optviz.state import PageState, with_cell

ss = st.session_state


def quadratic_of(state: PageState) -> theory.Quadratic | None:
    """The state's surface as a positive definite quadratic, or None (not one, or a bad formula)."""
    try:
        q = theory.quadratic(state.surface_object(), state.surface_params())
    except ValueError:
        return None
    return q if q is not None and q.positive_definite else None


def lr_limit_caption(state: PageState, lang: str) -> str | None:
    """Where SGD / Nesterov start to diverge at their current momentum (a quadratic only)."""
    q = quadratic_of(state)
    rules = [n for n in state.optimizers if n in theory.RULES]
    if q is None or not rules:
        return None
    t, names = i18n.text(lang), i18n.OPTIMIZER_NAMES[lang]
    parts = []
    for name in rules:
        mu = float(state.hyperparameters(name)["momentum"])
        parts.append(t["lr_limit_part"].format(name=names[name], mu=mu,
                                               lr=float(theory.stability_limit(name, mu, q.eigenvalues[1]))))
    return t["lr_limit"].format(lam=q.eigenvalues[1], parts="; ".join(parts))


def with_boundary(ctx: RunContext, result, fig):
    """The tuning map ``fig`` with the theory's boundary and best settings, where they hold."""
    return figures.add_stability_boundary(fig, result, quadratic_of(ctx.state), text=i18n.figure_text(ctx.lang),
                                          presenter=ctx.state.presenter)


def on_use_best(name: str, learning_rate: float, momentum: float) -> None:
    state = with_cell(read_widgets(), name, learning_rate, momentum)
    write_widgets(state)
    # The values as the sliders took them (their nearest notches).
    ss.tune_loaded = (name, state.own_learning_rate[name], state.own_momentum[name], "momentum")
    ss._full_rerun = True  # the optimizer's own settings are outside live()


def show_best_settings(ctx: RunContext, name: str) -> None:
    """Under the tuning map: what the lines mean, and one click to the best settings."""
    q = quadratic_of(ctx.state)
    if q is None or name not in theory.RULES:
        return
    t = ctx.text
    best = theory.optimal_setting(name, q.eigenvalues)
    st.caption(t["tune_theory"])
    st.button(t["use_best"].format(lr=best.learning_rate, mu=best.momentum), key="use_best", on_click=on_use_best,
              args=(name, best.learning_rate, best.momentum),
              help=t["use_best_help"].format(low=q.eigenvalues[0], high=q.eigenvalues[1], kappa=q.kappa,
                                             rate=best.rate))


def choose_side_chart(ctx: RunContext) -> str:
    """The race tab's side chart: loss or sharpness (in the state and the link)."""
    st.segmented_control(ctx.text["side_chart"], SIDE_CHARTS, key="chart", required=True,
                         format_func=label_of(choice_labels("chart", ctx.lang)), label_visibility="collapsed")
    return ctx.state.chart


def show_sharpness(ctx: RunContext) -> None:
    """The sharpness chart, in the loss chart's place (the same element: it changes in place)."""
    st.markdown(f"**{ctx.text['sharpness_title']}**")
    live_chart(ctx, figures.sharpness_figure(ctx.race, text=i18n.figure_text(ctx.lang),
                                             labels=i18n.OPTIMIZER_SHORT_NAMES[ctx.lang],
                                             presenter=ctx.state.presenter),
               "loss_chart", {"displaylogo": False})
    st.caption(ctx.text["sharpness_help"])


def loss_note(ctx: RunContext) -> str | None:
    """The loss chart's note on its dotted lines, when it has them."""
    q = quadratic_of(ctx.state)
    if q is None or not any(theory.predicted_rate(tr, q) is not None for tr in ctx.race.values()):
        return None
    return ctx.text["rate_help"]


def show_derivation(ctx: RunContext) -> None:
    """The update-rules panel's derivation of SGD's and Nesterov's stability boundary."""
    if not any(ALL_OPTIMIZERS[n].name in theory.RULES for n in ctx.state.optimizers):
        return
    with st.expander(ctx.text["derivation_title"], expanded=ctx.state.presenter):
        st.markdown(ctx.text["derivation"])
