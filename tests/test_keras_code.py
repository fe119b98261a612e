"""The Keras code the page prints ("ready to copy") is the run it draws.

``Optimizer.keras_code`` writes ``keras.optimizers.X(...)`` for the current settings,
leaving out what equals Keras's own default. Here the printed text itself is turned into
a real Keras optimizer (parsed with ``ast``, literals only: nothing is executed), stepped
with ``apply_gradients``, and its path compared with optviz's for the same settings. A
default left out that is not Keras's (nesterov's momentum), a flag not written
(nesterov=True), a schedule printed with a wrong field: each would show here.
"""

import ast

import keras
import keras_reference  # noqa: F401  (first: KERAS_BACKEND=jax before keras is imported)
import numpy as np
import pytest
from keras_reference import _gradient, compare_paths

import optviz
from optviz.optimizers import ALL_OPTIMIZERS

STEPS = 120
COSINE = {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.05, "decay_steps": 80, "alpha": 0.1,
                                                  "warmup_target": 0.1, "warmup_steps": 10}}
PIECEWISE = {"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [20, 60], "values": [0.05, 0.02, 0.005]}}

CASES = [
    *[(name, {}) for name in ALL_OPTIMIZERS],  # Keras's defaults (optviz's, for nesterov)
    ("sgd", {"learning_rate": 0.002, "momentum": 0.9}),
    ("nesterov", {"learning_rate": 0.002, "momentum": 0.5}),
    ("nesterov", {"learning_rate": 0.002, "momentum": 0.0}),  # Keras's SGD default, optviz's is 0.9
    ("adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-4}),
    ("rmsprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True}),
    ("adam", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "amsgrad": True, "clipnorm": 1.0}),
    ("adamax", {"learning_rate": 0.05, "beta_1": 0.5, "weight_decay": 0.01}),
    ("adamw", {"learning_rate": 0.05, "weight_decay": 0.05, "global_clipnorm": 2.0}),
    ("lion", {"learning_rate": 0.01, "beta_1": 0.7, "clipvalue": 0.5}),
    ("ftrl", {"learning_rate": 0.2, "learning_rate_power": -0.7, "l1_regularization_strength": 0.01, "beta": 0.5}),
    ("adafactor", {"learning_rate": 0.05, "relative_step": False, "clip_threshold": 0.5}),
    ("schedulefreeadamw", {"learning_rate": 0.02, "warmup_steps": 20}),
    ("sgd", {"learning_rate": COSINE, "momentum": 0.5}),
    ("adam", {"learning_rate": PIECEWISE}),
]


def _literal(node):
    """A keyword's value: a literal, or a schedule's call (keras.optimizers.schedules.X(...))."""
    if isinstance(node, ast.Call):
        return _build(node, ("keras", "optimizers", "schedules"))
    return ast.literal_eval(node)


def _build(call: ast.Call, module: tuple[str, ...]):
    """The object a printed ``keras.optimizers[.schedules].X(name=literal, ...)`` call makes."""
    parts, func = [], call.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    assert isinstance(func, ast.Name)
    path = (func.id, *reversed(parts))
    assert path[:-1] == module, path  # only keras's own classes
    assert not call.args, "keyword arguments only"
    owner = keras.optimizers.schedules if module[-1] == "schedules" else keras.optimizers
    return getattr(owner, path[-1])(**{k.arg: _literal(k.value) for k in call.keywords})


def keras_from_code(code: str):
    tree = ast.parse(code, mode="eval")
    assert isinstance(tree.body, ast.Call)
    return _build(tree.body, ("keras", "optimizers"))


@pytest.mark.parametrize("name,settings", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_the_printed_keras_code_takes_the_drawn_path(name, settings):
    opt = ALL_OPTIMIZERS[name]
    code = opt.keras_code(settings)
    keras_opt = keras_from_code(code)
    surface = "quadratic"  # (kappa 10: every default moves without leaving the chart)
    start = optviz.get_surface(surface).default_start
    ours = optviz.simulate(name, surface, start, STEPS, **settings)
    grad = _gradient(surface, (("kappa", 10.0),))
    w = keras.Variable(np.asarray(start, np.float32), dtype="float32")
    theirs = [np.array(w.value)]
    for _ in range(STEPS):
        keras_opt.apply_gradients([(grad(w.value), w)])
        theirs.append(np.array(w.value))
        if not np.all(np.isfinite(theirs[-1])):
            break
    compare_paths(ours, np.array(theirs))
    # a comparison of something: the run stayed on the chart and moved
    assert ours.diverged_at is None and np.linalg.norm(ours.path[-1] - ours.path[0]) > 1e-4, code
