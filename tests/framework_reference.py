"""The independent references for PyTorch's and optax's optimizers: ``torch.optim`` stepping
a 2-element float32 tensor whose ``.grad`` is the surface's gradient (the CPU build, so
PyTorch's single-tensor path), and ``optax``'s ``update`` + ``apply_updates`` (jitted, as
optax runs) on the same point; the gradient is the surface's own, op by op (as for the
Keras reference, tests/keras_reference.py). Shared by the parity and printed-code tests.
"""

import functools

import jax
import keras_reference  # noqa: F401  (first: KERAS_BACKEND=jax)
import numpy as np
import optax
import torch
from keras_reference import _gradient

import optviz
from optviz.optimizers import get_optimizer
from optviz.rounding import keras_rounded_jit

BOUND = 1e6  # past this a path has diverged (optviz's own bound)
SURFACES = {"rosenbrock": None, "saddle": None, "quadratic": {"kappa": 25.0}}  # the surfaces compared, their params


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
