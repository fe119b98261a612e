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
"""

from __future__ import annotations

from .adafactor import ADAFACTOR
from .adagrad import ADADELTA, ADAGRAD
from .adam import ADAM, ADAMAX, ADAMW, LAMB, NADAM
from .base import (
    CLIP_OPTIONS,
    COMMON_OPTIONS,
    MAX_SLOTS,
    HParam,
    Optimizer,
    Style,
    clip_and_decay_lanes,
    clips_or_decays,
    pack,
    pack_numpy,
    unpack,
)
from .ftrl import FTRL
from .lion import LION
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
    "MAX_SLOTS",
    "MORE_OPTIMIZERS",
    "HParam",
    "Optimizer",
    "Style",
    "clip_and_decay_lanes",
    "clips_or_decays",
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

# Keras computes `1 - rho` and `1 - beta_*` in Python (double) before float32 (RMSprop,
# Adam, AdamW, Adamax, Adadelta, Lamb); the engine passes them the same way, as the
# entries "1-rho", "1-beta_1", "1-beta_2" of `hp`. (Nadam, Lion and ScheduleFreeAdamW
# cast beta first and subtract in float32: they compute `1 - beta` themselves.)
COMPLEMENTS = ("rho", "beta_1", "beta_2")

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
