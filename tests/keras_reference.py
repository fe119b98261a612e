"""The independent reference: real Keras 3 (JAX backend) stepping a keras.Variable.

The gradient is the surface's own jax.grad, run op by op (each operation rounded on its
own, as Keras's eager steps are; a jitted one would fuse products into FMAs on a CPU that
has them); the update is Keras's ``optimizer.apply_gradients``, op by op, as a Keras user
would run it.
A learning rate given as ``{"class_name": ..., "config": {...}}`` becomes a real
Keras schedule (``keras.optimizers.schedules.deserialize``); weight_decay, clipnorm,
clipvalue and global_clipnorm go to the optimizer's constructor as they are.
"""

from __future__ import annotations

import functools
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from optviz.surfaces import get_surface  # noqa: E402

KERAS_CLASS = {
    "sgd": ("SGD", {}),
    "nesterov": ("SGD", {"nesterov": True}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "adamax": ("Adamax", {}),
    "adamw": ("AdamW", {}),
    "nadam": ("Nadam", {}),
    "adadelta": ("Adadelta", {}),
    "lion": ("Lion", {}),
    "ftrl": ("Ftrl", {}),
    "lamb": ("Lamb", {}),
    "adafactor": ("Adafactor", {}),
    "schedulefreeadamw": ("ScheduleFreeAdamW", {}),
}

# optviz's "nesterov" defaults to the article's momentum 0.9; Keras's SGD defaults to 0.0.
OPTVIZ_DEFAULTS_NOT_IN_KERAS = {"nesterov": {"momentum": 0.9}}


class _OncePerIteration(keras.optimizers.schedules.LearningRateSchedule):
    """A Keras schedule, called once per iteration count (the optimizer asks for the rate
    two or three times a step). The value is Keras's own: CosineDecay with warm-up and
    CosineDecayRestarts run ``ops.cond``, which compiles at every eager call (~40 ms);
    calling it once a step keeps the reference fast without changing a bit."""

    def __init__(self, schedule):
        self.schedule = schedule
        self.cache = {}

    def __call__(self, step):
        key = int(np.asarray(step))
        if key not in self.cache:
            self.cache[key] = self.schedule(step)
        return self.cache[key]


def keras_optimizer(optimizer: str, *, eager: bool = True, **hyperparameters):
    """The Keras optimizer object for optviz's name and hyperparameters (``eager``: stepped
    op by op, its schedule called once per iteration; else Keras's schedule as it is, for
    model.fit's compiled train step)."""
    class_name, fixed = KERAS_CLASS[optimizer]
    kwargs = dict(OPTVIZ_DEFAULTS_NOT_IN_KERAS.get(optimizer, {}))
    kwargs.update(fixed)
    kwargs.update(hyperparameters)
    if "momentum" in kwargs:
        kwargs["momentum"] = float(kwargs["momentum"])
    if isinstance(kwargs.get("learning_rate"), dict):
        schedule = keras.optimizers.schedules.deserialize(kwargs["learning_rate"])
        kwargs["learning_rate"] = _OncePerIteration(schedule) if eager else schedule
    return getattr(keras.optimizers, class_name)(**kwargs)


@functools.lru_cache(maxsize=None)
def _gradient(surface: str, params: tuple):
    """The surface's gradient, op by op (one per surface and parameters)."""
    s = get_surface(surface)
    values = {k: jnp.float32(v) for k, v in params}
    return jax.grad(lambda w: s.fn(w[0], w[1], values))


def keras_path(optimizer: str, surface: str, start, steps: int, surface_params=None, **hyperparameters):
    """Positions after 0..steps Keras steps (stops early once non-finite), float32."""
    return keras_run(optimizer, surface, start, steps, surface_params, **hyperparameters)[0]


def keras_run(optimizer: str, surface: str, start, steps: int, surface_params=None, **hyperparameters):
    """(positions after 0..steps Keras steps, the learning rate Keras used at each of them):
    ``optimizer.learning_rate`` read before each step (stops early once non-finite)."""
    grad = _gradient(surface, tuple(sorted(get_surface(surface).resolve_params(surface_params).items())))
    opt = keras_optimizer(optimizer, **hyperparameters)
    w = keras.Variable(np.asarray(start, np.float32), dtype="float32")
    out = [np.array(w.value)]
    rates = []
    for _ in range(steps):
        rates.append(np.float32(opt.learning_rate))
        opt.apply_gradients([(grad(w.value), w)])
        point = np.array(w.value)
        out.append(point)
        if not np.all(np.isfinite(point)):
            break
    return np.array(out), np.array(rates, np.float32)


def compare_paths(ours, theirs: np.ndarray, keras_rates: np.ndarray | None = None):
    """optviz's Trajectory against Keras's positions: the same divergence step, the first 50
    positions to 1e-4 relative (atol 1e-6), the whole path close; and, if given, the
    learning rate of every step."""
    bound = 1e6
    inside = np.all(np.isfinite(theirs), axis=1) & np.all(np.abs(theirs) <= bound, axis=1)
    # Keras's own divergence step, by our definition, must be ours.
    keras_diverged = None if inside.all() else int(np.argmin(inside))
    if keras_diverged is not None and keras_diverged < len(theirs):
        assert ours.diverged_at == keras_diverged
    n = len(ours.path)
    np.testing.assert_allclose(ours.path[:50], theirs[: min(50, n)], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.path, theirs[:n], rtol=1e-3, atol=1e-4)
    if keras_rates is not None:
        m = min(n, len(keras_rates))
        np.testing.assert_allclose(ours.learning_rate[:m], keras_rates[:m], rtol=1e-6, atol=0)


# --- model.fit: a real Keras model with two weights ------------------------------------

KERAS_MODELS = {
    "linear": (1, lambda: keras.layers.Dense(1), "mse"),
    "logistic": (1, lambda: keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy"),
    "plane": (2, lambda: keras.layers.Dense(1, use_bias=False), "mse"),
}


class _WeightsAfterEachBatch(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_train_batch_end(self, batch, logs=None):
        self.path.append(np.concatenate([np.ravel(w) for w in self.model.get_weights()]))


def keras_fit_path(optimizer: str, model: str, x, y, *, batch_size: int, epochs: int, start, orders=None,
                   **hyperparameters):
    """The weights before and after each batch of Keras's own ``model.fit(x, y,
    batch_size=..., epochs=..., shuffle=False)`` (float32, (steps + 1, 2)); ``orders``:
    one permutation per epoch, each epoch then a ``fit`` of the data in that order."""
    features, layer, loss = KERAS_MODELS[model]
    net = keras.Sequential([keras.Input((features,)), layer()])
    x = np.asarray(x, np.float32).reshape(-1, features)
    y = np.asarray(y, np.float32)
    a, b = np.float32(start[0]), np.float32(start[1])
    net.set_weights([np.array([[a]]), np.array([b])] if features == 1 else [np.array([[a], [b]])])
    net.compile(optimizer=keras_optimizer(optimizer, eager=False, **hyperparameters), loss=loss)
    path = [np.concatenate([np.ravel(w) for w in net.get_weights()])]
    callback = _WeightsAfterEachBatch(path)
    if orders is None:
        net.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0, callbacks=[callback])
    else:
        for order in orders:
            net.fit(x[order], y[order], batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                    callbacks=[callback])
    return np.array(path, np.float32)
