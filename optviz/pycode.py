"""Python literals for the code the page prints (Keras, PyTorch and optax optimizers, Keras schedules)."""

from __future__ import annotations


def py_literal(value) -> str:
    """``value`` as Python source: a float stays a float (``1.0``, not ``1``), so Keras
    receives the type it would from a person typing the call; 6 significant digits,
    3 below 1e-4."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, tuple):  # PyTorch's betas
        return "(" + ", ".join(py_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    value = float(value)
    text = f"{value:.6g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.3g}"
    return text if any(c in text for c in ".en") else text + ".0"
