"""The rules tab: the surface's formula, and each optimizer's update rule, what it does and its Keras code."""

from __future__ import annotations

import streamlit as st

from optviz import i18n
from optviz.models import keras_program
from optviz.optimizers import ALL_OPTIMIZERS
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
        show_derivation(ctx)
