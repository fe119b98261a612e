"""optviz: Keras 3's optimizers racing across 2D loss surfaces.

The engine (pure JAX, no Streamlit): :func:`simulate`, :func:`race`, :func:`sweep`,
:func:`fit` (a two-weight Keras model's ``model.fit`` on a data set, batch by batch), the
optimizers in :data:`ALL_OPTIMIZERS` (the article's six: :data:`ARTICLE_OPTIMIZERS`), the
surfaces in :data:`SURFACES`, the models in :data:`MODELS` and their data in :mod:`datasets`.
"""

from . import datasets, schedules
from .engine import MAX_STEPS, NonFiniteStartError, SweepResult, Trajectory, fit, fit_race, race, simulate, sweep
from .models import MODELS
from .optimizers import ALL_OPTIMIZERS, ARTICLE_OPTIMIZERS, ARTICLE_SETTINGS, Optimizer, get_optimizer
from .surfaces import SURFACES, Surface, get_surface

__all__ = [
    "ALL_OPTIMIZERS", "ARTICLE_OPTIMIZERS", "ARTICLE_SETTINGS", "MAX_STEPS", "MODELS", "NonFiniteStartError",
    "Optimizer", "SURFACES", "Surface", "SweepResult",
    "Trajectory", "datasets", "fit", "fit_race", "get_optimizer", "get_surface", "race", "schedules", "simulate",
    "sweep",
]
