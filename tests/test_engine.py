"""simulate / race / sweep: shapes, divergence, bad input, noise, and no recompiles."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import count_compiles as _count_compiles

import optviz
from optviz.optimizers import ALL_OPTIMIZERS, ARTICLE_OPTIMIZERS, MORE_OPTIMIZERS
from optviz.surfaces import Surface

ALL = list(ALL_OPTIMIZERS)
CLASSIC = list(ARTICLE_OPTIMIZERS)


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
    assert set(tr.state) == set(ALL_OPTIMIZERS[name].slot_names)
    for values in tr.state.values():
        assert values.shape == (41, 2)
    assert tr.diverged_at is None
    np.testing.assert_allclose(tr.loss, optviz.get_surface("himmelblau")(tr.path[:, 0], tr.path[:, 1]), rtol=1e-5)


def test_nadam_u_product_is_keras_s_running_product():
    tr = optviz.simulate("nadam", "quadratic", None, 5, beta_1=0.8)
    u = tr.state["u_product"][:, 0]
    expected = [1.0]
    for t in range(1, 6):
        expected.append(expected[-1] * 0.8 * (1 - 0.5 * 0.96 ** t))
    np.testing.assert_allclose(u, expected, rtol=1e-6)
    assert np.all(tr.state["u_product"][:, 0] == tr.state["u_product"][:, 1])


def test_schedule_free_keeps_y_between_z_and_x():
    # The point y is (1 - beta_1) z + beta_1 x; z (Keras's `momentum`) and x start at the start.
    tr = optviz.simulate("schedulefreeadamw", "rosenbrock", (-1.2, 1.5), 50, learning_rate=0.02, beta_1=0.7)
    z, x = tr.state["momentum"], tr.state["x"]
    np.testing.assert_allclose(z[0], [-1.2, 1.5])
    np.testing.assert_allclose(x[0], [-1.2, 1.5])
    np.testing.assert_allclose(tr.path, 0.3 * z + 0.7 * x, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="start"):
        ALL_OPTIMIZERS["schedulefreeadamw"].init_slots(ALL_OPTIMIZERS["schedulefreeadamw"].defaults)


def test_lion_moves_every_coordinate_by_the_learning_rate():
    tr = optviz.simulate("lion", "rosenbrock", (-1.5, 2.0), 20, learning_rate=0.01)
    np.testing.assert_allclose(np.abs(np.diff(tr.path, axis=0)), 0.01, rtol=1e-4)


def test_ftrl_with_l1_pins_a_coordinate_to_zero():
    # |linear| <= l1 sets the coordinate to exactly 0: the valley's y at a large L1.
    tr = optviz.simulate("ftrl", "quadratic", (0.5, 0.01), 50, learning_rate=0.1, l1_regularization_strength=5.0)
    assert np.all(tr.path[1:] == 0.0)


def test_every_optimizer_has_keras_names_and_validated_defaults():
    for name, opt in ALL_OPTIMIZERS.items():
        assert opt.resolve() == opt.all_defaults
        assert opt.keras_code().startswith(f"keras.optimizers.{opt.keras_class}(learning_rate=")
        assert opt.momentum_like is None or opt.momentum_like in opt.defaults
        assert 1 <= len(opt.slot_names) <= optviz.optimizers.MAX_SLOTS
    assert set(MORE_OPTIMIZERS) | set(ARTICLE_OPTIMIZERS) == set(ALL_OPTIMIZERS)
    assert {o: ALL_OPTIMIZERS[o].momentum_like for o in MORE_OPTIMIZERS} == {
        "adamw": "beta_1", "nadam": "beta_1", "adadelta": None, "lion": "beta_1", "ftrl": None,
        "lamb": "beta_1", "adafactor": None, "schedulefreeadamw": "beta_1",
    }


def test_keras_code_writes_options_and_new_hyperparameters():
    opt = ALL_OPTIMIZERS
    assert opt["adamw"].keras_code({"weight_decay": 0.004}) == "keras.optimizers.AdamW(learning_rate=0.001)"
    assert opt["adamw"].keras_code({"weight_decay": 0.01}) == \
        "keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.01)"
    assert opt["adam"].keras_code({"learning_rate": 0.01, "weight_decay": 0.1, "global_clipnorm": 2.0}) == \
        "keras.optimizers.Adam(learning_rate=0.01, weight_decay=0.1, global_clipnorm=2.0)"
    assert opt["ftrl"].keras_code({"learning_rate_power": -0.7, "beta": 0.5}) == \
        "keras.optimizers.Ftrl(learning_rate=0.001, learning_rate_power=-0.7, beta=0.5)"
    assert opt["schedulefreeadamw"].keras_code({"warmup_steps": 20.0}) == \
        "keras.optimizers.ScheduleFreeAdamW(learning_rate=0.0025, warmup_steps=20)"
    assert opt["adafactor"].keras_code({"relative_step": False}) == \
        "keras.optimizers.Adafactor(learning_rate=0.001, relative_step=False)"


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


def test_a_diverging_optimizer_keeps_its_own_step_in_a_race_of_a_few():
    # Each optimizer sits in its rule's lane whatever the order asked: the divergence and
    # the path reported under a name are that optimizer's.
    raced = optviz.race("rosenbrock", (-1.5, 2), 200, {"adamax": None, "nesterov": {"learning_rate": 0.01}})
    assert list(raced) == ["adamax", "nesterov"]
    alone = optviz.simulate("nesterov", "rosenbrock", (-1.5, 2), 200, learning_rate=0.01)
    assert raced["nesterov"].diverged_at == alone.diverged_at is not None
    np.testing.assert_array_equal(raced["nesterov"].path, alone.path)
    assert raced["adamax"].diverged_at is None and len(raced["adamax"].path) == 201


def test_race_equals_simulate_for_the_new_optimizers():
    settings = {"adamw": {"learning_rate": 0.05, "clipvalue": 3.0}, "nadam": {"learning_rate": 0.02},
                "adadelta": {"learning_rate": 2.0}, "lion": {"weight_decay": 0.3, "learning_rate": 0.01},
                "ftrl": {"l1_regularization_strength": 0.01, "learning_rate": 0.3},
                "lamb": {"learning_rate": 0.02, "global_clipnorm": 1.0},
                "adafactor": {"learning_rate": {"class_name": "CosineDecay",
                                                "config": {"initial_learning_rate": 0.5, "decay_steps": 200}}},
                "schedulefreeadamw": {"learning_rate": 0.03, "warmup_steps": 30}}
    raced = optviz.race("rosenbrock", (-1.2, 1.5), 300, settings, noise=0.3, seed=7)
    assert list(raced) == list(settings)
    for name, hp in settings.items():
        single = optviz.simulate(name, "rosenbrock", (-1.2, 1.5), 300, noise=0.3, seed=7, **hp)
        np.testing.assert_array_equal(raced[name].path, single.path)
        np.testing.assert_array_equal(raced[name].learning_rate, single.learning_rate)
        for key in single.state:
            np.testing.assert_array_equal(raced[name].state[key], single.state[key])


def test_all_fourteen_race_together():
    raced = optviz.race("himmelblau", None, 100, ALL)
    assert list(raced) == ALL
    for name in ALL:
        np.testing.assert_array_equal(raced[name].path, optviz.simulate(name, "himmelblau", None, 100).path)


@pytest.mark.parametrize("name,momenta", [("sgd", [0.0, 0.5, 0.9]), ("adam", [0.5, 0.9]), ("adagrad", None),
                                          ("lion", [0.3, 0.9]), ("schedulefreeadamw", [0.5, 0.9]), ("ftrl", None),
                                          ("nesterov", [0.5, 0.9]), ("rmsprop", [0.0, 0.9]), ("adamax", [0.5, 0.9]),
                                          ("adamw", [0.5, 0.9]), ("nadam", [0.5, 0.9]), ("lamb", [0.5, 0.9]),
                                          ("adadelta", None), ("adafactor", None)])
def test_sweep_equals_simulate_cell_by_cell(name, momenta):
    lrs = [1e-4, 3e-3, 0.03, 0.3]
    result = optviz.sweep(name, "rosenbrock", None, 200, lrs, momenta, tolerance=0.5)
    axis = ALL_OPTIMIZERS[name].momentum_like
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


@pytest.mark.parametrize("name,axis,values", [("adagrad", "initial_accumulator_value", [1e-3, 1.0]),
                                               ("adadelta", "rho", [0.0, 0.5]),
                                               ("ftrl", "learning_rate_power", [-1.0, 0.0]),
                                               ("adafactor", "beta_2_decay", [-0.3, 0.0])])
def test_sweep_over_another_axis_equals_simulate(name, axis, values):
    """A map over another hyperparameter than the momentum-like one (the tuning tab's for
    Adagrad, Adadelta, FTRL, Adafactor): each cell is that run, the state before the first
    step included (Adagrad's accumulator starts at initial_accumulator_value)."""
    lrs = [3e-3, 0.03, 0.3]
    result = optviz.sweep(name, "himmelblau", None, 120, lrs, values, axis=axis)
    assert result.momentum_name == axis and result.final_loss.shape == (3, 2)
    for i, lr in enumerate(lrs):
        for j, value in enumerate(values):
            tr = optviz.simulate(name, "himmelblau", None, 120, learning_rate=lr, **{axis: value})
            assert result.final_loss[i, j] == pytest.approx(tr.final_loss, rel=1e-5), (lr, value)
            assert result.diverged[i, j] == (tr.diverged_at is not None)
    assert not np.array_equal(result.final_loss[:, 0], result.final_loss[:, 1])  # the axis changes the runs
    with pytest.raises(ValueError, match="`axis`"):
        optviz.sweep(name, "himmelblau", None, 120, lrs, values, axis="learning_rate")


def test_learning_rate_curves_are_the_sweeps_in_one_program():
    """The tuning tab's curves, every optimizer in one compiled race, are each optimizer's
    one-column sweep: final loss, divergence and steps to tolerance, cell for cell."""
    from optviz.engine import learning_rate_curves
    lrs = [1e-4, 3e-3, 0.03, 0.3, 1.0]
    spec = {name: {} for name in ("sgd", "nesterov", "adagrad", "adam", "adadelta", "lion", "ftrl", "adafactor")}
    spec["adagrad"] = {"initial_accumulator_value": 0.5, "learning_rate": 123.0}  # (a given rate is replaced)
    spec["sgd"] = {"momentum": 0.5}
    curves = learning_rate_curves("himmelblau", None, 150, spec, lrs, tolerance=0.5)
    assert list(curves) == list(spec)
    for name, hp in spec.items():
        fixed = {k: v for k, v in hp.items() if k != "learning_rate"}
        axis = ALL_OPTIMIZERS[name].momentum_like
        value = [fixed.pop(axis, ALL_OPTIMIZERS[name].defaults[axis])] if axis else None
        expected = optviz.sweep(name, "himmelblau", None, 150, lrs, value, tolerance=0.5, **fixed)
        got = curves[name]
        np.testing.assert_allclose(got.final_loss, expected.final_loss, rtol=1e-5, err_msg=name)
        np.testing.assert_array_equal(got.diverged, expected.diverged, err_msg=name)
        np.testing.assert_array_equal(got.steps_to_tolerance, expected.steps_to_tolerance, err_msg=name)
    assert any(c.diverged.any() for c in curves.values()) and not all(c.diverged.all() for c in curves.values())


@pytest.mark.parametrize("name,fixed", [("adam", {"beta_2": 0.9, "epsilon": 1e-3, "amsgrad": True}),
                                        ("rmsprop", {"rho": 0.5, "centered": True, "epsilon": 1e-4}),
                                        ("nadam", {"beta_2": 0.95}), ("adagrad", {"initial_accumulator_value": 0.5})])
def test_sweep_with_fixed_hyperparameters_equals_simulate(name, fixed):
    """The hyperparameters a sweep holds fixed reach every cell (the rule reads them once a
    step for the whole grid), the swept ones each cell its own."""
    lrs = [3e-3, 0.03, 0.3]
    axis = ALL_OPTIMIZERS[name].momentum_like
    momenta = [0.3, 0.8] if axis else None
    result = optviz.sweep(name, "himmelblau", None, 120, lrs, momenta, **fixed)
    for i, lr in enumerate(lrs):
        for j, m in enumerate(momenta or [None]):
            hp = dict(fixed, learning_rate=lr, **({} if m is None else {axis: m}))
            tr = optviz.simulate(name, "himmelblau", None, 120, **hp)
            assert result.final_loss[i, j] == pytest.approx(tr.final_loss, rel=1e-5), (lr, m)
            expected = tr.steps_to_tolerance()
            assert result.steps_to_tolerance[i, j] == (-1 if expected is None else expected)
    defaults = optviz.sweep(name, "himmelblau", None, 120, lrs, momenta)
    assert not np.array_equal(defaults.final_loss, result.final_loss)  # the fixed values changed the grid


def test_sweep_counts_nothing_after_a_lane_leaves_the_surface():
    """A lane whose loss is non-finite at some step has diverged there, even if it comes back:
    its final loss is the last one before, and arriving near the minimum later does not count
    (the sweep keeps stepping such lanes; several of the cells below do arrive later)."""
    def fn(x, y, params):
        return jnp.where((x > 1.0) & (x < 1.5), jnp.inf, x * x + y * y)  # a band where f is +inf

    band = Surface(name="band_test", display_name="band", latex="", fn=fn, minima=((0.0, 0.0),), min_value=0.0,
                   x_range=(-4, 4), y_range=(-4, 4), default_start=(3.0, 0.5))
    lrs, momenta = [0.05, 0.1, 0.2, 0.3], [0.0, 0.5, 0.8, 0.9]
    result = optviz.sweep("sgd", band, None, 200, lrs, momenta)
    for i, lr in enumerate(lrs):
        for j, m in enumerate(momenta):
            tr = optviz.simulate("sgd", band, None, 200, learning_rate=lr, momentum=m)
            assert result.diverged_at[i, j] == (-1 if tr.diverged_at is None else tr.diverged_at)
            expected = tr.steps_to_tolerance()  # the sweep's default tolerance too
            assert result.steps_to_tolerance[i, j] == (-1 if expected is None else expected), (lr, m)
            assert result.final_loss[i, j] == pytest.approx(tr.final_loss, rel=1e-6)
    assert 0 < result.diverged.sum() < result.diverged.size
    assert (result.steps_to_tolerance >= 0).any()


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
    true = np.stack([2 * a.path[:, 0], 20 * a.path[:, 1]], axis=1)
    residual = a.gradient - true
    assert 0.7 < residual.std() < 1.3


def test_noise_lets_sgd_escape_a_saddle_it_would_sit_on():
    still = optviz.simulate("sgd", "saddle", (-1.0, 0.0), 300, learning_rate=0.05)
    noisy = optviz.simulate("sgd", "saddle", (-1.0, 0.0), 300, learning_rate=0.05, noise=0.5, seed=0)
    assert np.all(still.path[:, 1] == 0)
    assert np.abs(noisy.path[-1, 1]) > 1.0 or noisy.diverged_at is not None


# --- compilation ---------------------------------------------------------------------------


def test_changing_floats_start_noise_or_flags_never_compiles():
    optviz.race("quadratic", None, 300, CLASSIC)
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


def test_new_optimizers_options_and_schedules_never_compile_again():
    cosine = {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 100}}
    # A race with a schedule is its own program (compiled once, the first time a schedule races),
    # and so is a race with a rule beyond the article's six (the first time one races).
    optviz.race("quadratic", None, 300, list(MORE_OPTIMIZERS))
    optviz.race("quadratic", None, 300, {"lion": None, "adam": {"learning_rate": cosine}})
    optviz.sweep("lion", "quadratic", None, 300, np.logspace(-3, 0, 8), np.linspace(0.1, 0.9, 8))

    def moves():
        for i, lr in enumerate([1e-4, 0.003, 0.1]):
            optviz.race(
                "quadratic", (1.0 + i, -0.5), 300 - i,
                {"adamw": {"learning_rate": lr, "weight_decay": 0.01 * i, "amsgrad": bool(i % 2)},
                 "nadam": {"beta_1": 0.5 + 0.1 * i, "clipnorm": 1.0 + i},
                 "adadelta": {"rho": 0.5, "epsilon": 1e-5 * (i + 1), "global_clipnorm": 0.5 * (i + 1)},
                 "lion": {"beta_1": 0.2 + 0.1 * i, "beta_2": 0.9, "clipvalue": 0.1 + i},
                 "ftrl": {"learning_rate_power": -0.1 * i, "initial_accumulator_value": 0.2 * i,
                          "l1_regularization_strength": 0.01 * i, "l2_regularization_strength": 0.1,
                          "l2_shrinkage_regularization_strength": 0.01 * i, "beta": 0.1 * i},
                 "lamb": {"epsilon": 1e-3, "weight_decay": 0.1 * i},
                 "adafactor": {"beta_2_decay": -0.5 - 0.1 * i, "epsilon_1": 1e-20, "epsilon_2": 1e-2 * i,
                               "clip_threshold": 0.5 + i, "relative_step": bool(i % 2)},
                 "schedulefreeadamw": {"warmup_steps": 10 * i, "beta_1": 0.5 + 0.1 * i,
                                       "learning_rate": dict(cosine, config={"initial_learning_rate": lr,
                                                                             "decay_steps": 50 + i})}},
                noise=0.1 * i, seed=i, surface_params={"kappa": 5.0 + i},
            )
            optviz.sweep("lion", "quadratic", (0.5, 0.5), 290, np.logspace(-2, 0, 8), np.linspace(0.1, 0.8, 8),
                         noise=0.2, seed=i, surface_params={"kappa": 3.0 + i}, weight_decay=0.1 * i)
            # a mixed race of old and new optimizers in the same 8 lanes shares the program
            optviz.race("quadratic", None, 280, {"sgd": {"clipnorm": 1.0}, "adafactor": None, "adam": None})

    assert _count_compiles(moves) == []


def test_a_new_surface_compiles_once_then_is_cached():
    first = _count_compiles(lambda: optviz.race("booth", None, 100, ["sgd", "adam"]))
    again = _count_compiles(lambda: optviz.race("booth", (1.0, 2.0), 120, {"adam": {"learning_rate": 0.3}}))
    assert first and again == []


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,field",
    [
        (lambda: optviz.simulate("sophia", "rosenbrock"), "unknown optimizer"),
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
        # the new optimizers: Keras's own checks, and ranges where Keras has none
        (lambda: optviz.simulate("lion", "rosenbrock", beta_1=0.0), "beta_1"),
        (lambda: optviz.simulate("lion", "rosenbrock", beta_1=1.5), "beta_1"),
        (lambda: optviz.simulate("lion", "rosenbrock", beta_2=-0.1), "beta_2"),
        (lambda: optviz.simulate("ftrl", "rosenbrock", learning_rate_power=0.5), "learning_rate_power"),
        (lambda: optviz.simulate("ftrl", "rosenbrock", initial_accumulator_value=-0.1), "initial_accumulator_value"),
        (lambda: optviz.simulate("ftrl", "rosenbrock", l1_regularization_strength=-1), "l1_regularization_strength"),
        (lambda: optviz.simulate("ftrl", "rosenbrock", l2_regularization_strength=-1), "l2_regularization_strength"),
        (lambda: optviz.simulate("ftrl", "rosenbrock", l2_shrinkage_regularization_strength=-1),
         "l2_shrinkage_regularization_strength"),
        (lambda: optviz.simulate("ftrl", "rosenbrock", beta=-1), "beta"),
        (lambda: optviz.simulate("adafactor", "rosenbrock", clip_threshold=0.0), "clip_threshold"),
        (lambda: optviz.simulate("adafactor", "rosenbrock", beta_2_decay=0.5), "beta_2_decay"),
        (lambda: optviz.simulate("adafactor", "rosenbrock", epsilon_1=0.0), "epsilon_1"),
        (lambda: optviz.simulate("adafactor", "rosenbrock", relative_step="often"), "relative_step"),
        (lambda: optviz.simulate("schedulefreeadamw", "rosenbrock", warmup_steps=2.5), "warmup_steps"),
        (lambda: optviz.simulate("schedulefreeadamw", "rosenbrock", warmup_steps=-1), "warmup_steps"),
        (lambda: optviz.simulate("schedulefreeadamw", "rosenbrock", beta_1=0.0), "beta_1"),
        (lambda: optviz.simulate("nadam", "rosenbrock", beta_2=1.0), "beta_2"),
        (lambda: optviz.simulate("adadelta", "rosenbrock", rho=1.0), "rho"),
        (lambda: optviz.simulate("adamw", "rosenbrock", weight_decay=None), "weight_decay"),
        (lambda: optviz.simulate("adamw", "rosenbrock", weight_decay=-0.1), "weight_decay"),
        (lambda: optviz.simulate("adam", "rosenbrock", learning_rate_power=-0.5), "learning_rate_power"),
        # options every optimizer has
        (lambda: optviz.simulate("sgd", "rosenbrock", weight_decay=-1.0), "weight_decay"),
        (lambda: optviz.simulate("sgd", "rosenbrock", weight_decay="lots"), "weight_decay"),
        (lambda: optviz.simulate("sgd", "rosenbrock", clipnorm=-1.0), "clipnorm"),
        (lambda: optviz.simulate("sgd", "rosenbrock", clipvalue=float("inf")), "clipvalue"),
        (lambda: optviz.simulate("adam", "rosenbrock", global_clipnorm=True), "global_clipnorm"),
        (lambda: optviz.simulate("sgd", "rosenbrock", clipnorm=1.0, clipvalue=1.0), "clipnorm.*clipvalue"),
        (lambda: optviz.simulate("sgd", "rosenbrock", clipnorm=0.0, global_clipnorm=1.0), "clipnorm.*global_clipnorm"),
        (lambda: optviz.race("rosenbrock", None, 10, {"lion": {"clipvalue": 1.0, "global_clipnorm": 1.0}}),
         "only one of"),
        (lambda: optviz.sweep("sgd", "rosenbrock", None, 10, [0.1], [0.5], clipnorm=1.0, clipvalue=1.0),
         "only one of"),
        (lambda: optviz.sweep("lion", "rosenbrock", None, 10, [0.1], [0.0, 0.5]), "beta_1"),
        (lambda: optviz.sweep("ftrl", "rosenbrock", None, 10, [0.1], [0.5]), "momenta"),
        (lambda: optviz.sweep("sgd", "rosenbrock", None, 10, [], [0.5]), "learning_rates"),
        (lambda: optviz.sweep("sgd", "rosenbrock", None, 10, [[0.1]], [0.5]), "learning_rates"),
    ],
)
def test_bad_input_is_a_value_error_naming_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="sgd, nesterov, adagrad, rmsprop, adam, adamax"):
        optviz.simulate("sophia", "rosenbrock")
    with pytest.raises(ValueError, match="rosenbrock, saddle, quadratic"):
        optviz.simulate("sgd", "everest")


def test_limits_are_accepted():
    assert optviz.simulate("sgd", "quadratic", None, 1, learning_rate=0.0, momentum=1.0).path.shape == (2, 2)
    assert optviz.simulate("adam", "quadratic", None, 2, beta_1=0.0, beta_2=0.0).path.shape == (3, 2)
