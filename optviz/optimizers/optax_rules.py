"""optax's optimizers (0.2.8) as rules of the engine: sgd, adagrad, rmsprop, adam, adamw,
adamax, nadam, radam, adadelta, lion, lamb and adabelief.

Each rule is the alias's chain (``optax/_src/alias.py``) written out: the ``scale_by_*``
transformation (``optax/_src/transform.py``, moments as ``tree_update_moment``:
``(1 - decay) * g**order + decay * m``, bias corrections as ``m / (1 - decay**count)``
with an integer count), then ``add_decayed_weights`` where the alias has it, then the
learning rate (``scale(-learning_rate)``) and ``apply_updates`` (``w + u``), in
float32, with optax's hyperparameter names and defaults. Where optax's sign conventions
and epsilons differ from Keras's and PyTorch's, these keep optax's: Adam's ``eps`` after
the bias correction with an optional ``eps_root`` inside the root, RMSprop's ``eps``
inside the root and no bias correction, Adagrad's accumulator starting at 0.1 with
``rsqrt(s + eps)``, Adamax's ``eps`` inside the max.

optax takes ``learning_rate`` without a default: optviz starts at 0.001 (1.0 for
adadelta, whose optax default None would step uphill). The learning rate is a constant:
schedules are Keras's here.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .base import HParam, Optimizer, Style

FRAMEWORK = "optax"
DASH = "dot"


def learning_rate(default: float = 0.001) -> HParam:
    return HParam("learning_rate", default, low=0.0, help="step size (a constant)")


def b(name: str, default: float, help: str) -> HParam:
    return HParam(name, default, low=0.0, high=1.0, high_open=True, help=help)


def eps(default: float, name: str = "eps", help: str = "guards the division") -> HParam:
    return HParam(name, default, low=0.0, help=help)


def weight_decay(default: float) -> HParam:
    return HParam("weight_decay", default, low=0.0, help="decoupled: u += weight_decay * w before the learning rate",
                  columns=("fw_weight_decay",))


def flag(name: str, help: str, default: bool = False) -> HParam:
    return HParam(name, default, kind="bool", help=help)


B1_HELP = "decay of the gradient average"
B2_HELP = "decay of the squared-gradient average"
EPS_ROOT_HELP = "added inside the square root"
NESTEROV_HELP = "Nesterov momentum"


def count(t):
    """optax's int32 step count after this step."""
    return t.astype(jnp.int32)


def bias_correction(moment, decay, n):
    return moment / (1 - decay ** n)


def apply(w, u, hp):
    """``scale_by_learning_rate`` then ``apply_updates``."""
    return w + (-hp["learning_rate"]) * u


def decayed(u, w, hp):
    """``add_decayed_weights`` (skipped at 0, as optax does for a constant 0)."""
    wd = hp["fw_weight_decay"]
    return jnp.where(wd != 0, u + wd * w, u)


def moment(g, m, hp, name):
    return hp[f"1-{name}"] * g + hp[name] * m


# --- sgd ---------------------------------------------------------------------------------------


class TraceState(NamedTuple):
    trace: jax.Array


def sgd_rule(g, w, state: TraceState, t, hp):
    mu = hp["momentum"]  # None (no trace) is 0 here: g + 0 * trace is g
    trace = g + mu * state.trace
    u = jnp.where(hp["nesterov"] > 0.5, g + mu * trace, trace)
    return apply(w, u, hp), TraceState(trace)


SGD = Optimizer(
    name="sgd", display_name="SGD", framework=FRAMEWORK, api_name="sgd",
    hparams=(
        learning_rate(),
        HParam("momentum", None, kind="optional", low=0.0, help="decay of the trace of past updates (None: none)"),
        flag("nesterov", NESTEROV_HELP),
    ),
    state=TraceState, rule=sgd_rule, momentum_like="momentum",
    style=Style("#E69F00", DASH, "circle"),
    latex=r"\tau \leftarrow g + \mu\,\tau,\qquad w \leftarrow w - \eta\,\tau",
)


# --- adagrad -----------------------------------------------------------------------------------


class RssState(NamedTuple):
    sum_of_squares: jax.Array


def adagrad_rule(g, w, state: RssState, t, hp):
    total = g * g + state.sum_of_squares
    inv = jnp.where(total > 0, jax.lax.rsqrt(total + hp["eps"]), 0.0)
    return apply(w, inv * g, hp), RssState(total)


def _adagrad_init(values, start) -> RssState:
    return RssState(np.full(2, values["initial_accumulator_value"], np.float32))


ADAGRAD = Optimizer(
    name="adagrad", display_name="Adagrad", framework=FRAMEWORK, api_name="adagrad",
    hparams=(
        learning_rate(),
        HParam("initial_accumulator_value", 0.1, low=0.0, help="starting value of the sum of squared gradients"),
        eps(1e-7),
    ),
    state=RssState, rule=adagrad_rule, init=_adagrad_init,
    style=Style("#009E73", DASH, "square"),
    latex=r"s \leftarrow s + g^2,\qquad w \leftarrow w - \eta\,\frac{g}{\sqrt{s + \epsilon}}",
)


# --- rmsprop -----------------------------------------------------------------------------------


class RmsState(NamedTuple):
    nu: jax.Array
    mu: jax.Array  # the gradient's average (centered only)
    trace: jax.Array  # momentum's trace (with momentum only)


def rmsprop_rule(g, w, state: RmsState, t, hp):
    decay = hp["decay"]
    nu = hp["1-decay"] * (g * g) + decay * state.nu
    centered = hp["centered"] > 0.5
    mu = jnp.where(centered, hp["1-decay"] * g + decay * state.mu, 0.0)
    spread = jnp.where(centered, nu - mu * mu, nu)
    scaling = jnp.where(hp["eps_in_sqrt"] > 0.5, jax.lax.rsqrt(spread + hp["eps"]), 1 / (jnp.sqrt(spread) + hp["eps"]))
    u = (-hp["learning_rate"]) * (scaling * g)
    # The momentum trace runs after the learning rate in optax's chain.
    m = hp["momentum"]
    trace = u + m * state.trace
    u = jnp.where(hp["nesterov"] > 0.5, u + m * trace, trace)
    return w + u, RmsState(nu, mu, trace)


def _rmsprop_init(values, start) -> RmsState:
    zero = np.zeros(2, np.float32)
    return RmsState(np.full(2, values["initial_scale"], np.float32), zero, zero)


RMSPROP = Optimizer(
    name="rmsprop", display_name="RMSprop", framework=FRAMEWORK, api_name="rmsprop",
    hparams=(
        learning_rate(),
        b("decay", 0.9, B2_HELP),
        eps(1e-8),
        HParam("initial_scale", 0.0, low=0.0, help="starting value of the squared-gradient average"),
        flag("eps_in_sqrt", "eps inside the square root (else added to it)", True),
        flag("centered", "divide by the gradient's variance"),
        HParam("momentum", None, kind="optional", low=0.0, help="decay of the trace of past updates (None: none)"),
        flag("nesterov", NESTEROV_HELP),
    ),
    state=RmsState, rule=rmsprop_rule, init=_rmsprop_init, momentum_like="momentum",
    style=Style("#CC79A7", DASH, "triangle-up"),
    latex=r"\nu \leftarrow (1-\rho)\,g^2 + \rho\,\nu,\qquad w \leftarrow w - \eta\,\frac{g}{\sqrt{\nu + \epsilon}}",
)


# --- adam, adamw, nadam, lamb ------------------------------------------------------------------


class AdamState(NamedTuple):
    mu: jax.Array
    nu: jax.Array


def _adam_direction(g, state: AdamState, t, hp, nu_shift=None):
    """``scale_by_adam`` (``nesterov`` as nadam's), the state it leaves; ``nu_shift``:
    adabelief's prediction error in place of the gradient for the second moment."""
    n = count(t)
    b1 = hp["b1"]
    mu = moment(g, state.mu, hp, "b1")
    nu = moment((g if nu_shift is None else nu_shift(mu)) ** 2, state.nu, hp, "b2")
    plain = bias_correction(mu, b1, n)
    nesterov = b1 * bias_correction(mu, b1, n + 1) + hp["1-b1"] * bias_correction(g, b1, n)
    mu_hat = jnp.where(hp["nesterov"] > 0.5, nesterov, plain)
    return mu, nu, mu_hat


def adam_rule(g, w, state: AdamState, t, hp):
    mu, nu, mu_hat = _adam_direction(g, state, t, hp)
    nu_hat = bias_correction(nu, hp["b2"], count(t))
    u = mu_hat / (jnp.sqrt(nu_hat + hp["eps_root"]) + hp["eps"])
    return apply(w, decayed(u, w, hp), hp), AdamState(mu, nu)


ADAM_HPARAMS = (learning_rate(), b("b1", 0.9, B1_HELP), b("b2", 0.999, B2_HELP), eps(1e-8),
                eps(0.0, "eps_root", EPS_ROOT_HELP))
ADAM_LATEX = (r"\mu \leftarrow (1-\beta_1)g + \beta_1\mu,\quad \nu \leftarrow (1-\beta_2)g^2 + \beta_2\nu,\quad "
              r"w \leftarrow w - \eta\,\frac{\hat\mu}{\sqrt{\hat\nu + \epsilon_{root}} + \epsilon}")

ADAM = Optimizer(
    name="adam", display_name="Adam", framework=FRAMEWORK, api_name="adam",
    hparams=(*ADAM_HPARAMS, flag("nesterov", NESTEROV_HELP)),
    state=AdamState, rule=adam_rule, momentum_like="b1",
    style=Style("#0072B2", DASH, "star"), latex=ADAM_LATEX,
)

ADAMW = Optimizer(
    name="adamw", display_name="AdamW", framework=FRAMEWORK, api_name="adamw",
    hparams=(*ADAM_HPARAMS, weight_decay(1e-4), flag("nesterov", NESTEROV_HELP)),
    state=AdamState, rule=adam_rule, momentum_like="b1",
    style=Style("#332288", DASH, "pentagon"),
    latex=ADAM_LATEX.replace(r"\frac{\hat\mu}", r"\Big(\frac{\hat\mu}")
                    .replace(r"+ \epsilon}", r"+ \epsilon} + \lambda w\Big)"),
)

NADAM = Optimizer(
    name="nadam", display_name="NAdam", framework=FRAMEWORK, api_name="nadam",
    hparams=(*ADAM_HPARAMS, flag("nesterov", NESTEROV_HELP, True)),
    state=AdamState, rule=adam_rule, momentum_like="b1",
    style=Style("#882255", DASH, "triangle-down"),
    latex=r"\hat\mu = \beta_1\frac{\mu}{1-\beta_1^{t+1}} + (1-\beta_1)\frac{g}{1-\beta_1^t},\quad "
          r"w \leftarrow w - \eta\,\frac{\hat\mu}{\sqrt{\hat\nu + \epsilon_{root}} + \epsilon}",
)


def lamb_rule(g, w, state: AdamState, t, hp):
    mu, nu, mu_hat = _adam_direction(g, state, t, hp)
    nu_hat = bias_correction(nu, hp["b2"], count(t))
    u = decayed(mu_hat / (jnp.sqrt(nu_hat + hp["eps_root"]) + hp["eps"]), w, hp)
    # scale_by_trust_ratio(): ||w|| / ||u||, 1 where either norm is 0.
    param_norm, update_norm = jnp.linalg.norm(w), jnp.linalg.norm(u)
    ratio = jnp.where((param_norm == 0.0) | (update_norm == 0.0), 1.0, 1.0 * param_norm / (update_norm + 0.0))
    return apply(w, u * ratio, hp), AdamState(mu, nu)


LAMB = Optimizer(
    name="lamb", display_name="LAMB", framework=FRAMEWORK, api_name="lamb",
    hparams=(learning_rate(), b("b1", 0.9, B1_HELP), b("b2", 0.999, B2_HELP), eps(1e-6),
             eps(0.0, "eps_root", EPS_ROOT_HELP), weight_decay(0.0)),
    state=AdamState, rule=lamb_rule, momentum_like="b1",
    style=Style("#AA4499", DASH, "triangle-right"),
    latex=r"u = \frac{\hat\mu}{\sqrt{\hat\nu} + \epsilon} + \lambda w,\qquad "
          r"w \leftarrow w - \eta\,\frac{\lVert w\rVert}{\lVert u\rVert}\,u",
)


def adabelief_rule(g, w, state: AdamState, t, hp):
    mu, nu, mu_hat = _adam_direction(g, state, t, hp, nu_shift=lambda mu: g - mu)
    nu = nu + hp["eps_root"]
    nu_hat = bias_correction(nu, hp["b2"], count(t))
    return apply(w, mu_hat / (jnp.sqrt(nu_hat) + hp["eps"]), hp), AdamState(mu, nu)


ADABELIEF = Optimizer(
    name="adabelief", display_name="AdaBelief", framework=FRAMEWORK, api_name="adabelief",
    hparams=(learning_rate(), b("b1", 0.9, B1_HELP), b("b2", 0.999, "decay of the squared prediction error"),
             eps(1e-16), eps(1e-16, "eps_root", EPS_ROOT_HELP), flag("nesterov", NESTEROV_HELP)),
    state=AdamState, rule=adabelief_rule, momentum_like="b1",
    style=Style("#DDCC77", DASH, "star-diamond"),
    latex=r"s \leftarrow (1-\beta_2)(g-\mu)^2 + \beta_2 s + \epsilon_{root},\qquad "
          r"w \leftarrow w - \eta\,\frac{\hat\mu}{\sqrt{\hat s} + \epsilon}",
)


# --- adamax ------------------------------------------------------------------------------------


def adamax_rule(g, w, state: AdamState, t, hp):
    mu = moment(g, state.mu, hp, "b1")
    nu = jnp.maximum(jnp.abs(g) + hp["eps"], hp["b2"] * state.nu)
    return apply(w, bias_correction(mu, hp["b1"], count(t)) / nu, hp), AdamState(mu, nu)


ADAMAX = Optimizer(
    name="adamax", display_name="Adamax", framework=FRAMEWORK, api_name="adamax",
    hparams=(learning_rate(), b("b1", 0.9, B1_HELP), b("b2", 0.999, "decay of the largest gradient seen"), eps(1e-8)),
    state=AdamState, rule=adamax_rule, momentum_like="b1",
    style=Style("#D55E00", DASH, "hexagon"),
    latex=r"\nu \leftarrow \max(|g| + \epsilon, \beta_2\nu),\qquad w \leftarrow w - \eta\,\frac{\hat\mu}{\nu}",
)


# --- radam -------------------------------------------------------------------------------------


def radam_rule(g, w, state: AdamState, t, hp):
    mu, nu, mu_hat = _adam_direction(g, state, t, hp)
    n = count(t)
    b2t = hp["b2"] ** n
    ro_inf = hp["rho_inf-b2"]
    ro = ro_inf - 2 * n * b2t / (1 - b2t)
    r = jnp.sqrt((ro - 4.0) * (ro - 2.0) * ro_inf / (hp["rho_inf_den-b2"] * ro))
    nu_hat = bias_correction(nu, hp["b2"], n)
    rectified = r * mu_hat / (jnp.sqrt(nu_hat + hp["eps_root"]) + hp["eps"])
    return apply(w, jnp.where(ro >= hp["threshold"], rectified, mu_hat), hp), AdamState(mu, nu)


RADAM = Optimizer(
    name="radam", display_name="RAdam", framework=FRAMEWORK, api_name="radam",
    hparams=(*ADAM_HPARAMS, HParam("threshold", 5.0, help="rectify once rho_t reaches this"),
             flag("nesterov", NESTEROV_HELP)),
    state=AdamState, rule=radam_rule, momentum_like="b1",
    style=Style("#117733", DASH, "bowtie"),
    latex=r"w \leftarrow w - \eta\,\hat\mu\cdot\begin{cases} r_t/(\sqrt{\hat\nu + \epsilon_{root}} + \epsilon)"
          r" & \rho_t \ge \rho_{min} \\ 1 & \text{else}\end{cases}",
)


# --- adadelta ----------------------------------------------------------------------------------


class AdaDeltaState(NamedTuple):
    e_g: jax.Array
    e_x: jax.Array


def adadelta_rule(g, w, state: AdaDeltaState, t, hp):
    g = decayed(g, w, hp)
    e_g = moment(g ** 2, state.e_g, hp, "rho")
    u = (jnp.sqrt(state.e_x + hp["eps"]) / jnp.sqrt(e_g + hp["eps"])) * g
    e_x = moment(u ** 2, state.e_x, hp, "rho")
    return apply(w, u, hp), AdaDeltaState(e_g, e_x)


ADADELTA = Optimizer(
    name="adadelta", display_name="Adadelta", framework=FRAMEWORK, api_name="adadelta",
    hparams=(learning_rate(1.0), b("rho", 0.9, "decay of both running averages"), eps(1e-6), weight_decay(0.0)),
    state=AdaDeltaState, rule=adadelta_rule,
    style=Style("#44AA99", DASH, "cross"),
    latex=r"u = \frac{\sqrt{x + \epsilon}}{\sqrt{e + \epsilon}}\,g,\qquad w \leftarrow w - \eta\,u",
)


# --- lion --------------------------------------------------------------------------------------


class LionState(NamedTuple):
    mu: jax.Array


def lion_rule(g, w, state: LionState, t, hp):
    u = jnp.sign(moment(g, state.mu, hp, "b1"))
    mu = moment(g, state.mu, hp, "b2")
    return apply(w, decayed(u, w, hp), hp), LionState(mu)


LION = Optimizer(
    name="lion", display_name="Lion", framework=FRAMEWORK, api_name="lion",
    hparams=(learning_rate(), b("b1", 0.9, "weight of the momentum in the step's sign"),
             b("b2", 0.99, "decay of the momentum"), weight_decay(1e-3)),
    state=LionState, rule=lion_rule, momentum_like="b1",
    style=Style("#999933", DASH, "x"),
    latex=r"w \leftarrow w - \eta\,\big(\mathrm{sign}((1-\beta_1)g + \beta_1\mu) + \lambda w\big),\quad "
          r"\mu \leftarrow (1-\beta_2)g + \beta_2\mu",
)

OPTAX_OPTIMIZERS: dict[str, Optimizer] = {o.name: o for o in (
    SGD, ADAGRAD, RMSPROP, ADAM, ADAMW, ADAMAX, NADAM, RADAM, ADADELTA, LION, LAMB, ADABELIEF,
)}
