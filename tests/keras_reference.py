"""The independent reference: real Keras 3 (JAX backend) stepping a keras.Variable.

The gradient is the surface's own jax.grad, jitted on its own; the update is
Keras's ``optimizer.apply_gradients``, op by op, as a Keras user would run it.
"""

from __future__ import annotations

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
}

# optviz's "nesterov" defaults to the article's momentum 0.9; Keras's SGD defaults to 0.0.
OPTVIZ_DEFAULTS_NOT_IN_KERAS = {"nesterov": {"momentum": 0.9}}


def keras_path(optimizer: str, surface: str, start, steps: int, surface_params=None, **hyperparameters):
    """Positions after 0..steps Keras steps (stops early once non-finite), float32."""
    s = get_surface(surface)
    params = {k: jnp.float32(v) for k, v in s.resolve_params(surface_params).items()}
    grad = jax.jit(jax.grad(lambda w: s.fn(w[0], w[1], params)))
    class_name, fixed = KERAS_CLASS[optimizer]
    kwargs = dict(OPTVIZ_DEFAULTS_NOT_IN_KERAS.get(optimizer, {}))
    kwargs.update(fixed)
    kwargs.update(hyperparameters)
    if "momentum" in kwargs:
        kwargs["momentum"] = float(kwargs["momentum"])
    opt = getattr(keras.optimizers, class_name)(**kwargs)
    w = keras.Variable(np.asarray(start, np.float32), dtype="float32")
    out = [np.array(w.value)]
    for _ in range(steps):
        opt.apply_gradients([(grad(w.value), w)])
        point = np.array(w.value)
        out.append(point)
        if not np.all(np.isfinite(point)):
            break
    return np.array(out)
