"""The linear theory of SGD, momentum and Nesterov on a quadratic, and sharpness anywhere.

On a quadratic f(w) = ½ (w − w*)ᵀ H (w − w*) + f* the gradient is H (w − w*), so in the
eigenbasis of H every optimizer that is linear in its gradient splits into one 2×2
iteration per eigenvalue λ. With s = η·λ and Keras's rules (``optviz.optimizers.sgd``):

* heavy ball, ``SGD(momentum=μ)``: m ← μm − s·w, w ← w + m, so
  [w, m] ← [[1 − s, μ], [−s, μ]] [w, m]; characteristic z² − (1 + μ − s) z + μ;
* Nesterov, ``SGD(momentum=μ, nesterov=True)``: m ← μm − s·w, w ← w + μ·m_new − s·w, so
  [w, m] ← [[1 − s(1 + μ), μ²], [−s, μ]] [w, m]; characteristic
  z² − (1 + μ)(1 − s) z + μ(1 − s).

Both roots lie in the unit disc iff (Jury) 1 − T + D > 0, 1 + T + D > 0 and |D| < 1, T the
trace and D the determinant. Heavy ball: s > 0 and s < 2(1 + μ). Nesterov: 1 − T + D = s,
1 + T + D = 2(1 + μ) − s(1 + 2μ), so s > 0 and s < 2(1 + μ)/(1 + 2μ). The loss gap then
falls like ρ^(2k), ρ the largest root's modulus over the eigenvalues (the spectral radius).

Plain gradient descent is heavy ball with μ = 0. Its best learning rate is 2/(λmax + λmin)
(ρ = (κ − 1)/(κ + 1)); heavy ball's best is η = 4/(√λmax + √λmin)², μ = ((√κ − 1)/(√κ + 1))²
(ρ = (√κ − 1)/(√κ + 1)); Keras's Nesterov is Nesterov's accelerated gradient with β = μ,
whose best on a quadratic is η = 4/(3λmax + λmin), μ = (√(3κ + 1) − 2)/(√(3κ + 1) + 2)
(ρ = 1 − 2/√(3κ + 1); Lessard, Recht and Packard 2016).

A surface is *quadratic* here when its Hessian is the same at several points of its box and
the function equals its second-order Taylor expansion there (checked in float32, as the
engine computes). The ill-conditioned quadratic, Booth and typed formulas such as
``(x + 2*y)**2 + x**2`` are; Rosenbrock and Rastrigin are not.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .surfaces import Surface, get_surface

RULES = ("sgd", "nesterov")  # the optimizers with a linear theory (SGD with momentum 0 is gradient descent)
HESSIAN_RTOL = 1e-4  # how far apart (relative, float32) two Hessians of a quadratic may come out
TAYLOR_RTOL = 1e-4  # how far a quadratic's value may stray from its Taylor expansion (relative)


@dataclass(frozen=True)
class Quadratic:
    """A surface that is exactly quadratic: its constant Hessian, that Hessian's eigenvalues
    (ascending) and, when it is positive definite, its minimum."""

    hessian: np.ndarray  # (2, 2) float64
    eigenvalues: tuple[float, float]  # λmin, λmax
    minimum: tuple[float, float] | None  # the point; None unless positive definite
    min_value: float | None

    @property
    def positive_definite(self) -> bool:
        return self.eigenvalues[0] > 0

    @property
    def kappa(self) -> float:
        """The condition number λmax/λmin (inf unless positive definite)."""
        low, high = self.eigenvalues
        return high / low if low > 0 else math.inf


def largest_eigenvalue_2x2(h):
    """The larger eigenvalue of a symmetric 2×2 matrix ``h`` (..., 2, 2), in closed form (jit-able)."""
    a, b, d = h[..., 0, 0], 0.5 * (h[..., 0, 1] + h[..., 1, 0]), h[..., 1, 1]
    half = 0.5 * (a - d)
    return 0.5 * (a + d) + jnp.sqrt(half * half + b * b)


def hessian_fn(surface: Surface):
    """``hessian(point, params) -> (2, 2)`` of ``surface``: ``jax.hessian``'s matrix, taken
    forward over forward (with two inputs, a third of the cost of its forward over reverse)."""
    return jax.jacfwd(jax.jacfwd(lambda point, params: surface.fn(point[0], point[1], params)))


def sharpness_fn(surface: Surface):
    """``sharpness(point, params)``: the largest eigenvalue of the Hessian at ``point``."""
    hessian = hessian_fn(surface)
    return lambda point, params: largest_eigenvalue_2x2(hessian(point, params))


@functools.lru_cache(maxsize=64)
def _probe_programs(surface: Surface):
    # Compiled once a surface: its parameters (κ) are arguments, so a new κ runs them again.
    hessian = jax.jit(jax.vmap(hessian_fn(surface), in_axes=(0, None)))
    value_and_grad = jax.jit(jax.vmap(jax.value_and_grad(lambda w, q: surface.fn(w[0], w[1], q)), in_axes=(0, None)))
    return hessian, value_and_grad


@functools.lru_cache(maxsize=256)
def _probe(surface: Surface, params: tuple) -> Quadratic | None:
    p = {k: jnp.float32(v) for k, v in params}
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    half = np.array([(x1 - x0) / 2, (y1 - y0) / 2])
    # Points spread over the box, none on a symmetry axis of a textbook surface.
    offsets = np.array([[0.0, 0.0], [0.61, -0.37], [-0.53, 0.71], [0.29, 0.83], [-0.77, -0.45]])
    points = (centre + offsets * half).astype(np.float32)
    hessian, value_and_grad = _probe_programs(surface)
    hs = np.asarray(hessian(points, p), np.float64)
    values, grads = (np.asarray(a, np.float64) for a in value_and_grad(points, p))
    if not (np.all(np.isfinite(hs)) and np.all(np.isfinite(values)) and np.all(np.isfinite(grads))):
        return None
    h = hs[0]
    scale = max(float(np.max(np.abs(h))), 1e-30)
    if np.max(np.abs(hs - h)) > HESSIAN_RTOL * scale or scale <= 1e-30:
        return None
    d = points.astype(np.float64) - points[0]
    taylor = values[0] + d @ grads[0] + 0.5 * np.einsum("ni,ij,nj->n", d, h, d)
    value_scale = max(float(np.max(np.abs(values))), float(np.max(np.abs(taylor))), 1e-30)
    if np.max(np.abs(taylor - values)) > TAYLOR_RTOL * value_scale:
        return None
    h = 0.5 * (h + h.T)
    low, high = (float(v) for v in np.linalg.eigvalsh(h))
    if low > 0:
        step = np.linalg.solve(h, grads[0])
        point = points[0] - step
        minimum, min_value = (float(point[0]), float(point[1])), float(values[0] - 0.5 * grads[0] @ step)
    else:
        minimum = min_value = None
    return Quadratic(h, (low, high), minimum, min_value)


def quadratic(surface: str | Surface, params: Mapping[str, float] | None = None) -> Quadratic | None:
    """The surface's constant Hessian and its eigenvalues if it is exactly quadratic, else None."""
    surface = get_surface(surface)
    values = surface.resolve_params(params)
    return _probe(surface, tuple(sorted((k, float(v)) for k, v in values.items())))


# --- the iteration on one eigenvalue ---------------------------------------------------------


def _check_rule(rule: str) -> str:
    if rule not in RULES:
        raise ValueError(f"`rule` must be one of {', '.join(RULES)}, got {rule!r}")
    return rule


def iteration_matrix(rule: str, learning_rate: float, momentum: float, eigenvalue: float) -> np.ndarray:
    """The 2×2 matrix taking [w − w*, m] to its value after one step, along an eigenvector
    of eigenvalue λ (``rule`` "sgd": Keras's heavy ball, "nesterov": Keras's Nesterov)."""
    s, mu = learning_rate * eigenvalue, momentum
    if _check_rule(rule) == "sgd":
        return np.array([[1 - s, mu], [-s, mu]], np.float64)
    return np.array([[1 - s * (1 + mu), mu * mu], [-s, mu]], np.float64)


def _trace_det(rule: str, s, mu):
    if _check_rule(rule) == "sgd":
        return 1 + mu - s, mu
    return (1 + mu) * (1 - s), mu * (1 - s)


def spectral_radius(rule: str, learning_rate, momentum, eigenvalues) -> np.ndarray:
    """The largest |root| of the iteration over every eigenvalue: the predicted linear rate
    (the distance to the minimum shrinks like ρ^k, the loss gap like ρ^(2k)). Broadcasts
    over ``learning_rate`` and ``momentum``."""
    lr = np.asarray(learning_rate, np.float64)
    mu = np.asarray(momentum, np.float64)
    radius = np.zeros(np.broadcast(lr, mu).shape)
    for lam in eigenvalues:
        trace, det = _trace_det(rule, lr * lam, mu)
        root = np.sqrt(trace * trace - 4 * det + 0j)
        radius = np.maximum(radius, np.maximum(np.abs(trace + root), np.abs(trace - root)) / 2)
    return radius


def stability_limit(rule: str, momentum, largest_eigenvalue: float):
    """The learning rate at which the iteration turns unstable for this momentum: stable iff
    0 < η < this (heavy ball 2(1 + μ)/λmax, Nesterov 2(1 + μ)/((1 + 2μ) λmax))."""
    mu = np.asarray(momentum, np.float64)
    if _check_rule(rule) == "sgd":
        return 2 * (1 + mu) / largest_eigenvalue
    return 2 * (1 + mu) / ((1 + 2 * mu) * largest_eigenvalue)


def stable(rule: str, learning_rate, momentum, eigenvalues) -> np.ndarray:
    """Whether the iteration converges (every eigenvalue positive, η below the limit, μ < 1)."""
    low, high = min(eigenvalues), max(eigenvalues)
    lr = np.asarray(learning_rate, np.float64)
    mu = np.asarray(momentum, np.float64)
    return (low > 0) & (lr > 0) & (lr < stability_limit(rule, mu, high)) & (mu < 1)


@dataclass(frozen=True)
class Setting:
    """A learning rate and momentum with the rate it predicts."""

    learning_rate: float
    momentum: float
    rate: float  # the spectral radius


def optimal_setting(rule: str, eigenvalues, *, momentum: bool = True) -> Setting:
    """The settings with the smallest spectral radius: ``momentum`` False, plain gradient
    descent's best learning rate (μ = 0); else the best (η, μ) pair for ``rule``."""
    low, high = min(eigenvalues), max(eigenvalues)
    if low <= 0:
        raise ValueError(f"`eigenvalues` must be positive for an optimal setting, got {tuple(eigenvalues)}")
    kappa = high / low
    if not momentum:
        lr, mu = 2 / (high + low), 0.0
    elif _check_rule(rule) == "sgd":
        lr = 4 / (math.sqrt(high) + math.sqrt(low)) ** 2
        mu = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    else:
        root = math.sqrt(3 * kappa + 1)
        lr, mu = 4 / (3 * high + low), (root - 2) / (root + 2)
    # Nesterov's formula gives a small negative μ below κ = 1; Keras takes μ in [0, 1].
    mu = max(mu, 0.0)
    return Setting(lr, mu, float(spectral_radius(rule, lr, mu, (low, high))))


def predicted_gap(rate: float, first_gap: float, steps: int) -> np.ndarray:
    """The loss gap the linear rate predicts after 0..steps steps, from ``first_gap`` at step 0."""
    return first_gap * np.power(float(rate), 2.0 * np.arange(steps + 1))


def sharpness_limit(rule: str, learning_rate: float, momentum: float) -> float:
    """The sharpness past which a step of this size is unstable: 2/η for gradient descent,
    2(1 + μ)/η for heavy ball, 2(1 + μ)/((1 + 2μ) η) for Nesterov (the stability limit,
    read for λ instead of η)."""
    return float(stability_limit(rule, momentum, learning_rate))


def linear_rule(trajectory) -> str | None:
    """The rule whose linear theory describes this run (``optviz.Trajectory``): "sgd" or
    "nesterov" with a constant learning rate, no noise, clipping or weight decay; else None."""
    hp = trajectory.hyperparameters
    if trajectory.optimizer not in RULES or trajectory.noise:
        return None
    if not isinstance(hp.get("learning_rate"), (int, float)):  # a schedule
        return None
    if any(hp.get(name) for name in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")):
        return None
    return trajectory.optimizer


def predicted_rate(trajectory, quadratic_: Quadratic | None) -> float | None:
    """The spectral radius for this run on this quadratic, or None where the theory says
    nothing (no positive definite quadratic, another rule, see :func:`linear_rule`)."""
    rule = linear_rule(trajectory)
    if rule is None or quadratic_ is None or not quadratic_.positive_definite:
        return None
    hp = trajectory.hyperparameters
    return float(spectral_radius(rule, float(hp["learning_rate"]), float(hp["momentum"]), quadratic_.eigenvalues))
