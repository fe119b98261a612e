"""The eight newer optimizers, weight decay and gradient clipping, stepped next to real Keras 3.

Same checks as test_keras_parity.py: optviz's path against a keras.Variable stepped
by ``optimizer.apply_gradients`` (JAX backend), and the learning rate of every step
against Keras's ``optimizer.learning_rate``.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keras_reference import compare_paths, keras_run

import optviz
from optviz.optimizers import MORE_OPTIMIZERS

STEPS = 250
SURFACES = {"rosenbrock": None, "saddle": None, "quadratic": {"kappa": 25.0}}

# Non-default settings that exercise every branch (amsgrad, relative_step off, warm-up,
# L1 / L2 / shrinkage / beta in FTRL...) while keeping the paths on the chart.
NON_DEFAULT = {
    "adamw": {"learning_rate": 0.05, "weight_decay": 0.05, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4,
              "amsgrad": True},
    "nadam": {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4},
    "adadelta": {"learning_rate": 1.0, "rho": 0.8, "epsilon": 1e-5},
    "lion": {"learning_rate": 0.01, "beta_1": 0.7, "beta_2": 0.95},
    "ftrl": {"learning_rate": 0.2, "learning_rate_power": -0.7, "initial_accumulator_value": 0.3,
             "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02,
             "l2_shrinkage_regularization_strength": 0.03, "beta": 0.5},
    "lamb": {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4},
    "adafactor": {"learning_rate": 0.05, "beta_2_decay": -0.6, "epsilon_1": 1e-20, "epsilon_2": 0.01,
                  "clip_threshold": 0.5, "relative_step": False},
    "schedulefreeadamw": {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6, "warmup_steps": 20},
}


def _run_both(optimizer, surface, steps=STEPS, start=None, **hp):
    start = optviz.get_surface(surface).default_start if start is None else start
    params = SURFACES.get(surface)
    ours = optviz.simulate(optimizer, surface, start, steps, surface_params=params, **hp)
    theirs, rates = keras_run(optimizer, surface, start, steps, surface_params=params, **hp)
    return ours, theirs, rates


def test_every_new_optimizer_has_a_setting():
    assert set(NON_DEFAULT) == set(MORE_OPTIMIZERS) and len(optviz.optimizers.ALL_OPTIMIZERS) == 14


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("optimizer", MORE_OPTIMIZERS)
@pytest.mark.parametrize("setting", ["default", "non_default"])
def test_path_matches_keras(optimizer, surface, setting):
    hp = {} if setting == "default" else NON_DEFAULT[optimizer]
    ours, theirs, rates = _run_both(optimizer, surface, **hp)
    assert len(ours.path) > 1
    compare_paths(ours, theirs, rates)


MOVING = {"adamw": 0.02, "nadam": 0.02, "adadelta": 3.0, "lion": 0.01, "ftrl": 1.0, "lamb": 0.02,
          "adafactor": 0.2, "schedulefreeadamw": 0.05}


@pytest.mark.parametrize("optimizer", MORE_OPTIMIZERS)
def test_moving_paths_match_keras_on_rosenbrock(optimizer):
    """Learning rates large enough that every optimizer travels far along the valley."""
    ours, theirs, rates = _run_both(optimizer, "rosenbrock", 400, (-1.5, 2.0), learning_rate=MOVING[optimizer])
    assert np.linalg.norm(ours.path[-1] - ours.path[0]) > 0.5  # it really moved
    compare_paths(ours, theirs, rates)


# --- options every Keras optimizer has -------------------------------------------------------

CLIPPING = [
    # (optimizer, surface, hyperparameters): gradients well above and below the threshold
    ("sgd", "rosenbrock", {"learning_rate": 0.001, "momentum": 0.9, "clipnorm": 1.0}),
    ("adam", "saddle", {"learning_rate": 0.05, "clipnorm": 0.3}),
    ("sgd", "rosenbrock", {"learning_rate": 0.01, "global_clipnorm": 3.0}),
    ("rmsprop", "quadratic", {"learning_rate": 0.01, "global_clipnorm": 0.7}),
    ("sgd", "rosenbrock", {"learning_rate": 0.001, "momentum": 0.9, "clipvalue": 1.0}),
    ("nesterov", "quadratic", {"learning_rate": 0.01, "clipvalue": 0.37}),
    ("lamb", "rosenbrock", {"learning_rate": 0.02, "global_clipnorm": 2.0}),
    ("sgd", "quadratic", {"learning_rate": 0.01, "clipnorm": 0.0}),  # set but <= 0: no clipping, as in Keras
]


@pytest.mark.parametrize("optimizer,surface,hp", CLIPPING, ids=lambda v: v if isinstance(v, str) else None)
def test_gradient_clipping_matches_keras(optimizer, surface, hp):
    ours, theirs, rates = _run_both(optimizer, surface, **hp)
    compare_paths(ours, theirs, rates)


def test_clipping_really_clips():
    plain = optviz.simulate("sgd", "rosenbrock", (-1.5, 2.0), 3, learning_rate=0.001)
    for option in ("clipnorm", "global_clipnorm"):
        clipped = optviz.simulate("sgd", "rosenbrock", (-1.5, 2.0), 3, learning_rate=0.001, **{option: 1.0})
        step = clipped.path[1] - clipped.path[0]
        np.testing.assert_allclose(np.linalg.norm(step), 0.001, rtol=1e-3)  # |g| clipped to 1
        assert np.linalg.norm(plain.path[1] - plain.path[0]) > 0.1
    by_value = optviz.simulate("sgd", "rosenbrock", (-1.5, 2.0), 1, learning_rate=0.001, clipvalue=0.5)
    np.testing.assert_allclose(np.abs(by_value.path[1] - by_value.path[0]), 0.0005, rtol=1e-3)


WEIGHT_DECAY = [
    ("adam", "rosenbrock", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("sgd", "quadratic", {"learning_rate": 0.01, "momentum": 0.5, "weight_decay": 0.3}),
    ("lion", "rosenbrock", {"learning_rate": 0.01, "weight_decay": 0.5}),
    ("ftrl", "saddle", {"learning_rate": 0.1, "weight_decay": 0.2}),
    ("schedulefreeadamw", "rosenbrock", {"learning_rate": 0.02, "weight_decay": 0.1}),
    ("adamw", "rosenbrock", {"learning_rate": 0.05, "weight_decay": 0.2, "clipnorm": 0.5}),
]


@pytest.mark.parametrize("optimizer,surface,hp", WEIGHT_DECAY, ids=lambda v: v if isinstance(v, str) else None)
def test_weight_decay_matches_keras(optimizer, surface, hp):
    ours, theirs, rates = _run_both(optimizer, surface, **hp)
    compare_paths(ours, theirs, rates)


def test_weight_decay_pulls_towards_the_origin_before_the_step():
    # Keras takes the gradient at w, then w -= w * wd * lr, then the update: on x^2 + k y^2
    # from (2, 0), x becomes 2 - 2 * 0.5 * 0.1 = 1.9, then 1.9 - 0.1 * (2 * 2) = 1.5.
    tr = optviz.simulate("sgd", "quadratic", (2.0, 0.0), 1, learning_rate=0.1, weight_decay=0.5)
    decayed = np.float32(2.0) - np.float32(2.0) * np.float32(0.5) * np.float32(0.1)
    assert tr.path[1, 0] == pytest.approx(decayed - 0.1 * 2 * 2.0, rel=1e-6)
    # AdamW's default weight decay is Keras's 0.004.
    assert optviz.optimizers.ALL_OPTIMIZERS["adamw"].defaults["weight_decay"] == 0.004


# --- any valid setting: a property test ------------------------------------------------------

_LOG = {"learning_rate": (1e-4, 0.2), "epsilon": (1e-8, 1e-2), "epsilon_1": (1e-30, 1e-10)}
_LINEAR = {
    "beta_1": (0.05, 0.99), "beta_2": (0.5, 0.999), "rho": (0.5, 0.99), "weight_decay": (0.0, 0.5),
    "learning_rate_power": (-1.0, 0.0), "initial_accumulator_value": (0.0, 1.0),
    "l1_regularization_strength": (0.0, 0.1), "l2_regularization_strength": (0.0, 0.1),
    "l2_shrinkage_regularization_strength": (0.0, 0.1), "beta": (0.0, 1.0), "beta_2_decay": (-1.0, 0.0),
    "epsilon_2": (0.0, 0.01), "clip_threshold": (0.1, 2.0),
}


@st.composite
def _settings(draw):
    name = draw(st.sampled_from(list(MORE_OPTIMIZERS)))
    hp = {}
    for h in optviz.get_optimizer(name).hparams:
        if h.kind == "bool":
            hp[h.name] = draw(st.booleans())
        elif h.kind == "int":
            hp[h.name] = draw(st.integers(0, 40))
        elif h.name in _LOG:
            low, high = _LOG[h.name]
            hp[h.name] = float(10 ** draw(st.floats(np.log10(low), np.log10(high))))
        else:
            hp[h.name] = draw(st.floats(*_LINEAR[h.name]))
    clip = draw(st.sampled_from([None, "clipnorm", "clipvalue", "global_clipnorm"]))
    if clip:
        hp[clip] = draw(st.floats(0.1, 5.0))
    if name != "adamw" and draw(st.booleans()):
        hp["weight_decay"] = draw(st.floats(0.0, 0.5))
    surface = draw(st.sampled_from(list(SURFACES)))
    start = (draw(st.floats(-2.0, 2.0)), draw(st.floats(-1.0, 3.0)))
    return name, surface, start, hp


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_settings())
def test_any_valid_setting_matches_keras(case):
    name, surface, start, hp = case
    ours, theirs, rates = _run_both(name, surface, 60, start, **hp)
    compare_paths(ours, theirs, rates)
