"""The page's bounds, in one place: what its sliders offer, what a link may ask for and
what a lesson may set (no Streamlit here; plain numbers, so anything can import them)."""

from __future__ import annotations

LANGS = ("en", "ko")
TABS = ("race", "tune", "3d", "rules")  # the page's views: the race, the tuning heat map, 3D, the update rules
SIDE_CHARTS = ("loss", "sharpness")  # the chart beside the race: loss by step, or sharpness by step

# The learning-rate slider: 24 values a decade from 1e-5 to 1 (every tuned rate is on it).
LEARNING_RATES = tuple(float(f"{10 ** (k / 24):.3g}") for k in range(-120, 1))
CURVE_RATES = LEARNING_RATES[::4]  # the tuning tab's learning-rate curves: six a decade
MOMENTA = tuple(round(k / 100, 2) for k in range(100))  # 0 .. 0.99
# The tuning map's second axis, by hyperparameter: the values it tries (each optimizer keeps
# those its own bounds allow: Lion's beta_1 > 0 starts at 0.01). Log-spaced where the
# value spans decades; the map draws those on a log axis.
TUNING_GRIDS = {
    "momentum": MOMENTA,
    "beta_1": MOMENTA,
    "rho": MOMENTA,
    "initial_accumulator_value": tuple(float(f"{10 ** (k / 10):.3g}") for k in range(-40, 11)),  # 1e-4 .. 10
    "learning_rate_power": tuple(round(k / 50, 2) for k in range(-50, 1)),  # -1 .. 0
    "beta_2_decay": tuple(round(k / 50, 2) for k in range(-50, 1)),  # -1 .. 0
}
LOG_TUNING_GRIDS = ("initial_accumulator_value",)
MIN_STEPS, MAX_PAGE_STEPS, STEP_STEP = 10, 2000, 10
MAX_NOISE = 50.0
MAX_SEED = 2**31 - 1
# The quadratic's condition numbers on its slider.
KAPPAS = (0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
BOXES = (1.0, 2.0, 3.0, 5.0, 10.0)  # half-width of a custom surface's square view box
MAX_COORDINATE = 1e4  # a start or a view's corner lies within ±this
MIN_VIEW = 1e-3  # the closest zoom: a view this fraction of the surface's box a side
MAX_HPARAM = 1e9  # the widest number a link may give any other hyperparameter (each then checks its own range)
MAX_SCHEDULE_STEPS = 10**6  # a schedule's step counts in a link
MAX_SCHEDULE_VALUE = 1e6  # a schedule's other numbers in a link
MAX_VALUE_CHARS = 200  # longer URL values are refused unread
