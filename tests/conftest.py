"""Shared test setup: optviz before JAX (it sets XLA flags), Keras on the JAX backend."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import optviz  # noqa: E402,F401  (must come before jax starts its CPU backend)
