"""Lion: keras/src/optimizers/lion.py."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .base import HParam, Optimizer, Style, learning_rate


class LionState(NamedTuple):
    momentum: jax.Array


def lion_rule(g, w, state: LionState, t, hp):
    # The step is the sign of an interpolation (beta_1); the momentum decays with beta_2.
    # Both are cast to float32 before `1 - beta`.
    beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
    m = state.momentum
    w = w - hp["learning_rate"] * jnp.sign(m * beta_1 + g * (1.0 - beta_1))
    m = m * beta_2 + g * (1.0 - beta_2)
    return w, LionState(m)


LION = Optimizer(
    name="lion", display_name="Lion", keras_class="Lion",
    hparams=(
        learning_rate(0.001),
        # Keras: "beta_1 must be in the [0, 1] range" and rejects beta_1 <= 0.
        HParam("beta_1", 0.9, low=0.0, high=1.0, low_open=True, help="weight of the momentum in the sign step"),
        HParam("beta_2", 0.99, low=0.0, high=1.0, help="decay of the momentum"),
    ),
    state=LionState, rule=lion_rule, momentum_like="beta_1",
    style=Style("#000000", "dashdot", "x"),  # black
    latex=r"w \leftarrow w - \eta\,\operatorname{sign}\big(\beta_1 m + (1-\beta_1) g\big),\quad "
          r"m \leftarrow \beta_2 m + (1-\beta_2) g",
)
