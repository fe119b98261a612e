"""Every optimizer, stepped next to real Keras 3, on rosenbrock, saddle and quadratic."""

import numpy as np
import pytest
from keras_reference import compare_paths as _compare
from keras_reference import keras_path

import optviz

STEPS = 250

# Non-default settings chosen to exercise every branch (momentum, centered, amsgrad...)
# while keeping the paths on the chart.
NON_DEFAULT = {
    "sgd": {"learning_rate": 0.002, "momentum": 0.8},
    "nesterov": {"learning_rate": 0.003, "momentum": 0.5},
    "adagrad": {"learning_rate": 0.2, "initial_accumulator_value": 0.5, "epsilon": 1e-4},
    "rmsprop": {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "epsilon": 1e-5, "centered": True},
    "adam": {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4, "amsgrad": True},
    "adamax": {"learning_rate": 0.05, "beta_1": 0.7, "beta_2": 0.95, "epsilon": 1e-3},
}
SURFACES = {"rosenbrock": None, "saddle": None, "quadratic": {"kappa": 25.0}}


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("optimizer", list(NON_DEFAULT))
@pytest.mark.parametrize("setting", ["default", "non_default"])
def test_path_matches_keras(optimizer, surface, setting):
    hp = {} if setting == "default" else NON_DEFAULT[optimizer]
    start = optviz.get_surface(surface).default_start
    ours = optviz.simulate(optimizer, surface, start, STEPS, surface_params=SURFACES[surface], **hp)
    theirs = keras_path(optimizer, surface, start, STEPS, surface_params=SURFACES[surface], **hp)
    assert len(ours.path) > 1
    _compare(ours, theirs)


@pytest.mark.parametrize("optimizer", list(NON_DEFAULT))
def test_moving_paths_match_keras_on_rosenbrock(optimizer):
    """Learning rates large enough that every optimizer travels far along the valley."""
    hp = {"learning_rate": {"sgd": 1e-3, "nesterov": 1e-3, "adagrad": 0.5, "adamax": 0.1}.get(optimizer, 0.02)}
    ours = optviz.simulate(optimizer, "rosenbrock", (-1.5, 2.0), 400, **hp)
    theirs = keras_path(optimizer, "rosenbrock", (-1.5, 2.0), 400, **hp)
    assert np.linalg.norm(ours.path[-1] - ours.path[0]) > 0.5  # it really moved
    _compare(ours, theirs)


def test_divergence_step_matches_keras():
    ours = optviz.simulate("sgd", "rosenbrock", (-1.5, 2.0), 200, learning_rate=0.01)
    theirs = keras_path("sgd", "rosenbrock", (-1.5, 2.0), 200, learning_rate=0.01)
    assert ours.diverged_at is not None
    _compare(ours, theirs)
