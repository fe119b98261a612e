"""PyTorch's optimizers (``torch.optim``, 2.13) as pure JAX rules: SGD, Adagrad, RMSprop,
Adam, AdamW, Adamax, NAdam, RAdam and Adadelta.

Each rule follows the single-tensor path (``_single_tensor_<name>`` in
``torch/optim/<name>.py``, the one PyTorch runs for a CPU tensor) operation for operation,
in float32, with PyTorch's hyperparameter names and defaults (``lr``, ``betas``, ``eps``,
``weight_decay`` ...). What differs from Keras is exactly what these rules keep:
``weight_decay`` is an L2 term added to the gradient (``g + weight_decay * w``) for SGD,
Adagrad, RMSprop, Adam, Adamax, NAdam, RAdam and Adadelta, decoupled (``w *= 1 - lr *
weight_decay``) for AdamW and where ``decoupled_weight_decay=True``; Adam adds ``eps``
after the bias correction of ``sqrt(v)``; RMSprop adds it outside the square root;
Adamax inside the max; NAdam's momentum schedule runs on ``momentum_decay``.

PyTorch computes its scalars (``1 - beta``, ``beta ** step``, ``lr / bias_correction``) in
Python's double and rounds them to float32 when they meet a tensor; the engine passes
``1 - beta`` and ``log(beta)`` computed in double (``beta ** t`` is then
``exp(t * log(beta))``, ``1 - beta ** t`` is ``-expm1(t * log(beta))``, both to about
one float32 rounding). The learning rate is a constant: schedules are Keras's here.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .base import HParam, Optimizer, Style, barrier_sqrt

FRAMEWORK = "pytorch"
DASH = "dash"  # PyTorch's paths are dashed, optax's dotted, Keras's as Keras's own style


# --- hyperparameters, PyTorch's names ------------------------------------------------------


def lr(default: float) -> HParam:
    return HParam("lr", default, low=0.0, help="step size (a constant)", columns=("learning_rate",))


def betas(default=(0.9, 0.999)) -> HParam:
    return HParam("betas", default, kind="pair", low=0.0, high=1.0, high_open=True,
                  help="decays of the gradient average and of the squared-gradient average",
                  columns=("beta1", "beta2"))


def eps(default: float) -> HParam:
    return HParam("eps", default, low=0.0, help="guards the division")


def weight_decay(default: float = 0.0, help: str = "L2 penalty: g += weight_decay * w before the step") -> HParam:
    return HParam("weight_decay", default, low=0.0, help=help, columns=("fw_weight_decay",))


def flag(name: str, help: str, default: bool = False) -> HParam:
    return HParam(name, default, kind="bool", help=help)


DECOUPLED_HELP = "w *= 1 - lr * weight_decay instead of the L2 term (AdamW's decay)"


# --- arithmetic as PyTorch's kernels do it ----------------------------------------------------


def _split(x):
    # Veltkamp's split: x = hi + lo, each half of float32's 24 bits.
    t = 4097.0 * x
    hi = t - (t - x)
    return hi, x - hi


def fma(a, b, c):
    """``a * b + c`` rounded once, as PyTorch's CPU kernels compute ``add(alpha=)``,
    ``addcmul`` and ``lerp`` (a fused multiply-add on a CPU that has one), from float32
    operations that each round (Dekker's exact product, Knuth's exact sum); the engine
    rounds every product, so none of these fuse on their own."""
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    error = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    total = p + c
    virtual = total - p
    sum_error = (p - (total - virtual)) + (c - virtual)
    return total + (sum_error + error)


def lerp(start, end, weight):
    """``torch.lerp``: ``start + weight * (end - start)`` for a weight below 0.5, else
    ``end + (weight - 1) * (end - start)``, each one fused multiply-add
    (aten/src/ATen/native/cpu/LerpKernel.cpp)."""
    diff = end - start
    return jnp.where(jnp.abs(weight) < 0.5, fma(weight, diff, start), fma(weight - 1, diff, end))


def addcdiv(w, t1, t2, value):
    """``w.addcdiv_(t1, t2, value=value)``: PyTorch's CPU kernel computes ``w + (value * t1) / t2``."""
    return w + (value * t1) / t2


def one_minus_power(hp, name, t):
    """``1 - beta ** step`` as PyTorch's double, to one float32 rounding."""
    return -jnp.expm1(t * hp[f"log-{name}"])


def power(hp, name, t):
    return jnp.exp(t * hp[f"log-{name}"])


def l2(g, w, hp):
    """``grad.add(param, alpha=weight_decay)`` (skipped at 0, as PyTorch does)."""
    wd = hp["fw_weight_decay"]
    return jnp.where(wd != 0, fma(wd, w, g), g)


def decay_or_l2(g, w, hp):
    """Adam's, NAdam's and RAdam's weight decay: decoupled (``param.mul_(1 - lr * wd)``)
    when ``decoupled_weight_decay``, else the L2 term."""
    wd = hp["fw_weight_decay"]
    decoupled = hp["decoupled_weight_decay"] > 0.5
    w_decayed = jnp.where((wd != 0) & decoupled, w * (1 - hp["learning_rate"] * wd), w)
    g = jnp.where((wd != 0) & ~decoupled, fma(wd, w, g), g)
    return g, w_decayed


# --- SGD ---------------------------------------------------------------------------------------


class SGDState(NamedTuple):
    momentum_buffer: jax.Array


def sgd_rule(g, w, state: SGDState, t, hp):
    g = l2(g, w, hp)
    mu = hp["momentum"]
    # The first step clones the gradient into the buffer (no dampening); later ones decay it.
    buf = jnp.where(t == 1, g, fma(hp["1-dampening"], g, state.momentum_buffer * mu))
    step = jnp.where(mu != 0, jnp.where(hp["nesterov"] > 0.5, fma(mu, buf, g), buf), g)
    return fma(-hp["learning_rate"], step, w), SGDState(jnp.where(mu != 0, buf, 0.0))


def _sgd_check(values, where):
    if values["nesterov"] and (values["momentum"] <= 0 or values["dampening"] != 0):
        raise ValueError(f"{where}: `nesterov` requires a `momentum` above 0 and `dampening` 0 (as torch.optim.SGD), "
                         f"got momentum={values['momentum']!r}, dampening={values['dampening']!r}")


SGD = Optimizer(
    name="sgd", display_name="SGD", framework=FRAMEWORK, api_name="SGD", check=_sgd_check,
    hparams=(
        lr(0.001),
        HParam("momentum", 0.0, low=0.0, help="fraction of the last step kept"),
        HParam("dampening", 0.0, low=0.0, high=1.0, help="scales the gradient added to the momentum buffer"),
        weight_decay(),
        flag("nesterov", "Nesterov momentum: step along g + momentum * buffer"),
    ),
    state=SGDState, rule=sgd_rule, momentum_like="momentum",
    style=Style("#E69F00", DASH, "circle"),
    latex=r"b \leftarrow \mu\,b + (1-\tau)\,g\ (b_1 = g),\qquad w \leftarrow w - \eta\,b",
)


# --- Adagrad -----------------------------------------------------------------------------------


class AdagradState(NamedTuple):
    sum: jax.Array


def adagrad_rule(g, w, state: AdagradState, t, hp):
    g = l2(g, w, hp)
    clr = hp["learning_rate"] / (1 + (t - 1) * hp["lr_decay"])
    total = fma(g, g, state.sum)  # addcmul_(grad, grad, value=1)
    std = jnp.sqrt(total) + hp["eps"]
    return addcdiv(w, g, std, -clr), AdagradState(total)


def _adagrad_init(values, start) -> AdagradState:
    return AdagradState(np.full(2, values["initial_accumulator_value"], np.float32))


ADAGRAD = Optimizer(
    name="adagrad", display_name="Adagrad", framework=FRAMEWORK, api_name="Adagrad",
    hparams=(
        lr(0.01),
        HParam("lr_decay", 0.0, low=0.0, help="the rate at step t is lr / (1 + (t - 1) * lr_decay)"),
        weight_decay(),
        HParam("initial_accumulator_value", 0.0, low=0.0, help="starting value of the sum of squared gradients"),
        eps(1e-10),
    ),
    state=AdagradState, rule=adagrad_rule, init=_adagrad_init,
    style=Style("#009E73", DASH, "square"),
    latex=r"s \leftarrow s + g^2,\qquad w \leftarrow w - \frac{\eta}{1 + (t-1)\,d}\,\frac{g}{\sqrt{s} + \epsilon}",
)


# --- RMSprop -----------------------------------------------------------------------------------


class RMSpropState(NamedTuple):
    square_avg: jax.Array
    momentum_buffer: jax.Array
    grad_avg: jax.Array


def rmsprop_rule(g, w, state: RMSpropState, t, hp):
    g = l2(g, w, hp)
    square_avg = fma(hp["1-alpha"] * g, g, state.square_avg * hp["alpha"])
    centered = hp["centered"] > 0.5
    grad_avg = jnp.where(centered, lerp(state.grad_avg, g, hp["1-alpha"]), 0.0)
    avg = jnp.sqrt(jnp.where(centered, fma(-grad_avg, grad_avg, square_avg), square_avg)) + hp["eps"]
    mu = hp["momentum"]
    buf = jnp.where(mu > 0, state.momentum_buffer * mu + g / avg, 0.0)
    w = jnp.where(mu > 0, fma(-hp["learning_rate"], buf, w), addcdiv(w, g, avg, -hp["learning_rate"]))
    return w, RMSpropState(square_avg, buf, grad_avg)


RMSPROP = Optimizer(
    name="rmsprop", display_name="RMSprop", framework=FRAMEWORK, api_name="RMSprop",
    hparams=(
        lr(0.01),
        HParam("alpha", 0.99, low=0.0, high=1.0, help="decay of the squared-gradient average"),
        eps(1e-8),
        weight_decay(),
        HParam("momentum", 0.0, low=0.0, help="fraction of the last step kept"),
        flag("centered", "divide by the gradient's variance"),
    ),
    state=RMSpropState, rule=rmsprop_rule, momentum_like="momentum",
    style=Style("#CC79A7", DASH, "triangle-up"),
    latex=r"v \leftarrow \alpha v + (1-\alpha)\,g^2,\qquad w \leftarrow w - \eta\,\frac{g}{\sqrt{v} + \epsilon}",
)


# --- Adam and AdamW ---------------------------------------------------------------------------


class AdamState(NamedTuple):
    exp_avg: jax.Array
    exp_avg_sq: jax.Array
    max_exp_avg_sq: jax.Array  # amsgrad's running maximum (zero without amsgrad)


def adam_rule(g, w, state: AdamState, t, hp):
    g, w = decay_or_l2(g, w, hp)
    exp_avg = lerp(state.exp_avg, g, hp["1-beta1"])
    exp_avg_sq = fma(hp["1-beta2"] * g, g, state.exp_avg_sq * hp["beta2"])
    step_size = hp["learning_rate"] / one_minus_power(hp, "beta1", t)
    bias_correction2_sqrt = jnp.sqrt(one_minus_power(hp, "beta2", t))
    amsgrad = hp["amsgrad"] > 0.5
    max_sq = jnp.where(amsgrad, jnp.maximum(state.max_exp_avg_sq, exp_avg_sq), 0.0)
    # eps after the bias correction of sqrt(v) (Keras adds it before: its "epsilon hat").
    denom = jnp.sqrt(jnp.where(amsgrad, max_sq, exp_avg_sq)) / bias_correction2_sqrt + hp["eps"]
    return addcdiv(w, exp_avg, denom, -step_size), AdamState(exp_avg, exp_avg_sq, max_sq)


ADAM_LATEX = (r"m \leftarrow m + (1-\beta_1)(g - m),\quad v \leftarrow \beta_2 v + (1-\beta_2)g^2,\quad "
              r"w \leftarrow w - \frac{\eta}{1-\beta_1^t}\,\frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}")

ADAM = Optimizer(
    name="adam", display_name="Adam", framework=FRAMEWORK, api_name="Adam",
    hparams=(
        lr(0.001), betas(), eps(1e-8), weight_decay(),
        flag("amsgrad", "never let the squared average shrink"),
        flag("decoupled_weight_decay", DECOUPLED_HELP),
    ),
    state=AdamState, rule=adam_rule, momentum_like="betas[0]",
    style=Style("#0072B2", DASH, "star"),
    latex=ADAM_LATEX,
)

ADAMW = Optimizer(
    name="adamw", display_name="AdamW", framework=FRAMEWORK, api_name="AdamW",
    hparams=(
        lr(0.001), betas(), eps(1e-8),
        weight_decay(0.01, "decoupled weight decay: w *= 1 - lr * weight_decay before the step"),
        flag("amsgrad", "never let the squared average shrink"),
    ),
    fixed_columns={"decoupled_weight_decay": 1.0},
    state=AdamState, rule=adam_rule, momentum_like="betas[0]",
    style=Style("#332288", DASH, "pentagon"),
    latex=r"w \leftarrow w\,(1 - \eta\lambda),\quad\text{then Adam: }" + ADAM_LATEX.split(r"\quad ")[-1],
)


# --- Adamax ------------------------------------------------------------------------------------


class AdamaxState(NamedTuple):
    exp_avg: jax.Array
    exp_inf: jax.Array


def adamax_rule(g, w, state: AdamaxState, t, hp):
    g = l2(g, w, hp)
    exp_avg = lerp(state.exp_avg, g, hp["1-beta1"])
    exp_inf = jnp.maximum(state.exp_inf * hp["beta2"], jnp.abs(g) + hp["eps"])  # eps inside the max
    clr = hp["learning_rate"] / one_minus_power(hp, "beta1", t)
    return addcdiv(w, exp_avg, exp_inf, -clr), AdamaxState(exp_avg, exp_inf)


ADAMAX = Optimizer(
    name="adamax", display_name="Adamax", framework=FRAMEWORK, api_name="Adamax",
    hparams=(lr(0.002), betas(), eps(1e-8), weight_decay()),
    state=AdamaxState, rule=adamax_rule, momentum_like="betas[0]",
    style=Style("#D55E00", DASH, "hexagon"),
    latex=r"u \leftarrow \max(\beta_2 u, |g| + \epsilon),\qquad w \leftarrow w - \frac{\eta}{1-\beta_1^t}\,\frac{m}{u}",
)


# --- NAdam -------------------------------------------------------------------------------------


class NAdamState(NamedTuple):
    exp_avg: jax.Array
    exp_avg_sq: jax.Array
    mu_product: jax.Array  # a scalar tensor in PyTorch, starting at 1
    SCALARS = ("mu_product",)


def nadam_rule(g, w, state: NAdamState, t, hp):
    bias_correction2 = one_minus_power(hp, "beta2", t)
    g, w = decay_or_l2(g, w, hp)
    beta1, decay = hp["beta1"], hp["momentum_decay"]
    log_096 = jnp.float32(np.log(0.96))
    mu = beta1 * (1.0 - 0.5 * jnp.exp(t * decay * log_096))
    mu_next = beta1 * (1.0 - 0.5 * jnp.exp((t + 1) * decay * log_096))
    mu_product = state.mu_product * mu
    exp_avg = lerp(state.exp_avg, g, hp["1-beta1"])
    exp_avg_sq = fma(hp["1-beta2"] * g, g, state.exp_avg_sq * hp["beta2"])
    denom = jnp.sqrt(exp_avg_sq / bias_correction2) + hp["eps"]
    lr = hp["learning_rate"]
    w = addcdiv(w, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
    w = addcdiv(w, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product * mu_next))
    return w, NAdamState(exp_avg, exp_avg_sq, mu_product)


def _nadam_init(values, start) -> NAdamState:
    return NAdamState(np.zeros(2, np.float32), np.zeros(2, np.float32), np.float32(1.0))


NADAM = Optimizer(
    name="nadam", display_name="NAdam", framework=FRAMEWORK, api_name="NAdam",
    hparams=(
        lr(0.002), betas(), eps(1e-8), weight_decay(),
        HParam("momentum_decay", 0.004, low=0.0, help="mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))"),
        flag("decoupled_weight_decay", DECOUPLED_HELP),
    ),
    state=NAdamState, rule=nadam_rule, init=_nadam_init, momentum_like="betas[0]",
    style=Style("#882255", DASH, "triangle-down"),
    latex=r"\mu_t = \beta_1\big(1 - \tfrac12\,0.96^{t\,\psi}\big),\quad "
          r"w \leftarrow w - \eta\Big(\frac{(1-\mu_t)\,g}{1-\prod_{i\le t}\mu_i} + "
          r"\frac{\mu_{t+1}\,m}{1-\prod_{i\le t+1}\mu_i}\Big)\Big/\big(\sqrt{\hat v} + \epsilon\big)",
)


# --- RAdam -------------------------------------------------------------------------------------


class RAdamState(NamedTuple):
    exp_avg: jax.Array
    exp_avg_sq: jax.Array


def radam_rule(g, w, state: RAdamState, t, hp):
    g, w = decay_or_l2(g, w, hp)
    exp_avg = lerp(state.exp_avg, g, hp["1-beta1"])
    exp_avg_sq = fma(hp["1-beta2"] * g, g, state.exp_avg_sq * hp["beta2"])
    bias_correction2 = one_minus_power(hp, "beta2", t)
    corrected = exp_avg / one_minus_power(hp, "beta1", t)
    rho_inf = hp["rho_inf-beta2"]
    rho_t = rho_inf - 2 * t * power(hp, "beta2", t) / bias_correction2
    rect = jnp.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / (hp["rho_inf_den-beta2"] * rho_t))
    adaptive = jnp.sqrt(bias_correction2) / (jnp.sqrt(exp_avg_sq) + hp["eps"])
    lr = hp["learning_rate"]
    # The variance is rectified once it is tractable (rho_t > 5); before, plain momentum.
    step = jnp.where(rho_t > 5.0, corrected * lr * adaptive * rect, corrected * lr)
    return w - step, RAdamState(exp_avg, exp_avg_sq)


RADAM = Optimizer(
    name="radam", display_name="RAdam", framework=FRAMEWORK, api_name="RAdam",
    hparams=(lr(0.001), betas(), eps(1e-8), weight_decay(), flag("decoupled_weight_decay", DECOUPLED_HELP)),
    state=RAdamState, rule=radam_rule, momentum_like="betas[0]",
    style=Style("#117733", DASH, "bowtie"),
    latex=r"\rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t},\quad "
          r"w \leftarrow w - \eta\,\hat m\cdot\begin{cases} r_t\,\frac{\sqrt{1-\beta_2^t}}{\sqrt{v} + \epsilon}"
          r" & \rho_t > 5 \\ 1 & \text{else}\end{cases}",
)


# --- Adadelta ----------------------------------------------------------------------------------


class AdadeltaState(NamedTuple):
    square_avg: jax.Array
    acc_delta: jax.Array


def adadelta_rule(g, w, state: AdadeltaState, t, hp):
    g = l2(g, w, hp)
    square_avg = fma(hp["1-rho"] * g, g, state.square_avg * hp["rho"])
    std = barrier_sqrt(square_avg + hp["eps"])  # a division by it stays a division (see barrier_sqrt)
    delta = jnp.sqrt(state.acc_delta + hp["eps"]) / std * g
    acc_delta = fma(hp["1-rho"] * delta, delta, state.acc_delta * hp["rho"])
    return fma(-hp["learning_rate"], delta, w), AdadeltaState(square_avg, acc_delta)


ADADELTA = Optimizer(
    name="adadelta", display_name="Adadelta", framework=FRAMEWORK, api_name="Adadelta",
    hparams=(lr(1.0), HParam("rho", 0.9, low=0.0, high=1.0, help="decay of both running averages"),
             eps(1e-6), weight_decay()),
    state=AdadeltaState, rule=adadelta_rule,
    style=Style("#44AA99", DASH, "cross"),
    latex=r"\Delta = \frac{\sqrt{d + \epsilon}}{\sqrt{a + \epsilon}}\,g,\qquad w \leftarrow w - \eta\,\Delta",
)

PYTORCH_OPTIMIZERS: dict[str, Optimizer] = {o.name: o for o in (
    SGD, ADAGRAD, RMSPROP, ADAM, ADAMW, ADAMAX, NADAM, RADAM, ADADELTA,
)}
