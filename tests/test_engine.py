"""simulate / race / sweep: shapes, divergence, bad input, noise, and no recompiles."""

import logging
import math

import jax
import numpy as np
import pytest

import optviz
from optviz.optimizers import OPTIMIZERS

ALL = list(OPTIMIZERS)


# --- closed forms and hand-worked steps -------------------------------------------------


def test_sgd_on_quadratic_is_the_closed_form():
    # f = x^2 + k y^2: plain gradient descent multiplies x by (1 - 2 lr), y by (1 - 2 k lr).
    lr, kappa, steps = 0.05, 4.0, 60
    tr = optviz.simulate("sgd", "quadratic", (2.0, -1.0), steps, learning_rate=lr, surface_params={"kappa": kappa})
    k = np.arange(steps + 1)
    expected = np.stack([2.0 * (1 - 2 * lr) ** k, -1.0 * (1 - 2 * kappa * lr) ** k], axis=1)
    np.testing.assert_allclose(tr.path, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(tr.loss, expected[:, 0] ** 2 + kappa * expected[:, 1] ** 2, rtol=1e-5, atol=1e-7)


def test_adam_first_step_moves_learning_rate_against_the_gradient_sign():
    # Hand-worked: after one step m = (1-b1) g, v = (1-b2) g^2, alpha = lr sqrt(1-b2)/(1-b1),
    # so the step is lr * g/|g| (up to epsilon): every coordinate moves by lr.
    tr = optviz.simulate("adam", "rosenbrock", (-1.5, 2.0), 1, learning_rate=0.1)
    g = tr.gradient[0]
    np.testing.assert_allclose(tr.path[1] - tr.path[0], -0.1 * np.sign(g), rtol=1e-5)


def test_adagrad_state_is_the_running_sum_of_squared_gradients():
    tr = optviz.simulate("adagrad", "beale", None, 30, learning_rate=0.1, initial_accumulator_value=0.3)
    acc = tr.state["accumulator"]
    assert acc.shape == (31, 2)
    np.testing.assert_allclose(acc[0], [0.3, 0.3])
    np.testing.assert_allclose(acc[1:], 0.3 + np.cumsum(tr.gradient[:-1] ** 2, axis=0), rtol=1e-5)


@pytest.mark.parametrize("name", ALL)
def test_trajectory_shapes_and_state_names(name):
    tr = optviz.simulate(name, "himmelblau", None, 40)
    assert tr.path.shape == (41, 2) and tr.loss.shape == (41,) and tr.gradient.shape == (41, 2)
    assert tr.path.dtype == np.float32
    np.testing.assert_allclose(tr.path[0], optviz.get_surface("himmelblau").default_start)
    assert set(tr.state) == set(OPTIMIZERS[name].slot_names)
    for values in tr.state.values():
        assert values.shape == (41, 2)
    assert tr.diverged_at is None
    np.testing.assert_allclose(tr.loss, optviz.get_surface("himmelblau")(tr.path[:, 0], tr.path[:, 1]), rtol=1e-5)


# --- surfaces -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(optviz.SURFACES))
def test_surface_minima_are_minima(name):
    s = optviz.SURFACES[name]
    assert s.latex and s.display_name
    x0, x1 = s.x_range
    y0, y1 = s.y_range
    assert x0 <= s.default_start[0] <= x1 and y0 <= s.default_start[1] <= y1
    _, _, z = s.grid(200)
    assert np.all(np.isfinite(z))
    for mx, my in s.minima:
        assert x0 <= mx <= x1 and y0 <= my <= y1
        value = float(s(mx, my))
        assert value == pytest.approx(s.min_value, abs=1e-3)
        assert z.min() >= s.min_value - 1e-3  # nothing on the grid is lower than the minimum
        grad = np.asarray(jax.grad(lambda w: s.fn(w[0], w[1], {k: np.float32(v) for k, v in s.params.items()}))(
            np.array([mx, my], np.float32)))
        assert np.all(np.abs(grad) < 2e-2), grad


def test_ackley_gradient_is_finite_at_its_minimum():
    tr = optviz.simulate("sgd", "ackley", (0.0, 0.0), 5)
    assert np.all(np.isfinite(tr.gradient)) and tr.diverged_at is None


# --- divergence ---------------------------------------------------------------------------


def test_divergence_ends_at_the_last_finite_point():
    tr = optviz.simulate("sgd", "rosenbrock", (-1.5, 2.0), 500, learning_rate=0.05)
    assert tr.diverged_at is not None and 1 <= tr.diverged_at <= 20
    assert len(tr.path) == tr.diverged_at == len(tr.loss)
    assert np.all(np.isfinite(tr.path)) and np.all(np.isfinite(tr.loss))
    assert np.all(np.abs(tr.path) <= 1e6)


def test_saddle_escape_counts_as_divergence_when_it_leaves_the_box():
    tr = optviz.simulate("sgd", "saddle", (-1.0, 0.5), 5000, learning_rate=0.1)
    assert tr.diverged_at is not None
    assert np.abs(tr.path[-1, 1]) > 1e4


def test_converging_run_reports_steps_to_tolerance():
    tr = optviz.simulate("sgd", "quadratic", (2.0, 1.0), 300, learning_rate=0.04)
    k = tr.steps_to_tolerance(1e-3)
    assert k is not None and tr.loss[k] <= 1e-3 < tr.loss[k - 1]
    assert tr.distance_to_minimum() < 0.05
    assert optviz.simulate("sgd", "saddle", None, 10).steps_to_tolerance() is None


# --- race and sweep against simulate ----------------------------------------------------


def test_race_equals_simulate_for_each_optimizer():
    settings = {"sgd": {"learning_rate": 0.001, "momentum": 0.9}, "adam": {"learning_rate": 0.05},
                "rmsprop": {"centered": True}, "adagrad": None, "nesterov": {}, "adamax": {"beta_1": 0.5}}
    raced = optviz.race("rosenbrock", (-1.2, 1.5), 300, settings, noise=0.3, seed=7)
    assert list(raced) == list(settings)
    for name, hp in settings.items():
        single = optviz.simulate(name, "rosenbrock", (-1.2, 1.5), 300, noise=0.3, seed=7, **(hp or {}))
        np.testing.assert_array_equal(raced[name].path, single.path)
        np.testing.assert_array_equal(raced[name].loss, single.loss)
        for key in single.state:
            np.testing.assert_array_equal(raced[name].state[key], single.state[key])


@pytest.mark.parametrize("name,momenta", [("sgd", [0.0, 0.5, 0.9]), ("adam", [0.5, 0.9]), ("adagrad", None)])
def test_sweep_equals_simulate_cell_by_cell(name, momenta):
    lrs = [1e-4, 3e-3, 0.03, 0.3]
    result = optviz.sweep(name, "rosenbrock", None, 200, lrs, momenta, tolerance=0.5)
    axis = OPTIMIZERS[name].momentum_like
    assert result.final_loss.shape == (4, len(momenta or [0]))
    assert result.momentum_name == axis
    for i, lr in enumerate(lrs):
        for j, m in enumerate(momenta or [None]):
            hp = {"learning_rate": lr} if m is None else {"learning_rate": lr, axis: m}
            tr = optviz.simulate(name, "rosenbrock", None, 200, **hp)
            assert result.diverged[i, j] == (tr.diverged_at is not None)
            assert result.final_loss[i, j] == pytest.approx(tr.final_loss, rel=1e-5)
            expected = tr.steps_to_tolerance(0.5)
            assert result.steps_to_tolerance[i, j] == (-1 if expected is None else expected)
            if tr.diverged_at is not None:
                assert result.diverged_at[i, j] == tr.diverged_at
    assert not result.diverged.all()
    if name == "sgd":
        assert result.diverged.any()  # lr 0.3 on Rosenbrock blows up


def test_sweep_grid_of_64_by_64():
    result = optviz.sweep("sgd", "quadratic", None, 500, np.logspace(-5, 0, 64), np.linspace(0, 0.99, 64))
    assert result.final_loss.shape == result.diverged.shape == result.steps_to_tolerance.shape == (64, 64)
    assert np.all(np.isfinite(result.final_loss))
    # Too small a learning rate never arrives; too large diverges; in between, momentum helps.
    assert result.steps_to_tolerance[0].max() == -1
    assert result.diverged[-1, -1]
    assert (result.steps_to_tolerance >= 0).sum() > 100


# --- noise ----------------------------------------------------------------------------------


def test_noise_is_reproducible_and_seeded():
    a = optviz.simulate("sgd", "quadratic", None, 100, learning_rate=0.01, noise=1.0, seed=1)
    b = optviz.simulate("sgd", "quadratic", None, 100, learning_rate=0.01, noise=1.0, seed=1)
    c = optviz.simulate("sgd", "quadratic", None, 100, learning_rate=0.01, noise=1.0, seed=2)
    clean = optviz.simulate("sgd", "quadratic", None, 100, learning_rate=0.01)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.allclose(a.path, c.path)
    assert not np.allclose(a.path, clean.path)
    # The noise has the requested size: gradient minus the true gradient ~ N(0, 1).
    s = optviz.get_surface("quadratic")
    true = np.stack([2 * a.path[:, 0], 20 * a.path[:, 1]], axis=1)
    residual = a.gradient - true
    assert 0.7 < residual.std() < 1.3


def test_noise_lets_sgd_escape_a_saddle_it_would_sit_on():
    still = optviz.simulate("sgd", "saddle", (-1.0, 0.0), 300, learning_rate=0.05)
    noisy = optviz.simulate("sgd", "saddle", (-1.0, 0.0), 300, learning_rate=0.05, noise=0.5, seed=0)
    assert np.all(still.path[:, 1] == 0)
    assert np.abs(noisy.path[-1, 1]) > 1.0 or noisy.diverged_at is not None


# --- compilation ---------------------------------------------------------------------------


class _CompileCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if "Compiling" in message or "XLA compilation" in message:
            self.messages.append(message)


def _count_compiles(fn):
    counter = _CompileCounter()
    root = logging.getLogger("jax")
    root.addHandler(counter)
    try:
        with jax.log_compiles():
            fn()
    finally:
        root.removeHandler(counter)
    return counter.messages


def test_changing_floats_start_noise_or_flags_never_compiles():
    optviz.race("quadratic", None, 300, ALL)
    optviz.sweep("adam", "quadratic", None, 300, np.logspace(-3, 0, 8), np.linspace(0, 0.9, 8))

    def moves():
        for i, lr in enumerate([1e-4, 0.003, 0.1]):
            optviz.race(
                "quadratic", (1.0 + i, -0.5), 300 - i,
                {"sgd": {"learning_rate": lr, "momentum": 0.5}, "nesterov": {"momentum": 0.1 * i},
                 "adagrad": {"initial_accumulator_value": 0.2, "epsilon": 1e-3},
                 "rmsprop": {"rho": 0.5, "centered": bool(i % 2), "momentum": 0.3},
                 "adam": {"beta_1": 0.5, "beta_2": 0.9, "amsgrad": bool(i % 2)}, "adamax": {"beta_2": 0.5}},
                noise=0.1 * i, seed=i, surface_params={"kappa": 5.0 + i},
            )
            optviz.sweep("adam", "quadratic", (0.5, 0.5), 290, np.logspace(-2, 0, 8), np.linspace(0.1, 0.8, 8),
                         noise=0.2, seed=i, surface_params={"kappa": 3.0 + i})
            # a race of fewer optimizers shares the same program (lanes are padded)
            optviz.simulate("adamax", "quadratic", None, 280, learning_rate=lr)

    assert _count_compiles(moves) == []


def test_a_new_surface_compiles_once_then_is_cached():
    first = _count_compiles(lambda: optviz.race("booth", None, 100, ["sgd", "adam"]))
    again = _count_compiles(lambda: optviz.race("booth", (1.0, 2.0), 120, {"adam": {"learning_rate": 0.3}}))
    assert first and again == []


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,field",
    [
        (lambda: optviz.simulate("adamw", "rosenbrock"), "unknown optimizer"),
        (lambda: optviz.simulate("sgd", "sphere"), "unknown surface"),
        (lambda: optviz.simulate("sgd", "rosenbrock", learning_rate=-0.1), "learning_rate"),
        (lambda: optviz.simulate("sgd", "rosenbrock", learning_rate=float("nan")), "learning_rate"),
        (lambda: optviz.simulate("sgd", "rosenbrock", learning_rate="fast"), "learning_rate"),
        (lambda: optviz.simulate("sgd", "rosenbrock", momentum=1.5), "momentum"),
        (lambda: optviz.simulate("nesterov", "rosenbrock", momentum=-0.1), "momentum"),
        (lambda: optviz.simulate("rmsprop", "rosenbrock", momentum=2.0), "momentum"),
        (lambda: optviz.simulate("rmsprop", "rosenbrock", rho=1.0), "rho"),
        (lambda: optviz.simulate("rmsprop", "rosenbrock", rho=-0.5), "rho"),
        (lambda: optviz.simulate("adam", "rosenbrock", beta_1=1.0), "beta_1"),
        (lambda: optviz.simulate("adamax", "rosenbrock", beta_2=1.2), "beta_2"),
        (lambda: optviz.simulate("adam", "rosenbrock", epsilon=0.0), "epsilon"),
        (lambda: optviz.simulate("adagrad", "rosenbrock", epsilon=-1e-7), "epsilon"),
        (lambda: optviz.simulate("adam", "rosenbrock", amsgrad="maybe"), "amsgrad"),
        (lambda: optviz.simulate("adam", "rosenbrock", momentum=0.9), "momentum"),
        (lambda: optviz.simulate("sgd", "rosenbrock", rho=0.9), "rho"),
        (lambda: optviz.simulate("sgd", "rosenbrock", steps=0), "steps"),
        (lambda: optviz.simulate("sgd", "rosenbrock", steps=100_001), "steps"),
        (lambda: optviz.simulate("sgd", "rosenbrock", steps=2.5), "steps"),
        (lambda: optviz.simulate("sgd", "rosenbrock", steps=True), "steps"),
        (lambda: optviz.simulate("sgd", "rosenbrock", (float("nan"), 0.0)), "start"),
        (lambda: optviz.simulate("sgd", "rosenbrock", (float("inf"), 0.0)), "start"),
        (lambda: optviz.simulate("sgd", "rosenbrock", (1.0,)), "start"),
        (lambda: optviz.simulate("sgd", "rosenbrock", "here"), "start"),
        (lambda: optviz.simulate("sgd", "rosenbrock", noise=-1.0), "noise"),
        (lambda: optviz.simulate("sgd", "rosenbrock", seed=-1), "seed"),
        (lambda: optviz.simulate("sgd", "quadratic", surface_params={"kappa": math.inf}), "kappa"),
        (lambda: optviz.simulate("sgd", "quadratic", surface_params={"alpha": 1}), "alpha"),
        (lambda: optviz.race("rosenbrock", None, 10, []), "optimizers"),
        (lambda: optviz.race("rosenbrock", None, 10, {"sgd": {"beta_1": 0.9}}), "beta_1"),
        (lambda: optviz.sweep("adagrad", "rosenbrock", None, 10, [0.1], [0.5]), "momenta"),
        (lambda: optviz.sweep("sgd", "rosenbrock", None, 10, [0.1, -1.0], [0.5]), "learning_rate"),
        (lambda: optviz.sweep("adam", "rosenbrock", None, 10, [0.1], [1.0]), "beta_1"),
        (lambda: optviz.sweep("sgd", "rosenbrock", None, 10, [0.1], [0.5], tolerance=0), "tolerance"),
    ],
)
def test_bad_input_is_a_value_error_naming_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="sgd, nesterov, adagrad, rmsprop, adam, adamax"):
        optviz.simulate("lion", "rosenbrock")
    with pytest.raises(ValueError, match="rosenbrock, saddle, quadratic"):
        optviz.simulate("sgd", "everest")


def test_limits_are_accepted():
    assert optviz.simulate("sgd", "quadratic", None, 1, learning_rate=0.0, momentum=1.0).path.shape == (2, 2)
    assert optviz.simulate("adam", "quadratic", None, 2, beta_1=0.0, beta_2=0.0).path.shape == (3, 2)
