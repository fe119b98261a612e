"""Adafactor: keras/src/optimizers/adafactor.py."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .base import HParam, Optimizer, Style, barrier_sqrt, learning_rate, rms


class AdafactorState(NamedTuple):
    velocity: jax.Array


def adafactor_rule(g, w, state: AdafactorState, t, hp):
    # For a variable of rank < 2 (the point (x, y)) Keras keeps the full second moment
    # `velocity` and does not factor it.
    lr = hp["learning_rate"]
    inverse_sqrt_t = 1 / barrier_sqrt(t)
    # relative_step: lr = min(lr, 1/sqrt(t)) (Keras skips this for a schedule, but the
    # next line takes the same minimum again, so the result is the same either way).
    lr = jnp.where(hp["relative_step"] > 0.5, jnp.minimum(lr, inverse_sqrt_t), lr)
    rho_t = jnp.minimum(lr, inverse_sqrt_t)
    alpha_t = jnp.maximum(hp["epsilon_2"], rms(w)) * rho_t
    regulated_grad_square = jnp.square(g) + hp["epsilon_1"]
    beta_2_t = 1 - jnp.power(t, hp["beta_2_decay"])
    v = beta_2_t * state.velocity + (1 - beta_2_t) * regulated_grad_square
    u_t = g / barrier_sqrt(v)
    u_t_hat = u_t / jnp.maximum(jnp.float32(1.0), rms(u_t) / hp["clip_threshold"])
    w = w - alpha_t * u_t_hat
    return w, AdafactorState(v)


ADAFACTOR = Optimizer(
    name="adafactor", display_name="Adafactor", keras_class="Adafactor",
    hparams=(
        learning_rate(0.001),
        HParam("beta_2_decay", -0.8, high=0.0, help="beta_2 at step t is 1 - t^beta_2_decay"),
        HParam("epsilon_1", 1e-30, low=0.0, low_open=True, help="added to the squared gradient"),
        HParam("epsilon_2", 1e-3, low=0.0, help="smallest parameter scale"),
        HParam("clip_threshold", 1.0, low=0.0, low_open=True, help="clips the update's RMS"),
        HParam("relative_step", True, kind="bool", help="cap the learning rate at 1/sqrt(t)"),
    ),
    state=AdafactorState, rule=adafactor_rule, tuning_axis="beta_2_decay",
    style=Style("#117733", "longdashdot", "star-diamond"),  # Paul Tol muted green
    latex=r"v \leftarrow \hat\beta_{2,t} v + (1-\hat\beta_{2,t})(g^2 + \epsilon_1),\quad "
          r"u = \frac{g}{\sqrt{v}} \big/ \max\!\big(1, \tfrac{\mathrm{RMS}(u)}{d}\big),\quad "
          r"w \leftarrow w - \eta_t\,u",
)
