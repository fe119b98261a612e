"""Shared test setup: Keras on the JAX backend, and the XLA loop setting the page and
the command line use (speed only: optviz's paths are Keras's with or without it)."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import optviz.xla  # noqa: E402

optviz.xla.configure()
