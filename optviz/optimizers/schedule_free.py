"""ScheduleFreeAdamW: keras/src/optimizers/schedule_free_adamw.py."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .base import HParam, Optimizer, Style, beta, epsilon, learning_rate, power


class ScheduleFreeAdamWState(NamedTuple):
    momentum: jax.Array  # z, the sequence the gradient steps move
    velocity: jax.Array
    x: jax.Array  # the average; Keras stores no x (it rebuilds it from y and z), optviz keeps it to draw it


def schedule_free_adamw_rule(g, w, state: ScheduleFreeAdamWState, t, hp):
    # The point w is y; x is rebuilt from y and z each step, as Keras does.
    lr = hp["learning_rate"]
    beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
    warmup_steps = hp["warmup_steps"]
    lr = jnp.where(warmup_steps > 0, lr * jnp.minimum(t / warmup_steps, 1.0), lr)
    z_old = state.momentum
    bias_correction_2 = 1 - power(hp, "beta_2", t)
    v = state.velocity + (jnp.square(g) - state.velocity) * (1 - beta_2)
    denominator = jnp.sqrt(v / bias_correction_2) + hp["epsilon"]
    z = z_old - (lr * g) / denominator
    weight = 1.0 / t
    x_old = (w - (1 - beta_1) * z_old) / beta_1
    x_new = (1 - weight) * x_old + weight * z
    y_new = (1 - beta_1) * z + beta_1 * x_new
    return y_new, ScheduleFreeAdamWState(z, v, x_new)


def _schedule_free_init(values, start) -> ScheduleFreeAdamWState:
    # build(): momentum = ops.copy(variable); x before any step is the start point too.
    if start is None:
        raise ValueError("schedulefreeadamw: its state starts at the start point; pass `start`")
    start = np.asarray(start, np.float32)
    return ScheduleFreeAdamWState(start, np.zeros(2, np.float32), start)


SCHEDULE_FREE_ADAMW = Optimizer(
    name="schedulefreeadamw", display_name="Schedule-Free AdamW", keras_class="ScheduleFreeAdamW",
    hparams=(
        learning_rate(0.0025),
        # beta_1 divides (x = (y - (1 - beta_1) z) / beta_1): 0 is not allowed.
        HParam("beta_1", 0.9, low=0.0, high=1.0, low_open=True,
               help="interpolation between the average x and the step sequence z"),
        beta("beta_2", 0.999, "decay of the squared-gradient average"),
        epsilon(1e-8),
        HParam("warmup_steps", 0, kind="int", low=0.0, help="steps of linear learning-rate warm-up"),
    ),
    state=ScheduleFreeAdamWState, rule=schedule_free_adamw_rule, init=_schedule_free_init, momentum_like="beta_1",
    style=Style("#88CCEE", "dot", "bowtie"),  # Paul Tol muted cyan
    latex=r"y = (1-\beta_1) z + \beta_1 x,\quad z \leftarrow z - \eta_t\,\frac{g(y)}{\sqrt{v}+\epsilon},"
          r"\quad x \leftarrow (1 - c_t)\,x + c_t\,z",
)
