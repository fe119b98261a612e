"""Keras 3's optimizers as pure JAX update rules, one definition each.

Each optimizer is an :class:`Optimizer` (in :mod:`.base`), defined in its family's module
(:mod:`.sgd`, :mod:`.adagrad`, :mod:`.rmsprop`, :mod:`.adam`, :mod:`.lion`, :mod:`.ftrl`,
:mod:`.adafactor`, :mod:`.schedule_free`): its Keras name, its hyperparameters (with
Keras's names, defaults and validity rules), its rule on a NamedTuple of named state, its
style on the page and its LaTeX. The rules follow ``keras/src/optimizers/<name>.py``
(Keras 3.15) operation for operation, in float32, so that a path drawn here is the path
Keras takes.

Every Keras optimizer also takes ``weight_decay``, ``clipnorm``, ``clipvalue`` and
``global_clipnorm`` (:data:`COMMON_OPTIONS`); :func:`clip_and_decay_lanes` applies them
before the rule as ``BaseOptimizer._backend_apply_gradients`` does. The learning rate may
be a Keras schedule (see :mod:`optviz.schedules`); the rule then receives the schedule's
value for the step in ``hp["learning_rate"]``.

:data:`ALL_OPTIMIZERS` holds all fourteen; :data:`ARTICLE_OPTIMIZERS` the six of the
article (the page's default set), :data:`MORE_OPTIMIZERS` the rest of Keras.
:func:`get_optimizer` finds any of the fourteen.

The same engine runs PyTorch's and optax's versions (:mod:`.pytorch`,
:mod:`.optax_rules`), each exact to its own framework, with its own names and defaults:
:data:`FRAMEWORK_OPTIMIZERS` by framework, :data:`ENGINE_OPTIMIZERS` all of them by key
(``"adam"``, ``"pytorch:adam"``, ``"optax:adam"``).
"""

from __future__ import annotations

import numpy as np

from .adafactor import ADAFACTOR
from .adagrad import ADADELTA, ADAGRAD
from .adam import ADAM, ADAMAX, ADAMW, LAMB, NADAM
from .base import (
    CLIP_OPTIONS,
    COMMON_OPTIONS,
    FRAMEWORK_NAMES,
    FRAMEWORKS,
    MAX_SLOTS,
    HParam,
    Optimizer,
    Style,
    check_framework,
    clip_and_decay_lanes,
    clips_or_decays,
    pack,
    pack_numpy,
    unpack,
)
from .ftrl import FTRL
from .lion import LION
from .optax_rules import OPTAX_OPTIMIZERS
from .pytorch import PYTORCH_OPTIMIZERS
from .rmsprop import RMSPROP
from .schedule_free import SCHEDULE_FREE_ADAMW
from .sgd import NESTEROV, SGD

__all__ = [
    "ALL_FLOAT_HPARAMS",
    "ALL_OPTIMIZERS",
    "ARTICLE_OPTIMIZERS",
    "ARTICLE_SETTINGS",
    "CLIP_OPTIONS",
    "COMMON_OPTIONS",
    "COMPLEMENTS",
    "DERIVED_COLUMNS",
    "ENGINE_OPTIMIZERS",
    "FRAMEWORKS",
    "FRAMEWORK_NAMES",
    "FRAMEWORK_OPTIMIZERS",
    "MAX_SLOTS",
    "MORE_OPTIMIZERS",
    "HParam",
    "Optimizer",
    "Style",
    "clip_and_decay_lanes",
    "check_framework",
    "clips_or_decays",
    "derived_columns",
    "get_optimizer",
    "pack",
    "pack_numpy",
    "unpack",
]

# All fourteen, in the engine's order (its lax.switch branches; the article's six first)
# and the page's.
ALL_OPTIMIZERS: dict[str, Optimizer] = {o.name: o for o in (
    SGD, NESTEROV, ADAGRAD, RMSPROP, ADAM, ADAMAX,
    ADAMW, NADAM, ADADELTA, LION, FTRL, LAMB, ADAFACTOR, SCHEDULE_FREE_ADAMW,
)}
# The article's six: the page's default set.
ARTICLE_OPTIMIZERS: dict[str, Optimizer] = {n: o for n, o in ALL_OPTIMIZERS.items() if o.article}
# The rest of Keras.
MORE_OPTIMIZERS: dict[str, Optimizer] = {n: o for n, o in ALL_OPTIMIZERS.items() if not o.article}

# Each framework's optimizers, by optviz's name; Keras's are ALL_OPTIMIZERS.
FRAMEWORK_OPTIMIZERS: dict[str, dict[str, Optimizer]] = {
    "keras": ALL_OPTIMIZERS, "pytorch": PYTORCH_OPTIMIZERS, "optax": OPTAX_OPTIMIZERS,
}
# Every rule the engine runs, by key ("adam", "pytorch:adam", "optax:adam"): Keras's
# first, in ALL_OPTIMIZERS's order (the article's six lead the lax.switch).
ENGINE_OPTIMIZERS: dict[str, Optimizer] = {
    o.key: o for framework in FRAMEWORKS for o in FRAMEWORK_OPTIMIZERS[framework].values()
}

# Keras computes `1 - rho` and `1 - beta_*` in Python (double) before float32 (RMSprop,
# Adam, AdamW, Adamax, Adadelta, Lamb); the engine passes them the same way, as the
# entries "1-rho", "1-beta_1", "1-beta_2" of `hp`. (Nadam, Lion and ScheduleFreeAdamW
# cast beta first and subtract in float32: they compute `1 - beta` themselves.) PyTorch
# and optax compute `1 - beta` in Python too (their betas, alpha, dampening, decay).
COMPLEMENTS = ("rho", "beta_1", "beta_2", "beta1", "beta2", "alpha", "dampening", "b1", "b2", "decay")
# PyTorch's `beta ** step` is Python's double: the rules take it from log(beta) (double).
LOGS = ("beta1", "beta2")
# RAdam's rho_inf = 2 / (1 - beta2) - 1 and (rho_inf - 4) * (rho_inf - 2), Python doubles
# in both frameworks.
RHO_INF = ("beta2", "b2")


def derived_columns(columns) -> dict[str, np.ndarray]:
    """The entries of ``hp`` that PyTorch, optax and Keras compute in Python's double from a
    hyperparameter (``columns``: name -> float64 per lane), rounded to float32 once."""
    out = {}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for name in COMPLEMENTS:
            out[f"1-{name}"] = 1.0 - np.asarray(columns[name], np.float64)
        for name in LOGS:
            out[f"log-{name}"] = np.log(np.asarray(columns[name], np.float64))
        for name in RHO_INF:
            rho_inf = 2.0 / (1.0 - np.asarray(columns[name], np.float64)) - 1.0
            out[f"rho_inf-{name}"] = rho_inf
            out[f"rho_inf_den-{name}"] = (rho_inf - 4.0) * (rho_inf - 2.0)
    return {name: np.asarray(value, np.float32) for name, value in out.items()}


# name -> the hyperparameter column it is computed from (a sweep varies both together).
DERIVED_COLUMNS: dict[str, str] = {
    **{f"1-{n}": n for n in COMPLEMENTS}, **{f"log-{n}": n for n in LOGS},
    **{f"rho_inf-{n}": n for n in RHO_INF}, **{f"rho_inf_den-{n}": n for n in RHO_INF},
}

# Every engine column any optimizer reads, with a harmless filler for the ones a given
# optimizer lacks (racing lanes of different optimizers share one hp layout). An unset
# option (None) is 0.0: no clipping, no weight decay.
ALL_FLOAT_HPARAMS: dict[str, float] = {}
for _opt in ENGINE_OPTIMIZERS.values():
    for _column, _value in _opt.hp_row(_opt.all_defaults).items():
        ALL_FLOAT_HPARAMS.setdefault(_column, 0.0 if _value is None else float(_value))
ALL_FLOAT_HPARAMS.setdefault("decoupled_weight_decay", 0.0)

# The article's examples (../shared/seed): keras.optimizers.X(learning_rate=...).
ARTICLE_SETTINGS: dict[str, dict[str, float]] = {
    "sgd": {"learning_rate": 0.001, "momentum": 0.9},
    "adagrad": {"learning_rate": 0.01},
    "rmsprop": {"learning_rate": 0.001},
    "adam": {"learning_rate": 0.001},
    "adamax": {"learning_rate": 0.001},
    "nesterov": {"learning_rate": 0.01, "momentum": 0.9},
}


def get_optimizer(name: str | Optimizer, framework: str | None = None) -> Optimizer:
    """The optimizer called ``name`` in ``framework`` ("keras" by default, "pytorch",
    "optax"); ``name`` may carry its framework itself ("pytorch:adam"). ValueError listing
    the framework's valid names otherwise."""
    if isinstance(name, Optimizer):
        if ENGINE_OPTIMIZERS.get(name.key) is not name:  # the engine runs its own rules, by key
            raise ValueError(f"optimizer {name.name!r} is not one of optviz's; pass one of "
                             f"{', '.join(ALL_OPTIMIZERS)} (by name or from optviz.ALL_OPTIMIZERS)")
        if framework is not None and check_framework(framework) != name.framework:
            raise ValueError(f"optimizer {name.where} is not {FRAMEWORK_NAMES[check_framework(framework)]}'s")
        return name
    key = str(name).strip().lower()
    if ":" in key:
        prefix, key = key.split(":", 1)
        named = check_framework(prefix)
        if framework is not None and check_framework(framework) != named:
            raise ValueError(f"optimizer {name!r} names framework {named!r}, but `framework` is {framework!r}")
        framework = named
    framework = check_framework(framework)
    table = FRAMEWORK_OPTIMIZERS[framework]
    if key not in table:
        raise ValueError(f"unknown optimizer {name!r} for {FRAMEWORK_NAMES[framework]}; "
                         f"choose one of {', '.join(table)}")
    return table[key]
