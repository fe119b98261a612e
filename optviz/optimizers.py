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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

MAX_SLOTS = 3

UpdateFn = Callable[..., tuple]


@dataclass(frozen=True)
class HParam:
    """One Keras hyperparameter: its name, default and the range it must lie in."""

    name: str
    default: float | bool
    kind: str = "float"  # "float" or "bool"
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: value must be > low (else >= low)
    high_open: bool = False  # True: value must be < high (else <= high)
    help: str = ""

    def rule(self) -> str:
        if self.kind == "bool":
            return "true or false"
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

    def validate(self, value, optimizer: str):
        """Return the value as float (or bool); raise ValueError naming the field."""
        where = f"{optimizer}: `{self.name}`"
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
                return value.strip().lower() in ("true", "1")
            raise ValueError(f"{where} must be true or false, got {value!r}")
        if isinstance(value, bool):
            raise ValueError(f"{where} must be a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"{where} must be finite, got {value!r}")
        ok = True
        if self.low is not None:
            ok &= number > self.low if self.low_open else number >= self.low
        if self.high is not None:
            ok &= number < self.high if self.high_open else number <= self.high
        if not ok:
            raise ValueError(f"{where} must be {self.rule()}, got {number!r}")
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

    @property
    def defaults(self) -> dict[str, float | bool]:
        return {h.name: h.default for h in self.hparams}

    def hparam(self, name: str) -> HParam:
        for h in self.hparams:
            if h.name == name:
                return h
        raise KeyError(name)

    def resolve(self, overrides: Mapping[str, object] | None = None) -> dict[str, float | bool]:
        """Keras defaults updated with ``overrides``, each validated.

        Raises ValueError naming the field for an unknown or out-of-range value.
        """
        values = self.defaults
        for key, value in (overrides or {}).items():
            if key not in values:
                raise ValueError(
                    f"{self.name}: unknown hyperparameter `{key}`; "
                    f"{self.name} takes {', '.join(values)}"
                )
            values[key] = self.hparam(key).validate(value, self.name)
        return values

    def init_slots(self, values: Mapping[str, float | bool]) -> np.ndarray:
        """The state before the first step: zeros, but Adagrad's accumulator starts at a constant."""
        slots = np.zeros((MAX_SLOTS, 2), np.float32)
        if "initial_accumulator_value" in self.defaults:
            slots[0] = np.float32(values["initial_accumulator_value"])
        return slots

    def keras_code(self, values: Mapping[str, object] | None = None, *, prefix: str = "keras.optimizers.") -> str:
        """Keras code for these settings, e.g. ``keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)``.

        ``learning_rate`` is always written; other hyperparameters only where they differ
        from Keras's default (the article writes them this way).
        """
        values = self.resolve(values)
        args = [f"learning_rate={_py(values['learning_rate'])}"]
        for h in self.hparams:
            if h.name == "learning_rate":
                continue
            keras_default = KERAS_DEFAULT_OVERRIDES.get((self.name, h.name), h.default)
            if values[h.name] != keras_default:
                args.append(f"{h.name}={_py(values[h.name])}")
        args += [f"{k}={_py(v)}" for k, v in self.keras_fixed.items()]
        return f"{prefix}{self.keras_class}({', '.join(args)})"


def _py(value) -> str:
    if isinstance(value, bool):
        return repr(value)
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


def _adam(g, w, slots, t, hp):
    beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
    beta_1_power = jnp.power(beta_1, t)
    beta_2_power = jnp.power(beta_2, t)
    alpha = hp["learning_rate"] * jnp.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    m = slots[0] + (g - slots[0]) * hp["1-beta_1"]
    v = slots[1] + (jnp.square(g) - slots[1]) * hp["1-beta_2"]
    amsgrad = hp["amsgrad"] > 0.5
    v_hat = jnp.where(amsgrad, jnp.maximum(slots[2], v), 0.0)
    v_used = jnp.where(amsgrad, v_hat, v)
    w = w - (m * alpha) / (jnp.sqrt(v_used) + hp["epsilon"])
    return w, jnp.stack([m, v, v_hat])


def _adamax(g, w, slots, t, hp):
    beta_1 = hp["beta_1"]
    beta_1_power = jnp.power(beta_1, t)
    m = slots[0] + (g - slots[0]) * hp["1-beta_1"]
    u = jnp.maximum(hp["beta_2"] * slots[1], jnp.abs(g))
    w = w - (hp["learning_rate"] * m) / ((1 - beta_1_power) * (u + hp["epsilon"]))
    return w, slots.at[0].set(m).at[1].set(u)


OPTIMIZERS: dict[str, Optimizer] = {
    o.name: o
    for o in [
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
}

# Keras computes `1 - rho` and `1 - beta_*` in Python (double) before float32; the engine
# passes them the same way, as these derived entries of `hp`.
COMPLEMENTS = ("rho", "beta_1", "beta_2")

# Every hyperparameter any optimizer has, with a harmless filler for the ones a given
# optimizer lacks (racing lanes of different optimizers share one hp layout).
ALL_FLOAT_HPARAMS: dict[str, float] = {}
for _opt in OPTIMIZERS.values():
    for _h in _opt.hparams:
        ALL_FLOAT_HPARAMS.setdefault(_h.name, float(_h.default))

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
    """The optimizer called ``name``; ValueError listing the valid names otherwise."""
    if isinstance(name, Optimizer):
        return name
    key = str(name).strip().lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[key]
