"""Adagrad (keras/src/optimizers/adagrad.py) and Adadelta (adadelta.py): steps scaled by
accumulated squared gradients."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .base import HParam, Optimizer, Style, barrier_sqrt, beta, epsilon, learning_rate

INITIAL_ACCUMULATOR_HELP = "starting value of the sum of squared gradients"


class AdagradState(NamedTuple):
    accumulator: jax.Array


def adagrad_rule(g, w, state: AdagradState, t, hp):
    accumulator = state.accumulator + jnp.square(g)
    w = w - (hp["learning_rate"] * g) / barrier_sqrt(accumulator + hp["epsilon"])
    return w, AdagradState(accumulator)


def _adagrad_init(values, start) -> AdagradState:
    return AdagradState(np.full(2, values["initial_accumulator_value"], np.float32))


ADAGRAD = Optimizer(
    name="adagrad", display_name="Adagrad", keras_class="Adagrad",
    hparams=(
        learning_rate(0.001),
        HParam("initial_accumulator_value", 0.1, low=0.0, help=INITIAL_ACCUMULATOR_HELP),
        epsilon(),
    ),
    state=AdagradState, rule=adagrad_rule, init=_adagrad_init, article=True, tuning_axis="initial_accumulator_value",
    style=Style("#009E73", "dot", "square"),  # Okabe & Ito bluish green
    latex=r"a \leftarrow a + g^2,\qquad w \leftarrow w - \frac{\eta\,g}{\sqrt{a + \epsilon}}",
)


class AdadeltaState(NamedTuple):
    accumulated_grad: jax.Array
    accumulated_delta_var: jax.Array


def adadelta_rule(g, w, state: AdadeltaState, t, hp):
    # rho is a Python float in Keras, `1 - rho` a double.
    rho, eps = hp["rho"], hp["epsilon"]
    accumulated_grad = rho * state.accumulated_grad + hp["1-rho"] * jnp.square(g)
    delta = -((barrier_sqrt(state.accumulated_delta_var + eps) * g) / barrier_sqrt(accumulated_grad + eps))
    accumulated_delta = rho * state.accumulated_delta_var + hp["1-rho"] * jnp.square(delta)
    w = w + hp["learning_rate"] * delta
    return w, AdadeltaState(accumulated_grad, accumulated_delta)


ADADELTA = Optimizer(
    name="adadelta", display_name="Adadelta", keras_class="Adadelta",
    hparams=(learning_rate(0.001), beta("rho", 0.95, "decay of both running averages"), epsilon()),
    state=AdadeltaState, rule=adadelta_rule, tuning_axis="rho",
    style=Style("#44AA99", "dash", "cross"),  # Paul Tol muted teal
    latex=r"a \leftarrow \rho a + (1-\rho)g^2,\quad \Delta = -\frac{\sqrt{d + \epsilon}}{\sqrt{a + \epsilon}}\,g,"
          r"\quad d \leftarrow \rho d + (1-\rho)\Delta^2,\quad w \leftarrow w + \eta\,\Delta",
)
