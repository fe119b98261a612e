"""optviz: Keras 3's optimizers racing across 2D loss surfaces.

The engine (pure JAX, no Streamlit): :func:`simulate`, :func:`race`, :func:`sweep`,
the optimizers in :data:`ALL_OPTIMIZERS` (the article's six: :data:`ARTICLE_OPTIMIZERS`) and
the surfaces in :data:`SURFACES`.
"""

import os as _os
import platform as _platform

# Keras steps a variable with one eager XLA call per operation, so `a*b - c*d` rounds
# each product. Inside one jitted program, XLA on an x86 CPU with FMA contracts it to
# fma(a, b, -c*d): a one-ulp difference that a chaotic path (RMSprop near a minimum)
# grows into a visibly different path. Capping the instruction set at AVX (no FMA)
# keeps our compiled steps bit-for-bit Keras's. It only takes effect if optviz is
# imported before JAX starts its CPU backend; the cost on 2-D problems is nil.
if _platform.machine().lower() in ("x86_64", "amd64") and "xla_cpu_max_isa" not in _os.environ.get(
    "XLA_FLAGS", ""
):
    _os.environ["XLA_FLAGS"] = (_os.environ.get("XLA_FLAGS", "") + " --xla_cpu_max_isa=AVX").strip()

# XLA:CPU runs each operation of a loop body as its own "thunk" (~60 ns apiece); a
# race step is a dozen of them, so a 1000-step race spent ~1.3 ms in dispatch alone.
# XLA compiles a while loop whose buffers are under a byte threshold into ONE native
# kernel instead; the default threshold is below a race's outputs (~0.5 MB), so raise
# it. Same HLO, same arithmetic (the Keras parity tests run with it): about 3x faster.
if "xla_backend_extra_options" not in _os.environ.get("XLA_FLAGS", ""):  # never clobber a user's own
    _os.environ["XLA_FLAGS"] = (
        _os.environ.get("XLA_FLAGS", "")
        + " --xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=16777216"
    ).strip()

from .engine import MAX_STEPS, NonFiniteStartError, SweepResult, Trajectory, race, simulate, sweep
from . import schedules
from .optimizers import ALL_OPTIMIZERS, ARTICLE_OPTIMIZERS, ARTICLE_SETTINGS, Optimizer, get_optimizer
from .surfaces import SURFACES, Surface, get_surface

__all__ = [
    "ALL_OPTIMIZERS", "ARTICLE_OPTIMIZERS", "ARTICLE_SETTINGS", "MAX_STEPS", "NonFiniteStartError", "Optimizer", "SURFACES",
    "Surface", "SweepResult",
    "Trajectory", "get_optimizer", "get_surface", "race", "schedules", "simulate", "sweep",
]
