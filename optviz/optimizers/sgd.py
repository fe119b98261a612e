"""SGD with momentum, and with Nesterov momentum: keras/src/optimizers/sgd.py."""

from __future__ import annotations

from typing import NamedTuple

import jax

from .base import Optimizer, Style, learning_rate, momentum


class SGDState(NamedTuple):
    momentum: jax.Array


def sgd_rule(g, w, state: SGDState, t, hp):
    # Keras: m = m*momentum - g*lr; w += m. With momentum 0 Keras keeps no `m` and does
    # w -= g*lr; the line below gives the same float result (0*m - g*lr == -(g*lr)).
    m = state.momentum * hp["momentum"] - g * hp["learning_rate"]
    return w + m, SGDState(m)


def nesterov_rule(g, w, state: SGDState, t, hp):
    m = state.momentum * hp["momentum"] - g * hp["learning_rate"]
    return w + (m * hp["momentum"] - g * hp["learning_rate"]), SGDState(m)


SGD = Optimizer(
    name="sgd", display_name="SGD", keras_class="SGD",
    hparams=(learning_rate(0.01), momentum(0.0)),
    state=SGDState, rule=sgd_rule, momentum_like="momentum", article=True,
    style=Style("#E69F00", "solid", "circle"),  # Okabe & Ito orange
    latex=r"m \leftarrow \mu\,m - \eta\,g,\qquad w \leftarrow w + m",
)

NESTEROV = Optimizer(
    name="nesterov", display_name="SGD + Nesterov", keras_class="SGD",
    # Keras's SGD defaults to momentum=0.0; "nesterov" is SGD(momentum=0.9, nesterov=True) as in the article.
    hparams=(learning_rate(0.01), momentum(0.9)), keras_defaults={"momentum": 0.0},
    keras_fixed={"nesterov": True},
    state=SGDState, rule=nesterov_rule, momentum_like="momentum", article=True,
    style=Style("#56B4E9", "dash", "diamond"),  # sky blue
    latex=r"m \leftarrow \mu\,m - \eta\,g,\qquad w \leftarrow w + \mu\,m - \eta\,g",
)
