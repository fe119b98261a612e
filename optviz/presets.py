"""The page's presets: Keras's defaults, the article's settings, and tuned per surface.

A preset fixes the shared learning rate and momentum, and the optimizers that use
their own learning rate or momentum instead (``own_learning_rate``, ``own_momentum``).
Every other hyperparameter goes back to Keras's default. "Same settings, three frameworks"
also chooses the race: Adam in Keras, PyTorch and optax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .optimizers import ARTICLE_OPTIMIZERS, ARTICLE_SETTINGS

PRESETS = ("tuned", "keras", "article", "frameworks")
# "Same settings, three frameworks": Adam in Keras, PyTorch and optax at one learning rate,
# each with its framework's other defaults (where their paths part is the lesson).
FRAMEWORKS_RATE = 0.01
TUNED_MOMENTUM = 0.9
TUNED_STEPS = 500
_TUNED_FILE = Path(__file__).with_name("tuned.json")


@dataclass(frozen=True)
class Preset:
    learning_rate: float
    momentum: float
    own_learning_rate: dict = field(default_factory=dict)  # optimizer -> learning rate
    own_momentum: dict = field(default_factory=dict)  # optimizer -> momentum
    # The optimizers it races, if it chooses them (the other presets keep the page's), and
    # the other frameworks' ("pytorch:adam").
    optimizers: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()


def _tuned_table() -> dict:
    try:
        return json.loads(_TUNED_FILE.read_text())
    except (OSError, ValueError):
        return {}


_TUNED = _tuned_table()


def _with_shared_rate(rates: dict, momentum: float, own_momentum: dict) -> Preset:
    """The most common rate becomes the shared slider's value; the others are own rates."""
    values = list(rates.values())
    shared = max(set(values), key=lambda v: (values.count(v), -abs(v - 0.01)))
    own = {name: lr for name, lr in rates.items() if lr != shared}
    return Preset(shared, momentum, own, own_momentum)


def preset(name: str, surface: str) -> Preset:
    """The settings of preset ``name`` on ``surface``; ValueError for an unknown preset."""
    if name == "keras":
        rates = {n: float(o.defaults["learning_rate"]) for n, o in ARTICLE_OPTIMIZERS.items()}
        return _with_shared_rate(rates, 0.0, {})
    if name == "article":
        rates = {n: ARTICLE_SETTINGS[n]["learning_rate"] for n in ARTICLE_OPTIMIZERS}
        # SGD and Nesterov use momentum 0.9 in the article; RMSprop keeps Keras's 0.
        return _with_shared_rate(rates, 0.9, {"rmsprop": 0.0})
    if name == "tuned":
        rates = dict(_TUNED.get(surface, {}))
        for n, o in ARTICLE_OPTIMIZERS.items():
            rates.setdefault(n, float(o.defaults["learning_rate"]))
        return _with_shared_rate(rates, TUNED_MOMENTUM, {"rmsprop": 0.0})
    if name == "frameworks":
        return Preset(FRAMEWORKS_RATE, 0.0, optimizers=("adam",), frameworks=("pytorch:adam", "optax:adam"))
    raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
