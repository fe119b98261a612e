"""Number checks shared by the validators: what ``float()`` refuses, and what the
engine's float32 (Keras's precision) cannot hold."""

from __future__ import annotations

import numpy as np

MAX_STEPS = 100_000  # the most steps a run takes (the engine's, and a schedule's table)

F32_MAX = float(np.finfo(np.float32).max)  # 3.4e38: a larger number is inf in float32
F32_RANGE = f"float32, the precision Keras computes in, holds magnitudes up to {F32_MAX:.2g}"

# float() of a whole number too large for a float raises OverflowError, not ValueError.
NOT_A_NUMBER = (TypeError, ValueError, OverflowError)


def fits_float32(number: float) -> bool:
    """True if float32 keeps ``number`` finite. (One too small for it becomes 0, which is
    harmless unless 0 itself is refused: check the rounded value, :func:`as_float32`, then.)"""
    return abs(number) <= F32_MAX


def as_float32(number: float) -> float:
    """``number`` as the engine will compute with it (rounded to float32)."""
    return float(np.float32(number))
