"""optviz.fit against real Keras 3's ``model.fit``: the weights after every batch; and the
Keras program optviz prints for a fit, run as a user would run it.

Keras's side is a real ``keras.Sequential`` model, ``compile``d with the optimizer and the
loss by name, fitted with ``model.fit(x, y, batch_size=B, epochs=E, shuffle=False)``; a
callback reads the weights after each batch (``on_train_batch_end``).
"""

import ast
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from keras_reference import keras_fit_path

import optviz
from optviz import datasets
from optviz.engine import epoch_order
from optviz.models import keras_program

pytestmark = pytest.mark.slow  # real model.fit runs: minutes of one core (the full command runs them)

N = 24  # small data: Keras's model.fit takes about a second per run here


def compare(ours, theirs):
    """The same number of steps; the first 50 points to 1e-4 relative, the whole path
    within 1e-2 x (1 + |w|)."""
    assert ours.diverged_at is None
    assert ours.path.shape == theirs.shape
    np.testing.assert_allclose(ours.path[:51], theirs[:51], rtol=1e-4, atol=1e-6)
    assert np.all(np.abs(ours.path - theirs) <= 1e-2 * (1 + np.abs(theirs)))


def data(name, standardize=False):
    d = datasets.load(name, n=N, seed=3, standardize=standardize)
    return d.x, d.y


# Rates at which each optimizer visibly moves in 50 steps on the line data.
RATES = {"sgd": 0.002, "nesterov": 0.002, "adagrad": 0.5, "rmsprop": 0.02, "adam": 0.05, "adamax": 0.05,
         "adamw": 0.05, "nadam": 0.05, "adadelta": 1.0, "lion": 0.02, "ftrl": 0.5, "lamb": 0.05,
         "adafactor": 0.05, "schedulefreeadamw": 0.05}
assert set(RATES) == set(optviz.ALL_OPTIMIZERS)


@pytest.mark.parametrize("optimizer", list(optviz.ALL_OPTIMIZERS))
def test_every_optimizer_fits_the_line_as_keras_does(optimizer):
    # 24 points in batches of 5: four full batches and one of 4 per epoch, 10 epochs.
    x, y = data("line")
    kw = dict(batch_size=5, epochs=10, start=(0.5, -1.0), learning_rate=RATES[optimizer])
    ours = optviz.fit(optimizer, "linear", x, y, **kw)
    theirs = keras_fit_path(optimizer, "linear", x, y, **kw)
    assert len(ours.path) == 51
    assert np.linalg.norm(ours.path[-1] - ours.path[0]) > 0.05  # it really moved
    compare(ours, theirs)


@pytest.mark.parametrize("model, dataset, batch_size",
                         [("logistic", "classes", 6), ("plane", "correlated", 7)])
@pytest.mark.parametrize("optimizer", list(optviz.ARTICLE_OPTIMIZERS))
def test_article_optimizers_fit_logistic_and_plane_as_keras_does(optimizer, model, dataset, batch_size):
    x, y = data(dataset)
    rate = {"sgd": 0.05, "nesterov": 0.05, "adagrad": 0.5}.get(optimizer, 0.05)
    kw = dict(batch_size=batch_size, epochs=12, start=(-1.0, 1.5), learning_rate=rate)
    ours = optviz.fit(optimizer, model, x, y, **kw)
    theirs = keras_fit_path(optimizer, model, x, y, **kw)
    assert np.linalg.norm(ours.path[-1] - ours.path[0]) > 0.05
    compare(ours, theirs)


@pytest.mark.parametrize("batch_size", [1, 8, 5, 24, 100])  # one, a divisor, not a divisor, all, more
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_batch_sizes_match_keras(optimizer, batch_size):
    x, y = data("line", standardize=True)
    hp = {"learning_rate": 0.01, "momentum": 0.9} if optimizer == "sgd" else {"learning_rate": 0.05}
    epochs = 3 if batch_size == 1 else 10
    ours = optviz.fit(optimizer, "linear", x, y, batch_size=batch_size, epochs=epochs, start=(0.0, 0.0), **hp)
    theirs = keras_fit_path(optimizer, "linear", x, y, batch_size=batch_size, epochs=epochs, start=(0.0, 0.0), **hp)
    assert len(ours.path) == 1 + epochs * -(-N // batch_size)
    compare(ours, theirs)


@pytest.mark.parametrize("model, dataset", [("linear", "line"), ("plane", "correlated")])
@pytest.mark.parametrize("options", [
    {"optimizer": "sgd", "learning_rate": {"class_name": "ExponentialDecay", "config": {
        "initial_learning_rate": 0.01, "decay_steps": 10, "decay_rate": 0.5}}, "momentum": 0.5},
    {"optimizer": "adam", "learning_rate": 0.1, "clipnorm": 0.5},
    {"optimizer": "rmsprop", "learning_rate": 0.05, "global_clipnorm": 0.3},
    {"optimizer": "adamw", "learning_rate": 0.05, "weight_decay": 0.1, "clipvalue": 0.2},
], ids=["schedule", "clipnorm", "global_clipnorm", "decay+clipvalue"])
def test_schedules_clipping_and_decay_match_keras(model, dataset, options):
    # clipnorm clips kernel and bias each by its own norm (two Keras variables); the
    # plane's kernel is one variable, clipped by the norm of both weights.
    options = dict(options)
    optimizer = options.pop("optimizer")
    x, y = data(dataset)
    kw = dict(batch_size=5, epochs=10, start=(0.5, -1.0), **options)
    ours = optviz.fit(optimizer, model, x, y, **kw)
    theirs = keras_fit_path(optimizer, model, x, y, **kw)
    compare(ours, theirs)


@pytest.mark.parametrize("optimizer", ["nesterov", "adagrad"])
def test_shuffled_fit_is_keras_on_optviz_order(optimizer):
    """With shuffle=True optviz visits the points in its own seeded order each epoch;
    Keras given the data in that order takes the same steps."""
    x, y = data("classes")
    kw = dict(batch_size=7, epochs=4, start=(1.0, -2.0), learning_rate=0.1)
    ours = optviz.fit(optimizer, "logistic", x, y, shuffle=True, seed=11, **kw)
    orders = [epoch_order(11, epoch, N) for epoch in range(4)]
    assert not all(np.array_equal(orders[0], order) for order in orders[1:])  # each epoch its own order
    theirs = keras_fit_path(optimizer, "logistic", x, y, orders=orders, **kw)
    compare(ours, theirs)
    unshuffled = optviz.fit(optimizer, "logistic", x, y, **kw)
    assert not np.allclose(unshuffled.path, ours.path)


def test_divergence_matches_keras():
    x, y = data("line")
    ours = optviz.fit("sgd", "linear", x, y, batch_size=4, epochs=10, start=(0.0, 0.0), learning_rate=0.05)
    theirs = keras_fit_path("sgd", "linear", x, y, batch_size=4, epochs=10, start=(0.0, 0.0), learning_rate=0.05)
    assert ours.diverged_at is not None
    inside = np.all(np.isfinite(theirs) & (np.abs(theirs) <= 1e6), axis=1)
    assert ours.diverged_at == int(np.argmin(inside))
    np.testing.assert_allclose(ours.path, theirs[: len(ours.path)], rtol=1e-4)


# --- the printed Keras program ------------------------------------------------------------

PROGRAM_CASES = [
    ("adam", {"learning_rate": 0.05, "clipnorm": 0.5}, "linear", "line", 5, 6, False),
    ("sgd", {"learning_rate": {"class_name": "ExponentialDecay", "config": {
        "initial_learning_rate": 0.02, "decay_steps": 10, "decay_rate": 0.5}}, "momentum": 0.9},
     "plane", "correlated", 7, 5, False),
    ("rmsprop", {"learning_rate": 0.05}, "logistic", "classes", 5, 4, True),
]


def _allowed(tree: ast.Module) -> None:
    """The program is imports, assignments of literals and arrays, one callback class, calls
    and a loop: nothing read from outside, nothing evaluated."""
    for node in tree.body:
        assert isinstance(node, (ast.Import, ast.Assign, ast.Expr, ast.ClassDef, ast.For)), ast.dump(node)
        if isinstance(node, ast.Import):
            assert {alias.name for alias in node.names} <= {"os", "keras", "numpy"}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & {"eval", "exec", "open", "__import__", "compile"}


@pytest.mark.parametrize("optimizer, hp, model, dataset, batch_size, epochs, shuffle", PROGRAM_CASES)
def test_printed_keras_program_takes_optviz_path(optimizer, hp, model, dataset, batch_size, epochs, shuffle):
    x, y = data(dataset)
    kw = dict(batch_size=batch_size, epochs=epochs, start=(0.5, -1.0), shuffle=shuffle, seed=7)
    program = keras_program(optimizer, hp, model, x, y, about=dataset, **kw)
    _allowed(ast.parse(program))
    assert f"batch_size={batch_size}" in program and "set_weights" in program and "compile(" in program
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "KERAS_BACKEND": "jax"})
    assert run.returncode == 0, run.stderr[-2000:]
    theirs = np.array(json.loads(run.stdout.strip().splitlines()[-1]), np.float32)
    ours = optviz.fit(optimizer, model, x, y, **kw, **hp)
    compare(ours, theirs)
