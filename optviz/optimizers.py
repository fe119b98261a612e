"""Keras 3's optimizers as pure JAX update rules.

Each optimizer is an :class:`Optimizer`: its Keras name, its hyperparameters
(with Keras's names, defaults and validity rules) and a pure ``update``
function ``update(gradient, point, slots, step, hp) -> (new_point, new_slots)``.

``slots`` is the optimizer's state: an array of shape (MAX_SLOTS, 2), one row
per Keras optimizer variable (velocity, accumulator, moments...), named by
``Optimizer.slot_names``. Unused rows stay zero. A fixed shape for every
optimizer is what lets :mod:`optviz.engine` race any mix of optimizers in one
compiled call. ``hp`` maps every hyperparameter name in :data:`ALL_FLOAT_HPARAMS`
to a float32 scalar (booleans are 0.0 / 1.0), so that all of them are traced
values: changing one never compiles again.

The rules follow ``keras/src/optimizers/<name>.py`` (Keras 3.15) operation for
operation, in float32, so that a path drawn here is the path Keras takes.

Every Keras optimizer also takes ``weight_decay``, ``clipnorm``, ``clipvalue`` and
``global_clipnorm`` (:data:`COMMON_OPTIONS`); :func:`clip_and_decay` applies them
before ``update`` as ``BaseOptimizer._backend_apply_gradients`` does. The learning
rate may be a Keras schedule (see :mod:`optviz.schedules`); ``update`` then receives
the schedule's value for the step in ``hp["learning_rate"]``.

:data:`ALL_OPTIMIZERS` holds all fourteen; :data:`OPTIMIZERS` the six of the article
(the page's set). :func:`get_optimizer` finds any of the fourteen.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from . import schedules
from .checks import F32_RANGE, NOT_A_NUMBER, as_float32, fits_float32

MAX_SLOTS = 3

UpdateFn = Callable[..., tuple]


@dataclass(frozen=True)
class HParam:
    """One Keras hyperparameter: its name, default and the range it must lie in."""

    name: str
    default: float | bool
    kind: str = "float"  # "float", "bool", "int" (a whole number) or "optional" (None or a float)
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: value must be > low (else >= low)
    high_open: bool = False  # True: value must be < high (else <= high)
    help: str = ""

    def rule(self) -> str:
        if self.kind == "bool":
            return "true or false"
        if self.kind == "int":
            return "a whole number " + self._range()
        if self.kind == "optional":
            return "unset (None) or a number " + self._range()
        return self._range()

    def _range(self) -> str:
        parts = []
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f"in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        if self.low is not None:
            parts.append((">" if self.low_open else ">=") + f" {_fmt(self.low)}")
        if self.high is not None:
            parts.append(("<" if self.high_open else "<=") + f" {_fmt(self.high)}")
        return " and ".join(parts) or "a finite number"

    def _within(self, number: float) -> bool:
        ok = True
        if self.low is not None:
            ok &= number > self.low if self.low_open else number >= self.low
        if self.high is not None:
            ok &= number < self.high if self.high_open else number <= self.high
        return ok

    def validate(self, value, optimizer: str):
        """Return the value as float (or bool); raise ValueError naming the field."""
        where = f"{optimizer}: `{self.name}`"
        if self.kind == "optional" and value is None:
            return None
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
                return value.strip().lower() in ("true", "1")
            raise ValueError(f"{where} must be true or false, got {value!r}")
        if isinstance(value, bool):
            raise ValueError(f"{where} must be a number, got {value!r}")
        try:
            number = float(value)
        except NOT_A_NUMBER:
            raise ValueError(f"{where} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"{where} must be finite, got {value!r}")
        if not self._within(number):
            raise ValueError(f"{where} must be {self.rule()}, got {number!r}")
        # The engine, like Keras, computes in float32: 1e39 would be inf there, 1e-50 zero
        # (an epsilon of 0: refused; a weight decay of 0: fine), 1 - 1e-9 exactly 1 (a beta
        # of 1). Refuse what float32 breaks.
        if not fits_float32(number):
            raise ValueError(f"{where} must be {self.rule()} and fit in float32, got {number!r} ({F32_RANGE})")
        if number != 0 and not self._within(as_float32(number)):
            raise ValueError(f"{where} must be {self.rule()}, got {number!r}, which is {as_float32(number)!r} "
                             "in float32, the precision Keras computes in")
        if self.kind == "int":
            if number != int(number):
                raise ValueError(f"{where} must be {self.rule()}, got {value!r}")
            return int(number)
        return number


def _fmt(x: float) -> str:
    return f"{x:g}"


def _learning_rate(default: float) -> HParam:
    return HParam("learning_rate", default, low=0.0, help="step size")


def _momentum(default: float) -> HParam:
    return HParam("momentum", default, low=0.0, high=1.0, help="fraction of the last step kept")


def _epsilon() -> HParam:
    return HParam("epsilon", 1e-7, low=0.0, low_open=True, help="guards the division")


def _beta(name: str, default: float, help: str) -> HParam:
    return HParam(name, default, low=0.0, high=1.0, high_open=True, help=help)


def _option(name: str, help: str) -> HParam:
    return HParam(name, None, kind="optional", low=0.0, help=help)


# What every Keras optimizer's constructor takes besides its own hyperparameters
# (BaseOptimizer): None means "not set", as in Keras. AdamW has its own weight_decay
# (default 0.004) among its hyperparameters instead.
COMMON_OPTIONS: tuple[HParam, ...] = (
    _option("weight_decay", "decoupled weight decay: w -= w * weight_decay * learning_rate before each step"),
    _option("clipnorm", "clip the gradient to this norm"),
    _option("clipvalue", "clip each gradient coordinate to [-clipvalue, clipvalue]"),
    _option("global_clipnorm", "clip the gradient to this global norm (all variables together)"),
)
CLIP_OPTIONS = ("clipnorm", "clipvalue", "global_clipnorm")


def _default_init(opt: "Optimizer", values: Mapping[str, object], start) -> np.ndarray:
    slots = np.zeros((MAX_SLOTS, 2), np.float32)
    if "initial_accumulator_value" in opt.defaults:  # Adagrad, Ftrl: the accumulator starts at a constant
        slots[0] = np.float32(values["initial_accumulator_value"])
    return slots


@dataclass(frozen=True)
class Optimizer:
    """A Keras optimizer as a pure update rule."""

    name: str  # optviz's name, e.g. "nesterov"
    display_name: str  # e.g. "SGD + Nesterov"
    keras_class: str  # e.g. "SGD"
    hparams: tuple[HParam, ...]
    slot_names: tuple[str, ...]
    update: UpdateFn = field(repr=False, compare=False)
    keras_fixed: Mapping[str, object] = field(default_factory=dict)  # e.g. nesterov=True
    momentum_like: str | None = None  # the parameter on a sweep's "momentum" axis
    # (optimizer, values, start) -> the slots before the first step; None: zeros (and
    # Adagrad/Ftrl's initial accumulator).
    init: Callable | None = field(default=None, repr=False, compare=False)

    @property
    def defaults(self) -> dict[str, float | bool]:
        """The optimizer's own hyperparameters with Keras's defaults (no common options)."""
        return {h.name: h.default for h in self.hparams}

    @functools.cached_property
    def options(self) -> tuple[HParam, ...]:
        """The common Keras options (weight decay, clipping) not among ``hparams``."""
        own = {h.name for h in self.hparams}
        return tuple(h for h in COMMON_OPTIONS if h.name not in own)

    @functools.cached_property
    def _by_name(self) -> Mapping[str, HParam]:
        # (The page looks up every optimizer's every setting on each rerun.)
        return {h.name: h for h in (*self.hparams, *self.options)}

    @property
    def all_defaults(self) -> dict[str, object]:
        """Own hyperparameters and common options, with Keras's defaults (None: not set)."""
        return {name: h.default for name, h in self._by_name.items()}

    def hparam(self, name: str) -> HParam:
        return self._by_name[name]

    def resolve(self, overrides: Mapping[str, object] | None = None) -> dict[str, object]:
        """Keras defaults updated with ``overrides``, each validated.

        The result holds every own hyperparameter and every common option (None where
        not set). ``learning_rate`` may be a Keras schedule (a ``{"class_name", "config"}``
        mapping, see :mod:`optviz.schedules`); it comes back parsed, with every field.
        Raises ValueError naming the field for an unknown or out-of-range value, and for
        more than one of ``clipnorm``, ``clipvalue``, ``global_clipnorm`` (as Keras does).
        """
        values = self.all_defaults
        for key, value in (overrides or {}).items():
            if key not in values:
                raise ValueError(
                    f"{self.name}: unknown hyperparameter `{key}`; "
                    f"{self.name} takes {', '.join(values)}"
                )
            if key == "learning_rate" and schedules.is_schedule(value):
                values[key] = schedules.parse(value, where=f"{self.name}: `learning_rate`")
            else:
                values[key] = self.hparam(key).validate(value, self.name)
        clipping = [k for k in CLIP_OPTIONS if values.get(k) is not None]
        if len(clipping) > 1:
            raise ValueError(
                f"{self.name}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set; "
                f"got {', '.join(f'{k}={values[k]!r}' for k in clipping)}"
            )
        return values

    def init_slots(self, values: Mapping[str, object], start=None) -> np.ndarray:
        """The state before the first step, shape (MAX_SLOTS, 2): zeros, but Adagrad's and
        Ftrl's accumulator start at a constant, Nadam's u_product at 1, and
        ScheduleFreeAdamW's momentum (z) at the start point."""
        return (self.init or _default_init)(self, values, start)

    def keras_code(self, values: Mapping[str, object] | None = None, *, prefix: str = "keras.optimizers.") -> str:
        """Keras code for these settings, e.g. ``keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)``.

        ``learning_rate`` is always written (a schedule as
        ``keras.optimizers.schedules.<Class>(...)``); other hyperparameters and options only
        where they differ from Keras's default (the article writes them this way).
        """
        values = self.resolve(values)
        rate = values["learning_rate"]
        if schedules.is_schedule(rate):
            rate_code = schedules.keras_code(rate, prefix=prefix + "schedules.")
        else:
            rate_code = _py(rate)
        args = [f"learning_rate={rate_code}"]
        for h in (*self.hparams, *self.options):
            if h.name == "learning_rate":
                continue
            keras_default = KERAS_DEFAULT_OVERRIDES.get((self.name, h.name), h.default)
            if values[h.name] != keras_default:
                args.append(f"{h.name}={_py(values[h.name])}")
        args += [f"{k}={_py(v)}" for k, v in self.keras_fixed.items()]
        return f"{prefix}{self.keras_class}({', '.join(args)})"


def _py(value) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.6g}" if abs(float(value)) >= 1e-4 or value == 0 else f"{float(value):.3g}"


# Where optviz's default differs from Keras's constructor default: Keras's SGD has
# momentum=0.0, but "nesterov" means SGD(momentum=0.9, nesterov=True) as in the article.
KERAS_DEFAULT_OVERRIDES = {("nesterov", "momentum"): 0.0}


# --- the update rules: keras/src/optimizers/<name>.py, update_step -----------------


def _sqrt(x):
    """sqrt that XLA cannot fuse into the division after it.

    Under jit XLA rewrites ``a / sqrt(b)`` as ``a * rsqrt(b)``, which rounds
    differently from Keras's eager ``divide(a, sqrt(b))``; on a chaotic path a
    one-ulp difference grows. The barrier keeps the division a division.
    """
    return jax.lax.optimization_barrier(jnp.sqrt(x))



def _sgd(g, w, slots, t, hp):
    # Keras: m = m*momentum - g*lr; w += m. With momentum 0 Keras keeps no `m` and does
    # w -= g*lr; the line below gives the same float result (0*m - g*lr == -(g*lr)).
    m = slots[0] * hp["momentum"] - g * hp["learning_rate"]
    return w + m, slots.at[0].set(m)


def _nesterov(g, w, slots, t, hp):
    m = slots[0] * hp["momentum"] - g * hp["learning_rate"]
    return w + (m * hp["momentum"] - g * hp["learning_rate"]), slots.at[0].set(m)


def _adagrad(g, w, slots, t, hp):
    accumulator = slots[0] + jnp.square(g)
    w = w - (hp["learning_rate"] * g) / _sqrt(accumulator + hp["epsilon"])
    return w, slots.at[0].set(accumulator)


def _rmsprop(g, w, slots, t, hp):
    rho = hp["rho"]
    velocity = rho * slots[0] + hp["1-rho"] * jnp.square(g)
    average_gradient = rho * slots[2] + hp["1-rho"] * g
    centered = hp["centered"] > 0.5
    denominator = jnp.where(
        centered, velocity - jnp.square(average_gradient) + hp["epsilon"], velocity + hp["epsilon"]
    )
    increment = (hp["learning_rate"] * g) / _sqrt(denominator)
    # momentum 0: Keras subtracts `increment` directly; 0*m + inc == inc exactly.
    momentum = hp["momentum"] * slots[1] + increment
    average_gradient = jnp.where(centered, average_gradient, 0.0)
    return w - momentum, jnp.stack([velocity, momentum, average_gradient])


def _power(hp, name, t):
    """``beta ** t``, as Keras's ``ops.power(beta, local_step)``."""
    return jnp.power(hp[name], t)


def _adam(g, w, slots, t, hp):
    beta_1_power = _power(hp, "beta_1", t)
    beta_2_power = _power(hp, "beta_2", t)
    alpha = hp["learning_rate"] * jnp.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    m = slots[0] + (g - slots[0]) * hp["1-beta_1"]
    v = slots[1] + (jnp.square(g) - slots[1]) * hp["1-beta_2"]
    amsgrad = hp["amsgrad"] > 0.5
    v_hat = jnp.where(amsgrad, jnp.maximum(slots[2], v), 0.0)
    v_used = jnp.where(amsgrad, v_hat, v)
    w = w - (m * alpha) / (jnp.sqrt(v_used) + hp["epsilon"])
    return w, jnp.stack([m, v, v_hat])


def _adamax(g, w, slots, t, hp):
    beta_1_power = _power(hp, "beta_1", t)
    m = slots[0] + (g - slots[0]) * hp["1-beta_1"]
    u = jnp.maximum(hp["beta_2"] * slots[1], jnp.abs(g))
    w = w - (hp["learning_rate"] * m) / ((1 - beta_1_power) * (u + hp["epsilon"]))
    return w, slots.at[0].set(m).at[1].set(u)


# Shapes mirror Keras's: a Keras scalar (a hyperparameter, Nadam's u_product, a norm) is
# a scalar here, a Keras (2,) variable a (2,) row. XLA compiles `vector / scalar` as
# `vector * (1 / scalar)`, in Keras's eager ops and in the compiled race alike; keeping
# the shapes the same keeps the two bit for bit equal.


def _nadam(g, w, slots, t, hp):
    # keras/src/optimizers/nadam.py. beta_1 and beta_2 are cast to float32 first, so
    # `1 - beta` is a float32 subtraction here (not Python's double, as in Adam).
    beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
    decay = jnp.float32(0.96)
    # _backend_update_step: u_product *= beta_1 * (1 - 0.5 * 0.96^t), once a step.
    u_product = slots[2, 0] * beta_1 * (1.0 - 0.5 * jnp.power(decay, t))
    u_t = beta_1 * (1.0 - 0.5 * jnp.power(decay, t))
    u_t_1 = beta_1 * (1.0 - 0.5 * jnp.power(decay, t + 1))
    u_product_t_1 = u_product * u_t_1
    beta_2_power = jnp.power(beta_2, t)
    m = slots[0] + (g - slots[0]) * (1 - beta_1)
    v = slots[1] + (jnp.square(g) - slots[1]) * (1 - beta_2)
    m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product)
    v_hat = v / (1 - beta_2_power)
    w = w - (m_hat * hp["learning_rate"]) / (jnp.sqrt(v_hat) + hp["epsilon"])
    return w, jnp.stack([m, v, jnp.broadcast_to(u_product, (2,))])


def _adadelta(g, w, slots, t, hp):
    # keras/src/optimizers/adadelta.py: rho is a Python float, `1 - rho` a double.
    rho, epsilon = hp["rho"], hp["epsilon"]
    accumulated_grad = rho * slots[0] + hp["1-rho"] * jnp.square(g)
    delta = -((_sqrt(slots[1] + epsilon) * g) / _sqrt(accumulated_grad + epsilon))
    accumulated_delta = rho * slots[1] + hp["1-rho"] * jnp.square(delta)
    w = w + hp["learning_rate"] * delta
    return w, slots.at[0].set(accumulated_grad).at[1].set(accumulated_delta)


def _lion(g, w, slots, t, hp):
    # keras/src/optimizers/lion.py: the step is the sign of an interpolation (beta_1);
    # the momentum decays with beta_2. Both cast to float32 before `1 - beta`.
    beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
    m = slots[0]
    w = w - hp["learning_rate"] * jnp.sign(m * beta_1 + g * (1.0 - beta_1))
    m = m * beta_2 + g * (1.0 - beta_2)
    return w, slots.at[0].set(m)


def _ftrl(g, w, slots, t, hp):
    # keras/src/optimizers/ftrl.py. The variable is recomputed from `linear` each step.
    lr = hp["learning_rate"]
    power = -hp["learning_rate_power"]
    l2 = hp["l2_regularization_strength"] + hp["beta"] / (2.0 * lr)
    accumulator, linear = slots[0], slots[1]
    grad_to_use = g + (2.0 * hp["l2_shrinkage_regularization_strength"]) * w
    new_accumulator = accumulator + jnp.square(g)
    linear = linear + (
        grad_to_use - ((jnp.power(new_accumulator, power) - jnp.power(accumulator, power)) / lr) * w
    )
    quadratic = jnp.power(new_accumulator, power) / lr + 2 * l2
    l1 = hp["l1_regularization_strength"]
    linear_clipped = jnp.clip(linear, -l1, l1)
    w = (linear_clipped - linear) / quadratic
    return w, slots.at[0].set(new_accumulator).at[1].set(linear)


def _lamb(g, w, slots, t, hp):
    # keras/src/optimizers/lamb.py: Adam's direction, scaled by ||w|| / ||direction||
    # over the whole variable (here the point (x, y)).
    beta_1_power = _power(hp, "beta_1", t)
    beta_2_power = _power(hp, "beta_2", t)
    m = slots[0] + (g - slots[0]) * hp["1-beta_1"]
    v = slots[1] + (jnp.square(g) - slots[1]) * hp["1-beta_2"]
    m_hat = m / (1.0 - beta_1_power)
    v_sqrt = jnp.sqrt(v / (1.0 - beta_2_power)) + hp["epsilon"]
    update = m_hat / v_sqrt
    w_norm = jnp.sqrt(jnp.sum(w * w))  # ops.power(w, 2) with an int 2 is integer_pow: w * w
    g_norm = _sqrt(jnp.sum(update * update))
    ratio = jnp.where(w_norm > 0, jnp.where(g_norm > 0, w_norm / g_norm, 1.0), 1.0)
    w = w - ratio * hp["learning_rate"] * update
    return w, slots.at[0].set(m).at[1].set(v)


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.square(x)))


def _adafactor(g, w, slots, t, hp):
    # keras/src/optimizers/adafactor.py, for a variable of rank < 2 (the point (x, y)):
    # Keras keeps the full second moment `velocity` and does not factor it.
    lr = hp["learning_rate"]
    inverse_sqrt_t = 1 / _sqrt(t)
    # relative_step: lr = min(lr, 1/sqrt(t)) (Keras skips this for a schedule, but the
    # next line takes the same minimum again, so the result is the same either way).
    lr = jnp.where(hp["relative_step"] > 0.5, jnp.minimum(lr, inverse_sqrt_t), lr)
    rho_t = jnp.minimum(lr, inverse_sqrt_t)
    alpha_t = jnp.maximum(hp["epsilon_2"], _rms(w)) * rho_t
    regulated_grad_square = jnp.square(g) + hp["epsilon_1"]
    beta_2_t = 1 - jnp.power(t, hp["beta_2_decay"])
    v = beta_2_t * slots[0] + (1 - beta_2_t) * regulated_grad_square
    u_t = g / _sqrt(v)
    u_t_hat = u_t / jnp.maximum(jnp.float32(1.0), _rms(u_t) / hp["clip_threshold"])
    w = w - alpha_t * u_t_hat
    return w, slots.at[0].set(v)


def _schedule_free_adamw(g, w, slots, t, hp):
    # keras/src/optimizers/schedule_free_adamw.py. The point is y; `momentum` is the
    # sequence z the gradient steps move; x, the average, is rebuilt from y and z each
    # step (Keras stores no x; optviz keeps it in the "x" row to draw it).
    lr = hp["learning_rate"]
    beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
    warmup_steps = hp["warmup_steps"]
    lr = jnp.where(warmup_steps > 0, lr * jnp.minimum(t / warmup_steps, 1.0), lr)
    z_old = slots[0]
    bias_correction_2 = 1 - _power(hp, "beta_2", t)
    v = slots[1] + (jnp.square(g) - slots[1]) * (1 - beta_2)
    denominator = jnp.sqrt(v / bias_correction_2) + hp["epsilon"]
    z = z_old - (lr * g) / denominator
    weight = 1.0 / t
    x_old = (w - (1 - beta_1) * z_old) / beta_1
    x_new = (1 - weight) * x_old + weight * z
    y_new = (1 - beta_1) * z + beta_1 * x_new
    return y_new, jnp.stack([z, v, x_new])


# --- what BaseOptimizer does before update_step ------------------------------------------


def _clip_by_norm(g, clipnorm):
    # BaseOptimizer._clip_by_norm: g * c / max(||g||, c), applied whatever the norm.
    l2sum = jnp.sum(jnp.square(g), keepdims=True)
    pred = l2sum > 0
    l2sum_safe = jnp.where(pred, l2sum, jnp.ones_like(l2sum))
    l2norm = jnp.where(pred, jnp.sqrt(l2sum_safe), l2sum)
    return (g * clipnorm) / jnp.maximum(l2norm, clipnorm)


def _clip_by_global_norm(g, clipnorm, inverse_clipnorm):
    # base_optimizer.clip_by_global_norm: scale = c * min(1/||g||, 1/c) + (||g|| - ||g||),
    # with 1/c computed in Python double.
    norm = _sqrt(jnp.sum(jnp.stack([jnp.sum(jnp.square(g))])))
    scale = clipnorm * jnp.minimum(1.0 / norm, inverse_clipnorm) + (norm - norm)
    return g * scale


def clip_and_decay(g, w, hp):
    """Keras's steps before ``update_step`` (``_backend_apply_gradients``), for one lane:
    clip the gradient (``_clip_gradients``: clipnorm, else global_clipnorm, else clipvalue;
    a value that is unset or <= 0 clips nothing, as in Keras), then decay the weights
    (``_apply_weight_decay``: ``w - w * weight_decay * learning_rate``). With a single
    (2,) variable, global_clipnorm's norm is that variable's, but its formula differs.
    """
    clipnorm, global_clipnorm, clipvalue = hp["clipnorm"], hp["global_clipnorm"], hp["clipvalue"]
    g = jnp.where(clipnorm > 0, _clip_by_norm(g, clipnorm), g)
    g = jnp.where((clipnorm > 0) | ~(global_clipnorm > 0), g,
                  _clip_by_global_norm(g, global_clipnorm, hp["1/global_clipnorm"]))
    g = jnp.where((clipnorm > 0) | (global_clipnorm > 0) | ~(clipvalue > 0), g, jnp.clip(g, -clipvalue, clipvalue))
    return g, _decay(w, hp)


def _decay(w, hp):
    wd = hp["weight_decay"]
    # Unset is 0 here; Keras skips the decay when unset and subtracts w * 0 * lr when
    # weight_decay=0.0, which changes nothing but the sign of a zero.
    return jnp.where(wd != 0, w - w * wd * hp["learning_rate"], w)


def clip_and_decay_lanes(g, w, hp):
    """:func:`clip_and_decay` for all lanes at once (``g``, ``w``: (lanes, 2), ``hp``: (lanes,)).

    Each option runs only if some lane uses it (``lax.cond`` on the whole batch: a cond
    inside ``vmap`` would compute every branch for every lane). Keras lets an optimizer
    set at most one clip option, so applying them in turn is Keras's if/elif.
    """
    lanes = jax.vmap

    def clip(g, on, fn):
        return jax.lax.cond(jnp.any(on), lambda: jnp.where(on[:, None], lanes(fn)(g, hp), g), lambda: g)

    def apply(g, w):
        g = clip(g, hp["clipnorm"] > 0, lambda g, hp: _clip_by_norm(g, hp["clipnorm"]))
        g = clip(g, hp["global_clipnorm"] > 0,
                 lambda g, hp: _clip_by_global_norm(g, hp["global_clipnorm"], hp["1/global_clipnorm"]))
        g = clip(g, hp["clipvalue"] > 0, lambda g, hp: jnp.clip(g, -hp["clipvalue"], hp["clipvalue"]))
        w = jax.lax.cond(jnp.any(hp["weight_decay"] != 0), lambda: lanes(_decay)(w, hp), lambda: w)
        return g, w

    return jax.lax.cond(clips_or_decays(hp), apply, lambda g, w: (g, w), g, w)


def clips_or_decays(hp):
    """Whether any lane clips its gradient or decays its weights (``hp``: (lanes,) columns)."""
    return jnp.any((hp["clipnorm"] > 0) | (hp["global_clipnorm"] > 0) | (hp["clipvalue"] > 0)
                   | (hp["weight_decay"] != 0))


def keras_step(update: UpdateFn, g, w, slots, t, hp):
    """One Keras ``apply_gradients`` for one lane: :func:`clip_and_decay`, then the rule."""
    g, w = clip_and_decay(g, w, hp)
    return update(g, w, slots, t, hp)


def _nadam_init(opt, values, start):
    slots = np.zeros((MAX_SLOTS, 2), np.float32)
    slots[2] = 1.0  # u_product = keras.Variable(1.0)
    return slots


def _schedule_free_init(opt, values, start):
    # build(): momentum = ops.copy(variable); x before any step is the start point too.
    if start is None:
        raise ValueError("schedulefreeadamw: its state starts at the start point; pass `start`")
    slots = np.zeros((MAX_SLOTS, 2), np.float32)
    slots[0] = slots[2] = np.asarray(start, np.float32)
    return slots


_CLASSIC = [
        Optimizer(
            "sgd", "SGD", "SGD", (_learning_rate(0.01), _momentum(0.0)), ("momentum",), _sgd,
            momentum_like="momentum",
        ),
        Optimizer(
            "nesterov", "SGD + Nesterov", "SGD", (_learning_rate(0.01), _momentum(0.9)), ("momentum",),
            _nesterov, keras_fixed={"nesterov": True}, momentum_like="momentum",
        ),
        Optimizer(
            "adagrad", "Adagrad", "Adagrad",
            (
                _learning_rate(0.001),
                HParam("initial_accumulator_value", 0.1, low=0.0, help="starting value of the sum of squared gradients"),
                _epsilon(),
            ),
            ("accumulator",), _adagrad,
        ),
        Optimizer(
            "rmsprop", "RMSprop", "RMSprop",
            (
                _learning_rate(0.001),
                _beta("rho", 0.9, "decay of the squared-gradient average"),
                _momentum(0.0),
                _epsilon(),
                HParam("centered", False, kind="bool", help="divide by the gradient's variance"),
            ),
            ("velocity", "momentum", "average_gradient"), _rmsprop, momentum_like="momentum",
        ),
        Optimizer(
            "adam", "Adam", "Adam",
            (
                _learning_rate(0.001),
                _beta("beta_1", 0.9, "decay of the gradient average (momentum)"),
                _beta("beta_2", 0.999, "decay of the squared-gradient average"),
                _epsilon(),
                HParam("amsgrad", False, kind="bool", help="never let the squared average shrink"),
            ),
            ("momentum", "velocity", "velocity_hat"), _adam, momentum_like="beta_1",
        ),
        Optimizer(
            "adamax", "Adamax", "Adamax",
            (
                _learning_rate(0.001),
                _beta("beta_1", 0.9, "decay of the gradient average (momentum)"),
                _beta("beta_2", 0.999, "decay of the largest gradient seen"),
                _epsilon(),
            ),
            ("m", "u"), _adamax, momentum_like="beta_1",
        ),
]

_NEW = [
    Optimizer(
        "adamw", "AdamW", "AdamW",
        (
            _learning_rate(0.001),
            HParam("weight_decay", 0.004, low=0.0,
                   help="decoupled weight decay: w -= w * weight_decay * learning_rate before each step"),
            _beta("beta_1", 0.9, "decay of the gradient average (momentum)"),
            _beta("beta_2", 0.999, "decay of the squared-gradient average"),
            _epsilon(),
            HParam("amsgrad", False, kind="bool", help="never let the squared average shrink"),
        ),
        ("momentum", "velocity", "velocity_hat"), _adam, momentum_like="beta_1",
    ),
    Optimizer(
        "nadam", "Nadam", "Nadam",
        (
            _learning_rate(0.001),
            _beta("beta_1", 0.9, "decay of the gradient average (Nesterov momentum)"),
            _beta("beta_2", 0.999, "decay of the squared-gradient average"),
            _epsilon(),
        ),
        ("momentum", "velocity", "u_product"), _nadam, momentum_like="beta_1", init=_nadam_init,
    ),
    Optimizer(
        "adadelta", "Adadelta", "Adadelta",
        (
            _learning_rate(0.001),
            _beta("rho", 0.95, "decay of both running averages"),
            _epsilon(),
        ),
        ("accumulated_grad", "accumulated_delta_var"), _adadelta,
    ),
    Optimizer(
        "lion", "Lion", "Lion",
        (
            _learning_rate(0.001),
            # Keras: "beta_1 must be in the [0, 1] range" and rejects beta_1 <= 0.
            HParam("beta_1", 0.9, low=0.0, high=1.0, low_open=True,
                   help="weight of the momentum in the sign step"),
            HParam("beta_2", 0.99, low=0.0, high=1.0, help="decay of the momentum"),
        ),
        ("momentum",), _lion, momentum_like="beta_1",
    ),
    Optimizer(
        "ftrl", "FTRL", "Ftrl",
        (
            _learning_rate(0.001),
            HParam("learning_rate_power", -0.5, high=0.0, help="how the per-coordinate rate shrinks (<= 0)"),
            HParam("initial_accumulator_value", 0.1, low=0.0, help="starting value of the sum of squared gradients"),
            HParam("l1_regularization_strength", 0.0, low=0.0, help="L1 penalty (pulls coordinates to exactly 0)"),
            HParam("l2_regularization_strength", 0.0, low=0.0, help="L2 stabilization penalty"),
            HParam("l2_shrinkage_regularization_strength", 0.0, low=0.0, help="L2 penalty added to the gradient"),
            HParam("beta", 0.0, low=0.0, help="beta of the paper's per-coordinate rate"),
        ),
        ("accumulator", "linear"), _ftrl,
    ),
    Optimizer(
        "lamb", "LAMB", "Lamb",
        (
            _learning_rate(0.001),
            _beta("beta_1", 0.9, "decay of the gradient average (momentum)"),
            _beta("beta_2", 0.999, "decay of the squared-gradient average"),
            _epsilon(),
        ),
        ("momentum", "velocity"), _lamb, momentum_like="beta_1",
    ),
    Optimizer(
        "adafactor", "Adafactor", "Adafactor",
        (
            _learning_rate(0.001),
            HParam("beta_2_decay", -0.8, high=0.0, help="beta_2 at step t is 1 - t^beta_2_decay"),
            HParam("epsilon_1", 1e-30, low=0.0, low_open=True, help="added to the squared gradient"),
            HParam("epsilon_2", 1e-3, low=0.0, help="smallest parameter scale"),
            HParam("clip_threshold", 1.0, low=0.0, low_open=True, help="clips the update's RMS"),
            HParam("relative_step", True, kind="bool", help="cap the learning rate at 1/sqrt(t)"),
        ),
        ("velocity",), _adafactor,
    ),
    Optimizer(
        "schedulefreeadamw", "Schedule-Free AdamW", "ScheduleFreeAdamW",
        (
            _learning_rate(0.0025),
            # beta_1 divides (x = (y - (1 - beta_1) z) / beta_1): 0 is not allowed.
            HParam("beta_1", 0.9, low=0.0, high=1.0, low_open=True,
                   help="interpolation between the average x and the step sequence z"),
            _beta("beta_2", 0.999, "decay of the squared-gradient average"),
            HParam("epsilon", 1e-8, low=0.0, low_open=True, help="guards the division"),
            HParam("warmup_steps", 0, kind="int", low=0.0, help="steps of linear learning-rate warm-up"),
        ),
        ("momentum", "velocity", "x"), _schedule_free_adamw, momentum_like="beta_1", init=_schedule_free_init,
    ),
]

# All fourteen optimizers, in the engine's (lax.switch) order.
ALL_OPTIMIZERS: dict[str, Optimizer] = {o.name: o for o in [*_CLASSIC, *_NEW]}
# The article's six: the page's set (the page takes the others from ALL_OPTIMIZERS).
OPTIMIZERS: dict[str, Optimizer] = {o.name: o for o in _CLASSIC}
NEW_OPTIMIZERS: tuple[str, ...] = tuple(o.name for o in _NEW)

# Keras computes `1 - rho` and `1 - beta_*` in Python (double) before float32 (RMSprop,
# Adam, AdamW, Adamax, Adadelta, Lamb); the engine passes them the same way, as these
# derived entries of `hp`. (Nadam, Lion and ScheduleFreeAdamW cast beta first and
# subtract in float32: they compute `1 - beta` themselves.) global_clipnorm's `1 / c` is
# a double too.
COMPLEMENTS = ("rho", "beta_1", "beta_2")
DERIVED_HPARAMS = tuple("1-" + name for name in COMPLEMENTS) + ("1/global_clipnorm",)

# Every hyperparameter and option any optimizer has, with a harmless filler for the ones
# a given optimizer lacks (racing lanes of different optimizers share one hp layout).
# An unset option (None) is 0.0: no clipping, no weight decay.
ALL_FLOAT_HPARAMS: dict[str, float] = {}
for _opt in ALL_OPTIMIZERS.values():
    for _h in (*_opt.hparams, *_opt.options):
        ALL_FLOAT_HPARAMS.setdefault(_h.name, 0.0 if _h.default is None else float(_h.default))

# The article's examples (../shared/seed): keras.optimizers.X(learning_rate=...).
ARTICLE_SETTINGS: dict[str, dict[str, float]] = {
    "sgd": {"learning_rate": 0.001, "momentum": 0.9},
    "adagrad": {"learning_rate": 0.01},
    "rmsprop": {"learning_rate": 0.001},
    "adam": {"learning_rate": 0.001},
    "adamax": {"learning_rate": 0.001},
    "nesterov": {"learning_rate": 0.01, "momentum": 0.9},
}


def get_optimizer(name: str | Optimizer) -> Optimizer:
    """The optimizer called ``name`` (any of the fourteen); ValueError listing the valid names otherwise."""
    if isinstance(name, Optimizer):
        if ALL_OPTIMIZERS.get(name.name) is not name:  # the engine runs its own rules, by name
            raise ValueError(f"optimizer {name.name!r} is not one of optviz's; pass one of "
                             f"{', '.join(ALL_OPTIMIZERS)} (by name or from optviz.ALL_OPTIMIZERS)")
        return name
    key = str(name).strip().lower()
    if key not in ALL_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(ALL_OPTIMIZERS)}")
    return ALL_OPTIMIZERS[key]
