"""Learning-rate schedules: Keras's values step for step, paths under a schedule next to
real Keras 3, Keras code that round-trips, bad input, and no recompiles."""

import jax.numpy as jnp
import keras
import numpy as np
import pytest
from helpers import count_compiles as _count_compiles
from keras_reference import compare_paths, keras_run

import optviz
from optviz import schedules


def _s(class_name, **config):
    return {"class_name": class_name, "config": config}


SPECS = {
    "exponential": _s("ExponentialDecay", initial_learning_rate=0.1, decay_steps=7, decay_rate=0.93),
    "exponential_staircase": _s("ExponentialDecay", initial_learning_rate=0.1, decay_steps=7, decay_rate=0.93,
                                staircase=True),
    "piecewise": _s("PiecewiseConstantDecay", boundaries=[10, 50, 120], values=[0.1, 0.05, 0.013, 0.001]),
    "polynomial": _s("PolynomialDecay", initial_learning_rate=0.1, decay_steps=60, power=0.7),
    "polynomial_cycle": _s("PolynomialDecay", initial_learning_rate=0.1, decay_steps=60, power=1.3, cycle=True,
                           end_learning_rate=0.003),
    "inverse_time": _s("InverseTimeDecay", initial_learning_rate=0.1, decay_steps=9, decay_rate=0.37),
    "inverse_time_staircase": _s("InverseTimeDecay", initial_learning_rate=0.1, decay_steps=9, decay_rate=0.37,
                                 staircase=True),
    "cosine": _s("CosineDecay", initial_learning_rate=0.1, decay_steps=130, alpha=0.1),
    "cosine_warmup": _s("CosineDecay", initial_learning_rate=0.01, decay_steps=130, alpha=0.13, warmup_target=0.3,
                        warmup_steps=17),
    "restarts": _s("CosineDecayRestarts", initial_learning_rate=0.1, first_decay_steps=23),
    "restarts_equal_periods": _s("CosineDecayRestarts", initial_learning_rate=0.1, first_decay_steps=23, t_mul=1.0,
                                 m_mul=0.8, alpha=0.07),
    "restarts_geometric": _s("CosineDecayRestarts", initial_learning_rate=0.1, first_decay_steps=11, t_mul=1.7,
                             m_mul=0.9, alpha=0.3),
}


def _keras_schedule(spec):
    return keras.optimizers.schedules.deserialize(spec)


def _uses_cond(spec):
    # Keras's CosineDecay with warm-up and CosineDecayRestarts run ops.cond, which compiles
    # at every eager call (~40 ms): those are checked at 30 of the 300 iterations (and at
    # every step of a 200-step path below). Run op by op instead (jax.disable_jit), Keras's
    # geometric restarts give other values at ~15% of the steps: the compiled cond is what
    # a Keras user gets, so that is the reference.
    return spec["class_name"] == "CosineDecayRestarts" or spec["config"].get("warmup_target") is not None


@pytest.mark.parametrize("name", SPECS)
def test_values_match_keras_step_for_step(name):
    spec = SPECS[name]
    ours = schedules.values(spec, 300)
    schedule = _keras_schedule(spec)
    steps = range(0, 300, 10) if _uses_cond(spec) else range(300)
    # Keras calls the schedule with the optimizer's int32 iteration counter.
    theirs = np.array([np.float32(schedule(jnp.asarray(k, jnp.int32))) for k in steps])
    np.testing.assert_allclose(ours[list(steps)], theirs, rtol=1e-6, atol=0)


def test_every_keras_schedule_class_is_covered():
    assert {spec["class_name"] for spec in SPECS.values()} == set(schedules.SCHEDULES)


# (optimizer, schedule, other hyperparameters): every class, on optimizers that read the
# learning rate in different places (weight decay, Adafactor's cap, ScheduleFree's warm-up).
PATHS = [
    ("sgd", _s("CosineDecay", initial_learning_rate=0.0005, decay_steps=150, alpha=0.1, warmup_target=0.002,
               warmup_steps=20), {"momentum": 0.9}),
    ("adam", _s("ExponentialDecay", initial_learning_rate=0.1, decay_steps=10, decay_rate=0.8, staircase=True), {}),
    ("rmsprop", _s("InverseTimeDecay", initial_learning_rate=0.05, decay_steps=7, decay_rate=0.3), {}),
    ("nadam", _s("PolynomialDecay", initial_learning_rate=0.05, decay_steps=40, power=2.0, cycle=True), {}),
    ("adamw", _s("CosineDecayRestarts", initial_learning_rate=0.05, first_decay_steps=30, t_mul=1.5, m_mul=0.8,
                 alpha=0.05), {"weight_decay": 0.1}),
    ("schedulefreeadamw", _s("PiecewiseConstantDecay", boundaries=[30, 100], values=[0.05, 0.02, 0.005]),
     {"warmup_steps": 10}),
    ("adafactor", _s("ExponentialDecay", initial_learning_rate=2.0, decay_steps=10, decay_rate=0.9), {}),
    ("lion", _s("PolynomialDecay", initial_learning_rate=0.02, decay_steps=150), {"clipnorm": 2.0}),
]


@pytest.mark.parametrize("optimizer,spec,hp", PATHS, ids=[f"{o}-{s['class_name']}" for o, s, _ in PATHS])
def test_path_under_a_schedule_matches_keras(optimizer, spec, hp):
    start = (-1.5, 2.0)
    steps = 200 if _uses_cond(spec) else 250
    ours = optviz.simulate(optimizer, "rosenbrock", start, steps, learning_rate=spec, **hp)
    theirs, rates = keras_run(optimizer, "rosenbrock", start, steps, learning_rate=spec, **hp)
    assert len(set(rates.tolist())) >= 3  # the rate really changed along the way
    compare_paths(ours, theirs, rates)


def test_ftrl_fails_where_keras_fails_when_a_schedule_reaches_zero():
    # Ftrl divides by the learning rate (beta / (2 lr), sigma / lr): Keras's own path turns
    # NaN the step a schedule reaches 0, and so does ours, at the same step.
    spec = _s("CosineDecay", initial_learning_rate=0.1, decay_steps=40)
    ours = optviz.simulate("ftrl", "quadratic", None, 60, learning_rate=spec)
    theirs, rates = keras_run("ftrl", "quadratic", optviz.get_surface("quadratic").default_start, 60,
                              learning_rate=spec)
    assert ours.diverged_at == 41 and not np.all(np.isfinite(theirs[41]))
    compare_paths(ours, theirs, rates)


# --- the learning rate on the Trajectory ----------------------------------------------------


def test_trajectory_keeps_the_learning_rate_of_every_step():
    constant = optviz.simulate("adam", "quadratic", None, 40, learning_rate=0.03)
    assert constant.learning_rate.shape == (41,) and constant.learning_rate.dtype == np.float32
    assert np.all(constant.learning_rate == np.float32(0.03))
    spec = SPECS["cosine_warmup"]
    raced = optviz.race("quadratic", None, 40, {"lion": {"learning_rate": spec}, "adam": {"learning_rate": 0.03}})
    np.testing.assert_array_equal(raced["lion"].learning_rate, schedules.values(spec, 41))
    np.testing.assert_array_equal(raced["adam"].learning_rate, constant.learning_rate)
    # The first step uses the schedule at iteration 0, i.e. initial_learning_rate.
    assert raced["lion"].learning_rate[0] == np.float32(0.01)
    assert raced["lion"].hyperparameters["learning_rate"]["config"]["warmup_steps"] == 17
    # A run that diverges keeps the rates up to its last finite point, like its path.
    short = optviz.simulate("sgd", "quadratic", None, 40, learning_rate=spec)
    assert short.diverged_at is not None and len(short.learning_rate) == len(short.path)


def test_a_schedule_changes_the_path_as_its_rate_says():
    # PiecewiseConstantDecay with one piece is the constant rate, bit for bit.
    flat = _s("PiecewiseConstantDecay", boundaries=[1000], values=[0.02, 0.5])
    a = optviz.simulate("adam", "rosenbrock", None, 200, learning_rate=flat)
    b = optviz.simulate("adam", "rosenbrock", None, 200, learning_rate=0.02)
    np.testing.assert_array_equal(a.path, b.path)
    stepped = _s("PiecewiseConstantDecay", boundaries=[100], values=[0.02, 0.001])
    c = optviz.simulate("adam", "rosenbrock", None, 200, learning_rate=stepped)
    np.testing.assert_array_equal(c.path[:102], b.path[:102])  # iterations 0..100 use 0.02
    assert not np.array_equal(c.path[102:], b.path[102:])


def test_sweep_takes_schedules_as_rows():
    rows = [0.01, SPECS["cosine"], SPECS["piecewise"]]
    result = optviz.sweep("nadam", "rosenbrock", None, 150, rows, [0.5, 0.9])
    assert result.final_loss.shape == (3, 2)
    assert result.learning_rate_schedules[0] is None
    assert result.learning_rate_schedules[1]["class_name"] == "CosineDecay"
    np.testing.assert_allclose(result.learning_rates, [0.01, 0.1, 0.1])
    for i, rate in enumerate(rows):
        for j, beta_1 in enumerate([0.5, 0.9]):
            tr = optviz.simulate("nadam", "rosenbrock", None, 150, learning_rate=rate, beta_1=beta_1)
            assert result.final_loss[i, j] == pytest.approx(tr.final_loss, rel=1e-5)


# --- Keras code -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SPECS)
def test_keras_code_builds_the_same_schedule(name):
    spec = SPECS[name]
    code = schedules.keras_code(spec)
    assert code.startswith(f"keras.optimizers.schedules.{spec['class_name']}(")
    built = eval(code, {"keras": keras})  # noqa: S307 - our own output
    assert built.get_config() == {**schedules.parse(spec)["config"]}


def test_keras_code_writes_required_fields_and_non_defaults_only():
    code = schedules.keras_code(_s("CosineDecay", initial_learning_rate=0.1, decay_steps=200))
    assert code == "keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.1, decay_steps=200)"
    opt = optviz.get_optimizer("sgd")
    code = opt.keras_code({"learning_rate": _s("ExponentialDecay", initial_learning_rate=0.1, decay_steps=100,
                                               decay_rate=0.5, staircase=True), "momentum": 0.9, "clipnorm": 1.0})
    assert code == ("keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay("
                    "initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5, staircase=True), momentum=0.9, "
                    "clipnorm=1.0)")
    built = eval(code, {"keras": keras})  # noqa: S307
    assert built.clipnorm == 1 and isinstance(built.learning_rate, type(built.learning_rate))


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,needle",
    [
        (_s("CosineDecayWithRestarts", initial_learning_rate=0.1, decay_steps=10), "CosineDecayWithRestarts"),
        ({"config": {"initial_learning_rate": 0.1}}, "class_name"),
        ({"class_name": "CosineDecay"}, "config"),
        ({"class_name": "CosineDecay", "config": [1, 2]}, "config"),
        ({"class_name": "CosineDecay", "config": {}, "extra": 1}, "extra"),
        (_s("CosineDecay", initial_learning_rate=0.1), "decay_steps"),
        (_s("CosineDecay", decay_steps=10), "initial_learning_rate"),
        (_s("CosineDecay", initial_learning_rate=0.1, decay_steps=0), "decay_steps"),
        (_s("CosineDecay", initial_learning_rate=0.1, decay_steps=-5), "decay_steps"),
        (_s("CosineDecay", initial_learning_rate=0.1, decay_steps="ten"), "decay_steps"),
        (_s("CosineDecay", initial_learning_rate=-0.1, decay_steps=10), "initial_learning_rate"),
        (_s("CosineDecay", initial_learning_rate=float("nan"), decay_steps=10), "initial_learning_rate"),
        (_s("CosineDecay", initial_learning_rate=0.1, decay_steps=10, alpha=1.5), "alpha"),
        (_s("CosineDecay", initial_learning_rate=0.1, decay_steps=10, warmup_target=-1.0), "warmup_target"),
        (_s("CosineDecay", initial_learning_rate=0.1, decay_steps=10, warmup_steps=-1), "warmup_steps"),
        (_s("CosineDecay", initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5), "decay_rate"),
        (_s("ExponentialDecay", initial_learning_rate=0.1, decay_steps=10), "decay_rate"),
        (_s("ExponentialDecay", initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, staircase="yes"),
         "staircase"),
        (_s("PolynomialDecay", initial_learning_rate=0.1, decay_steps=10, cycle=2), "cycle"),
        (_s("InverseTimeDecay", initial_learning_rate=0.1, decay_steps=10, decay_rate=-1.0), "decay_rate"),
        (_s("CosineDecayRestarts", initial_learning_rate=0.1, first_decay_steps=10, t_mul=0.0), "t_mul"),
        (_s("CosineDecayRestarts", initial_learning_rate=0.1, decay_steps=10), "decay_steps"),
        (_s("PiecewiseConstantDecay", boundaries=[10, 20], values=[0.1, 0.01]), "values"),
        (_s("PiecewiseConstantDecay", boundaries=[20, 10], values=[0.1, 0.01, 0.001]), "boundaries"),
        (_s("PiecewiseConstantDecay", boundaries=[10.5], values=[0.1, 0.01]), "boundaries"),
        (_s("PiecewiseConstantDecay", boundaries=[], values=[0.1]), "boundaries"),
        (_s("PiecewiseConstantDecay", boundaries="10", values=[0.1, 0.01]), "boundaries"),
        (_s("PiecewiseConstantDecay", boundaries=[10], values=[0.1, -0.01]), "values"),
        (_s("PiecewiseConstantDecay", boundaries=list(range(65)), values=[0.1] * 66), "boundaries"),
        (_s("PiecewiseConstantDecay", values=[0.1]), "boundaries"),
        (_s("CosineDecay", initial_learning_rate=0.1, decay_steps=10, name=3), "name"),
    ],
)
def test_bad_schedule_is_a_value_error_naming_it(spec, needle):
    with pytest.raises(ValueError, match=needle):
        schedules.parse(spec)
    with pytest.raises(ValueError, match=needle):
        optviz.simulate("adam", "quadratic", None, 5, learning_rate=spec)
    with pytest.raises(ValueError, match=needle):
        optviz.sweep("adam", "quadratic", None, 5, [0.1, spec], [0.9])


def test_bad_schedule_in_a_race_names_the_optimizer():
    with pytest.raises(ValueError, match=r"lion: `learning_rate`.*Triangle"):
        optviz.race("quadratic", None, 5, {"lion": {"learning_rate": {"class_name": "Triangle", "config": {}}}})
    with pytest.raises(ValueError, match="learning_rate"):
        optviz.simulate("adam", "quadratic", None, 5, learning_rate=[0.1, 0.2])


def test_serialized_form_with_module_and_registered_name_is_accepted():
    spec = keras.optimizers.schedules.serialize(_keras_schedule(SPECS["restarts"]))
    assert "module" in spec and "registered_name" in spec
    np.testing.assert_array_equal(schedules.values(spec, 50), schedules.values(SPECS["restarts"], 50))


# --- compilation ----------------------------------------------------------------------------


def test_changing_a_schedule_s_floats_or_class_never_compiles():
    optviz.race("quadratic", None, 200, {"sgd": {"learning_rate": SPECS["cosine"]}, "adam": None, "lion": None})
    optviz.sweep("adam", "quadratic", None, 200, [0.01, SPECS["piecewise"]], [0.5, 0.9])

    def moves():
        for i in range(3):
            spec = {
                0: _s("CosineDecay", initial_learning_rate=0.05 + i, decay_steps=30 + i, alpha=0.1 * i,
                      warmup_target=0.2, warmup_steps=5 + i),
                1: _s("ExponentialDecay", initial_learning_rate=0.02, decay_steps=3.5, decay_rate=0.9, staircase=True),
                2: _s("PiecewiseConstantDecay", boundaries=[5, 10, 20, 40], values=[0.1, 0.05, 0.01, 0.005, 0.001]),
            }[i]
            other = _s("CosineDecayRestarts", initial_learning_rate=0.01 * (i + 1), first_decay_steps=7 + i,
                       t_mul=1.0 + i * 0.5, m_mul=0.9)
            optviz.race("quadratic", (1.0, -0.5 - i), 190 + i,
                        {"sgd": {"learning_rate": spec, "momentum": 0.5}, "adam": {"learning_rate": other},
                         "lion": {"learning_rate": _s("InverseTimeDecay", initial_learning_rate=0.01, decay_steps=3,
                                                      decay_rate=0.1 * i, staircase=bool(i % 2))},
                         "nadam": {"learning_rate": _s("PolynomialDecay", initial_learning_rate=0.01,
                                                       decay_steps=20 + i, cycle=bool(i % 2), power=2.0)}})
            optviz.sweep("adam", "quadratic", (0.5, 0.5), 190, [spec, other, 0.03 * (i + 1)], [0.1, 0.8])

    assert _count_compiles(moves) == []
