"""FTRL (Follow The Regularized Leader): keras/src/optimizers/ftrl.py."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .adagrad import INITIAL_ACCUMULATOR_HELP
from .base import HParam, Optimizer, Style, learning_rate


class FtrlState(NamedTuple):
    accumulator: jax.Array
    linear: jax.Array


def ftrl_rule(g, w, state: FtrlState, t, hp):
    # The variable is recomputed from `linear` each step.
    lr = hp["learning_rate"]
    power = -hp["learning_rate_power"]
    l2 = hp["l2_regularization_strength"] + hp["beta"] / (2.0 * lr)
    accumulator, linear = state.accumulator, state.linear
    grad_to_use = g + (2.0 * hp["l2_shrinkage_regularization_strength"]) * w
    new_accumulator = accumulator + jnp.square(g)
    linear = linear + (
        grad_to_use - ((jnp.power(new_accumulator, power) - jnp.power(accumulator, power)) / lr) * w
    )
    quadratic = jnp.power(new_accumulator, power) / lr + 2 * l2
    l1 = hp["l1_regularization_strength"]
    linear_clipped = jnp.clip(linear, -l1, l1)
    w = (linear_clipped - linear) / quadratic
    return w, FtrlState(new_accumulator, linear)


def _ftrl_init(values, start) -> FtrlState:
    return FtrlState(np.full(2, values["initial_accumulator_value"], np.float32), np.zeros(2, np.float32))


FTRL = Optimizer(
    name="ftrl", display_name="FTRL", keras_class="Ftrl",
    hparams=(
        learning_rate(0.001),
        HParam("learning_rate_power", -0.5, high=0.0, help="how the per-coordinate rate shrinks (<= 0)"),
        HParam("initial_accumulator_value", 0.1, low=0.0, help=INITIAL_ACCUMULATOR_HELP),
        HParam("l1_regularization_strength", 0.0, low=0.0, help="L1 penalty (pulls coordinates to exactly 0)"),
        HParam("l2_regularization_strength", 0.0, low=0.0, help="L2 stabilization penalty"),
        HParam("l2_shrinkage_regularization_strength", 0.0, low=0.0, help="L2 penalty added to the gradient"),
        HParam("beta", 0.0, low=0.0, help="beta of the paper's per-coordinate rate"),
    ),
    state=FtrlState, rule=ftrl_rule, init=_ftrl_init, tuning_axis="learning_rate_power",
    style=Style("#999933", "longdash", "triangle-left"),  # Paul Tol muted olive
    latex=r"n \leftarrow n + g^2,\quad z \leftarrow z + g - \frac{\sqrt{n}-\sqrt{n_{\text{old}}}}{\eta}w,\quad "
          r"w = \frac{\operatorname{clip}(z, \lambda_1) - z}{\sqrt{n}/\eta + 2\lambda_2}",
)
