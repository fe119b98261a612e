"""Adam and its family: Adam and AdamW (keras/src/optimizers/adam.py, adamw.py), Adamax,
Nadam and Lamb (adamax.py, nadam.py, lamb.py)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .base import WEIGHT_DECAY_HELP, HParam, Optimizer, Style, barrier_sqrt, beta, epsilon, learning_rate, power

MOMENTUM_HELP = "decay of the gradient average (momentum)"
VELOCITY_HELP = "decay of the squared-gradient average"
AMSGRAD_HELP = "never let the squared average shrink"


class AdamState(NamedTuple):
    momentum: jax.Array
    velocity: jax.Array
    velocity_hat: jax.Array  # amsgrad's running maximum of velocity (zero without amsgrad)


def adam_rule(g, w, state: AdamState, t, hp):
    beta_1_power = power(hp, "beta_1", t)
    beta_2_power = power(hp, "beta_2", t)
    alpha = hp["learning_rate"] * jnp.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    m = state.momentum + (g - state.momentum) * hp["1-beta_1"]
    v = state.velocity + (jnp.square(g) - state.velocity) * hp["1-beta_2"]
    amsgrad = hp["amsgrad"] > 0.5
    v_hat = jnp.where(amsgrad, jnp.maximum(state.velocity_hat, v), 0.0)
    v_used = jnp.where(amsgrad, v_hat, v)
    w = w - (m * alpha) / (jnp.sqrt(v_used) + hp["epsilon"])
    return w, AdamState(m, v, v_hat)


ADAM = Optimizer(
    name="adam", display_name="Adam", keras_class="Adam",
    hparams=(
        learning_rate(0.001),
        beta("beta_1", 0.9, MOMENTUM_HELP),
        beta("beta_2", 0.999, VELOCITY_HELP),
        epsilon(),
        HParam("amsgrad", False, kind="bool", help=AMSGRAD_HELP),
    ),
    state=AdamState, rule=adam_rule, momentum_like="beta_1", article=True,
    style=Style("#0072B2", "solid", "star"),  # Okabe & Ito blue
    latex=r"m \leftarrow m + (1-\beta_1)(g - m),\quad v \leftarrow v + (1-\beta_2)(g^2 - v),\quad "
          r"w \leftarrow w - \frac{\eta\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,\frac{m}{\sqrt{v} + \epsilon}",
)

# Adam's rule: the decoupled weight decay happens before update_step, as for every optimizer.
ADAMW = Optimizer(
    name="adamw", display_name="AdamW", keras_class="AdamW",
    hparams=(
        learning_rate(0.001),
        HParam("weight_decay", 0.004, low=0.0, help=WEIGHT_DECAY_HELP),
        beta("beta_1", 0.9, MOMENTUM_HELP),
        beta("beta_2", 0.999, VELOCITY_HELP),
        epsilon(),
        HParam("amsgrad", False, kind="bool", help=AMSGRAD_HELP),
    ),
    state=AdamState, rule=adam_rule, momentum_like="beta_1",
    style=Style("#332288", "longdashdot", "pentagon"),  # Paul Tol muted indigo
    latex=r"w \leftarrow w - \eta\,\lambda\,w,\quad\text{then Adam: }"
          r"w \leftarrow w - \frac{\eta\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,\frac{m}{\sqrt{v} + \epsilon}",
)


class AdamaxState(NamedTuple):
    m: jax.Array
    u: jax.Array  # the decayed largest |g| seen


def adamax_rule(g, w, state: AdamaxState, t, hp):
    beta_1_power = power(hp, "beta_1", t)
    m = state.m + (g - state.m) * hp["1-beta_1"]
    u = jnp.maximum(hp["beta_2"] * state.u, jnp.abs(g))
    w = w - (hp["learning_rate"] * m) / ((1 - beta_1_power) * (u + hp["epsilon"]))
    return w, AdamaxState(m, u)


ADAMAX = Optimizer(
    name="adamax", display_name="Adamax", keras_class="Adamax",
    hparams=(
        learning_rate(0.001),
        beta("beta_1", 0.9, MOMENTUM_HELP),
        beta("beta_2", 0.999, "decay of the largest gradient seen"),
        epsilon(),
    ),
    state=AdamaxState, rule=adamax_rule, momentum_like="beta_1", article=True,
    style=Style("#D55E00", "longdash", "hexagon"),  # Okabe & Ito vermillion
    latex=r"m \leftarrow m + (1-\beta_1)(g - m),\quad u \leftarrow \max(\beta_2\,u, |g|),\quad "
          r"w \leftarrow w - \frac{\eta}{1-\beta_1^t}\,\frac{m}{u + \epsilon}",
)


# Shapes mirror Keras's: a Keras scalar (a hyperparameter, Nadam's u_product, a norm) is
# a scalar here, a Keras (2,) variable a (2,) row. XLA compiles `vector / scalar` as
# `vector * (1 / scalar)`, in Keras's eager ops and in the compiled race alike; keeping
# the shapes the same keeps the two bit for bit equal.


class NadamState(NamedTuple):
    momentum: jax.Array
    velocity: jax.Array
    u_product: jax.Array  # a scalar in Keras: the product of the momentum schedule so far
    SCALARS = ("u_product",)


def nadam_rule(g, w, state: NadamState, t, hp):
    # beta_1 and beta_2 are cast to float32 first in Keras, so `1 - beta` is a float32
    # subtraction here (not Python's double, as in Adam).
    beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
    decay = jnp.float32(0.96)
    # _backend_update_step: u_product *= beta_1 * (1 - 0.5 * 0.96^t), once a step.
    u_product = state.u_product * beta_1 * (1.0 - 0.5 * jnp.power(decay, t))
    u_t = beta_1 * (1.0 - 0.5 * jnp.power(decay, t))
    u_t_1 = beta_1 * (1.0 - 0.5 * jnp.power(decay, t + 1))
    u_product_t_1 = u_product * u_t_1
    beta_2_power = jnp.power(beta_2, t)
    m = state.momentum + (g - state.momentum) * (1 - beta_1)
    v = state.velocity + (jnp.square(g) - state.velocity) * (1 - beta_2)
    m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product)
    v_hat = v / (1 - beta_2_power)
    w = w - (m_hat * hp["learning_rate"]) / (jnp.sqrt(v_hat) + hp["epsilon"])
    return w, NadamState(m, v, u_product)


def _nadam_init(values, start) -> NadamState:
    return NadamState(np.zeros(2, np.float32), np.zeros(2, np.float32), np.float32(1.0))  # u_product = Variable(1.0)


NADAM = Optimizer(
    name="nadam", display_name="Nadam", keras_class="Nadam",
    hparams=(
        learning_rate(0.001),
        beta("beta_1", 0.9, "decay of the gradient average (Nesterov momentum)"),
        beta("beta_2", 0.999, VELOCITY_HELP),
        epsilon(),
    ),
    state=NadamState, rule=nadam_rule, init=_nadam_init, momentum_like="beta_1",
    style=Style("#882255", "dot", "triangle-down"),  # Paul Tol muted wine
    latex=r"\mu_t = \beta_1(1 - \tfrac12 0.96^{t}),\quad "
          r"w \leftarrow w - \eta\Big(\frac{\mu_{t+1} m}{1-\prod_{i\le t+1}\mu_i} + "
          r"\frac{(1-\mu_t) g}{1-\prod_{i\le t}\mu_i}\Big)\Big/\big(\sqrt{\hat v} + \epsilon\big)",
)


class LambState(NamedTuple):
    momentum: jax.Array
    velocity: jax.Array


def lamb_rule(g, w, state: LambState, t, hp):
    # Adam's direction, scaled by ||w|| / ||direction|| over the whole variable (here the
    # point (x, y)).
    beta_1_power = power(hp, "beta_1", t)
    beta_2_power = power(hp, "beta_2", t)
    m = state.momentum + (g - state.momentum) * hp["1-beta_1"]
    v = state.velocity + (jnp.square(g) - state.velocity) * hp["1-beta_2"]
    m_hat = m / (1.0 - beta_1_power)
    v_sqrt = jnp.sqrt(v / (1.0 - beta_2_power)) + hp["epsilon"]
    update = m_hat / v_sqrt
    w_norm = jnp.sqrt(jnp.sum(w * w))  # ops.power(w, 2) with an int 2 is integer_pow: w * w
    g_norm = barrier_sqrt(jnp.sum(update * update))
    ratio = jnp.where(w_norm > 0, jnp.where(g_norm > 0, w_norm / g_norm, 1.0), 1.0)
    w = w - ratio * hp["learning_rate"] * update
    return w, LambState(m, v)


LAMB = Optimizer(
    name="lamb", display_name="LAMB", keras_class="Lamb",
    hparams=(
        learning_rate(0.001),
        beta("beta_1", 0.9, MOMENTUM_HELP),
        beta("beta_2", 0.999, VELOCITY_HELP),
        epsilon(),
    ),
    state=LambState, rule=lamb_rule, momentum_like="beta_1",
    style=Style("#AA4499", "dash", "triangle-right"),  # Paul Tol muted purple
    latex=r"r = \frac{\hat m}{\sqrt{\hat v} + \epsilon},\quad "
          r"w \leftarrow w - \eta\,\frac{\lVert w\rVert}{\lVert r\rVert}\,r",
)
