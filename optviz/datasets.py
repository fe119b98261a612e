"""Data sets for the two-weight models: seeded synthetic ones and small real ones.

:func:`load` returns a :class:`DataSet` (x, y and which model it suits). The synthetic sets
take a size ``n``, a ``noise`` level and a ``seed`` (NumPy's seeded generator: the same
numbers on every machine); the real ones ship with the package as CSV files
(``optviz/data/``, each naming its source; public domain). ``standardize=True`` centres each
input column and scales it to unit standard deviation: the loss bowl of a linear model
then has no tilt from the inputs' mean and scale, so it is round where it was elongated.
"""

from __future__ import annotations

import csv
import math
import numbers
from dataclasses import dataclass
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

from .checks import MAX_FIT_POINTS, NOT_A_NUMBER


@dataclass(frozen=True)
class DataSet:
    """x (n, features) and y (n,) as float64; ``model`` is the model it is made for."""

    name: str
    model: str
    x: np.ndarray
    y: np.ndarray
    description: str
    source: str = ""  # where a real data set comes from
    feature_names: tuple[str, ...] = ("x",)
    target_name: str = "y"
    standardized: bool = False

    @property
    def size(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class _Spec:
    model: str
    description: str
    synthetic: bool
    default_n: int = 0
    default_noise: float = 0.0


DATASETS: dict[str, _Spec] = {
    "line": _Spec("linear", "y = 2x + 1 plus Gaussian noise, x in [0, 10]", True, 50, 1.0),
    "classes": _Spec("logistic", "two overlapping classes on one feature (centres 1 and 3)", True, 60, 1.0),
    "correlated": _Spec("plane", "y = 1.5 x1 - 0.5 x2 plus noise; x1 and x2 correlated (0.8)", True, 60, 0.5),
    "anscombe": _Spec("linear", "Anscombe's quartet, set I: 11 points", False),
    "iris_petals": _Spec("logistic", "iris: petal width (cm) -> virginica (1) or versicolor (0), 100 flowers",
                         False),
    "iris_plane": _Spec("plane", "iris: petal length and width (cm) -> sepal length (cm), 150 flowers", False),
}
MAX_NOISE = 10.0


def _read_csv(filename: str) -> tuple[list[dict[str, str]], str]:
    """The rows of a packaged CSV and its source (the ``#`` lines at its top)."""
    text = resources.files("optviz").joinpath("data", filename).read_text(encoding="utf-8")
    lines = text.splitlines()
    source = " ".join(line.lstrip("# ").strip() for line in lines if line.startswith("#"))
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    return rows, source


def _check_count(value, name: str, low: int, high: int) -> int:
    message = f"`{name}` must be a whole number from {low} to {high}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, float, str)):
        raise ValueError(message)
    try:
        number = float(value)
    except NOT_A_NUMBER:
        raise ValueError(message) from None
    if not math.isfinite(number) or number != int(number) or not low <= number <= high:
        raise ValueError(message)
    return int(number)


def load(name: str, *, n: int | None = None, noise: float | None = None, seed: int = 0,
         standardize: bool = False) -> DataSet:
    """The data set ``name`` (one of :data:`DATASETS`). ``n`` and ``noise`` apply to the
    synthetic ones (``None``: their defaults); ValueError naming the bad field."""
    key = str(name).strip().lower()
    if key not in DATASETS:
        raise ValueError(f"`dataset` must be one of {', '.join(DATASETS)}, got {name!r}")
    spec = DATASETS[key]
    if spec.synthetic:
        size = spec.default_n if n is None else _check_count(n, "n", 2, MAX_FIT_POINTS)
        try:
            level = spec.default_noise if noise is None else float(noise)
        except NOT_A_NUMBER:
            raise ValueError(f"`noise` must be a number from 0 to {MAX_NOISE:g}, got {noise!r}") from None
        if not 0 <= level <= MAX_NOISE:
            raise ValueError(f"`noise` must be a number from 0 to {MAX_NOISE:g}, got {noise!r}")
        seed = _check_count(seed, "seed", 0, 2**32 - 1)
        x, y, features = _synthetic(key, size, level, np.random.default_rng(seed))
        data = DataSet(key, spec.model, x, y, spec.description, feature_names=features)
    else:
        if n is not None or noise is not None:
            raise ValueError(f"`n` and `noise` apply to the synthetic data sets only, not {key}")
        data = _real(key, spec)
    return standardized(data) if standardize else data


def _synthetic(name: str, n: int, noise: float, rng: np.random.Generator):
    if name == "line":
        x = rng.uniform(0.0, 10.0, n)
        return x[:, None], 2.0 * x + 1.0 + noise * rng.standard_normal(n), ("x",)
    if name == "classes":
        labels = np.arange(n) % 2  # half and half, interleaved: every batch of two sees both
        x = np.where(labels == 1, 3.0, 1.0) + noise * rng.standard_normal(n)
        return x[:, None], labels.astype(np.float64), ("x",)
    x1 = rng.standard_normal(n)
    x2 = 0.8 * x1 + 0.6 * rng.standard_normal(n)
    x = np.column_stack([x1, x2]) + np.array([2.0, 1.0])
    return x, x @ np.array([1.5, -0.5]) + noise * rng.standard_normal(n), ("x1", "x2")


def _real(name: str, spec: _Spec) -> DataSet:
    if name == "anscombe":
        rows, source = _read_csv("anscombe.csv")
        x = np.array([[float(r["x"])] for r in rows])
        return DataSet(name, spec.model, x, np.array([float(r["y"]) for r in rows]), spec.description, source)
    rows, source = _read_csv("iris.csv")
    if name == "iris_petals":
        rows = [r for r in rows if r["species"] in ("versicolor", "virginica")]
        x = np.array([[float(r["petal_width"])] for r in rows])
        y = np.array([float(r["species"] == "virginica") for r in rows])
        return DataSet(name, spec.model, x, y, spec.description, source, ("petal width",), "virginica")
    x = np.array([[float(r["petal_length"]), float(r["petal_width"])] for r in rows])
    y = np.array([float(r["sepal_length"]) for r in rows])
    return DataSet(name, spec.model, x, y, spec.description, source, ("petal length", "petal width"),
                   "sepal length")


def standardized(data: DataSet) -> DataSet:
    """``data`` with each input column centred and scaled to unit (population) standard
    deviation; a constant column is only centred."""
    mean, std = data.x.mean(axis=0), data.x.std(axis=0)
    x = (data.x - mean) / np.where(std > 0, std, 1.0)
    return DataSet(data.name, data.model, x, data.y, data.description, data.source, data.feature_names,
                   data.target_name, standardized=True)


# --- the order of the points in each epoch ----------------------------------------------


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which ``fit(shuffle=True, seed=seed)`` visits the ``n`` points in
    ``epoch`` (0-based): a permutation of 0..n-1, the same on every machine (JAX's
    counter-based random bits, one per point, independent of any padding)."""
    positions = np.asarray(epoch_positions(np.uint32(seed), np.int32(epoch), np.int32(n), padded_size(n), True))
    order = np.empty(n, np.int64)
    order[positions[:n]] = np.arange(n)
    return order


def padded_size(n: int) -> int:
    """The points a fit program holds for ``n`` (a power of two, at least 16): data sets of
    nearby sizes share one program."""
    return max(16, 1 << (int(n) - 1).bit_length())


def epoch_positions(seed, epoch, n, n_pad: int, shuffle):
    """Each (padded) point's position in the epoch's order: the identity without shuffling;
    with it, the rank of the point's random bits (padding always last)."""
    index = jnp.arange(n_pad, dtype=jnp.int32)

    def shuffled():
        key = jax.random.fold_in(jax.random.PRNGKey(seed), epoch)
        bits = jax.vmap(lambda i: jax.random.bits(jax.random.fold_in(key, i), dtype=jnp.uint32))(index)
        order = jnp.argsort(jnp.where(index < n, bits, jnp.uint32(2**32 - 1)), stable=True)
        return jnp.zeros(n_pad, jnp.int32).at[order].set(index)

    return jax.lax.cond(shuffle, shuffled, lambda: index)


epoch_positions = jax.jit(epoch_positions, static_argnums=3)
