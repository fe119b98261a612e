"""Number checks shared by the validators: what ``float()`` refuses, and what the
engine's float32 (Keras's precision) cannot hold; and the one number parser and the one
true-or-false parser for text from a link, a lessons file or a command line."""

from __future__ import annotations

import math
import reprlib

import numpy as np

MAX_STEPS = 100_000  # the most steps a run takes (the engine's, and a schedule's table)
# The largest sweep: its cells (learning rates x momenta), and cells x steps, which its
# memory grows with. The page's tuning map (121 x 100 cells, up to 2000 steps) fits.
MAX_SWEEP_CELLS = 2**14
MAX_SWEEP_CELL_STEPS = 2**25
# The most points a data set may hold for a fit (each step reads every point through a mask).
MAX_FIT_POINTS = 4096

F32_MAX = float(np.finfo(np.float32).max)  # 3.4e38: a larger number is inf in float32
F32_RANGE = f"float32, the precision Keras computes in, holds magnitudes up to {F32_MAX:.2g}"

# float() of a whole number too large for a float raises OverflowError, not ValueError.
NOT_A_NUMBER = (TypeError, ValueError, OverflowError)
NOT_FINITE = "not a finite number"  # parse_number's reason for nan and inf


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxtuple, _SHOWN.maxdict, _SHOWN.maxset = 3, 20, 20, 10, 10
_SHOWN.maxstring = _SHOWN.maxother = _SHOWN.maxlong = 80


def shown(value) -> str:
    """``repr(value)`` for an error message, cut short: a value nested a million levels deep
    (a schedule inside a schedule ...) or a million items long is not written out whole
    (``repr`` would raise RecursionError on the first, and print all of the second)."""
    try:
        return _SHOWN.repr(value)
    except Exception:  # (a type whose own repr fails)
        return f"<{type(value).__name__}>"


def fits_float32(number: float) -> bool:
    """True if float32 keeps ``number`` finite. (One too small for it becomes 0, which is
    harmless unless 0 itself is refused: check the rounded value, :func:`as_float32`, then.)"""
    return abs(number) <= F32_MAX


def as_float32(number: float) -> float:
    """``number`` as the engine will compute with it (rounded to float32)."""
    return float(np.float32(number))


def parse_number(value, low: float = -math.inf, high: float = math.inf, *, integer: bool = False,
                 max_chars: int = 40) -> float:
    """``value`` (a number, or text that ``float()`` reads: nothing is evaluated) if it is
    finite, whole when ``integer`` (then an int), and within [low, high]; otherwise one of
    NOT_A_NUMBER, saying what failed."""
    if isinstance(value, str):
        if len(value) > max_chars:
            raise ValueError("too long")
        value = value.strip()
    elif isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError("not a number")  # True is 1 to float(), but no one means 1 by it
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(NOT_FINITE)
    if integer and number != int(number):
        raise ValueError("not a whole number")
    if not low <= number <= high:
        raise ValueError(f"outside {low:g} to {high:g}")
    return int(number) if integer else number


def parse_number_list(text: str, *, integer: bool = False) -> list:
    """'100, 300' -> [100, 300]: 1 to 16 finite numbers (whole ones >= 0 if ``integer``)."""
    if len(str(text)) > 200:
        raise ValueError("too long")
    items = [item.strip() for item in str(text).split(",") if item.strip()]
    if not items or len(items) > 16:
        raise ValueError("expected 1 to 16 numbers separated by commas")
    try:
        values = [parse_number(item, max_chars=200) for item in items]
    except ValueError as exc:
        if str(exc) == NOT_FINITE:
            raise ValueError("numbers must be finite") from None
        raise
    if integer:
        if any(v != int(v) or v < 0 for v in values):
            raise ValueError("boundaries must be whole numbers >= 0")
        return [int(v) for v in values]
    return values


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def parse_bool(text: str) -> bool:
    """'1', 'true', 'yes', 'on' -> True; '0', 'false', 'no', 'off' -> False (any case)."""
    lowered = str(text).strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValueError("not true or false")
