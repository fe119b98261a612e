"""The tuning tab: a learning rate × momentum heat map for one optimizer (a click loads its
cell into the race), and each optimizer's loss against the learning rate."""

from __future__ import annotations

import streamlit as st

from optviz import figures, i18n
from optviz import schedules as lr_schedules
from optviz.bounds import MOMENTA
from optviz.optimizers import ALL_OPTIMIZERS
from optviz.page.caches import run_sweep
from optviz.page.charts import plot
from optviz.page.context import RunContext
from optviz.page.widgets import choice_labels, label_of, on_tune_click

ss = st.session_state


def render(ctx: RunContext) -> None:
    state, t, lang = ctx.state, ctx.text, ctx.lang
    tunable = [n for n in state.optimizers if ALL_OPTIMIZERS[n].momentum_like]
    if not tunable:
        st.info(t["tune_none"])
        return
    if ss.get("tune_optimizer") not in tunable:
        ss.tune_optimizer = tunable[0]
    name = st.selectbox(t["tune_optimizer"], tunable, format_func=label_of(choice_labels("tune_optimizer", lang)),
                        key="tune_optimizer")
    axis = ALL_OPTIMIZERS[name].momentum_like
    loaded = ss.pop("tune_loaded", None)
    if loaded:
        st.success(t["tune_loaded"].format(name=ctx.names[loaded[0]], lr=loaded[1], axis=axis, value=loaded[2]))
    result = run_sweep(ctx.state_key, name, MOMENTA, state)
    hp = ALL_OPTIMIZERS[name].resolve(state.hyperparameters(name))
    st.caption(t["tune_help"].format(steps=state.run_steps(), axis=axis))
    if state.is_data:
        st.caption(t["tune_data_note"])
    plot(ctx, figures.sweep_figure(result, ctx.surface.min_value, text=i18n.figure_text(lang),
                                   current=(lr_schedules.initial_value(hp["learning_rate"]), hp[axis]),
                                   presenter=state.presenter, height=440 if state.presenter else 520),
         "tune_chart", on_select=on_tune_click, selection_mode="points", config={"displaylogo": False})
    st.markdown(f"**{t['lr_curve']}**")
    curves = {}
    for other in state.optimizers:
        axis_other = ALL_OPTIMIZERS[other].momentum_like
        fixed_value = None if axis_other is None else \
            (ALL_OPTIMIZERS[other].resolve(state.hyperparameters(other))[axis_other],)
        curves[other] = run_sweep(ctx.state_key, other, fixed_value, state)
    plot(ctx, figures.learning_rate_curve_figure(curves, ctx.surface.min_value, text=i18n.figure_text(lang),
                                                 labels=i18n.OPTIMIZER_SHORT_NAMES[lang], presenter=state.presenter),
         "lr_curve")
