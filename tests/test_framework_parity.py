"""PyTorch's and optax's optimizers, stepped next to the real frameworks.

The references: ``torch.optim.<Class>([w])`` stepping a 2-element float32 tensor whose
``.grad`` is the surface's gradient (the CPU build, so PyTorch's single-tensor path), and
``optax.<alias>(...)``'s ``update`` + ``apply_updates`` (jitted, as optax runs) on the same point. The
gradient is the surface's own, op by op (as for the Keras reference). Every listed
optimizer, at its framework's defaults and at two other settings each, on Rosenbrock, the
saddle and the quadratic: the first 50 positions to 1e-4 relative, the whole path within
1e-2 * (1 + |x|), and divergence at the same step.
"""

import functools

import jax
import keras_reference  # noqa: F401  (first: KERAS_BACKEND=jax)
import numpy as np
import optax
import pytest
import torch
from keras_reference import _gradient

import optviz
from optviz.optimizers import FRAMEWORK_OPTIMIZERS, get_optimizer
from optviz.optimizers.pytorch import fma
from optviz.rounding import keras_rounded_jit

STEPS = 200
BOUND = 1e6
SURFACES = {"rosenbrock": None, "saddle": None, "quadratic": {"kappa": 25.0}}

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


@functools.cache
def _grad_fn(surface: str):
    """The surface's gradient, rounded op by op as run eagerly (the Keras reference's
    gradient, compiled with its eager rounding kept: the same numbers, 200 steps in
    milliseconds rather than seconds)."""
    params = optviz.get_surface(surface).resolve_params(SURFACES[surface])
    grad = _gradient(surface, tuple(sorted(params.items())))

    def rounded(w, n_steps):
        return grad(w)

    compiled = keras_rounded_jit(rounded)
    return lambda w: compiled(np.asarray(w, np.float32), np.int32(1))


def torch_path(name: str, surface: str, start, steps: int, **hp) -> np.ndarray:
    """Positions after 0..steps steps of ``torch.optim``'s optimizer (stops once non-finite)."""
    grad = _grad_fn(surface)
    w = torch.nn.Parameter(torch.tensor(np.asarray(start, np.float32)))
    opt = getattr(torch.optim, get_optimizer(name, "pytorch").api_name)([w], **hp)
    out = [w.detach().numpy().copy()]
    for _ in range(steps):
        w.grad = torch.from_numpy(np.array(grad(w.detach().numpy().copy()), np.float32))
        opt.step()
        point = w.detach().numpy().copy()
        out.append(point)
        if not np.all(np.isfinite(point)):
            break
    return np.array(out)


def optax_path(name: str, surface: str, start, steps: int, **hp) -> np.ndarray:
    """Positions after 0..steps steps of ``optax.<name>(...)`` (stops once non-finite)."""
    grad = _grad_fn(surface)
    # optax's learning rate has no default: optviz's starting value is the one compared.
    hp = {"learning_rate": get_optimizer(name, "optax").defaults["learning_rate"], **hp}
    opt = getattr(optax, get_optimizer(name, "optax").api_name)(**hp)

    @jax.jit  # as optax is run; XLA may fuse a product into an FMA here, optviz rounds it
    def step(g, state, w):
        updates, state = opt.update(g, state, w)
        return optax.apply_updates(w, updates), state

    w = jax.numpy.asarray(np.asarray(start, np.float32))
    state = opt.init(w)
    out = [np.asarray(w)]
    for _ in range(steps):
        w, state = step(grad(w), state, w)
        point = np.asarray(w)
        out.append(point)
        if not np.all(np.isfinite(point)):
            break
    return np.array(out)


REFERENCE = {"pytorch": torch_path, "optax": optax_path}


def compare(ours, theirs: np.ndarray):
    """The same divergence step, the first 50 positions to 1e-4 relative, every position
    within 1e-2 * (1 + |x|)."""
    inside = np.all(np.isfinite(theirs), axis=1) & np.all(np.abs(theirs) <= BOUND, axis=1)
    their_divergence = None if inside.all() else int(np.argmin(inside))
    assert ours.diverged_at == their_divergence
    n = len(ours.path)
    assert n == (len(theirs) if their_divergence is None else their_divergence)
    np.testing.assert_allclose(ours.path[:50], theirs[:min(50, n)], rtol=1e-4, atol=1e-6)
    gap = np.abs(ours.path - theirs[:n])
    worst = np.max(gap - 1e-2 * (1 + np.abs(theirs[:n])))
    assert worst <= 0, f"a position differs by more than 1e-2 * (1 + |x|): {np.max(gap)}"


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
