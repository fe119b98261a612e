"""What the fuzzing of the Python API found: every bad value is a ValueError naming its
field (never an OverflowError, TypeError or KeyError), and a value that float32 (Keras's
precision) would turn into inf, 0 or 1 is refused rather than run into a NaN path."""

import dataclasses
import io

import numpy as np
import pytest

import optviz
from optviz import schedules
from optviz.bounds import LEARNING_RATES, MAX_PAGE_STEPS, MOMENTA
from optviz.checks import MAX_SWEEP_CELL_STEPS, MAX_SWEEP_CELLS
from optviz.cli import main
from optviz.custom import custom_surface, parse_formula

HUGE = 10**400  # a whole number float() cannot convert: OverflowError, not ValueError
COSINE = {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 10}}


def _cosine(**config):
    return {"class_name": "CosineDecay", "config": dict(COSINE["config"], **config)}


@pytest.mark.parametrize(
    "call,field",
    [
        (lambda: optviz.simulate("sgd", "quadratic", None, HUGE), "steps"),
        (lambda: optviz.simulate("sgd", "quadratic", (HUGE, 0), 10), "start"),
        (lambda: optviz.simulate("adam", "quadratic", None, 10, learning_rate=HUGE), "learning_rate"),
        (lambda: optviz.simulate("sgd", "quadratic", None, 10, momentum=HUGE), "momentum"),
        (lambda: optviz.simulate("sgd", "quadratic", None, 10, clipnorm=HUGE), "clipnorm"),
        (lambda: optviz.simulate("schedulefreeadamw", "quadratic", None, 10, warmup_steps=HUGE), "warmup_steps"),
        (lambda: optviz.race("quadratic", None, 10, ["sgd"], noise=HUGE), "noise"),
        (lambda: optviz.race("quadratic", None, 10, ["sgd"], surface_params={"kappa": HUGE}), "kappa"),
        (lambda: optviz.race("quadratic", None, 10, ["sgd"], compile_steps=HUGE), "compile_steps"),
        (lambda: optviz.sweep("sgd", "quadratic", None, 10, [0.1], [0.0], tolerance=HUGE), "tolerance"),
        (lambda: optviz.sweep("sgd", "quadratic", None, 10, [0.1], [HUGE]), "momenta"),
        (lambda: optviz.sweep("sgd", "quadratic", None, 10, [HUGE], [0.0]), "learning_rate"),
        (lambda: optviz.simulate("sgd", "quadratic", None, 10, learning_rate=_cosine(decay_steps=HUGE)),
         "decay_steps"),
        (lambda: custom_surface("x**2 + y**2", x_range=(HUGE, 1)), "x_range"),
        (lambda: custom_surface("x**2 + y**2", start=(HUGE, 0)), "start"),
    ],
)
def test_a_number_too_large_for_a_float_is_a_value_error_naming_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()


@pytest.mark.parametrize(
    "call,field",
    [
        # 1e-46 is 0 in float32: Keras would divide by an epsilon of zero
        (lambda: optviz.simulate("adam", "rosenbrock", (1, 1), 5, epsilon=1e-46), "epsilon"),
        (lambda: optviz.simulate("adagrad", "rosenbrock", (1, 1), 5, epsilon=1e-46), "epsilon"),
        # 1 - 1e-9 is 1 in float32: a beta of 1 (bias correction 1 - 1 = 0)
        (lambda: optviz.simulate("adam", "rosenbrock", None, 5, beta_1=1 - 1e-9), "beta_1"),
        (lambda: optviz.simulate("adamax", "rosenbrock", None, 5, beta_2=1 - 1e-9), "beta_2"),
        # inf in float32
        (lambda: optviz.simulate("sgd", "rosenbrock", None, 5, learning_rate=1e39), "learning_rate"),
        (lambda: optviz.simulate("sgd", "rosenbrock", None, 5, noise=1e39), "noise"),
        (lambda: optviz.simulate("sgd", "rosenbrock", None, 5, learning_rate=_cosine(decay_steps=1e-50)),
         "decay_steps"),
        (lambda: optviz.simulate("sgd", "rosenbrock", None, 5, learning_rate=_cosine(initial_learning_rate=1e39)),
         "initial_learning_rate"),
    ],
)
def test_a_value_float32_cannot_hold_is_refused_naming_the_field(call, field):
    with pytest.raises(ValueError, match=f"{field}.*float32"):
        call()


def test_values_float32_rounds_harmlessly_still_run():
    # Within the range, rounding to float32 is what Keras does too: these are fine.
    assert optviz.simulate("adam", "quadratic", None, 3, epsilon=1e-40, beta_1=0.999999).diverged_at is None
    assert optviz.simulate("sgd", "quadratic", None, 3, learning_rate=0.0).diverged_at is None


@pytest.mark.parametrize(
    "call,field",
    [
        (lambda: optviz.race("quadratic", None, 10, None), "optimizers"),
        (lambda: optviz.race("quadratic", None, 10, 5), "optimizers"),
        (lambda: optviz.simulate("sgd", "quadratic", None, 10, surface_params=[("kappa", 2)]), "surface_params"),
        (lambda: optviz.sweep("sgd", "quadratic", None, 10, [0.1], [0.0], surface_params="kappa"), "surface_params"),
        (lambda: optviz.race("quadratic", None, 10, ["sgd"], compile_steps=0), "compile_steps"),
        (lambda: optviz.simulate("sgd", "quadratic", None, 10, learning_rate={"class_name": ["CosineDecay"],
                                                                              "config": {}}), "class_name"),
        (lambda: schedules.values(COSINE, -5), "steps"),
        (lambda: schedules.values(COSINE, 10.0), "steps"),
        (lambda: schedules.values(COSINE, 2**40), "steps"),
        (lambda: custom_surface("x**2 + y**2", x_range="12"), "x_range"),
        (lambda: custom_surface("x**2 + y**2", start="12"), "start"),
    ],
)
def test_a_wrong_kind_of_argument_is_a_value_error_naming_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()


def test_an_optimizer_object_that_is_not_optviz_s_is_refused_the_same_way_everywhere():
    mine = dataclasses.replace(optviz.get_optimizer("sgd"), name="mysgd")
    for call in (lambda: optviz.simulate(mine, "quadratic", None, 5),
                 lambda: optviz.sweep(mine, "quadratic", None, 5, [0.1], [0.0])):
        with pytest.raises(ValueError, match="mysgd.*sgd, nesterov"):
            call()
    # optviz's own objects are taken as names are
    same = optviz.simulate(optviz.ALL_OPTIMIZERS["sgd"], "quadratic", None, 5).path
    np.testing.assert_array_equal(same, optviz.simulate("sgd", "quadratic", None, 5).path)


def test_numpy_booleans_are_booleans():
    a = optviz.simulate("adam", "rosenbrock", None, 20, amsgrad=np.True_, learning_rate=0.05).path
    np.testing.assert_array_equal(a, optviz.simulate("adam", "rosenbrock", None, 20, amsgrad=True,
                                                     learning_rate=0.05).path)


@pytest.mark.parametrize(
    "surface,start",
    [
        ("beale", (1e5, 1e5)),  # finite point, loss overflows float32
        ("goldstein_price", (1e5, 1e5)),
        (custom_surface("log(x) + y**2"), (-1.0, 1.0)),  # outside the formula's domain: NaN
    ],
)
def test_a_start_where_the_loss_is_not_finite_is_refused_naming_start(surface, start):
    # There is no finite point for a path to begin with: an empty Trajectory (whose final_loss
    # raised IndexError) or a sweep of zeros was the result before.
    calls = (lambda: optviz.simulate("adam", surface, start, 10),
             lambda: optviz.race(surface, start, 10, ["sgd", "adam"]),
             lambda: optviz.sweep("sgd", surface, start, 10, [0.1], [0.0]))
    for call in calls:
        with pytest.raises(optviz.NonFiniteStartError, match="`start`.*not a finite number") as info:
            call()
        assert isinstance(info.value, ValueError) and info.value.start == start


def test_a_start_where_only_the_first_step_fails_still_gives_the_start():
    tr = optviz.simulate("sgd", "rosenbrock", (1e5, 1e5), 3, learning_rate=1.0)
    assert tr.diverged_at == 1 and tr.path.shape == (1, 2) and np.isfinite(tr.final_loss)


def test_a_formula_cut_short_says_so():
    with pytest.raises(ValueError, match="at the end"):
        parse_formula("x +")


def test_a_sweep_past_the_cell_cap_is_refused_naming_the_grid():
    # 4 million cells once took 2.7 GB; a grid one cell past the cap is refused before it runs.
    rates = np.full(MAX_SWEEP_CELLS + 1, 0.01)
    with pytest.raises(ValueError, match=f"`learning_rates` × `momenta` may hold at most {MAX_SWEEP_CELLS} cells"):
        optviz.sweep("sgd", "quadratic", None, 1, rates, [0.0])
    with pytest.raises(ValueError, match="`learning_rates` × `momenta`.*16386"):
        optviz.sweep("sgd", "quadratic", None, 1, rates[: MAX_SWEEP_CELLS // 2 + 1], [0.0, 0.9])


def test_a_sweep_past_the_cell_step_cap_is_refused_naming_steps():
    side = 128  # 128 × 128 cells: at the cell cap, so only the steps can be too many
    steps = MAX_SWEEP_CELL_STEPS // side**2 + 1
    with pytest.raises(ValueError, match="`learning_rates` × `momenta` × `steps` may be at most"):
        optviz.sweep("sgd", "quadratic", None, steps, np.logspace(-4, 0, side), np.linspace(0, 0.9, side))


def test_the_page_s_tuning_map_fits_the_sweep_caps():
    cells = len(LEARNING_RATES) * len(MOMENTA)
    assert cells == 121 * 100 and cells <= MAX_SWEEP_CELLS
    assert cells * MAX_PAGE_STEPS <= MAX_SWEEP_CELL_STEPS


def test_the_cli_sweep_has_the_same_cap():
    out, err = io.StringIO(), io.StringIO()
    rates = ["0.01"] * (MAX_SWEEP_CELLS // 8 + 1)  # with the default 8 momenta: one row too many
    assert main(["sweep", "--optimizer", "sgd", "--steps", "1", "--learning-rates", *rates], out, err) == 2
    assert out.getvalue() == "" and err.getvalue().count("\n") == 1
    assert f"`learning_rates` × `momenta` may hold at most {MAX_SWEEP_CELLS} cells" in err.getvalue()


def _nested(depth: int, leaf):
    value = leaf
    for _ in range(depth):
        value = {"class_name": "ExponentialDecay",
                 "config": {"initial_learning_rate": value, "decay_steps": 10, "decay_rate": 0.5}}
    return value


def _listed(depth: int):
    value = [0.1]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("call,field", [
    (lambda: optviz.simulate("adam", "rosenbrock", None, 10, learning_rate=_nested(100_000, 0.1)),
     "initial_learning_rate"),
    (lambda: optviz.sweep("adam", "rosenbrock", None, 10, [_nested(100_000, 0.1)]), "initial_learning_rate"),
    (lambda: schedules.parse(_nested(100_000, 0.1)), "initial_learning_rate"),
    (lambda: optviz.simulate("adam", "rosenbrock", None, 10, learning_rate=_listed(100_000)), "learning_rate"),
    (lambda: optviz.simulate("adam", "rosenbrock", _listed(100_000), 10), "start"),
    (lambda: optviz.race("rosenbrock", None, 10, {"adam": {"beta_1": _listed(100_000)}}), "beta_1"),
    (lambda: optviz.race("quadratic", None, 10, ["sgd"], surface_params={"kappa": _listed(100_000)}), "kappa"),
])
def test_a_value_nested_a_hundred_thousand_deep_is_a_short_value_error(call, field):
    """Schedules inside schedules (or lists in lists) built in Python: a ValueError naming
    the field, its message short (the value's repr raised RecursionError)."""
    with pytest.raises(ValueError, match=field) as error:
        call()
    assert len(str(error.value)) < 600


def test_a_formula_past_the_cost_cap_is_refused_saying_why():
    """At most MAX_WEIGHT costly operations (calls other than abs/min/max, powers with a
    variable or fractional exponent); variable-free parts and cheap calls do not count."""
    from optviz.custom import MAX_WEIGHT, formula_weight
    chain = "x*y"
    for k in range(MAX_WEIGHT):
        chain = ("tanh", "sin")[k % 2] + f"({chain})"
    at_cap = chain + " + x**2 + abs(y) + max(x, y)**3 + sin(pi/4)*x"
    assert formula_weight(parse_formula(at_cap).tree) == MAX_WEIGHT
    custom_surface(at_cap)  # still a surface
    for over in (f"sin({chain})", chain + " + x**0.5", chain + " + 2**y"):
        with pytest.raises(ValueError, match=f"too costly.*{MAX_WEIGHT + 1} function calls and powers"):
            parse_formula(over)
