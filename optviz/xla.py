"""An opt-in XLA setting that makes optviz's compiled loops about 2.5x faster.

XLA:CPU runs each operation of a loop body as its own "thunk"; a loop whose buffers are
under a byte threshold is compiled into one native kernel instead, and a race's outputs
are above the default threshold. Raising it is a process-wide XLA flag, read once when
JAX starts its CPU backend, so ``import optviz`` does not set it: the page, the command
line and the tests call :func:`configure` first, and a notebook may too. It changes speed
only, never a path (the paths are Keras's either way, see :mod:`optviz.rounding`).
"""

from __future__ import annotations

import os
import sys

LOOP_KERNEL_FLAG = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=16777216"


def _backend_started() -> bool:
    if "jax" not in sys.modules:
        return False
    from jax._src import xla_bridge  # (no public way to ask; a missing name means "assume started")

    return getattr(xla_bridge, "backends_are_initialized", lambda: True)()


def configure() -> bool:
    """Add :data:`LOOP_KERNEL_FLAG` to ``XLA_FLAGS`` before JAX starts. A user's own
    ``xla_backend_extra_options`` win (nothing added). Returns whether the flag is in
    ``XLA_FLAGS``; once JAX's CPU backend has started it changes nothing (too late)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if LOOP_KERNEL_FLAG in flags.split():
        return True
    if "xla_backend_extra_options" in flags or _backend_started():
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {LOOP_KERNEL_FLAG}".strip()
    return True
