"""The rules tab: the surface's formula, and each optimizer's update rule, what it does and its
Keras code; other frameworks' optimizers in their own formula and code, with how they differ."""

from __future__ import annotations

import streamlit as st

from optviz import i18n
from optviz.models import keras_program
from optviz.optimizers import ALL_OPTIMIZERS, ENGINE_OPTIMIZERS
from optviz.page.context import RunContext
from optviz.page.theory_view import show_derivation


def render(ctx: RunContext) -> None:
    state, t = ctx.state, ctx.text
    with st.container(key="rules_big" if state.presenter else None):  # (larger on a projector: frontend/page.css)
        st.latex(ctx.surface.latex)
        for name in state.optimizers:
            st.subheader(ctx.names[name])
            st.latex(ALL_OPTIMIZERS[name].latex)
            st.write(i18n.EXPLANATIONS[ctx.lang][name])
            st.caption(t["code_caption"])
            st.code(ALL_OPTIMIZERS[name].keras_code(state.hyperparameters(name)), language="python")
            if state.is_data:
                data = ctx.surface.data
                with st.expander(t["fit_program"].format(name=ctx.names[name]), key=f"exp.program.{name}"):
                    st.code(keras_program(name, state.hyperparameters(name), ctx.surface.model, data.x, data.y,
                                          batch_size=state.batch_size, epochs=state.epochs, start=state.start,
                                          shuffle=state.shuffle, seed=state.seed, about=data.name),
                            language="python")
        for key in state.frameworks:
            opt = ENGINE_OPTIMIZERS[key]
            st.subheader(ctx.names[key])
            st.latex(opt.latex)
            note = i18n.FRAMEWORK_DIFFERENCES[ctx.lang].get(key)
            st.info(t["framework_difference"].format(note=note) if note else t["framework_difference_default"])
            st.caption(t["framework_code_caption"].format(framework=i18n.FRAMEWORK_LABELS[ctx.lang][opt.framework]))
            try:
                st.code(opt.code(state.framework_hyperparameters(key)), language="python")
            except ValueError as exc:  # settings the framework refuses together (the race says so too)
                st.error(t["bad_input"].format(reason=exc))
        show_derivation(ctx)
