"""PyTorch's and optax's optimizers, stepped next to the real frameworks.

The references: ``torch.optim.<Class>([w])`` stepping a 2-element float32 tensor whose
``.grad`` is the surface's gradient (the CPU build, so PyTorch's single-tensor path), and
``optax.<alias>(...)``'s ``update`` + ``apply_updates`` (jitted, as optax runs) on the same point. The
gradient is the surface's own, op by op (as for the Keras reference). Every listed
optimizer, at its framework's defaults and at two other settings each, on Rosenbrock, the
saddle and the quadratic: the first 50 positions to 1e-4 relative, the whole path within
1e-2 * (1 + |x|), and divergence at the same step.
"""

import keras_reference  # noqa: F401  (first: KERAS_BACKEND=jax)
import numpy as np
import pytest
from framework_reference import SURFACES, compare, optax_path, torch_path

import optviz
from optviz.optimizers import FRAMEWORK_OPTIMIZERS
from optviz.optimizers.pytorch import fma
from optviz.rounding import keras_rounded_jit

STEPS = 200

# Two settings besides the defaults for each: every flag and every hyperparameter that
# changes the rule (weight decay both ways, amsgrad, centered, nesterov, ...) at least once.
# PyTorch's paths are bit-identical throughout for 32 of these 81 runs (every SGD run) and
# for tens of steps in most others: optviz fuses what PyTorch's CPU kernels fuse (lerp,
# addcmul, add with alpha) but computes in float32 the scalars PyTorch computes in double
# (lr / (1 - beta1 ** t), its square roots), and jitted optax lets XLA fuse products that
# optviz rounds. A chaotic orbit (Adamax at a large rate circling Rosenbrock's minimum)
# grows such an ulp into more than 1e-2: settings here stay off such orbits.
PYTORCH_SETTINGS = {
    "sgd": [{"lr": 0.002, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05},
            {"lr": 0.001, "momentum": 0.9, "nesterov": True}],
    "adagrad": [{"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5, "eps": 1e-4},
                {"lr": 0.05, "weight_decay": 0.1}],
    "rmsprop": [{"lr": 0.003, "alpha": 0.9, "momentum": 0.5, "centered": True, "eps": 1e-5},
                {"lr": 0.001, "weight_decay": 0.1, "momentum": 0.2}],
    "adam": [{"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-4, "amsgrad": True},
             {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}],
    "adamw": [{"lr": 0.05, "weight_decay": 0.1}, {"lr": 0.02, "betas": (0.5, 0.9), "amsgrad": True}],
    "adamax": [{"lr": 0.02, "betas": (0.7, 0.95), "eps": 1e-3}, {"lr": 0.02, "weight_decay": 0.1}],
    "nadam": [{"lr": 0.02, "momentum_decay": 0.04, "betas": (0.8, 0.99)},
              {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}],
    "radam": [{"lr": 0.05, "betas": (0.8, 0.99)}, {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}],
    "adadelta": [{"lr": 0.5, "rho": 0.8, "eps": 1e-4}, {"lr": 2.0, "weight_decay": 0.05}],
}
OPTAX_SETTINGS = {
    "sgd": [{"learning_rate": 0.002, "momentum": 0.8}, {"learning_rate": 0.001, "momentum": 0.9, "nesterov": True}],
    "adagrad": [{"learning_rate": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-4},
                {"learning_rate": 0.3, "initial_accumulator_value": 0.0}],
    "rmsprop": [{"learning_rate": 0.003, "decay": 0.9, "centered": True, "momentum": 0.5},
                {"learning_rate": 0.01, "eps_in_sqrt": False, "initial_scale": 0.1, "momentum": 0.3,
                 "nesterov": True}],
    "adam": [{"learning_rate": 0.05, "b1": 0.8, "b2": 0.99, "eps_root": 1e-8},
             {"learning_rate": 0.02, "nesterov": True, "eps": 1e-4}],
    "adamw": [{"learning_rate": 0.05, "weight_decay": 0.1}, {"learning_rate": 0.02, "b1": 0.5, "nesterov": True}],
    "adamax": [{"learning_rate": 0.01, "b1": 0.7, "b2": 0.95, "eps": 1e-3}, {"learning_rate": 0.01, "b1": 0.95}],
    "nadam": [{"learning_rate": 0.02, "b1": 0.8, "b2": 0.99}, {"learning_rate": 0.01, "nesterov": False, "eps": 1e-5}],
    "radam": [{"learning_rate": 0.05, "b1": 0.8, "b2": 0.99},
              {"learning_rate": 0.02, "threshold": 10.0, "nesterov": True}],
    "adadelta": [{"learning_rate": 0.5, "rho": 0.8, "eps": 1e-4}, {"learning_rate": 2.0, "weight_decay": 0.05}],
    "lion": [{"learning_rate": 0.01, "b1": 0.7, "b2": 0.95}, {"learning_rate": 0.003, "weight_decay": 0.1}],
    "lamb": [{"learning_rate": 0.02, "weight_decay": 0.01},
             {"learning_rate": 0.02, "b1": 0.8, "eps": 1e-3, "eps_root": 1e-8}],
    "adabelief": [{"learning_rate": 0.02, "b1": 0.8},
                  {"learning_rate": 0.05, "eps": 1e-8, "eps_root": 1e-10, "nesterov": True}],
}
SETTINGS = {"pytorch": PYTORCH_SETTINGS, "optax": OPTAX_SETTINGS}


REFERENCE = {"pytorch": torch_path, "optax": optax_path}



CASES = [(framework, name, k) for framework, table in SETTINGS.items() for name in table for k in range(3)]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(("framework", "name", "setting"), CASES)
def test_path_matches_the_framework(framework, name, setting, surface):
    hp = {} if setting == 0 else SETTINGS[framework][name][setting - 1]
    start = optviz.get_surface(surface).default_start
    ours = optviz.simulate(name, surface, start, STEPS, framework=framework, surface_params=SURFACES[surface], **hp)
    theirs = REFERENCE[framework](name, surface, start, STEPS, **hp)
    assert ours.framework == framework and len(ours.path) > 1
    compare(ours, theirs)


def test_every_listed_optimizer_is_covered():
    for framework, table in SETTINGS.items():
        assert set(table) == set(FRAMEWORK_OPTIMIZERS[framework])
    assert set(PYTORCH_SETTINGS) == {"sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam",
                                     "adadelta"}
    assert set(OPTAX_SETTINGS) == {"sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam",
                                   "adadelta", "lion", "lamb", "adabelief"}


@pytest.mark.parametrize(("framework", "hp"), [("pytorch", {"lr": 0.01}), ("optax", {"learning_rate": 0.01})])
def test_divergence_step_matches(framework, hp):
    """SGD at 0.01 leaves Rosenbrock's box from (-1.5, 2): at the framework's step."""
    ours = optviz.simulate("sgd", "rosenbrock", (-1.5, 2.0), STEPS, framework=framework, **hp)
    theirs = REFERENCE[framework]("sgd", "rosenbrock", (-1.5, 2.0), STEPS, **hp)
    assert ours.diverged_at is not None
    compare(ours, theirs)


def test_one_race_mixes_frameworks_and_matches_each():
    """Adam in all three frameworks in ONE race: each lane is its own framework's path,
    and they differ (Keras's epsilon-hat, PyTorch's and optax's eps after the correction)."""
    hp = {"adam": {"learning_rate": 0.01}, "pytorch:adam": {"lr": 0.01}, "optax:adam": {"learning_rate": 0.01}}
    runs = optviz.race("rosenbrock", None, STEPS, hp)
    assert [t.framework for t in runs.values()] == ["keras", "pytorch", "optax"]
    start = optviz.get_surface("rosenbrock").default_start
    compare(runs["pytorch:adam"], torch_path("adam", "rosenbrock", start, STEPS, lr=0.01))
    compare(runs["optax:adam"], optax_path("adam", "rosenbrock", start, STEPS, learning_rate=0.01))
    np.testing.assert_allclose(runs["adam"].path, keras_reference.keras_path("adam", "rosenbrock", start, STEPS,
                                                                              learning_rate=0.01), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("surface", ["rosenbrock", "quadratic"])
@pytest.mark.parametrize("setting", [0, 1, 2])
def test_pytorch_sgd_is_bit_identical_throughout(setting, surface):
    """SGD's every step is add(alpha=) and mul_().add_(alpha=), fused multiply-adds in
    PyTorch's CPU kernels: optviz fuses them too, and the paths are the same floats."""
    hp = {} if setting == 0 else PYTORCH_SETTINGS["sgd"][setting - 1]
    start = optviz.get_surface(surface).default_start
    ours = optviz.simulate("sgd", surface, start, STEPS, framework="pytorch", surface_params=SURFACES[surface], **hp)
    theirs = torch_path("sgd", surface, start, STEPS, **hp)
    np.testing.assert_array_equal(ours.path, theirs[:len(ours.path)])


def test_the_fused_multiply_add_rounds_once():
    """optviz's float32 FMA, compiled as the engine compiles it (every product rounded),
    against the exact product and sum in float64, rounded once."""
    rng = np.random.default_rng(0)
    a, b, c = ((rng.standard_normal(20000) * 10.0 ** rng.integers(-3, 4, 20000)).astype(np.float32)
               for _ in range(3))
    exact = (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)
    def fused(a, b, c, n_steps):
        return fma(a, b, c)

    ours = np.asarray(keras_rounded_jit(fused)(a, b, c, np.int32(1)))
    assert np.mean(ours == exact) > 0.999
    assert np.mean(ours == (a * b + c)) < np.mean(ours == exact)  # not the plain two roundings
