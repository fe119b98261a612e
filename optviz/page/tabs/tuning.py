"""The tuning tab: a heat map of the learning rate × one other hyperparameter for one
optimizer (its momentum-like one, or its own most telling other: Adagrad's initial
accumulator, Adadelta's rho, FTRL's learning_rate_power, Adafactor's beta_2_decay; a click
loads its cell into the race), and each optimizer's loss against the learning rate."""

from __future__ import annotations

import streamlit as st

from optviz import figures, i18n
from optviz import schedules as lr_schedules
from optviz.bounds import CURVE_RATES, LEARNING_RATES
from optviz.custom import formula_weight, parse_formula
from optviz.optimizers import ALL_OPTIMIZERS
from optviz.page.caches import in_turn, run_curves, run_sweep
from optviz.page.charts import plot
from optviz.page.context import RunContext
from optviz.page.markdown_text import plain_text
from optviz.page.theory_view import show_best_settings, with_boundary
from optviz.page.widgets import choice_labels, label_of, on_tune_click
from optviz.state import CUSTOM, tuning_axis

ss = st.session_state


def map_stride(state) -> int:
    """2 (every other cell each way) for a typed formula costlier than a few function calls
    (custom.formula_weight): a map's time grows with the formula's; else 1, the whole map."""
    if state.surface != CUSTOM:
        return 1
    return 2 if formula_weight(parse_formula(state.formula).tree) > 4 else 1


def render(ctx: RunContext) -> None:
    state, t, lang = ctx.state, ctx.text, ctx.lang
    if not state.optimizers:  # only other frameworks' racing: the map is Keras's optimizers'
        st.info(t["no_optimizer"])
        return
    if ss.get("tune_optimizer") not in state.optimizers:
        ss.tune_optimizer = state.optimizers[0]
    name = st.selectbox(t["tune_optimizer"], state.optimizers,
                        format_func=label_of(choice_labels("tune_optimizer", lang)), key="tune_optimizer")
    axis, values, log_axis = tuning_axis(name)
    loaded = ss.pop("tune_loaded", None)
    if loaded:
        st.success(t["tune_loaded"].format(name=ctx.names[loaded[0]], lr=loaded[1], axis=loaded[3], value=loaded[2]))
    st.caption(t["tune_help"].format(steps=state.run_steps(), axis=axis))
    if state.is_data:
        st.caption(t["tune_data_note"])
    learning_rates = LEARNING_RATES
    stride = map_stride(state)
    if stride > 1:  # a costly typed formula: every other cell each way, a quarter of the work
        learning_rates, values = learning_rates[::stride], values[::stride]
        st.caption(t["tune_thinned"].format(rates=len(learning_rates), values=len(values)))
    # What the engine refuses (a setting, a start where a grid's run cannot begin) is said
    # here, as the race says it; the learning-rate curve below is drawn either way.
    try:
        result = in_turn(t["waiting_turn"], run_sweep, ctx.state_key, name, axis, learning_rates, values, state)
    except ValueError as exc:
        st.error(t["tune_error"].format(reason=plain_text(exc)))
    else:
        hp = ALL_OPTIMIZERS[name].resolve(state.hyperparameters(name))
        plot(ctx, with_boundary(ctx, result, figures.sweep_figure(
            result, ctx.surface.min_value, text=i18n.figure_text(lang),
            current=(lr_schedules.initial_value(hp["learning_rate"]), hp[axis]),
            presenter=state.presenter, height=440 if state.presenter else 520, log_y=log_axis)),
             "tune_chart", on_select=on_tune_click, selection_mode="points", config={"displaylogo": False})
        show_best_settings(ctx, name)
    st.markdown(f"**{t['lr_curve']}**")
    try:
        curves = in_turn(t["waiting_turn"], run_curves, ctx.state_key, CURVE_RATES, state)
    except ValueError as exc:
        st.error(t["curve_error"].format(reason=plain_text(exc)))
        return
    plot(ctx, figures.learning_rate_curve_figure(curves, ctx.surface.min_value, text=i18n.figure_text(lang),
                                                 labels=i18n.OPTIMIZER_SHORT_NAMES[lang], presenter=state.presenter),
         "lr_curve")
