"""simulate / race / sweep: Keras's update rules run by ``lax.scan``, compiled once.

Compilation is keyed only on what changes the program's shape: the surface, the
number of lanes (rounded up) and the number of steps (rounded up to a power of two).
Learning rates, momenta, every other hyperparameter, booleans such as ``amsgrad``,
the start point, the surface's parameters, the noise and its seed are all passed as
arrays, so changing them runs the compiled program again without compiling.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .optimizers import ALL_FLOAT_HPARAMS, COMPLEMENTS, MAX_SLOTS, OPTIMIZERS, Optimizer, get_optimizer
from .surfaces import Surface, get_surface

MAX_STEPS = 100_000
BOUND = 1e6  # a point with |x| or |y| beyond this has diverged
DEFAULT_TOLERANCE = 1e-3
_OPTIMIZER_ORDER = tuple(OPTIMIZERS)  # lax.switch branch index -> optimizer name


# --- results ----------------------------------------------------------------------


@dataclass
class Trajectory:
    """One optimizer's run. Arrays are NumPy, finite, and share their first axis.

    ``path[k]`` is the point after ``k`` steps (``path[0]`` is the start), ``loss[k]``
    the loss there, ``gradient[k]`` the gradient the next step uses there (noise
    included), ``state[name][k]`` the optimizer's variable ``name`` after ``k`` steps.
    A run that diverged ends at its last finite point inside |x|, |y| <= 1e6, and
    ``diverged_at`` is the step that left it (else None).
    """

    optimizer: str
    surface: str
    hyperparameters: dict
    path: np.ndarray
    loss: np.ndarray
    gradient: np.ndarray
    state: dict[str, np.ndarray]
    steps: int
    diverged_at: int | None
    min_value: float | None = None
    minima: tuple = ()
    noise: float = 0.0
    seed: int = 0

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])

    @property
    def final_point(self) -> np.ndarray:
        return self.path[-1]

    def distance_to_minimum(self) -> float | None:
        """Distance from the last point to the nearest known global minimum."""
        if not self.minima:
            return None
        minima = np.asarray(self.minima, dtype=np.float64)
        return float(np.min(np.linalg.norm(minima - self.path[-1], axis=1)))

    def steps_to_tolerance(self, tolerance: float = DEFAULT_TOLERANCE) -> int | None:
        """First step at which loss − min ≤ tolerance (None: never, or no minimum)."""
        if self.min_value is None:
            return None
        hits = np.flatnonzero(self.loss - self.min_value <= tolerance)
        return int(hits[0]) if hits.size else None


@dataclass
class SweepResult:
    """A grid of runs: rows are learning rates, columns are momenta (or beta_1)."""

    optimizer: str
    surface: str
    momentum_name: str | None
    learning_rates: np.ndarray
    momenta: np.ndarray
    final_loss: np.ndarray  # loss at the last finite point (float64)
    steps_to_tolerance: np.ndarray  # int, -1 where never reached
    diverged: np.ndarray  # bool
    diverged_at: np.ndarray  # int, -1 where not diverged
    steps: int
    tolerance: float
    fixed: dict = field(default_factory=dict)


# --- validation -------------------------------------------------------------------


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (numbers.Integral, float, str)):
        raise ValueError(f"`steps` must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    try:
        value = float(steps)
    except ValueError:
        raise ValueError(f"`steps` must be a whole number from 1 to {MAX_STEPS}, got {steps!r}") from None
    if not math.isfinite(value) or value != int(value) or not 1 <= value <= MAX_STEPS:
        raise ValueError(f"`steps` must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    return int(value)


def _check_start(start) -> np.ndarray:
    try:
        point = np.asarray(start, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"`start` must be two numbers (x, y), got {start!r}") from None
    if point.shape != (2,):
        raise ValueError(f"`start` must be two numbers (x, y), got {start!r}")
    if not np.all(np.isfinite(point)):
        raise ValueError(f"`start` must be finite, got {start!r}")
    if np.any(np.abs(point) > BOUND):
        raise ValueError(f"`start` must lie within |x|, |y| <= {BOUND:g}, got {start!r}")
    return point


def _check_noise(noise, seed) -> tuple[float, int]:
    try:
        std = float(noise)
    except (TypeError, ValueError):
        raise ValueError(f"`noise` must be a number >= 0, got {noise!r}") from None
    if not math.isfinite(std) or std < 0:
        raise ValueError(f"`noise` must be a finite number >= 0, got {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"`seed` must be a whole number from 0 to 2**32 - 1, got {seed!r}")
    return std, int(seed)


def _check_tolerance(tolerance) -> float:
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        raise ValueError(f"`tolerance` must be a positive number, got {tolerance!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"`tolerance` must be a positive number, got {tolerance!r}")
    return value


# --- compiled programs --------------------------------------------------------------


def _bucket(n: int, minimum: int) -> int:
    """Round up to a power of two (at least ``minimum``), so nearby sizes share a program."""
    return max(minimum, 1 << (int(n) - 1).bit_length())


def _hp_arrays(values: Sequence[Mapping[str, float | bool]]) -> dict[str, np.ndarray]:
    """Per-lane hyperparameters as float32 arrays, one entry per name any optimizer uses."""
    columns = {
        name: np.array([float(v.get(name, filler)) for v in values], np.float64)
        for name, filler in ALL_FLOAT_HPARAMS.items()
    }
    return _hp_columns(columns)


def _hp_columns(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """float64 columns (one value per lane) -> the float32 ``hp`` the update rules read."""
    out = {name: np.asarray(col, np.float32) for name, col in columns.items()}
    for name in COMPLEMENTS:
        # Keras computes 1 - beta in Python double and casts the result to float32.
        out["1-" + name] = np.asarray(1.0 - np.asarray(columns[name], np.float64), np.float32)
    return out


def _surface_params(surface: Surface, params: Mapping[str, float]) -> dict[str, np.ndarray]:
    return {k: np.float32(v) for k, v in params.items()}


def _value_and_grad(surface: Surface):
    def loss(point, params):
        return surface.fn(point[0], point[1], params)

    return jax.value_and_grad(loss)


def _noise(key, step, std):
    return std * jax.random.normal(jax.random.fold_in(key, step), (2,), jnp.float32)


def _noise_table(key, steps, std):
    """Every step's noise in one vectorised draw (the same numbers as one draw a step),
    and none when the noise is off: a random-number hash per step inside the scan was
    most of a race's run time."""
    return jax.lax.cond(
        std > 0,
        lambda: jax.vmap(lambda step: _noise(key, step, std))(steps),
        lambda: jnp.zeros((steps.shape[0], 2), jnp.float32),
    )


@functools.lru_cache(maxsize=64)
def _race_program(surface: Surface, lanes: int, steps: int):
    """One jitted program: ``lanes`` optimizers side by side for ``steps`` steps."""
    value_and_grad = jax.vmap(_value_and_grad(surface), in_axes=(0, None))
    branches = [OPTIMIZERS[name].update for name in _OPTIMIZER_ORDER]

    def lane_update(index, g, w, slots, t, hp):
        return jax.lax.switch(index, branches, g, w, slots, t, hp)

    update = jax.vmap(lane_update, in_axes=(0, 0, 0, 0, None, 0))

    @jax.jit
    def run(index, start, slots, hp, params, noise_std, seed):
        key = jax.random.PRNGKey(seed)
        w0 = jnp.broadcast_to(start, (lanes, 2))
        all_steps = jnp.arange(steps + 1, dtype=jnp.uint32)
        noise = _noise_table(key, all_steps, noise_std)

        def body(carry, xs):
            w, slots = carry
            step, step_noise = xs
            loss, g = value_and_grad(w, params)
            g = g + step_noise
            t = (step + 1).astype(jnp.float32)
            w_next, slots_next = update(index, g, w, slots, t, hp)
            return (w_next, slots_next), (w_next, loss, g, slots_next)

        (w_last, _), (ws, losses, grads, states) = jax.lax.scan(body, (w0, slots), (all_steps[:-1], noise[:-1]))
        loss_last, g_last = value_and_grad(w_last, params)
        g_last = g_last + noise[-1]
        path = jnp.concatenate([w0[None], ws])  # (steps + 1, lanes, 2)
        loss = jnp.concatenate([losses, loss_last[None]])
        grad = jnp.concatenate([grads, g_last[None]])
        state = jnp.concatenate([slots[None], states])
        return path, loss, grad, state

    return run


def _normalise_optimizers(optimizers) -> list[tuple[str, Optimizer, dict]]:
    """A list of names, or name -> hyperparameters, as validated (label, optimizer, values)."""
    if isinstance(optimizers, (str, Optimizer)):
        optimizers = [optimizers]
    if isinstance(optimizers, Mapping):
        items = list(optimizers.items())
    else:
        items = [(name, None) for name in optimizers]
    if not items:
        raise ValueError("`optimizers` must name at least one optimizer")
    out = []
    for label, hp in items:
        optimizer = get_optimizer(label)
        if hp is not None and not isinstance(hp, Mapping):
            raise ValueError(f"{optimizer.name}: hyperparameters must be a mapping, got {hp!r}")
        out.append((optimizer.name, optimizer, optimizer.resolve(hp)))
    names = [label for label, _, _ in out]
    if len(set(names)) != len(names):
        raise ValueError(f"`optimizers` names an optimizer twice: {names}")
    return out


def race(
    surface: str | Surface,
    start: Sequence[float] | None,
    steps: int,
    optimizers: Iterable[str] | Mapping[str, Mapping[str, object] | None],
    *,
    noise: float = 0.0,
    seed: int = 0,
    surface_params: Mapping[str, float] | None = None,
    compile_steps: int | None = None,
) -> dict[str, Trajectory]:
    """Run several optimizers from one start in ONE compiled call.

    ``optimizers`` is a list of names (Keras defaults) or a mapping name ->
    hyperparameters. Returns name -> :class:`Trajectory`, in the order given.
    Every optimizer sees the same gradient noise (same ``seed``), so a race is fair.
    ``compile_steps`` (>= steps) runs the program that many steps and keeps the first
    ``steps``: a caller whose step count moves (a slider) then never compiles again.
    """
    surface = get_surface(surface)
    params = surface.resolve_params(surface_params)
    start = _check_start(surface.default_start if start is None else start)
    steps = _check_steps(steps)
    noise, seed = _check_noise(noise, seed)
    entries = _normalise_optimizers(optimizers)

    lanes = _bucket(len(entries), 8)
    padded = entries + [entries[0]] * (lanes - len(entries))
    index = np.array([_OPTIMIZER_ORDER.index(opt.name) for _, opt, _ in padded], np.int32)
    slots = np.stack([opt.init_slots(values) for _, opt, values in padded])
    hp = _hp_arrays([values for _, _, values in padded])
    length = steps if compile_steps is None else max(steps, _check_steps(compile_steps))
    program = _race_program(surface, lanes, _bucket(length, 64))
    path, loss, grad, state = jax.device_get(
        program(
            index, np.asarray(start, np.float32), slots, hp, _surface_params(surface, params),
            np.float32(noise), np.uint32(seed),
        )
    )
    n = len(entries)
    path, loss = path[: steps + 1, :n], loss[: steps + 1, :n]
    # One pass for every lane; `|x| <= BOUND` is False for NaN and inf as well.
    bad = ~np.isfinite(loss) | ~(np.abs(path) <= BOUND).all(axis=2)
    first_bad = np.where(bad.any(axis=0), bad.argmax(axis=0), -1)
    results = {}
    for lane, (label, optimizer, values) in enumerate(entries):
        end = None if first_bad[lane] < 0 else int(first_bad[lane])
        keep = steps + 1 if end is None else end
        results[label] = Trajectory(
            optimizer=optimizer.name,
            surface=surface.name,
            hyperparameters=dict(values),
            path=np.array(path[:keep, lane]),
            loss=np.array(loss[:keep, lane]),
            gradient=np.array(grad[:keep, lane]),
            state={name: np.array(state[:keep, lane, i]) for i, name in enumerate(optimizer.slot_names)},
            steps=steps,
            diverged_at=end,
            min_value=surface.min_value,
            minima=surface.minima,
            noise=noise,
            seed=seed,
        )
    return results


def simulate(
    optimizer: str | Optimizer,
    surface: str | Surface,
    start: Sequence[float] | None = None,
    steps: int = 200,
    *,
    noise: float = 0.0,
    seed: int = 0,
    surface_params: Mapping[str, float] | None = None,
    **hyperparameters,
) -> Trajectory:
    """Run one optimizer with Keras's update rule; hyperparameters use Keras's names.

    >>> simulate("adam", "rosenbrock", (-1.5, 2), 200, learning_rate=0.01).path.shape
    (201, 2)
    """
    name = get_optimizer(optimizer).name
    return race(
        surface, start, steps, {name: hyperparameters}, noise=noise, seed=seed,
        surface_params=surface_params,
    )[name]


# --- sweep ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _sweep_program(optimizer_name: str, surface: Surface, lanes: int, steps: int):
    """Jitted grid run for one optimizer; keeps only running summaries, not paths."""
    value_and_grad = jax.vmap(_value_and_grad(surface), in_axes=(0, None))
    update = jax.vmap(OPTIMIZERS[optimizer_name].update, in_axes=(0, 0, 0, None, 0))

    @jax.jit
    def run(start, slots, hp, params, noise_std, seed, n_steps, min_value, tolerance):
        key = jax.random.PRNGKey(seed)
        noise = _noise_table(key, jnp.arange(steps, dtype=jnp.uint32), noise_std)
        w0 = jnp.broadcast_to(start, (lanes, 2))
        minus_one = jnp.full((lanes,), -1, jnp.int32)

        def record(step, w, loss, last_loss, diverged_at, reached_at):
            # `|x| <= BOUND` is False for NaN and inf, so it checks finiteness too.
            ok = jnp.all(jnp.abs(w) <= BOUND, axis=1) & jnp.isfinite(loss)
            fresh = (diverged_at < 0) & (step <= n_steps)
            diverged_at = jnp.where(fresh & ~ok, step, diverged_at)
            alive = fresh & ok
            last_loss = jnp.where(alive, loss, last_loss)
            reached_at = jnp.where(alive & (reached_at < 0) & (loss - min_value <= tolerance), step, reached_at)
            return last_loss, diverged_at, reached_at

        def body(carry, xs):
            w, slots, last_loss, diverged_at, reached_at = carry
            step, step_noise = xs
            loss, g = value_and_grad(w, params)
            last_loss, diverged_at, reached_at = record(step, w, loss, last_loss, diverged_at, reached_at)
            w_next, slots_next = update(g + step_noise, w, slots, (step + 1).astype(jnp.float32), hp)
            return (w_next, slots_next, last_loss, diverged_at, reached_at), None

        init = (w0, slots, jnp.zeros((lanes,), jnp.float32), minus_one, minus_one)
        (w, _, last_loss, diverged_at, reached_at), _ = jax.lax.scan(
            body, init, (jnp.arange(steps, dtype=jnp.int32), noise)
        )
        loss, _ = value_and_grad(w, params)
        return record(jnp.int32(steps), w, loss, last_loss, diverged_at, reached_at)

    return run


def sweep(
    optimizer: str | Optimizer,
    surface: str | Surface,
    start: Sequence[float] | None,
    steps: int,
    learning_rates: Sequence[float],
    momenta: Sequence[float] | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    noise: float = 0.0,
    seed: int = 0,
    surface_params: Mapping[str, float] | None = None,
    **fixed,
) -> SweepResult:
    """Run a learning rate × momentum grid in one compiled call.

    For adam and adamax the "momentum" axis is ``beta_1``. An optimizer with no
    momentum-like parameter (adagrad) takes ``momenta=None``: one column.
    Results have shape (len(learning_rates), len(momenta)).
    """
    opt = get_optimizer(optimizer)
    surface = get_surface(surface)
    params = surface.resolve_params(surface_params)
    start = _check_start(surface.default_start if start is None else start)
    steps = _check_steps(steps)
    noise, seed = _check_noise(noise, seed)
    tolerance = _check_tolerance(tolerance)
    axis = opt.momentum_like
    learning_rates = np.atleast_1d(np.asarray(learning_rates, dtype=np.float64))
    if learning_rates.size == 0 or learning_rates.ndim != 1:
        raise ValueError("`learning_rates` must be a non-empty list of numbers")
    if momenta is None:
        momenta = np.array([opt.resolve(fixed).get(axis, np.nan)] if axis else [np.nan])
    else:
        if axis is None:
            raise ValueError(f"`momenta`: {opt.name} has no momentum-like hyperparameter; pass momenta=None")
        momenta = np.atleast_1d(np.asarray(momenta, dtype=np.float64))
        if momenta.size == 0 or momenta.ndim != 1:
            raise ValueError("`momenta` must be a non-empty list of numbers")
    for key in ("learning_rate", axis):
        if key and key in fixed:
            raise ValueError(f"`{key}` is swept; do not also pass it as a fixed value")
    # Validate each swept value once, then lay the grid out as columns (no per-cell dicts).
    base = opt.resolve(fixed)
    for value in learning_rates:
        opt.hparam("learning_rate").validate(value, opt.name)
    if axis:
        for value in momenta:
            opt.hparam(axis).validate(value, opt.name)
    count = learning_rates.size * momenta.size
    lanes = _bucket(count, 64)
    columns = {name: np.full(lanes, float(base.get(name, filler))) for name, filler in ALL_FLOAT_HPARAMS.items()}
    columns["learning_rate"][:count] = np.repeat(learning_rates, momenta.size)
    if axis:
        columns[axis][:count] = np.tile(momenta, learning_rates.size)
    columns["learning_rate"][count:] = learning_rates[0]
    slots = np.broadcast_to(opt.init_slots(base), (lanes, MAX_SLOTS, 2))
    program = _sweep_program(opt.name, surface, lanes, _bucket(steps, 64))
    min_value = -np.inf if surface.min_value is None else surface.min_value
    last_loss, diverged_at, reached_at = jax.device_get(
        program(
            np.asarray(start, np.float32), slots, _hp_columns(columns), _surface_params(surface, params),
            np.float32(noise), np.uint32(seed), np.int32(steps), np.float32(min_value),
            np.float32(tolerance),
        )
    )
    shape = (len(learning_rates), len(momenta))
    diverged_at = np.asarray(diverged_at[:count]).reshape(shape)
    return SweepResult(
        optimizer=opt.name,
        surface=surface.name,
        momentum_name=axis,
        learning_rates=learning_rates,
        momenta=momenta,
        final_loss=np.asarray(last_loss[:count], np.float64).reshape(shape),
        steps_to_tolerance=np.asarray(reached_at[:count]).reshape(shape),
        diverged=diverged_at >= 0,
        diverged_at=diverged_at,
        steps=steps,
        tolerance=tolerance,
        fixed=dict(fixed),
    )
