"""simulate / race / sweep: Keras's update rules run by ``lax.scan``, compiled once.

Compilation is keyed only on what changes the program's shape: the surface, the
lanes (a race of the article's optimizers alone runs one fixed lane per rule, whichever
of them it names; any other race, its lanes rounded up, every rule it may need), the
number of steps (rounded up to a power of two),
whether any lane has a learning-rate schedule (a program without schedule code
compiles faster) and the number of PiecewiseConstantDecay boundaries (rounded up, at
least 4). Learning rates, learning-rate schedules (class and floats), momenta, every other
hyperparameter, booleans such as ``amsgrad``, weight decay and clipping, the start
point, the surface's parameters, the noise and its seed are all passed as arrays, so
changing them runs the compiled program again without compiling.

Each step is Keras's ``apply_gradients``: the learning rate for the iteration count
before the step (a schedule is called with 0 for the first step), the gradient
clipped (clipnorm / global_clipnorm / clipvalue), the weights decayed
(``w -= w * weight_decay * learning_rate``), then the optimizer's update rule.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import schedules, theory
from .checks import F32_RANGE, MAX_STEPS, MAX_SWEEP_CELL_STEPS, MAX_SWEEP_CELLS, NOT_A_NUMBER, fits_float32, shown
from .datasets import epoch_order, epoch_positions, padded_size  # noqa: F401  (epoch_order: optviz.engine's too)
from .models import Model, check_data, get_model, loss_at, minimum
from .optimizers import (
    ALL_FLOAT_HPARAMS,
    ARTICLE_OPTIMIZERS,
    DERIVED_COLUMNS,
    ENGINE_OPTIMIZERS,
    MAX_SLOTS,
    Optimizer,
    clip_and_decay_lanes,
    clips_or_decays,
    derived_columns,
    get_optimizer,
)
from .optimizers.base import clip_by_norm
from .rounding import keras_rounded_jit
from .surfaces import Surface, get_surface

BOUND = 1e6  # a point with |x| or |y| beyond this has diverged
DEFAULT_TOLERANCE = 1e-3
_OPTIMIZER_ORDER = tuple(ENGINE_OPTIMIZERS)  # every optimizer's key (Keras's first)


# --- results ----------------------------------------------------------------------


@dataclass
class Trajectory:
    """One optimizer's run. Arrays are NumPy, finite, and share their first axis.

    ``path[k]`` is the point after ``k`` steps (``path[0]`` is the start), ``loss[k]``
    the loss there, ``gradient[k]`` the gradient the next step uses there (noise
    included), ``state[name][k]`` the optimizer's variable ``name`` after ``k`` steps,
    ``learning_rate[k]`` the learning rate the next step uses there (Keras's
    ``optimizer.learning_rate`` with ``iterations == k``: a schedule's value, or the
    constant; float32). A run that diverged ends at its last finite point inside
    |x|, |y| <= 1e6, and ``diverged_at`` is the step that left it (else None).
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
    learning_rate: np.ndarray | None = None
    # sharpness[k]: the largest eigenvalue of the Hessian at path[k] (jax.hessian, float32);
    # the one array that may hold NaN or inf, where the surface has no finite second derivative.
    sharpness: np.ndarray | None = None
    # A fit's (optviz.fit): each step's own batch loss, and how the data was batched.
    batch_loss: np.ndarray | None = None
    batch_size: int | None = None
    epochs: int | None = None
    shuffle: bool = False
    framework: str = "keras"

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
    framework: str = "keras"
    # Per row: the parsed schedule, or None for a constant learning rate (then
    # ``learning_rates[i]`` is that rate; for a schedule, its initial_learning_rate or values[0]).
    learning_rate_schedules: tuple = ()


# --- validation -------------------------------------------------------------------


def _check_steps(steps, name: str = "steps") -> int:
    message = f"`{name}` must be a whole number from 1 to {MAX_STEPS}, got {shown(steps)}"
    if isinstance(steps, bool) or not isinstance(steps, (numbers.Integral, float, str)):
        raise ValueError(message)
    try:
        value = float(steps)
    except NOT_A_NUMBER:
        raise ValueError(message) from None
    if not math.isfinite(value) or value != int(value) or not 1 <= value <= MAX_STEPS:
        raise ValueError(message)
    return int(value)


def _check_start(start) -> np.ndarray:
    try:
        point = np.asarray(start, dtype=np.float64).reshape(-1)
    except NOT_A_NUMBER:
        raise ValueError(f"`start` must be two numbers (x, y), got {shown(start)}") from None
    if point.shape != (2,):
        raise ValueError(f"`start` must be two numbers (x, y), got {shown(start)}")
    if not np.all(np.isfinite(point)):
        raise ValueError(f"`start` must be finite, got {shown(start)}")
    if np.any(np.abs(point) > BOUND):
        raise ValueError(f"`start` must lie within |x|, |y| <= {BOUND:g}, got {shown(start)}")
    return point


def _check_noise(noise, seed) -> tuple[float, int]:
    try:
        std = float(noise)
    except NOT_A_NUMBER:
        raise ValueError(f"`noise` must be a number >= 0, got {shown(noise)}") from None
    if not math.isfinite(std) or std < 0:
        raise ValueError(f"`noise` must be a finite number >= 0, got {shown(noise)}")
    if not fits_float32(std):
        raise ValueError(f"`noise` must fit in float32, got {shown(noise)} ({F32_RANGE})")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"`seed` must be a whole number from 0 to 2**32 - 1, got {shown(seed)}")
    return std, int(seed)


def _check_run(surface, surface_params, start, steps, noise, seed):
    """A run's surface and inputs, checked: (surface, its params, start, steps, noise, seed)."""
    surface = get_surface(surface)
    params = surface.resolve_params(surface_params)
    start = _check_start(surface.default_start if start is None else start)
    steps = _check_steps(steps)
    return (surface, params, start, steps, *_check_noise(noise, seed))


class NonFiniteStartError(ValueError):
    """The loss at ``start`` is not finite (NaN or inf): a path has no finite point to begin
    from. A ValueError naming ``start``; :attr:`start` is the point."""

    def __init__(self, message: str, start):
        super().__init__(message)
        self.start = tuple(float(v) for v in start)


def _not_finite_at_start(surface: Surface, start, loss) -> NonFiniteStartError:
    return NonFiniteStartError(
        f"`start` ({start[0]:g}, {start[1]:g}): the loss of {surface.display_name} is {float(loss)} there, "
        "not a finite number; pick another start", start)


def _check_tolerance(tolerance) -> float:
    try:
        value = float(tolerance)
    except NOT_A_NUMBER:
        raise ValueError(f"`tolerance` must be a positive number, got {shown(tolerance)}") from None
    if not math.isfinite(value) or value <= 0 or not fits_float32(value):
        raise ValueError(f"`tolerance` must be a positive number that fits in float32, got {shown(tolerance)}")
    return value


# --- compiled programs --------------------------------------------------------------


def _bucket(n: int, minimum: int) -> int:
    """Round up to a power of two (at least ``minimum``), so nearby sizes share a program."""
    return max(minimum, 1 << (int(n) - 1).bit_length())


def _float(value) -> float:
    """A hyperparameter as a float column entry: None (an unset option) is 0, a schedule
    its first rate (the per-step learning rate, not this entry, drives the steps)."""
    kind = type(value)
    if kind is float or kind is int or kind is bool:
        return float(value)
    if value is None:
        return 0.0
    if schedules.is_schedule(value):
        config = value["config"]
        return float(config["values"][0] if "values" in config else config["initial_learning_rate"])
    return float(value)


def _hp_arrays(lanes: Sequence[tuple[Optimizer, Mapping[str, object]]]) -> dict[str, np.ndarray]:
    """Per-lane hyperparameters as float32 arrays, one entry per column any optimizer uses."""
    names, fillers = list(ALL_FLOAT_HPARAMS), list(ALL_FLOAT_HPARAMS.values())
    hp_rows = [opt.hp_row(values) for opt, values in lanes]
    rows = np.array([[_float(v[n]) if n in v else f for n, f in zip(names, fillers)] for v in hp_rows], np.float64)
    return _hp_columns({name: rows[:, i] for i, name in enumerate(names)})


def _hp_columns(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """float64 columns (one value per lane) -> the float32 ``hp`` the update rules read."""
    out = {name: np.asarray(col, np.float32) for name, col in columns.items()}
    # Keras, PyTorch and optax compute 1 - beta (and PyTorch beta ** step) in Python's
    # double and cast the result to float32.
    out.update(derived_columns(columns))
    clip = np.asarray(columns["global_clipnorm"], np.float64)
    with np.errstate(divide="ignore", over="ignore"):  # a tiny clip: 1/c is inf in float32, as in Keras
        out["1/global_clipnorm"] = np.where(clip > 0, 1.0 / np.where(clip > 0, clip, 1.0), 0.0).astype(np.float32)
    return out


def _rate_arrays(rates: Sequence, n_boundaries: int) -> dict[str, np.ndarray]:
    return schedules.lane_arrays(rates, n_boundaries)


# The programs take the per-lane floats packed as two (names, lanes) matrices (hyperparameters,
# schedule fields) rather than ~50 separate arrays: each argument costs dispatch time.
_HP_NAMES = (*ALL_FLOAT_HPARAMS, *DERIVED_COLUMNS, "1/global_clipnorm")
_RATE_NAMES = (*schedules.FLOAT_FIELDS, "lr")


def _pack(arrays: Mapping[str, np.ndarray], names: Sequence[str]) -> np.ndarray:
    return np.stack([np.asarray(arrays[name], np.float32) for name in names])


def _unpack(packed, names: Sequence[str]) -> dict:
    return {name: packed[i] for i, name in enumerate(names)}


def _pack_rates(rates: Mapping[str, np.ndarray]) -> tuple:
    return _pack(rates, _RATE_NAMES), rates["kind"], rates["boundaries"], rates["values"]


def _unpack_rates(packed) -> dict:
    floats, kind, boundaries, values = packed
    return dict(_unpack(floats, _RATE_NAMES), kind=kind, boundaries=boundaries, values=values)


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


# lax.switch branches: one per distinct update rule (AdamW is Adam with weight decay). The
# article's six come first: a race of those runs them as one vmapped switch (XLA fuses
# the six into a select); every other rule runs under its own lax.cond, only if a lane
# uses it, so each optimizer added to the engine costs a race nothing until it races.
_BRANCH_RULES = tuple(dict.fromkeys(ENGINE_OPTIMIZERS[key].update for key in _OPTIMIZER_ORDER))
_BRANCH = {key: _BRANCH_RULES.index(ENGINE_OPTIMIZERS[key].update) for key in _OPTIMIZER_ORDER}
_CLASSIC_BRANCHES = len({o.update for o in ARTICLE_OPTIMIZERS.values()})
# Each branch's framework: a race's program carries the other rules of its lanes'
# frameworks only (PyTorch's and optax's rules cost a Keras race's compile nothing).
_BRANCH_FRAMEWORK = tuple(next(o.framework for o in ENGINE_OPTIMIZERS.values() if o.update is rule)
                          for rule in _BRANCH_RULES)
assert all(_BRANCH[name] < _CLASSIC_BRANCHES for name in ARTICLE_OPTIMIZERS)


def _update_lanes(rules, index, g, w, slots, t, hp, others: bool = True, frameworks: tuple = ("keras",)):
    """Each lane's rule ``rules[index]``: the first ``_CLASSIC_BRANCHES`` as one vmapped
    switch, the others each under a ``lax.cond`` that skips it when no lane uses it (only
    the rules of ``frameworks``, static: the frameworks the race's lanes belong to).
    ``others`` (static) False: the lanes are the classic rules in order (lane k runs rule
    k, see :func:`_classic_lanes`), each lane computes its own rule and nothing else, and
    the program carries no other rule (a race of the article's six)."""
    classic = rules[:_CLASSIC_BRANCHES]

    def switch(i, g, w, slots, t, hp):
        return jax.lax.switch(jnp.minimum(i, len(classic) - 1), classic, g, w, slots, t, hp)

    if not others:
        # A vmapped switch computes every rule in every lane and selects; a fixed rule a
        # lane computes one. Lanes as 1-lane slices, as vmapped.
        lane = [jax.vmap(rule, in_axes=(0, 0, 0, None, 0))(
                    g[k:k + 1], w[k:k + 1], slots[k:k + 1], t, {name: v[k:k + 1] for name, v in hp.items()})
                for k, rule in enumerate(classic)]
        return jnp.concatenate([w for w, _ in lane]), jnp.concatenate([s for _, s in lane])

    def merge(mine, new, carry):
        return jnp.where(mine[:, None], new[0], carry[0]), jnp.where(mine[:, None, None], new[1], carry[1])

    def run_classic(carry):
        new = jax.vmap(switch, in_axes=(0, 0, 0, 0, None, 0))(index, g, w, slots, t, hp)
        return merge(index < len(classic), new, carry)

    def run_others(carry):
        # (One cond per rule: a race of a few of them runs only those. A vmapped switch of
        # all of them would compile about as fast but compute all of them in every lane.)
        for k in range(len(classic), len(rules)):
            if _BRANCH_FRAMEWORK[k] not in frameworks:
                continue

            def run(carry, k=k):
                new = jax.vmap(rules[k], in_axes=(0, 0, 0, None, 0))(g, w, slots, t, hp)
                return merge(index == k, new, carry)

            carry = jax.lax.cond(jnp.any(index == k), run, lambda carry: carry, carry)
        return carry

    out = jax.lax.cond(jnp.any(index < len(classic)), run_classic, lambda carry: carry, (w, slots))
    # One outer cond: a race of the article's six skips all the others at once.
    return jax.lax.cond(jnp.any(index >= len(classic)), run_others, lambda carry: carry, out)


def _learning_rates(rates, steps, scheduled: bool):
    """(steps, lanes) learning rates for iteration counts 0..steps-1. ``scheduled`` (static)
    says whether some lane has a schedule: a program without one carries no schedule code
    (it compiles faster); within one, every schedule's class and floats are traced."""
    if scheduled:
        return schedules.table(rates, jnp.arange(steps, dtype=jnp.int32))
    return jnp.broadcast_to(rates["lr"], (steps, rates["lr"].shape[0]))


# Columns of the block that a race program returns, per step and lane (the sharpness last).
_PATH, _LOSS, _GRAD, _LR, _STATE, _SHARPNESS = slice(0, 2), 2, slice(3, 5), 5, 6, -1


class _SameProgram:
    """A surface as the compiled programs' caches see it: by its ``program_key`` (a typed
    formula's shape: another constant runs in the same program, its constants traced)."""

    __slots__ = ("surface",)

    def __init__(self, surface: Surface):
        self.surface = surface

    def __hash__(self):
        return hash(self.surface.program_key)

    def __eq__(self, other):
        return isinstance(other, _SameProgram) and other.surface.program_key == self.surface.program_key


def _race_program(surface: Surface, lanes: int, steps: int, n_boundaries: int = 4, scheduled: bool = False,
                  others: bool = True, frameworks: tuple = ("keras",)):
    """One jitted program: ``lanes`` optimizers side by side for ``steps`` steps."""
    return _race_program_for(_SameProgram(surface), lanes, steps, n_boundaries, scheduled, others, frameworks)


@functools.lru_cache(maxsize=64)
def _race_program_for(program: _SameProgram, lanes: int, steps: int, n_boundaries: int, scheduled: bool,
                      others: bool, frameworks: tuple = ("keras",)):
    surface = program.surface
    value_and_grad = jax.vmap(_value_and_grad(surface), in_axes=(0, None))
    sharpness = jax.vmap(theory.sharpness_fn(surface), in_axes=(0, None))

    @keras_rounded_jit
    def run(index, start, slots, packed_hp, rates, params, noise_std, seed, n_steps):
        # (The body unpacks the hyperparameters itself: sliced out here, each of the ~30
        # rows would be its own operation, dispatched one by one, on every call.)
        rates = _unpack_rates(rates)
        key = jax.random.PRNGKey(seed)
        w0 = jnp.broadcast_to(start, (lanes, 2))
        all_steps = jnp.arange(steps + 1, dtype=jnp.uint32)
        noise = _noise_table(key, all_steps, noise_std)
        # The learning rate at iteration 0 .. steps (Keras calls a schedule before each step);
        # a race without a schedule reads its constant rates in the loop, with no table.
        lr = _learning_rates(rates, steps + 1, scheduled) if scheduled else None

        def body(step, carry):
            w, slots, first_bad, packed = carry
            hp = _unpack(packed_hp, _HP_NAMES)
            step_noise, step_lr = jax.tree_util.tree_map(lambda table: table[step], (noise, lr))
            step = step.astype(jnp.uint32)
            if step_lr is None:
                step_lr = rates["lr"]
            loss, g = value_and_grad(w, params)
            g = g + step_noise
            # Each lane's first step outside the box (NaN and inf fail `|x| <= BOUND` too),
            # among the first n_steps + 1 points; -1 if none.
            bad = ~jnp.isfinite(loss) | ~jnp.all(jnp.abs(w) <= BOUND, axis=1)
            first_bad = jnp.where((first_bad < 0) & bad, step.astype(jnp.int32), first_bad)
            t = (step + 1).astype(jnp.float32)
            # Keras's apply_gradients: clip and decay (if any lane does), then the rule.
            step_hp = dict(hp, learning_rate=step_lr)
            g_used, w_used = clip_and_decay_lanes(g, w, step_hp)
            w_next, slots_next = _update_lanes(_BRANCH_RULES, index, g_used, w_used, slots, t, step_hp, others,
                                                  frameworks)
            # Row `step` of the result: the point, its loss, the gradient the step uses, the
            # learning rate and the state before it, side by side (one write, no concatenation).
            row = jnp.concatenate([w, loss[:, None], g, step_lr[:, None], slots.reshape(lanes, -1)], axis=1)
            packed = jax.lax.dynamic_update_index_in_dim(packed, row, step, 0)
            return w_next, slots_next, first_bad, packed

        # n_steps + 1 iterations (the last only records the final point; its update is
        # unused), a traced count: a program compiled for 2000 steps runs 500 in a quarter
        # of the time, so the page keeps one program for every step count. The rows past
        # n_steps stay zero. (Everything happens inside the one loop, which XLA compiles
        # into a single kernel: each operation outside it would be dispatched on its own.)
        no_bad = jnp.full(lanes, -1, jnp.int32)
        packed = jnp.zeros((steps + 2, lanes, 6 + slots[0].size), jnp.float32)
        _, _, first_bad, packed = jax.lax.fori_loop(0, jnp.minimum(n_steps, steps) + 1, body,
                                                    (w0, slots, no_bad, packed))
        # One float32 block (steps + 2, lanes, columns): rows 0..steps the steps, each
        # Trajectory's arrays views into them; the last row's first column each lane's first
        # bad step (exact in float32). One output, one device-to-host copy.
        return packed.at[steps + 1, :, 0].set(first_bad.astype(jnp.float32))

    @jax.jit
    def with_sharpness(index, start, slots, packed_hp, rates, params, noise_std, seed, n_steps):
        # Every point's sharpness as one more column, after the race: outside Keras's
        # rounding (the paths' arithmetic is the race's as it was; a Hessian rounded product
        # by product cost several times the race), all points in one vectorised call.
        packed = run(index, start, slots, packed_hp, rates, params, noise_std, seed, n_steps)
        sharp = sharpness(packed[:, :, _PATH].reshape(-1, 2), params).reshape(steps + 2, lanes, 1)
        return jnp.concatenate([packed, sharp], axis=2)

    return with_sharpness


def _normalise_optimizers(optimizers, framework: str | None = None) -> list[tuple[str, Optimizer, dict]]:
    """A list of names, or name -> hyperparameters, as validated (label, optimizer, values).
    A name may carry its framework ("pytorch:adam"); ``framework`` is the one for names
    that do not. The label is the name (Keras's, or with ``framework``) or the key
    ("pytorch:adam") for a name that carries its framework."""
    if isinstance(optimizers, (str, Optimizer)):
        optimizers = [optimizers]
    if isinstance(optimizers, Mapping):
        items = list(optimizers.items())
    elif isinstance(optimizers, Iterable):
        items = [(name, None) for name in optimizers]
    else:
        raise ValueError(f"`optimizers` must be a list of optimizer names or a mapping name -> hyperparameters, "
                         f"got {shown(optimizers)}")
    if not items:
        raise ValueError("`optimizers` must name at least one optimizer")
    out = []
    for label, hp in items:
        # "name#tag" races one optimizer twice under two labels ("pytorch:sgd#nesterov").
        name, tag = label.split("#", 1) if isinstance(label, str) and "#" in label else (label, None)
        named = isinstance(name, str) and ":" in name
        optimizer = get_optimizer(name, None if named else framework)
        if hp is not None and not isinstance(hp, Mapping):
            raise ValueError(f"{optimizer.where}: hyperparameters must be a mapping, got {shown(hp)}")
        base = optimizer.key if named else optimizer.name
        out.append((base if tag is None else f"{base}#{tag}", optimizer, optimizer.resolve(hp)))
    names = [label for label, _, _ in out]
    if len(set(names)) != len(names):
        raise ValueError(f"`optimizers` names an optimizer twice: {names}")
    return out


# A lane that a race of classic optimizers leaves empty runs its rule's optimizer at
# Keras's defaults, and is dropped.
_CLASSIC_FILLERS = tuple(
    next((name, opt, opt.resolve(None)) for name, opt in ARTICLE_OPTIMIZERS.items() if _BRANCH[name] == k)
    for k in range(_CLASSIC_BRANCHES)
)


def _classic_lanes(entries) -> list[int] | None:
    """Each entry's lane in a race of classic rules only (lane k runs rule k), or None if
    an entry has another rule or two entries share one."""
    lanes = [_BRANCH[opt.key] for _, opt, _ in entries]
    if max(lanes) >= _CLASSIC_BRANCHES or len(set(lanes)) < len(lanes):
        return None
    return lanes


_LANE_ARGUMENTS: dict = {}  # frozen lanes -> the arrays below; a page asks for the same few again and again


def _lane_arguments(padded) -> tuple:
    """(index, packed hyperparameters, packed rates, boundary columns, scheduled?) for a race's
    lanes: the host-side half of a race, memoised on the validated values (bounded)."""
    # The key: every lane's validated values as one string. A resolved dict lists its
    # optimizer's hyperparameters in a fixed order, so the values alone say it; `repr`
    # tells 1 from 1.0 from True and -0.0 from 0.0 and keeps every digit of a float, in one
    # C-level call (walking the values in Python was a visible share of a warm race).
    key = repr([(opt.key, *values.values()) for _, opt, values in padded])
    hit = _LANE_ARGUMENTS.get(key)
    if hit is not None:
        return hit
    index = np.array([_BRANCH[opt.key] for _, opt, _ in padded], np.int32)
    hp = _pack(_hp_arrays([(opt, values) for _, opt, values in padded]), _HP_NAMES)
    rates = [opt.learning_rate_of(values) for _, opt, values in padded]
    n_boundaries = schedules.boundary_slots(rates)
    scheduled = any(schedules.is_schedule(rate) for rate in rates)
    out = index, hp, _pack_rates(_rate_arrays(rates, n_boundaries)), n_boundaries, scheduled
    for array in (index, hp, *out[2]):
        array.flags.writeable = False  # shared between calls
    if len(_LANE_ARGUMENTS) >= 256:
        _LANE_ARGUMENTS.clear()  # (page sessions share it from several threads: no iteration)
    _LANE_ARGUMENTS[key] = out
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
    framework: str | None = None,
) -> dict[str, Trajectory]:
    """Run several optimizers from one start in ONE compiled call.

    ``optimizers`` is a list of names (the framework's defaults) or a mapping name ->
    hyperparameters (the framework's names). A name is Keras's unless ``framework`` says
    "pytorch" or "optax"; a name may carry its own framework, so one race may mix them:
    ``{"adam": {...}, "pytorch:adam": {"lr": 0.01, "betas": (0.9, 0.99)}}``.
    PyTorch's and optax's learning rates are constants (schedules are Keras's).
    Returns label -> :class:`Trajectory`, in the order given (the label: the name, or
    "pytorch:adam" for a name that carries its framework). A name may end in "#tag" to
    race one optimizer twice: ``{"pytorch:sgd": {...}, "pytorch:sgd#nesterov": {...}}``.
    Every optimizer sees the same gradient noise (same ``seed``), so a race is fair.
    ``compile_steps`` (>= steps) runs the program that many steps and keeps the first
    ``steps``: a caller whose step count moves (a slider) then never compiles again.
    """
    surface, params, start, steps, noise, seed = _check_run(surface, surface_params, start, steps, noise, seed)
    entries = _normalise_optimizers(optimizers, framework)

    # Which rules the lanes use is part of the program (a name, not a float: no slider
    # moves it). A race of only the article's six runs one lane per classic rule, each
    # entry in its rule's lane, whichever of them it names (one program per surface);
    # any other rule: lanes in the given order, every rule under a select.
    lane_of = _classic_lanes(entries)
    others = lane_of is None
    if others:
        lane_of = list(range(len(entries)))
        padded = entries + [entries[0]] * (_bucket(len(entries), 8) - len(entries))
    else:
        padded = list(_CLASSIC_FILLERS)
        for lane, entry in zip(lane_of, entries):
            padded[lane] = entry
    lanes = len(padded)
    slots = np.stack([opt.init_slots(values, start) for _, opt, values in padded])
    index, hp, rates, n_boundaries, scheduled = _lane_arguments(padded)
    length = steps if compile_steps is None else max(steps, _check_steps(compile_steps, "compile_steps"))
    # (Keras's other rules ride with any race that is not the article's six alone.)
    frameworks = tuple(sorted({"keras", *(opt.framework for _, opt, _ in entries)}))
    program = _race_program(surface, lanes, _bucket(length, 64), n_boundaries, scheduled, others, frameworks)
    block = jax.device_get(
        program(
            index, np.asarray(start, np.float32), slots, hp, rates, _surface_params(surface, params),
            np.float32(noise), np.uint32(seed), np.int32(steps),
        )
    )
    first_bad = block[-1, lane_of, 0].astype(np.int64)
    if first_bad[0] == 0:  # the start itself (every lane's): no finite point to show
        raise _not_finite_at_start(surface, start, block[0, lane_of[0], _LOSS])
    # One copy of the rows and lanes kept (a program often runs more steps than asked, and
    # pads the lanes): the Trajectories' arrays are views into it, and the program's own
    # output buffer is released now rather than living as long as any Trajectory does.
    packed = block[: steps + 1, lane_of]
    results = {}
    for lane, (label, optimizer, values) in enumerate(entries):
        end = None if first_bad[lane] < 0 else int(first_bad[lane])
        rows = packed[: steps + 1 if end is None else end, lane]
        results[label] = Trajectory(
            optimizer=optimizer.name,
            surface=surface.name,
            hyperparameters=dict(values),
            path=rows[:, _PATH],
            loss=rows[:, _LOSS],
            gradient=rows[:, _GRAD],
            state={name: rows[:, _STATE + 2 * i: _STATE + 2 * i + 2] for i, name in enumerate(optimizer.slot_names)},
            steps=steps,
            diverged_at=end,
            min_value=surface.min_value,
            minima=surface.minima,
            noise=noise,
            seed=seed,
            learning_rate=rows[:, _LR],
            sharpness=rows[:, _SHARPNESS],
            framework=optimizer.framework,
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
    framework: str | None = None,
    **hyperparameters,
) -> Trajectory:
    """Run one optimizer with its framework's update rule (``framework``: "keras", the
    default, "pytorch" or "optax"); hyperparameters use that framework's names and
    defaults (PyTorch: ``lr``, ``betas=(b1, b2)``, ``eps``, ...; optax: ``learning_rate``,
    ``b1``, ``b2``, ``eps``, ``eps_root``, ...). An unknown name is a ValueError listing the
    valid ones. PyTorch's and optax's learning rate is a constant (schedules are Keras's).

    >>> simulate("adam", "rosenbrock", (-1.5, 2), 200, learning_rate=0.01).path.shape
    (201, 2)
    >>> simulate("adam", "rosenbrock", (-1.5, 2), 200, framework="pytorch", lr=0.01).framework
    'pytorch'
    """
    key = get_optimizer(optimizer, framework).key
    return race(
        surface, start, steps, {key: hyperparameters}, noise=noise, seed=seed,
        surface_params=surface_params,
    )[key]


# --- fit: a two-weight Keras model on a data set, batch by batch -------------------------


# Columns of a fit program's block: a race's, then the batch's own loss, then the state.
_BATCH_LOSS, _FIT_STATE = 6, 7


@functools.lru_cache(maxsize=32)
def _fit_program(model_name: str, lanes: int, steps: int, n_pad: int, n_boundaries: int = 4,
                 scheduled: bool = False, others: bool = True):
    """One jitted program: ``lanes`` optimizers fit ``model`` side by side for ``steps``
    batches. The data (padded to ``n_pad`` points), its size, the batch size, the number of
    steps, shuffling and its seed are all traced: changing any of them runs this program
    again. Each step weighs every point by whether it is in the step's batch, so the batch
    size changes no shape. ``others`` False: every lane runs one of the article's six
    rules, and the program carries no other (it compiles in about half the time)."""
    model = get_model(model_name)
    branch_rules = _BRANCH_RULES if others else _BRANCH_RULES[:_CLASSIC_BRANCHES]

    def mean_loss(w, x, y, weight, count):
        # Keras's sum_over_batch_size: the batch's sum over its size (points outside: 0).
        return jnp.sum(jnp.where(weight, model.losses(w, x, y), 0.0)) / count

    value_and_grad = jax.vmap(jax.value_and_grad(mean_loss), in_axes=(0, None, None, None, None))
    full_loss = jax.vmap(mean_loss, in_axes=(0, None, None, None, None))

    def rules(index, g, w, slots, t, hp):
        if not model.split:
            return _update_lanes(branch_rules, index, g, w, slots, t, hp)
        # Kernel and bias are two Keras variables, each with its own state and norms (LAMB's
        # trust ratio, Adafactor's RMS): each runs as its own lane, shown to the rule as
        # (v, v), whose norm ratios and RMS are those of v alone.
        def twice(a, c):
            return jnp.repeat(a[..., c:c + 1], 2, axis=-1)

        both = [jnp.concatenate([twice(a, 0), twice(a, 1)]) for a in (g, w, slots)]
        hp2 = {name: jnp.concatenate([value, value]) for name, value in hp.items()}
        w2, slots2 = _update_lanes(branch_rules, jnp.concatenate([index, index]), *both, t, hp2)
        return (jnp.stack([w2[:lanes, 0], w2[lanes:, 0]], axis=-1),
                jnp.stack([slots2[:lanes, :, 0], slots2[lanes:, :, 0]], axis=-1))

    # Plain jit, not keras_rounded_jit: model.fit runs each train step as one jitted XLA
    # program too (fused as XLA likes), so there is no op-by-op rounding to mirror.
    @jax.jit
    def run(index, start, slots, packed_hp, rates, x, y, n, batch_size, shuffle, seed, n_steps):
        rates = _unpack_rates(rates)
        hp = _unpack(packed_hp, _HP_NAMES)
        if model.split:
            # clipnorm clips each variable by its own norm (here one number each); the
            # global norm and everything else clip_and_decay_lanes does as for one variable.
            per_variable = jax.vmap(jax.vmap(lambda g, c: clip_by_norm(g[None], c)[0], in_axes=(0, None)))
            clipnorm, hp = hp["clipnorm"], dict(hp, clipnorm=jnp.zeros_like(hp["clipnorm"]))
        lr = _learning_rates(rates, steps + 1, scheduled) if scheduled else None
        per_epoch = (n + batch_size - 1) // batch_size
        index_pad = jnp.arange(x.shape[0], dtype=jnp.int32)
        valid = index_pad < n
        w0 = jnp.broadcast_to(start, (lanes, 2))

        def body(step, carry):
            w, slots, first_bad, positions, packed = carry
            epoch, batch = step // per_epoch, step % per_epoch
            positions = jax.lax.cond(batch == 0, lambda: epoch_positions(seed, epoch, n, x.shape[0], shuffle),
                                     lambda: positions)
            begin = batch * batch_size
            end = jnp.minimum(begin + batch_size, n)
            in_batch = (positions >= begin) & (positions < end)
            loss = full_loss(w, x, y, valid, n.astype(jnp.float32))
            batch_loss, g = value_and_grad(w, x, y, in_batch, (end - begin).astype(jnp.float32))
            step_lr = rates["lr"] if lr is None else lr[step]
            bad = ~jnp.isfinite(loss) | ~jnp.all(jnp.abs(w) <= BOUND, axis=1)
            first_bad = jnp.where((first_bad < 0) & bad, step, first_bad)
            t = (step + 1).astype(jnp.float32)
            step_hp = dict(hp, learning_rate=step_lr)
            g_used = g
            if model.split:
                g_used = jnp.where((clipnorm > 0)[:, None], per_variable(g, clipnorm), g)
            g_used, w_used = clip_and_decay_lanes(g_used, w, step_hp)
            w_next, slots_next = rules(index, g_used, w_used, slots, t, step_hp)
            row = jnp.concatenate([w, loss[:, None], g, step_lr[:, None], batch_loss[:, None],
                                   slots.reshape(lanes, -1)], axis=1)
            packed = jax.lax.dynamic_update_index_in_dim(packed, row, step, 0)
            return w_next, slots_next, first_bad, positions, packed

        no_bad = jnp.full(lanes, -1, jnp.int32)
        packed = jnp.zeros((steps + 2, lanes, _FIT_STATE + slots[0].size), jnp.float32)
        _, _, first_bad, _, packed = jax.lax.fori_loop(
            0, jnp.minimum(n_steps, steps) + 1, body, (w0, slots, no_bad, index_pad, packed))
        return packed.at[steps + 1, :, 0].set(first_bad.astype(jnp.float32))

    return run


def _check_count(value, name: str, low: int = 1) -> int:
    message = f"`{name}` must be a whole number >= {low}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if not (isinstance(value, float) and value.is_integer()):
            raise ValueError(message)
    if not low <= value <= MAX_STEPS:
        raise ValueError(f"`{name}` must be a whole number from {low} to {MAX_STEPS}, got {value!r}")
    return int(value)


def fit_race(
    model: str | Model,
    x,
    y,
    optimizers: Iterable[str] | Mapping[str, Mapping[str, object] | None],
    *,
    batch_size: int = 32,
    epochs: int = 1,
    start: Sequence[float] | None = None,
    shuffle: bool = False,
    seed: int = 0,
    compile_steps: int | None = None,
) -> dict[str, Trajectory]:
    """Several optimizers fit ``model`` on (x, y) from one start, on the same batches, in
    ONE compiled call: name -> :class:`Trajectory` (see :func:`fit`)."""
    model = get_model(model)
    x32, y32 = check_data(model, x, y)
    n = x32.shape[0]
    batch_size = _check_count(batch_size, "batch_size")
    epochs = _check_count(epochs, "epochs")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ValueError(f"`shuffle` must be True or False, got {shuffle!r}")
    _, seed = _check_noise(0.0, seed)
    per_epoch = -(-n // batch_size)
    steps = epochs * per_epoch
    if steps > MAX_STEPS:
        raise ValueError(f"`epochs` x batches per epoch ({epochs} x {per_epoch}) may be at most {MAX_STEPS} steps")
    start = _check_start((0.0, 0.0) if start is None else start)
    entries = _normalise_optimizers(optimizers)
    padded = entries + [entries[0]] * (_bucket(len(entries), 8) - len(entries))
    slots = np.stack([opt.init_slots(values, start) for _, opt, values in padded])
    index, hp, rates, n_boundaries, scheduled = _lane_arguments(padded)
    length = steps if compile_steps is None else max(steps, _check_steps(compile_steps, "compile_steps"))
    n_pad = padded_size(n)
    others = any(_BRANCH[opt.name] >= _CLASSIC_BRANCHES for _, opt, _ in entries)
    program = _fit_program(model.name, len(padded), _bucket(length, 64), n_pad, n_boundaries, scheduled, others)
    x_pad = np.zeros((n_pad, model.features), np.float32)
    x_pad[:n] = x32
    y_pad = np.zeros(n_pad, np.float32)
    y_pad[:n] = y32
    block = jax.device_get(program(
        index, np.asarray(start, np.float32), slots, hp, rates, x_pad, y_pad, np.int32(n), np.int32(batch_size),
        np.bool_(shuffle), np.uint32(seed), np.int32(steps)))
    first_bad = block[-1, : len(entries), 0].astype(np.int64)
    if first_bad[0] == 0:
        raise NonFiniteStartError(f"`start` ({start[0]:g}, {start[1]:g}): the loss of {model.name} is "
                                  f"{float(block[0, 0, _LOSS])} there, not a finite number; pick another start", start)
    best = minimum(model, x32, y32)
    min_value = None if best is None else loss_at(model, x32, y32, best)
    packed = block[: steps + 1, : len(entries)]
    results = {}
    for lane, (label, optimizer, values) in enumerate(entries):
        end = None if first_bad[lane] < 0 else int(first_bad[lane])
        rows = packed[: steps + 1 if end is None else end, lane]
        results[label] = Trajectory(
            optimizer=optimizer.name, surface=model.name, hyperparameters=dict(values),
            path=rows[:, _PATH], loss=rows[:, _LOSS], gradient=rows[:, _GRAD],
            state={name: rows[:, _FIT_STATE + 2 * i: _FIT_STATE + 2 * i + 2]
                   for i, name in enumerate(optimizer.slot_names)},
            steps=steps, diverged_at=end, min_value=min_value, minima=() if best is None else (best,),
            seed=seed, learning_rate=rows[:, _LR], batch_loss=rows[:, _BATCH_LOSS],
            batch_size=batch_size, epochs=epochs, shuffle=bool(shuffle),
        )
    return results


def fit(
    optimizer: str | Optimizer,
    model: str | Model,
    x,
    y,
    *,
    batch_size: int = 32,
    epochs: int = 1,
    start: Sequence[float] | None = None,
    shuffle: bool = False,
    seed: int = 0,
    **hyperparameters,
) -> Trajectory:
    """The steps of Keras's ``model.fit(x, y, batch_size=..., epochs=..., shuffle=False)``
    for a model with two weights, exactly as Keras takes them.

    ``model`` is ``"linear"`` (``Dense(1)``, loss ``"mse"``; the weights are (kernel,
    bias)), ``"logistic"`` (``Dense(1, activation="sigmoid")``, ``"binary_crossentropy"``;
    (kernel, bias)) or ``"plane"`` (``Dense(1, use_bias=False)`` on two features, ``"mse"``;
    (w1, w2)). ``x`` has shape (n,) or (n, 1), or (n, 2) for ``plane``; ``y`` (n,), labels
    in [0, 1] for ``logistic``. One step per batch, in order, the last one partial; the
    loss of a step is the mean over its batch. ``shuffle=True`` visits the points in
    optviz's own seeded order each epoch (:func:`epoch_order`), not Keras's.

    The result is a :class:`Trajectory` with ``path[0] == start`` (default (0, 0)) and one
    row after each batch; ``loss`` is the loss over the whole data set at each point,
    ``batch_loss`` the loss of the batch the next step uses, ``gradient`` that batch's
    gradient. Bad input is a ValueError naming the field.

    >>> fit("sgd", "linear", [0, 1, 2], [1, 3, 5], batch_size=2, epochs=2).path.shape
    (5, 2)
    """
    name = get_optimizer(optimizer).name
    return fit_race(model, x, y, {name: hyperparameters}, batch_size=batch_size, epochs=epochs, start=start,
                    shuffle=shuffle, seed=seed)[name]


def learning_rate_curves(
    surface: str | Surface,
    start: Sequence[float] | None,
    steps: int,
    optimizers: Mapping[str, Mapping[str, object] | None],
    learning_rates: Sequence[float],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    noise: float = 0.0,
    seed: int = 0,
    surface_params: Mapping[str, float] | None = None,
    compile_steps: int | None = None,
) -> dict[str, SweepResult]:
    """Each optimizer's final loss against the learning rate, all of them in ONE compiled
    race (a sweep per optimizer would be a compiled program each: fourteen compiles).

    ``optimizers`` maps names to hyperparameters (``learning_rate`` is swept; any given is
    replaced). Returns name -> a one-column :class:`SweepResult` (``momenta`` holds the
    optimizer's momentum-like value, NaN without one), the same numbers :func:`sweep` gives.
    At most ``MAX_SWEEP_CELLS`` runs and ``MAX_SWEEP_CELL_STEPS`` runs × steps in all.
    """
    surface, params, start, steps, noise, seed = _check_run(surface, surface_params, start, steps, noise, seed)
    tolerance = _check_tolerance(tolerance)
    base = _normalise_optimizers({name: {k: v for k, v in (hp or {}).items() if k != "learning_rate"}
                                  for name, hp in optimizers.items()})
    rates = _sweep_rates(learning_rates, base[0][1])
    if any(schedules.is_schedule(r) for r in rates):
        raise ValueError("`learning_rates` must be numbers here, not schedules")
    _check_grid_size(len(rates), len(base), steps)
    entries = [(label, opt, opt.resolve({**values, opt.rate_name: rate}))  # (PyTorch's is `lr`)
               for label, opt, values in base for rate in rates]
    padded = entries + [entries[0]] * (_bucket(len(entries), 8) - len(entries))
    slots = np.stack([opt.init_slots(values, start) for _, opt, values in padded])
    index, hp, packed_rates, n_boundaries, scheduled = _lane_arguments(padded)
    length = steps if compile_steps is None else max(steps, _check_steps(compile_steps, "compile_steps"))
    frameworks = tuple(sorted({"keras", *(opt.framework for _, opt, _ in padded)}))
    program = _race_program(surface, len(padded), _bucket(length, 64), n_boundaries, scheduled, True, frameworks)
    block = jax.device_get(program(index, np.asarray(start, np.float32), slots, hp, packed_rates,
                                   _surface_params(surface, params), np.float32(noise), np.uint32(seed),
                                   np.int32(steps)))
    count = len(entries)
    first_bad = block[-1, :count, 0].astype(np.int64)
    if first_bad[0] == 0:
        raise _not_finite_at_start(surface, start, block[0, 0, _LOSS])
    loss = block[: steps + 1, :count, _LOSS].astype(np.float64)  # (steps + 1, runs)
    last = np.where(first_bad < 0, steps, first_bad - 1)
    final_loss = loss[last, np.arange(count)]
    min_value = -np.inf if surface.min_value is None else surface.min_value
    ok = np.arange(steps + 1)[:, None] < np.where(first_bad < 0, steps + 1, first_bad)[None, :]
    within = ok & (loss - min_value <= tolerance)
    reached = np.where(within.any(axis=0), within.argmax(axis=0), -1)
    results = {}
    for k, (label, opt, values) in enumerate(base):
        part = slice(k * len(rates), (k + 1) * len(rates))
        axis = opt.momentum_like
        results[label] = SweepResult(
            optimizer=opt.name, surface=surface.name, momentum_name=axis,
            learning_rates=np.asarray(rates),
            momenta=np.array([_axis_value(opt, values, axis) if axis else np.nan], np.float64),
            final_loss=final_loss[part, None], steps_to_tolerance=reached[part, None].astype(np.int32),
            diverged=(first_bad[part] >= 0)[:, None], diverged_at=first_bad[part, None].astype(np.int32),
            steps=steps, tolerance=tolerance, fixed={k: v for k, v in values.items()}, framework=opt.framework,
        )
    return results


# --- sweep ------------------------------------------------------------------------------


def _sweep_program(optimizer_key: str, surface: Surface, lanes: int, steps: int, n_boundaries: int = 4,
                   scheduled: bool = False, axis: str | None = None):
    """(The compiled program for these, shared by surfaces of one ``program_key``.)"""
    return _sweep_program_for(optimizer_key, _SameProgram(surface), lanes, steps, n_boundaries, scheduled, axis)


@functools.lru_cache(maxsize=64)
def _sweep_program_for(optimizer_key: str, program: _SameProgram, lanes: int, steps: int, n_boundaries: int,
                       scheduled: bool, axis: str | None):
    """Jitted grid run for one optimizer; keeps only running summaries, not paths.

    Lanes are the LAST axis inside, and the loop carries one (rows, lanes) array: every
    operation of a step runs along contiguous rows, which the compiled loop vectorises,
    and there is one carried buffer to copy per step. The program holds the loop twice:
    with clipping and weight decay (a branch each step, which keeps XLA from compiling
    the loop as one kernel: about twice as slow) and without (one kernel),
    and runs the second when no lane clips or decays (a traced test: no recompile)."""
    surface = program.surface
    # f and its gradient as x and y rows (a gradient taken through point[0], point[1] is
    # assembled by padding, which lays the two coordinates out interleaved again).
    opt = ENGINE_OPTIMIZERS[optimizer_key]
    # What a sweep varies from lane to lane (`sweep` fills every other column with one value).
    # ``axis``: the engine column of the second axis; what is computed from it varies with it.
    swept = {"learning_rate", axis, *(name for name, base in DERIVED_COLUMNS.items() if base == axis)}
    xy_value_and_grad = jax.vmap(jax.value_and_grad(lambda x, y, params: surface.fn(x, y, params), argnums=(0, 1)),
                                 in_axes=(0, 0, None))

    def value_and_grad(w, params):
        loss, (gx, gy) = xy_value_and_grad(w[0], w[1], params)
        return loss, jnp.stack([gx, gy])

    @keras_rounded_jit
    def run(start, slots, hp, rates, params, noise_std, seed, n_steps, min_value, tolerance):
        hp, rates = _unpack(hp, _HP_NAMES), _unpack_rates(rates)
        key = jax.random.PRNGKey(seed)
        noise = _noise_table(key, jnp.arange(steps, dtype=jnp.uint32), noise_std)
        # The grid carries only the state rows this optimizer uses (sgd: 1 of 3): the loop
        # copies its carried state every step, and the unused rows are constant zeros here.
        used = len(opt.slot_names)
        # Every lane holds the same value of each hyperparameter that is not swept: the rule
        # reads it as one scalar, so what depends on it alone is computed once a step, not
        # once a lane (Adam's `beta_2 ** t` is costly). The per-lane
        # columns stay for clipping, which reads them as columns.
        lane_axes = {name: 0 if name in swept else None for name in hp}
        rule_hp = {name: value if name in swept else value[0] for name, value in hp.items()}
        update = jax.vmap(opt.update, in_axes=(1, 1, 2, None, lane_axes), out_axes=(1, 2))

        def rule(g, w, slots, t, hp):
            full = jnp.concatenate([slots, jnp.zeros((MAX_SLOTS - used, 2, lanes), slots.dtype)], axis=0)
            w, full = update(g, w, full, t, hp)
            return w, full[:used]

        def keras_step(g, w, slots, step, t, clipped):
            # Computed per step here (4096 lanes x all steps would be a large table).
            lr = schedules.rates_at(rates, step) if scheduled else rates["lr"]
            if clipped:
                g, w = (a.T for a in clip_and_decay_lanes(g.T, w.T, dict(hp, learning_rate=lr)))
            return rule(g, w, slots, t, dict(rule_hp, learning_rate=lr))
        w0 = jnp.broadcast_to(start[:, None], (2, lanes))
        never = jnp.full((lanes,), jnp.inf, jnp.float32)

        def record(step, w, loss, summary):
            # The running summaries as three float32 rows (steps are exact in float32): the
            # last loss before the first bad step, the first bad step (out of bounds or a
            # non-finite loss), the first good step within tolerance (inf: none yet).
            # `|x| <= BOUND` is False for NaN and inf, so it checks finiteness too. Each step
            # is a minimum, not a test of "not diverged yet": the compiled loop computes every
            # carried row on its own, and a row depending on fewer others costs less. A step
            # within tolerance after the first bad one does not count: `summaries` drops it.
            last_loss, diverged_at, reached_at = summary
            step = step.astype(jnp.float32)
            ok = (jnp.abs(w[0]) <= BOUND) & (jnp.abs(w[1]) <= BOUND) & jnp.isfinite(loss)
            diverged_at = jnp.where(ok, diverged_at, jnp.where(diverged_at < step, diverged_at, step))
            within = ok & (loss - min_value <= tolerance) & (step < reached_at)
            return jnp.stack([
                jnp.where(diverged_at == jnp.inf, loss, last_loss),
                diverged_at,
                jnp.where(within, step, reached_at),
            ])

        def summaries(summary):
            """The rows as (last loss, first bad step or -1, first step within tolerance
            while in bounds or -1)."""
            last_loss, diverged_at, reached_at = summary
            reached_at = jnp.where((reached_at == jnp.inf) | (reached_at > diverged_at), -1, reached_at)
            diverged_at = jnp.where(diverged_at == jnp.inf, -1, diverged_at)
            return last_loss, diverged_at.astype(jnp.int32), reached_at.astype(jnp.int32)

        def body(step, rows, clipped):
            # The loop carries ONE (5 + 2 * used, lanes) float32 array: the summaries, x, y
            # and the optimizer's state rows. Every array a loop carries costs its own pass
            # and copy each step.
            summary, x, y, slots = rows[:3], rows[3], rows[4], rows[5:].reshape(used, 2, lanes)
            w = jnp.stack([x, y])
            step_noise = noise[step]
            loss, g = value_and_grad(w, params)
            summary = record(step, w, loss, summary)
            w_next, slots_next = keras_step(g + step_noise[:, None], w, slots, step, (step + 1).astype(jnp.float32),
                                            clipped)
            return jnp.concatenate([summary, w_next, slots_next.reshape(2 * used, lanes)])

        start_summary = jnp.stack([jnp.zeros((lanes,), jnp.float32), never, never])
        init = jnp.concatenate([start_summary, w0, jnp.transpose(slots[:, :used], (1, 2, 0)).reshape(2 * used, lanes)])
        # n_steps iterations, a traced count (as the race does): a program compiled for 1024
        # steps runs 520 in half the time. The steps past n_steps recorded nothing anyway.
        count = jnp.minimum(n_steps, steps)
        rows = jax.lax.cond(
            clips_or_decays(hp),
            lambda: jax.lax.fori_loop(0, count, functools.partial(body, clipped=True), init),
            lambda: jax.lax.fori_loop(0, count, functools.partial(body, clipped=False), init),
        )
        summary, x, y = rows[:3], rows[3], rows[4]
        w = jnp.stack([x, y])
        loss, _ = value_and_grad(w, params)
        return summaries(record(count, w, loss, summary))

    return run


# Cores a sweep may use at once (the affinity mask: a container's share, not the host's).
SWEEP_THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
                           (os.cpu_count() or 1)))
_SWEEP_POOL = ThreadPoolExecutor(max_workers=SWEEP_THREADS, thread_name_prefix="optviz-sweep")


def _sweep_parts(lanes: int) -> int:
    """How many equal parts a sweep of ``lanes`` runs as: two per core (a core that falls
    behind, e.g. to another process, is made up for by the others taking more parts), each
    of at least 512 lanes (below that a handoff costs more than it saves), a multiple of 64."""
    parts = 2 * SWEEP_THREADS if SWEEP_THREADS > 1 else 1
    while parts > 1 and (lanes % (64 * parts) or lanes // parts < 512):
        parts -= 1
    return parts


def _map_in_threads(function, count: int) -> list:
    """[function(0), ..., function(count - 1)], run by the pool's threads."""
    return [function(0)] if count == 1 else list(_SWEEP_POOL.map(function, range(count)))


def sweep(
    optimizer: str | Optimizer,
    surface: str | Surface,
    start: Sequence[float] | None,
    steps: int,
    learning_rates: Sequence[float],
    momenta: Sequence[float] | None = None,
    *,
    axis: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    noise: float = 0.0,
    seed: int = 0,
    surface_params: Mapping[str, float] | None = None,
    framework: str | None = None,
    **fixed,
) -> SweepResult:
    """Run a learning rate × momentum grid with one compiled program (no Python loop per cell;
    a large grid runs as a few equal parts of it, one per core, side by side).

    The "momentum" axis is the optimizer's ``momentum_like`` hyperparameter: momentum
    for sgd, nesterov and rmsprop, ``beta_1`` for adam, adamax, adamw, nadam, lion, lamb
    and schedulefreeadamw (PyTorch: ``momentum`` or ``betas[0]``; optax: ``momentum`` or
    ``b1``). An optimizer without one (adagrad, adadelta, ftrl, adafactor)
    takes ``momenta=None``: one column. ``axis`` names another hyperparameter for that axis
    (any float one: Adagrad's ``initial_accumulator_value``, Adadelta's ``rho``, ...; its
    values in ``momenta``). An entry of ``learning_rates`` may be a Keras
    schedule (``{"class_name": ..., "config": {...}}``) instead of a number (Keras only:
    ``framework="pytorch"`` or ``"optax"`` sweeps constant rates, their own names in ``fixed``).
    Results have shape (len(learning_rates), len(momenta)).

    A grid holds at most ``MAX_SWEEP_CELLS`` (16384) cells and ``MAX_SWEEP_CELL_STEPS``
    (2**25, about 33.5 million) cells × steps (both in :mod:`optviz.checks`); a larger
    one is a ValueError naming ``learning_rates`` × ``momenta``.
    """
    opt = get_optimizer(optimizer, framework)
    surface, params, start, steps, noise, seed = _check_run(surface, surface_params, start, steps, noise, seed)
    tolerance = _check_tolerance(tolerance)
    axis = _sweep_axis(opt, axis)
    rates = _sweep_rates(learning_rates, opt)
    if momenta is None:
        momenta = np.array([_axis_value(opt, opt.resolve(fixed), axis)] if axis else [np.nan])
    else:
        if axis is None:
            raise ValueError(f"`momenta`: {opt.name} has no momentum-like hyperparameter; pass momenta=None "
                             "or name one in `axis`")
        try:
            momenta = np.atleast_1d(np.asarray(momenta, dtype=np.float64))
        except NOT_A_NUMBER:
            raise ValueError(f"`momenta` must be a non-empty list of numbers, got {shown(momenta)}") from None
        if momenta.size == 0 or momenta.ndim != 1:
            raise ValueError("`momenta` must be a non-empty list of numbers")
    _check_grid_size(len(rates), momenta.size, steps)
    for key in (opt.rate_name, axis):  # (a pair's other number may be fixed: betas=(0.9, 0.99))
        if key and key in fixed:
            raise ValueError(f"`{key}` is swept; do not also pass it as a fixed value")
    # Validate each swept value once, then lay the grid out as columns (no per-cell dicts).
    base = opt.resolve(fixed)
    if axis:
        momentum = opt.hparam(axis)
        for value in momenta:
            momentum.validate(value, opt.name)
    count = len(rates) * momenta.size
    lanes = _bucket(count, 64)
    row = opt.hp_row(base)
    columns = {name: np.full(lanes, _float(row[name]) if name in row else filler)
               for name, filler in ALL_FLOAT_HPARAMS.items()}
    # Lane i is rate i // len(momenta), momentum i % len(momenta); the padding lanes repeat
    # the first cell. (Laid out with NumPy: lane by lane in Python is slow for 4096 lanes.)
    rate_of = np.arange(lanes) // momenta.size
    rate_of[count:] = 0
    rate_values = np.array([_float(r) for r in rates])
    columns["learning_rate"][:] = rate_values[rate_of]
    if axis:
        columns[_axis_column(opt, axis)][:count] = np.tile(momenta, len(rates))
    # The state before the first step may depend on the swept value (Adagrad's accumulator
    # starts at initial_accumulator_value): one start per value, each lane its column's.
    if axis and "[" not in axis and opt.init is not None:
        starts = np.stack([opt.init_slots(dict(base, **{axis: float(value)}), start) for value in momenta])
        column_of = np.arange(lanes) % momenta.size
        column_of[count:] = 0
        slots = starts[column_of]
    else:
        slots = np.broadcast_to(opt.init_slots(base, start), (lanes, MAX_SLOTS, 2))
    n_boundaries = schedules.boundary_slots(rates)
    scheduled = any(schedules.is_schedule(rate) for rate in rates)
    lane_rates = [rates[i] for i in rate_of] if scheduled else columns["learning_rate"]
    # A large grid runs as equal parts on all cores at once: each part is a call of ONE
    # compiled program for its lanes (the same arithmetic, lane for lane), and XLA runs a
    # call without holding the GIL, so the parts run side by side in a few threads.
    parts = _sweep_parts(lanes)
    size = lanes // parts
    program = _sweep_program(opt.key, surface, size, _bucket(steps, 64), n_boundaries, scheduled,
                             _axis_column(opt, axis))
    min_value = -np.inf if surface.min_value is None else surface.min_value
    packed_hp = _pack(_hp_columns(columns), _HP_NAMES)  # (names, lanes)
    lane_arrays = _rate_arrays(lane_rates, n_boundaries)  # name -> (lanes, ...)
    start32 = np.asarray(start, np.float32)
    shared = (_surface_params(surface, params), np.float32(noise), np.uint32(seed), np.int32(steps),
              np.float32(min_value), np.float32(tolerance))

    def run_part(k: int):
        part = slice(k * size, (k + 1) * size)
        return jax.device_get(program(
            start32, slots[part], packed_hp[:, part],
            _pack_rates({name: values[part] for name, values in lane_arrays.items()}), *shared))

    done = _map_in_threads(run_part, parts)
    last_loss, diverged_at, reached_at = (np.concatenate(column) for column in zip(*done))
    learning_rates = rate_values
    shape = (len(learning_rates), len(momenta))
    diverged_at = np.asarray(diverged_at[:count]).reshape(shape)
    if diverged_at.flat[0] == 0:  # every cell starts at the same point
        raise _not_finite_at_start(surface, start, surface(*start32, **params))
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
        learning_rate_schedules=tuple(r if schedules.is_schedule(r) else None for r in rates),
        framework=opt.framework,
    )


def _sweep_axis(opt: Optimizer, axis: str | None) -> str | None:
    """The hyperparameter on a sweep's second axis: ``axis`` (a float one of ``opt``'s own,
    not the learning rate) or, by default, the optimizer's momentum-like one."""
    if axis is None:
        return opt.momentum_like
    own = [h.name for h in opt.hparams if h.kind == "float" and h.name != opt.rate_name]
    if axis not in own:
        raise ValueError(f"`axis`: {opt.name} has no float hyperparameter {shown(str(axis)[:40])} to sweep; "
                         f"it has {', '.join(own)}")
    return axis


def _axis_column(opt: Optimizer, axis: str | None) -> str | None:
    """The engine column of a sweep's second axis (``betas[0]``: PyTorch's beta1)."""
    return opt.hparam(axis).engine_columns[0] if axis else None


def _axis_value(opt: Optimizer, values: Mapping[str, object], axis: str) -> float:
    """The axis's value in resolved ``values`` (an unset optax momentum: 0, the same path)."""
    name, _, index = axis.partition("[")
    value = values[name] if not index else values[name][int(index[:-1])]
    return 0.0 if value is None else float(value)


def _check_grid_size(n_rates: int, n_momenta: int, steps: int) -> None:
    """A sweep's memory grows with its cells and their steps: refuse a grid past the caps."""
    cells = n_rates * n_momenta
    if cells > MAX_SWEEP_CELLS:
        raise ValueError(f"`learning_rates` × `momenta` may hold at most {MAX_SWEEP_CELLS} cells, "
                         f"got {n_rates} × {n_momenta} = {cells}")
    if cells * steps > MAX_SWEEP_CELL_STEPS:
        raise ValueError(f"`learning_rates` × `momenta` × `steps` may be at most {MAX_SWEEP_CELL_STEPS}, "
                         f"got {n_rates} × {n_momenta} × {steps} = {cells * steps}; "
                         "take fewer cells or fewer steps")


def _sweep_rates(learning_rates, opt: Optimizer) -> list:
    """The swept learning rates, validated: numbers, or Keras schedules (parsed)."""
    if isinstance(learning_rates, np.ndarray):
        if learning_rates.ndim > 1:
            raise ValueError("`learning_rates` must be a non-empty list of numbers")
        items = learning_rates.reshape(-1).tolist()
    elif isinstance(learning_rates, (str, bytes)) or schedules.is_schedule(learning_rates) \
            or not isinstance(learning_rates, Iterable):
        items = [learning_rates]
    else:
        items = list(learning_rates)
    if not items:
        raise ValueError("`learning_rates` must be a non-empty list of numbers")
    if len(items) > MAX_SWEEP_CELLS:  # before validating each: no grid may have more rows
        _check_grid_size(len(items), 1, 1)
    out = []
    rate = opt.hparam(opt.rate_name)
    for value in items:
        if schedules.is_schedule(value) and opt.framework != "keras":
            raise ValueError(f"{opt.where}: `learning_rates` must be numbers: learning-rate schedules are Keras's here "
                             "(PyTorch and optax sweep constant rates)")
        if schedules.is_schedule(value):
            out.append(schedules.parse(value, where=f"{opt.name}: `learning_rates`"))
        else:
            if isinstance(value, (list, tuple, np.ndarray)):
                raise ValueError("`learning_rates` must be a non-empty list of numbers")
            out.append(rate.validate(value, opt.name))
    return out
