"""optviz: Keras 3's optimizers racing across 2D loss surfaces.

The engine (pure JAX, no Streamlit): :func:`simulate`, :func:`race`, :func:`sweep`,
the optimizers in :data:`ALL_OPTIMIZERS` (the article's six: :data:`ARTICLE_OPTIMIZERS`) and
the surfaces in :data:`SURFACES`.
"""

from . import schedules
from .engine import MAX_STEPS, NonFiniteStartError, SweepResult, Trajectory, race, simulate, sweep
from .optimizers import ALL_OPTIMIZERS, ARTICLE_OPTIMIZERS, ARTICLE_SETTINGS, Optimizer, get_optimizer
from .surfaces import SURFACES, Surface, get_surface

__all__ = [
    "ALL_OPTIMIZERS", "ARTICLE_OPTIMIZERS", "ARTICLE_SETTINGS", "MAX_STEPS", "NonFiniteStartError", "Optimizer",
    "SURFACES", "Surface", "SweepResult",
    "Trajectory", "get_optimizer", "get_surface", "race", "schedules", "simulate", "sweep",
]
