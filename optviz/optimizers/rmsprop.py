"""RMSprop: keras/src/optimizers/rmsprop.py."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .base import HParam, Optimizer, Style, barrier_sqrt, beta, epsilon, learning_rate, momentum


class RMSpropState(NamedTuple):
    velocity: jax.Array
    momentum: jax.Array
    average_gradient: jax.Array


def rmsprop_rule(g, w, state: RMSpropState, t, hp):
    rho = hp["rho"]
    velocity = rho * state.velocity + hp["1-rho"] * jnp.square(g)
    average_gradient = rho * state.average_gradient + hp["1-rho"] * g
    centered = hp["centered"] > 0.5
    denominator = jnp.where(
        centered, velocity - jnp.square(average_gradient) + hp["epsilon"], velocity + hp["epsilon"]
    )
    increment = (hp["learning_rate"] * g) / barrier_sqrt(denominator)
    # momentum 0: Keras subtracts `increment` directly; 0*m + inc == inc exactly.
    momentum = hp["momentum"] * state.momentum + increment
    average_gradient = jnp.where(centered, average_gradient, 0.0)
    return w - momentum, RMSpropState(velocity, momentum, average_gradient)


RMSPROP = Optimizer(
    name="rmsprop", display_name="RMSprop", keras_class="RMSprop",
    hparams=(
        learning_rate(0.001),
        beta("rho", 0.9, "decay of the squared-gradient average"),
        momentum(0.0),
        epsilon(),
        HParam("centered", False, kind="bool", help="divide by the gradient's variance"),
    ),
    state=RMSpropState, rule=rmsprop_rule, momentum_like="momentum", article=True,
    style=Style("#CC79A7", "dashdot", "triangle-up"),  # Okabe & Ito reddish purple
    latex=r"v \leftarrow \rho\,v + (1-\rho)\,g^2,\qquad m \leftarrow \mu\,m + \frac{\eta\,g}{\sqrt{v + \epsilon}},"
          r"\qquad w \leftarrow w - m",
)
