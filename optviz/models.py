"""Keras models with two weights: their loss over a data set is a true 2D surface.

Each model is one Keras layer and one Keras loss, written here as Keras computes them
(``Dense``: ``inputs @ kernel + bias``, then the activation; the loss per sample, then
Keras's ``sum_over_batch_size`` mean), so that :func:`optviz.fit` takes the steps
``model.fit`` takes. The two coordinates of the surface are the model's two weights.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .checks import MAX_FIT_POINTS, NOT_A_NUMBER
from .datasets import DATASETS, epoch_order, load
from .surfaces import Surface

# keras.backend.epsilon(): binary cross-entropy clips the predicted probability to
# [EPSILON, 1 - EPSILON] (keras/src/backend/jax/nn.py).
EPSILON = 1e-7


def _linear_losses(w, x, y):
    # Dense(1) on one feature: kernel (1, 1), bias (1,); loss "mse" per sample is
    # mean(square(y_true - y_pred), axis=-1) over one output.
    return jnp.square(y - (x[:, 0] * w[0] + w[1]))


def _logistic_losses(w, x, y):
    # Dense(1, activation="sigmoid"), loss "binary_crossentropy" with from_logits=False:
    # Keras clips the probability and takes both logs (its JAX backend has no logits path).
    output = jnp.clip(jax.nn.sigmoid(x[:, 0] * w[0] + w[1]), EPSILON, 1.0 - EPSILON)
    bce = y * jnp.log(output)
    bce += (1.0 - y) * jnp.log(1.0 - output)
    return -bce


def _plane_losses(w, x, y):
    # Dense(1, use_bias=False) on two features: kernel (2, 1), one Keras variable.
    return jnp.square(y - (x[:, 0] * w[0] + x[:, 1] * w[1]))


@dataclass(frozen=True)
class Model:
    """One two-weight Keras model: its layer, loss, the names of its two weights."""

    name: str
    display_name: str
    features: int  # input columns
    loss: str  # Keras's loss name, as compile() takes it
    layer: str  # the Keras layer, as code
    coordinates: tuple[str, str]  # the two weights, in get_weights() order
    # True: the two weights are two Keras variables (kernel and bias), each with its own
    # optimizer state, norm and clipnorm; False: one variable (the plane's (2, 1) kernel).
    split: bool
    latex: str
    losses_fn: object  # (w (2,), x (n, features), y (n,)) -> per-sample loss (n,)

    def losses(self, w, x, y):
        return self.losses_fn(w, x, y)

    def keras_weights(self, point) -> str:
        """``model.set_weights(...)``'s argument for the point (w0, w1), as code."""
        a, b = (_exact(v) for v in point)
        if self.split:
            return f"[np.array([[{a}]], 'float32'), np.array([{b}], 'float32')]"
        return f"[np.array([[{a}], [{b}]], 'float32')]"


def _exact(value) -> str:
    """A float32 as the shortest text that reads back to the same float32."""
    return np.format_float_positional(np.float32(value), unique=True, trim="0")


MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        Model("linear", "Linear regression", 1, "mse", "keras.layers.Dense(1)", ("kernel", "bias"), True,
              r"L(w, b) = \frac{1}{|B|}\sum_{i \in B} (y_i - (w x_i + b))^2", _linear_losses),
        Model("logistic", "Logistic regression", 1, "binary_crossentropy",
              'keras.layers.Dense(1, activation="sigmoid")', ("kernel", "bias"), True,
              r"L(w, b) = -\frac{1}{|B|}\sum_{i \in B} y_i \log p_i + (1 - y_i)\log(1 - p_i),"
              r"\quad p_i = \sigma(w x_i + b)", _logistic_losses),
        Model("plane", "Plane through the origin", 2, "mse", "keras.layers.Dense(1, use_bias=False)",
              ("w1", "w2"), False,
              r"L(w_1, w_2) = \frac{1}{|B|}\sum_{i \in B} (y_i - (w_1 x_{i1} + w_2 x_{i2}))^2", _plane_losses),
    )
}


def get_model(model: str | Model) -> Model:
    """The model called ``model``; ValueError naming ``model`` and the choices."""
    if isinstance(model, Model):
        return model
    key = str(model).strip().lower()
    if key not in MODELS:
        raise ValueError(f"`model` must be one of {', '.join(MODELS)}, got {model!r}")
    return MODELS[key]


def check_data(model: Model, x, y) -> tuple[np.ndarray, np.ndarray]:
    """``x`` as float32 (n, features) and ``y`` as float32 (n,), as Keras casts them;
    ValueError naming ``x`` or ``y`` for a bad shape, an empty or too large set, a value
    that is not a finite number or (logistic) a label outside [0, 1]."""
    want = "(n,) or (n, 1)" if model.features == 1 else f"(n, {model.features})"
    try:
        xs = np.asarray(x, dtype=np.float64)
    except NOT_A_NUMBER:
        raise ValueError(f"`x` must be an array of numbers of shape {want} for {model.name}") from None
    if model.features == 1 and xs.ndim == 1:
        xs = xs[:, None]
    if xs.ndim != 2 or xs.shape[1] != model.features:
        raise ValueError(f"`x` must have shape {want} for {model.name}, got {xs.shape}")
    if xs.shape[0] == 0:
        raise ValueError("`x` is empty: a data set needs at least one point")
    if xs.shape[0] > MAX_FIT_POINTS:
        raise ValueError(f"`x` may hold at most {MAX_FIT_POINTS} points, got {xs.shape[0]}")
    try:
        ys = np.asarray(y, dtype=np.float64)
    except NOT_A_NUMBER:
        raise ValueError("`y` must be an array of numbers of shape (n,) or (n, 1)") from None
    if ys.ndim == 2 and ys.shape[1] == 1:
        ys = ys[:, 0]
    if ys.ndim != 1:
        raise ValueError(f"`y` must have shape (n,) or (n, 1), got {ys.shape}")
    if ys.shape[0] != xs.shape[0]:
        raise ValueError(f"`y` must have one value per row of `x` ({xs.shape[0]}), got {ys.shape[0]}")
    xs32, ys32 = xs.astype(np.float32), ys.astype(np.float32)
    for name, values in (("x", xs32), ("y", ys32)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"`{name}` must hold finite numbers that fit in float32")
    if model.name == "logistic" and (np.any(ys32 < 0) or np.any(ys32 > 1)):
        raise ValueError("`y` must hold labels in [0, 1] for logistic (binary cross-entropy)")
    return xs32, ys32


def full_loss(model: Model, x: np.ndarray, y: np.ndarray, w0, w1) -> np.ndarray:
    """The loss over the whole data set at weights (w0, w1) (arrays broadcast), float32:
    the surface a fit moves on (Keras's ``model.evaluate`` with one batch)."""
    w0, w1 = np.broadcast_arrays(np.asarray(w0, np.float32), np.asarray(w1, np.float32))
    flat = jnp.stack([w0.reshape(-1), w1.reshape(-1)], axis=1)
    values = jax.vmap(lambda w: jnp.mean(model.losses(w, jnp.asarray(x), jnp.asarray(y))))(flat)
    return np.asarray(values).reshape(w0.shape)


def loss_at(model: Model, x: np.ndarray, y: np.ndarray, point) -> float:
    """The full loss at one point, in float64 with NumPy (a reference value such as the
    minimum's; no JAX call, so nothing compiles)."""
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    a, b = point
    z = x64[:, 0] * a + (b if model.split else x64[:, 1] * b)
    if model.loss == "mse":
        return float(np.mean(np.square(y64 - z)))
    p = np.clip(1.0 / (1.0 + np.exp(-z)), EPSILON, 1.0 - EPSILON)
    return float(np.mean(-(y64 * np.log(p) + (1.0 - y64) * np.log(1.0 - p))))


def minimum(model: Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """The weights where the full loss is least, in float64: least squares for the mse
    models, Newton's method for logistic (None when there is no minimum: separable
    classes, or one class only, push the weights to infinity)."""
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    design = np.column_stack([x64[:, 0], np.ones(len(x64))]) if model.split else x64
    if model.loss == "mse":
        solution, *_ = np.linalg.lstsq(design, y64, rcond=None)
        return float(solution[0]), float(solution[1])
    w = np.zeros(2)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (p - y64) / len(y64)
        hessian = (design * (p * (1 - p))[:, None]).T @ design / len(y64)
        try:
            step = np.linalg.solve(hessian + 1e-12 * np.eye(2), gradient)
        except np.linalg.LinAlgError:
            return None
        w -= step
        if not np.all(np.isfinite(w)) or np.max(np.abs(w)) > 1e4:
            return None
        if np.max(np.abs(step)) < 1e-12:
            return float(w[0]), float(w[1])
    return None


def _rows(values: np.ndarray) -> str:
    """A float32 array as a Python list literal, exact (shortest text per float32)."""
    if values.ndim == 1:
        return "[" + ", ".join(_exact(v) for v in values) + "]"
    return "[" + ", ".join(_rows(row) for row in values) + "]"


def keras_program(optimizer, hyperparameters, model: str | Model, x, y, *, batch_size: int, epochs: int,
                  start, shuffle: bool = False, seed: int = 0, about: str = "") -> str:
    """The whole runnable Keras program for this fit: the data, the model, its starting
    weights (``set_weights``), ``compile`` and ``fit`` with the same batches, and a callback
    that keeps the weights after every batch (the path optviz draws). With ``shuffle``, the
    points go to Keras in optviz's order for each epoch (Keras's own shuffle is another)."""
    from .optimizers import get_optimizer  # (optimizers -> engine would import this module)

    model = get_model(model)
    opt = get_optimizer(optimizer)
    xs, ys = check_data(model, x, y)
    n = xs.shape[0]
    lines = [
        "import os",
        "",
        'os.environ["KERAS_BACKEND"] = "jax"',
        "",
        "import keras",
        "import numpy as np",
        "",
        f"# The data{': ' + about if about else ''} ({n} points, float32 as Keras reads them)",
        f"x = np.array({_rows(xs)}, 'float32')",
        f"y = np.array({_rows(ys)}, 'float32')",
        "",
        f"model = keras.Sequential([keras.Input(({model.features},)), {model.layer}])",
        f"model.set_weights({model.keras_weights(start)})",
        f'model.compile(optimizer={opt.keras_code(hyperparameters)}, loss="{model.loss}")',
        "",
        "",
        "class KeepWeights(keras.callbacks.Callback):",
        '    """The weights after every batch: the path optviz draws."""',
        "",
        "    def on_train_batch_end(self, batch, logs=None):",
        "        # (self.model, not the global: on JAX it brings the weights back from the train step)",
        "        path.append(np.concatenate([w.ravel() for w in self.model.get_weights()]))",
        "",
        "",
        "path = [np.concatenate([w.ravel() for w in model.get_weights()])]",
        "keep = KeepWeights()",
    ]
    if shuffle:
        orders = ",\n    ".join(str(epoch_order(seed, epoch, n).tolist()) for epoch in range(epochs))
        lines += [
            f"# optviz's shuffled order of the points in each epoch (shuffle, seed {seed})",
            f"orders = [\n    {orders},\n]",
            "for order in orders:",
            f"    model.fit(x[order], y[order], batch_size={batch_size}, epochs=1, shuffle=False, verbose=0,",
            "              callbacks=[keep])",
        ]
    else:
        lines.append(f"model.fit(x, y, batch_size={batch_size}, epochs={epochs}, shuffle=False, verbose=0, "
                     "callbacks=[keep])")
    lines.append("print(np.array(path).tolist())")
    return "\n".join(lines) + "\n"


# --- data surfaces: a model's full loss over a data set, as a Surface ---------------------

DATA_PREFIX = "data_"  # a data surface's name: DATA_PREFIX + the data set's name
DATA_SURFACES = tuple(DATA_PREFIX + name for name in DATASETS)


@dataclass(frozen=True, eq=False)  # (Surface's own __eq__ and __hash__: by key)
class DataSurface(Surface):
    """A model's loss over a whole data set, drawn as any surface is; :func:`optviz.fit`
    takes the steps on it, batch by batch. ``data`` is the :class:`~optviz.datasets.DataSet`."""

    data: object = None
    model_name: str = ""

    @property
    def model(self) -> Model:
        return MODELS[self.model_name]


def is_data_surface(name: str) -> bool:
    return str(name).startswith(DATA_PREFIX)


@functools.lru_cache(maxsize=32)
def data_surface(name: str, standardize: bool = False) -> DataSurface:
    """The data surface ``name`` (``data_line``, ``data_anscombe``, ...): the loss of the
    data set's model over all of it. Its view box is square (the same scale on both
    weights, so an elongated bowl looks elongated) about the minimum, and wide enough for a
    start a good way off it."""
    dataset = name[len(DATA_PREFIX):] if is_data_surface(name) else name
    if dataset not in DATASETS:
        raise ValueError(f"unknown data surface {name!r}; choose one of "
                         f"{', '.join(DATA_PREFIX + d for d in DATASETS)}")
    data = load(dataset, standardize=standardize)
    model = MODELS[data.model]
    x, y = check_data(model, data.x, data.y)
    best = minimum(model, x, y)
    centre = (0.0, 0.0) if best is None else best
    # (Logistic: wider, to show the plateaus where the sigmoid is saturated all around.)
    reach = 2.0 if model.loss == "binary_crossentropy" else 1.2
    half = float(_nice(max(2.0, reach * max(abs(centre[0]), abs(centre[1])))))
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def fn(a, b, params):
        a, b = jnp.broadcast_arrays(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32))
        flat = jnp.stack([a.reshape(-1), b.reshape(-1)], axis=1)
        values = jax.vmap(lambda w: jnp.mean(model.losses(w, xj, yj)))(flat)
        return values.reshape(a.shape)

    start = (round(centre[0] - 0.8 * half, 3), round(centre[1] + 0.7 * half, 3))
    if model.loss == "binary_crossentropy":
        # (Off to the side, a logistic model's sigmoid is clipped at every point: no gradient
        # at all. At (0, 0) every prediction is 0.5.)
        start = (0.0, 0.0)
    suffix = " (standardized)" if standardize else ""
    return DataSurface(
        DATA_PREFIX + dataset, f"{model.display_name}: {dataset}{suffix}", model.latex, fn,
        minima=() if best is None else (best,), min_value=None if best is None else loss_at(model, x, y, best),
        x_range=(centre[0] - half, centre[0] + half), y_range=(centre[1] - half, centre[1] + half),
        default_start=start, description=data.description, key=f"{DATA_PREFIX}{dataset}:{int(standardize)}",
        data=data, model_name=model.name,
    )


def _nice(value: float) -> float:
    """``value`` rounded up to 1, 2 or 5 times a power of ten (a tidy axis)."""
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def batch_indices(n: int, batch_size: int, step: int, *, shuffle: bool = False, seed: int = 0) -> np.ndarray:
    """The points of the batch that step ``step`` (0-based) of a fit uses: batches in order
    through each epoch (optviz's seeded order with ``shuffle``), the last one partial."""
    per_epoch = -(-n // batch_size)
    epoch, batch = divmod(int(step), per_epoch)
    order = epoch_order(seed, epoch, n) if shuffle else np.arange(n)
    return order[batch * batch_size: min((batch + 1) * batch_size, n)]


def loss_grid(model: Model, x: np.ndarray, y: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """The mean loss over the points (x, y) at every pair of weights (w0, w1 broadcast), in
    float64 NumPy (a picture, not a step: nothing compiles whatever the batch's size)."""
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    a, b = (np.asarray(v, np.float64)[..., None] for v in np.broadcast_arrays(w0, w1))
    z = x64[:, 0] * a + (b if model.split else x64[:, 1] * b)
    if model.loss == "mse":
        return np.mean(np.square(y64 - z), axis=-1)
    p = np.clip(1.0 / (1.0 + np.exp(-np.clip(z, -80, 80))), EPSILON, 1.0 - EPSILON)
    return np.mean(-(y64 * np.log(p) + (1.0 - y64) * np.log(1.0 - p)), axis=-1)
