"""Keras 3's learning-rate schedules, in Keras's serialized form, as traced JAX values.

A schedule is given as Keras serializes it::

    {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 200}}

(``keras.optimizers.schedules.serialize`` also writes ``"module"`` and
``"registered_name"``; both are accepted and ignored). :func:`parse` validates one
and fills in Keras's defaults; :func:`keras_code` writes it as Keras code.

Keras calls the schedule with the optimizer's iteration count *before* the step
(0 for the first step) and computes in float32, operation by operation, as
``keras/src/optimizers/schedules/learning_rate_schedule.py`` does; :func:`table`
reproduces that inside a compiled program. Every float of a schedule, and its class,
is a traced value (the class is an index, ``KIND``), so changing either never
compiles again. Only the number of PiecewiseConstantDecay boundaries is part of the
program's shape, rounded up to a power of two (at least 4).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .checks import F32_RANGE, MAX_STEPS, NOT_A_NUMBER, NOT_FINITE, as_float32, fits_float32, parse_number, shown
from .pycode import py_literal
from .rounding import keras_rounded_jit

PREFIX = "keras.optimizers.schedules."
MAX_BOUNDARIES = 64
_REQUIRED = object()

# field -> (default or _REQUIRED, kind). Kinds: "rate" (a learning rate, >= 0),
# "steps" (> 0, as Keras checks), "count" (>= 0), "nonneg" (>= 0), "unit" ([0, 1]),
# "positive" (> 0), "bool", "name" (a string), "optional_rate" (None or >= 0),
# "boundaries", "values".
SCHEDULES: dict[str, dict[str, tuple]] = {
    "ExponentialDecay": {
        "initial_learning_rate": (_REQUIRED, "rate"),
        "decay_steps": (_REQUIRED, "steps"),
        "decay_rate": (_REQUIRED, "nonneg"),
        "staircase": (False, "bool"),
        "name": ("ExponentialDecay", "name"),
    },
    "PiecewiseConstantDecay": {
        "boundaries": (_REQUIRED, "boundaries"),
        "values": (_REQUIRED, "values"),
        "name": ("PiecewiseConstant", "name"),
    },
    "PolynomialDecay": {
        "initial_learning_rate": (_REQUIRED, "rate"),
        "decay_steps": (_REQUIRED, "steps"),
        "end_learning_rate": (0.0001, "rate"),
        "power": (1.0, "nonneg"),
        "cycle": (False, "bool"),
        "name": ("PolynomialDecay", "name"),
    },
    "InverseTimeDecay": {
        "initial_learning_rate": (_REQUIRED, "rate"),
        "decay_steps": (_REQUIRED, "steps"),
        "decay_rate": (_REQUIRED, "nonneg"),
        "staircase": (False, "bool"),
        "name": ("InverseTimeDecay", "name"),
    },
    "CosineDecay": {
        "initial_learning_rate": (_REQUIRED, "rate"),
        "decay_steps": (_REQUIRED, "steps"),
        "alpha": (0.0, "unit"),
        "name": ("CosineDecay", "name"),
        "warmup_target": (None, "optional_rate"),
        "warmup_steps": (0, "count"),
    },
    "CosineDecayRestarts": {
        "initial_learning_rate": (_REQUIRED, "rate"),
        "first_decay_steps": (_REQUIRED, "steps"),
        "t_mul": (2.0, "positive"),
        "m_mul": (1.0, "nonneg"),
        "alpha": (0.0, "unit"),
        "name": ("SGDRDecay", "name"),
    },
}

# lax index of each class in the compiled program; 0 is a constant learning rate.
KIND = {name: i for i, name in enumerate(SCHEDULES, start=1)}

_RULES = {
    "rate": ">= 0", "steps": "> 0", "count": ">= 0", "nonneg": ">= 0", "unit": "in [0, 1]", "positive": "> 0",
}


def _number(value, where: str) -> float:
    if isinstance(value, str):  # a schedule's config holds numbers; text there is a mistake
        raise ValueError(f"{where} must be a number, got {shown(value)}")
    try:
        number = parse_number(value)
    except NOT_A_NUMBER as exc:
        problem = "be finite" if str(exc) == NOT_FINITE else "be a number"
        raise ValueError(f"{where} must {problem}, got {shown(value)}") from None
    if not fits_float32(number):  # Keras computes a schedule in float32: inf there
        raise ValueError(f"{where} must fit in float32, got {shown(value)} ({F32_RANGE})")
    return number


def _whole(number: float):
    """Keep whole step counts as ints (as Keras code would write them)."""
    return int(number) if number == int(number) and abs(number) < 2**53 else number


def _check(kind: str, value, where: str):
    if kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and value in (0, 1):
            return bool(value)
        raise ValueError(f"{where} must be true or false, got {shown(value)}")
    if kind == "name":
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string, got {shown(value)}")
        return value
    if kind == "optional_rate":
        return None if value is None else _check("rate", value, where)
    if kind == "boundaries":
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or len(value) == 0:
            raise ValueError(f"{where} must be a non-empty list of step numbers, got {shown(value)}")
        if len(value) > MAX_BOUNDARIES:
            raise ValueError(f"{where} may hold at most {MAX_BOUNDARIES} boundaries, got {len(value)}")
        out = []
        for b in value:
            number = _number(b, where)
            if number != int(number) or abs(number) >= 2**31:
                raise ValueError(f"{where} must hold whole step numbers (int32), got {shown(b)}")
            out.append(int(number))
        if any(b >= c for b, c in zip(out, out[1:])):
            raise ValueError(f"{where} must be strictly increasing, got {shown(list(value))}")
        return out
    if kind == "values":
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or len(value) == 0:
            raise ValueError(f"{where} must be a non-empty list of learning rates, got {shown(value)}")
        out = [_number(v, where) for v in value]
        if any(v < 0 for v in out):
            raise ValueError(f"{where} must hold learning rates >= 0, got {shown(list(value))}")
        return out
    number = _number(value, where)
    if kind in ("steps", "positive") and number > 0 and as_float32(number) == 0:  # Keras divides by it
        raise ValueError(f"{where} must be > 0, got {shown(value)}, which is 0 in float32, the precision Keras "
                         "computes in")
    ok = {
        "rate": number >= 0, "steps": number > 0, "count": number >= 0, "nonneg": number >= 0,
        "unit": 0 <= number <= 1, "positive": number > 0,
    }[kind]
    if not ok:
        raise ValueError(f"{where} must be {_RULES[kind]}, got {shown(value)}")
    return _whole(number) if kind in ("steps", "count") else number


def parse(spec, where: str = "`learning_rate`") -> dict:
    """A validated schedule ``{"class_name": ..., "config": {...}}`` with every field filled in.

    Raises ValueError naming the class or the field for an unknown class, a missing,
    unknown or out-of-range field.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where} must be a number or a schedule "
                         f"{{\"class_name\": ..., \"config\": {{...}}}}, got {shown(spec)}")
    extra = set(spec) - {"class_name", "config", "module", "registered_name"}
    if extra:
        raise ValueError(f"{where}: unknown schedule key(s) {', '.join(sorted(map(str, extra)))}; "
                         "a schedule has `class_name` and `config`")
    if "class_name" not in spec:
        raise ValueError(f"{where}: a schedule needs `class_name` (one of {', '.join(SCHEDULES)})")
    class_name = spec["class_name"]
    if not isinstance(class_name, str) or class_name not in SCHEDULES:
        raise ValueError(f"{where}: unknown schedule class_name {shown(class_name)}; "
                         f"choose one of {', '.join(SCHEDULES)}")
    config = spec.get("config")
    if not isinstance(config, Mapping):
        raise ValueError(f"{where}: {class_name} needs a `config` mapping, got {shown(config)}")
    fields = SCHEDULES[class_name]
    unknown = [k for k in config if k not in fields]
    if unknown:
        raise ValueError(f"{where}: {class_name} has no config field `{unknown[0]}`; "
                         f"it takes {', '.join(fields)}")
    out = {}
    for name, (default, kind) in fields.items():
        if name not in config:
            if default is _REQUIRED:
                raise ValueError(f"{where}: {class_name} config needs `{name}`")
            out[name] = default
            continue
        out[name] = _check(kind, config[name], f"{where}: {class_name} `{name}`")
    if class_name == "PiecewiseConstantDecay" and len(out["values"]) != len(out["boundaries"]) + 1:
        raise ValueError(
            f"{where}: PiecewiseConstantDecay `values` must have one more element than `boundaries`; "
            f"got {len(out['boundaries'])} boundaries and {len(out['values'])} values"
        )
    return {"class_name": class_name, "config": out}


def is_schedule(value) -> bool:
    """True for a schedule mapping (a learning rate that is not a number)."""
    kind = type(value)
    if kind is float or kind is int or kind is bool or value is None:
        return False  # the common case, without the slow isinstance(Mapping) check
    return kind is dict or isinstance(value, Mapping)


def keras_code(spec, *, prefix: str = PREFIX) -> str:
    """Keras code for a schedule: required fields always, the others where they differ
    from Keras's default, e.g. ``keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.1, decay_steps=200)``.
    """
    spec = parse(spec)
    fields = SCHEDULES[spec["class_name"]]
    args = []
    for name, value in spec["config"].items():
        default = fields[name][0]
        if default is _REQUIRED or value != default or type(value) is not type(default):
            if default is not _REQUIRED and isinstance(default, (int, float)) and not isinstance(default, bool) \
                    and isinstance(value, (int, float)) and not isinstance(value, bool) and value == default:
                continue  # 0 vs 0.0: the same value
            args.append(f"{name}={py_literal(value)}")
    return f"{prefix}{spec['class_name']}({', '.join(args)})"


def initial_value(value) -> float:
    """The learning rate at iteration 0 (a float learning rate is itself), in float32."""
    if not is_schedule(value):
        return float(np.float32(value))
    return float(values(value, 1)[0])


# --- traced form ------------------------------------------------------------------------

FLOAT_FIELDS = (
    "initial", "decay_steps", "decay_rate", "staircase", "end", "power", "cycle", "alpha", "1-alpha",
    "warmup", "warmup_target", "warmup_steps", "t_mul", "m_mul",
)
_FILLER = {"decay_steps": 1.0, "t_mul": 2.0, "m_mul": 1.0, "power": 1.0, "1-alpha": 1.0}


def boundary_slots(rates: Sequence) -> int:
    """Boundary columns a program needs for these learning rates: a power of two, at least 4."""
    longest = max((len(r["config"]["boundaries"]) for r in rates
                   if is_schedule(r) and r["class_name"] == "PiecewiseConstantDecay"), default=1)
    return max(4, 1 << (int(longest) - 1).bit_length())


def lane_arrays(rates: Sequence, n_boundaries: int) -> dict[str, np.ndarray]:
    """Per-lane arrays for :func:`table`: ``kind`` (int32), the constant rate ``lr`` and every
    schedule float (float32, Keras's casts), from parsed schedules or plain numbers."""
    lanes = len(rates)
    if isinstance(rates, np.ndarray) or not any(is_schedule(rate) for rate in rates):  # constant rates only
        out = {name: np.full(lanes, _FILLER.get(name, 0.0), np.float32) for name in FLOAT_FIELDS}
        out["kind"] = np.zeros(lanes, np.int32)
        out["lr"] = np.asarray(rates, np.float64).astype(np.float32)
        out["boundaries"] = np.full((lanes, n_boundaries), np.inf, np.float32)
        out["values"] = np.zeros((lanes, n_boundaries + 1), np.float32)
        return out
    cols = {name: np.full(lanes, _FILLER.get(name, 0.0), np.float64) for name in FLOAT_FIELDS}
    kind = np.zeros(lanes, np.int32)
    lr = np.zeros(lanes, np.float64)
    boundaries = np.full((lanes, n_boundaries), np.inf, np.float64)
    piece_values = np.zeros((lanes, n_boundaries + 1), np.float64)
    for i, rate in enumerate(rates):
        if not is_schedule(rate):
            lr[i] = float(rate)
            continue
        c = rate["config"]
        name = rate["class_name"]
        kind[i] = KIND[name]
        if name == "PiecewiseConstantDecay":
            b = c["boundaries"]
            boundaries[i, : len(b)] = b
            piece_values[i, : len(c["values"])] = c["values"]
            piece_values[i, len(c["values"]):] = c["values"][-1]
            lr[i] = c["values"][0]
            continue
        lr[i] = c["initial_learning_rate"]
        cols["initial"][i] = c["initial_learning_rate"]
        cols["decay_steps"][i] = c.get("decay_steps", c.get("first_decay_steps"))
        cols["decay_rate"][i] = c.get("decay_rate", 0.0)
        cols["staircase"][i] = float(c.get("staircase", False))
        cols["end"][i] = c.get("end_learning_rate", 0.0)
        cols["power"][i] = c.get("power", 1.0)
        cols["cycle"][i] = float(c.get("cycle", False))
        cols["alpha"][i] = c.get("alpha", 0.0)
        # CosineDecay computes `1 - alpha` in Python double; CosineDecayRestarts in float32.
        cols["1-alpha"][i] = 1.0 - c.get("alpha", 0.0)
        warmup_target = c.get("warmup_target")
        cols["warmup"][i] = float(warmup_target is not None)
        cols["warmup_target"][i] = 0.0 if warmup_target is None else warmup_target
        cols["warmup_steps"][i] = c.get("warmup_steps", 0)
        cols["t_mul"][i] = c.get("t_mul", 2.0)
        cols["m_mul"][i] = c.get("m_mul", 1.0)
    out = {name: col.astype(np.float32) for name, col in cols.items()}
    out["kind"] = kind
    out["lr"] = lr.astype(np.float32)
    out["boundaries"] = boundaries.astype(np.float32)
    out["values"] = piece_values.astype(np.float32)
    return out


_PI = np.float32(math.pi)


def _exponential(step, p):
    q = step / p["decay_steps"]
    q = jnp.where(p["staircase"] > 0.5, jnp.floor(q), q)
    return p["initial"] * jnp.power(p["decay_rate"], q)


def _piecewise(step, p):
    # Keras sums indicator * value over the pieces; with strictly increasing boundaries
    # exactly one indicator is 1, so the sum is that piece's value, bit for bit.
    index = jnp.sum(step > p["boundaries"], axis=-1)  # (lanes,)
    return jnp.take_along_axis(p["values"], index[:, None], axis=-1)[:, 0]


def _polynomial(step, p):
    decay_steps = p["decay_steps"]
    cycle = p["cycle"] > 0.5
    multiplier = jnp.where(step == 0, jnp.float32(1.0), jnp.ceil(step / decay_steps))
    decay_steps = jnp.where(cycle, decay_steps * multiplier, decay_steps)
    step = jnp.where(cycle, step, jnp.minimum(step, decay_steps))
    q = step / decay_steps
    return (p["initial"] - p["end"]) * jnp.power(1 - q, p["power"]) + p["end"]


def _inverse_time(step, p):
    q = step / p["decay_steps"]
    q = jnp.where(p["staircase"] > 0.5, jnp.floor(q), q)
    return p["initial"] / (jnp.float32(1) + p["decay_rate"] * q)


def _cosine_decay(step, decay_steps, decay_from, p):
    fraction = step / decay_steps
    cosine = 0.5 * (1.0 + jnp.cos(_PI * fraction))
    return decay_from * (p["1-alpha"] * cosine + p["alpha"])


def _cosine(step, p):
    decay_steps, warmup_steps = p["decay_steps"], p["warmup_steps"]
    plain = _cosine_decay(jnp.minimum(step, decay_steps), decay_steps, p["initial"], p)
    s = jnp.minimum(step, decay_steps + warmup_steps)
    warming = (p["warmup_target"] - p["initial"]) * (s / warmup_steps) + p["initial"]
    decaying = _cosine_decay(s - warmup_steps, decay_steps, p["warmup_target"], p)
    with_warmup = jnp.where(s < warmup_steps, warming, decaying)
    return jnp.where(p["warmup"] > 0.5, with_warmup, plain)


def _restarts(step, p):
    t_mul, alpha = p["t_mul"], p["alpha"]
    fraction = step / p["decay_steps"]
    # geometric periods (t_mul != 1)
    i_geo = jnp.floor(jnp.log(1.0 - fraction * (1.0 - t_mul)) / jnp.log(t_mul))
    sum_r = (1.0 - jnp.power(t_mul, i_geo)) / (1.0 - t_mul)
    fraction_geo = (fraction - sum_r) / jnp.power(t_mul, i_geo)
    # equal periods (t_mul == 1)
    i_flat = jnp.floor(fraction)
    fraction_flat = fraction - i_flat
    flat = t_mul == 1.0
    i_restart = jnp.where(flat, i_flat, i_geo)
    fraction = jnp.where(flat, fraction_flat, fraction_geo)
    m_fac = jnp.power(p["m_mul"], i_restart)
    cosine = 0.5 * m_fac * (1.0 + jnp.cos(_PI * fraction))
    return p["initial"] * ((1 - alpha) * cosine + alpha)


_FORMULAS = {
    "ExponentialDecay": _exponential,
    "PiecewiseConstantDecay": _piecewise,
    "PolynomialDecay": _polynomial,
    "InverseTimeDecay": _inverse_time,
    "CosineDecay": _cosine,
    "CosineDecayRestarts": _restarts,
}


def rates_at(arrays: Mapping[str, jnp.ndarray], step) -> jnp.ndarray:
    """Learning rate of every lane at one iteration count ``step`` (an int scalar): shape (lanes,).

    Traceable. A class no lane uses costs nothing (each formula runs under ``lax.cond``).
    The step is a scalar and the schedule's floats are per-lane vectors, as Keras's are
    scalars: on a (steps, lanes) grid XLA would turn ``step / decay_steps`` (a divisor
    broadcast along the steps) into ``step * (1 / decay_steps)``, one ulp off Keras.
    """
    kind = arrays["kind"]
    params = {name: arrays[name] for name in (*FLOAT_FIELDS, "boundaries", "values")}
    step = jnp.asarray(step).astype(jnp.float32)  # Keras: ops.cast(iterations, float32)
    out = arrays["lr"]
    for name, formula in _FORMULAS.items():
        k = KIND[name]

        def apply(out, formula=formula, k=k):
            return jnp.where(kind == k, formula(step, params), out)

        out = jax.lax.cond(jnp.any(kind == k), apply, lambda out: out, out)
    return out


def table(arrays: Mapping[str, jnp.ndarray], steps: jnp.ndarray) -> jnp.ndarray:
    """Learning rate of every lane at every iteration count in ``steps``: shape (len(steps), lanes)."""
    return jax.lax.map(lambda step: rates_at(arrays, step), steps)


@keras_rounded_jit
def _values_program(arrays, steps, n_steps):
    return table(arrays, steps)[:, 0]


def values(spec, steps: int) -> np.ndarray:
    """The learning rate Keras uses at iterations 0 .. steps-1 (float32), e.g. to draw a schedule."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"`steps` must be a whole number from 1 to {MAX_STEPS}, got {shown(steps)}")
    rate = spec if not is_schedule(spec) else parse(spec)
    arrays = lane_arrays([rate], boundary_slots([rate]))
    # One program for up to 2048 steps: a steps slider never compiles again.
    n = max(2048, 1 << (int(steps) - 1).bit_length())
    return np.asarray(_values_program(arrays, jnp.arange(n, dtype=jnp.int32), steps))[:steps]
