"""The page's whole state as one value, and the moves between states (no Streamlit here).

``PageState`` is what the sidebar shows; ``default_state`` and the ``with_*`` functions
make new ones. Its URL form is in :mod:`optviz.url`, its bounds in :mod:`optviz.bounds`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from . import schedules as schedule_lib
from .bounds import LEARNING_RATES, LOG_TUNING_GRIDS, MAX_PAGE_STEPS, MIN_VIEW, MOMENTA, SIDE_CHARTS, TABS, TUNING_GRIDS
from .checks import parse_number_list
from .custom import custom_surface
from .models import data_surface, is_data_surface
from .optimizers import ALL_OPTIMIZERS, ARTICLE_OPTIMIZERS, ENGINE_OPTIMIZERS
from .presets import preset
from .surfaces import Surface, get_surface

CUSTOM = "custom"  # the surface name for a typed formula
DEFAULT_FORMULA = "sin(x)*cos(y) + 0.1*(x**2 + y**2)"
MOMENTUM_OPTIMIZERS = tuple(n for n, o in ALL_OPTIMIZERS.items() if "momentum" in o.defaults)
# Per-optimizer hyperparameters and Keras options (weight decay, clipping) set in the
# optimizer's own expander (learning rate and momentum have "own value" switches instead).
EXTRA_HPARAMS = {n: tuple(h.name for h in (*o.hparams, *o.options) if h.name not in ("learning_rate", "momentum"))
                 for n, o in ALL_OPTIMIZERS.items()}

# PyTorch's and optax's optimizers the page can race beside Keras's, by key ("pytorch:adam"):
# each with its framework's own hyperparameters (its learning rate follows the shared slider
# unless set; schedules are Keras's only).
FRAMEWORK_ENTRIES: dict[str, object] = {k: o for k, o in ENGINE_OPTIMIZERS.items() if o.framework != "keras"}


# Learning-rate schedules on the page: Keras's classes, with the fields a user sets (the
# initial rate is each optimizer's own learning rate). PiecewiseConstantDecay's values
# are factors of that rate.
SCHEDULE_FIELDS: dict[str, dict[str, object]] = {
    "ExponentialDecay": {"decay_steps": 100, "decay_rate": 0.5, "staircase": False},
    "PiecewiseConstantDecay": {"boundaries": "100, 300", "factors": "1, 0.5, 0.1"},
    "PolynomialDecay": {"decay_steps": 500, "end_learning_rate": 0.0001, "power": 1.0, "cycle": False},
    "InverseTimeDecay": {"decay_steps": 100, "decay_rate": 1.0, "staircase": False},
    "CosineDecay": {"decay_steps": 500, "alpha": 0.0, "warmup_steps": 0},
    "CosineDecayRestarts": {"first_decay_steps": 100, "t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0},
}


def schedule_spec(name: str, fields: Mapping[str, object], learning_rate: float) -> dict:
    """Keras's serialized schedule for the page's fields, starting from ``learning_rate``
    (validated by optviz.schedules: ValueError naming the field)."""
    if name not in SCHEDULE_FIELDS:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULE_FIELDS)}")
    values = {**SCHEDULE_FIELDS[name], **fields}
    if name == "PiecewiseConstantDecay":
        factors = parse_number_list(values["factors"])
        config = {"boundaries": parse_number_list(values["boundaries"], integer=True),
                  "values": [learning_rate * f for f in factors]}
    else:
        config = {k: v for k, v in values.items() if k in schedule_lib.SCHEDULES[name]}
        config["initial_learning_rate"] = learning_rate
        if name == "CosineDecay" and values.get("warmup_steps"):
            # Warm up linearly from 0 to the learning rate, then decay from there.
            config.update(initial_learning_rate=0.0, warmup_target=learning_rate)
    return schedule_lib.parse({"class_name": name, "config": config})


@dataclass(frozen=True)
class PageState:
    """Everything the page shows, as one immutable value (its link form: optviz.url)."""

    lang: str = "en"
    preset: str = "tuned"
    surface: str = "rosenbrock"
    kappa: float = 10.0
    optimizers: tuple[str, ...] = tuple(ARTICLE_OPTIMIZERS)
    learning_rate: float = 0.01
    momentum: float = 0.9
    steps: int = 500
    start: tuple[float, float] = (-1.5, 2.0)
    noise: float = 0.0
    seed: int = 0
    own_learning_rate: Mapping[str, float] = field(default_factory=dict)
    own_momentum: Mapping[str, float] = field(default_factory=dict)
    hparams: Mapping[str, Mapping[str, float | bool]] = field(default_factory=dict)  # non-default extras only
    formula: str = DEFAULT_FORMULA  # used when surface == "custom"
    box: float = 3.0  # a custom surface's view box is [-box, box]²
    schedule: str = ""  # a Keras schedule class name, or "" for a constant learning rate
    schedule_fields: Mapping[str, object] = field(default_factory=dict)  # non-default fields only
    lesson: str = ""  # the guided lesson this view came from ("" for none)
    presenter: bool = False  # projector layout: big text, thick lines, controls tucked away
    # The race chart zoomed to (x0, x1, y0, y1), a part of the surface's box; None: all of it.
    view: tuple[float, float, float, float] | None = None
    tab: str = TABS[0]  # the open tab (not part of the race: see key())
    chart: str = SIDE_CHARTS[0]  # the chart beside the race (not part of the race either)
    # On a data surface (a model's loss over a data set): model.fit's batches and epochs,
    # the inputs standardized or not, shuffled (by ``seed``) or in order. Epochs x batches
    # stays within MAX_PAGE_STEPS (see fit_steps).
    batch_size: int = 8
    epochs: int = 10
    standardize: bool = False
    shuffle: bool = False
    # PyTorch's and optax's optimizers racing beside Keras's ("pytorch:adam", "optax:adam"),
    # and their set hyperparameters, in their framework's own names ({"pytorch:adam": {"eps": 1e-7}};
    # the learning rate, lr or learning_rate, only where it is not the shared one).
    frameworks: tuple[str, ...] = ()
    framework_hparams: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def surface_object(self) -> Surface:
        """The surface to draw: a named one, a data surface, or the typed formula (ValueError
        if it is bad)."""
        return surface_of(self.surface, self.formula, self.box, self.standardize)

    @property
    def is_data(self) -> bool:
        return is_data_surface(self.surface)

    def batches_per_epoch(self) -> int:
        return -(-self.surface_object().data.size // self.batch_size)

    def run_steps(self) -> int:
        """The steps the race takes: ``steps``, or on a data surface epochs x batches."""
        return self.epochs * self.batches_per_epoch() if self.is_data else self.steps

    def viewed_surface(self) -> Surface:
        """The surface with its box narrowed to the zoomed view (the race chart's), if any."""
        s = self.surface_object()
        return s if self.view is None else s.zoomed(self.view[:2], self.view[2:])

    def surface_params(self) -> dict:
        return {"kappa": self.kappa} if "kappa" in self.surface_object().params else {}

    def hyperparameters(self, name: str) -> dict:
        """The Keras hyperparameters ``name`` runs with in this state."""
        values = dict(self.hparams.get(name, {}))
        rate = self.own_learning_rate.get(name, self.learning_rate)
        values["learning_rate"] = schedule_spec(self.schedule, self.schedule_fields, rate) if self.schedule else rate
        if name in MOMENTUM_OPTIMIZERS:
            values["momentum"] = self.own_momentum.get(name, self.momentum)
        return values

    def framework_hyperparameters(self, key: str) -> dict:
        """The hyperparameters the other framework's optimizer ``key`` ("pytorch:adam") runs
        with, in its own names. Its learning rate, unless set, is Keras's namesake's (its own
        rate, or the shared one), so "Adam" and "Adam · PyTorch" race at the same rate; a
        constant (schedules are Keras's)."""
        opt = FRAMEWORK_ENTRIES[key]
        rate = self.own_learning_rate.get(opt.name, self.learning_rate)
        return {opt.rate_name: rate, **self.framework_hparams.get(key, {})}

    @property
    def racers(self) -> tuple[str, ...]:
        """Every optimizer in the race: Keras's, then the other frameworks'."""
        return (*self.optimizers, *self.frameworks)

    def race_spec(self) -> dict:
        """name -> hyperparameters, for ``optviz.race`` (other frameworks' by key, "pytorch:adam")."""
        return {**{name: self.hyperparameters(name) for name in self.optimizers},
                **{key: self.framework_hyperparameters(key) for key in self.frameworks}}

    def key(self) -> tuple:
        """A hashable summary of everything that changes the computed race."""
        custom = (self.formula, self.box) if self.surface == CUSTOM else ()
        if self.is_data:
            custom = (self.batch_size, self.epochs, self.standardize, self.shuffle)
        return (self.surface, custom, self.kappa, self.steps, self.start, self.noise, self.seed,
                self.schedule, tuple(sorted((k, str(v)) for k, v in self.schedule_fields.items())),
                tuple((n, tuple(sorted((k, str(v)) for k, v in self.hyperparameters(n).items())))
                      for n in self.optimizers),
                tuple((n, tuple(sorted((k, str(v)) for k, v in self.framework_hyperparameters(n).items())))
                      for n in self.frameworks))


def surface_of(name: str, formula: str = DEFAULT_FORMULA, box: float = 3.0, standardize: bool = False) -> Surface:
    """A named surface, a data surface, or for ``custom`` the formula's (cached; ValueError
    if the formula is bad)."""
    if is_data_surface(name):
        return data_surface(name, standardize)
    if name != CUSTOM:
        return get_surface(name)
    return custom_surface(formula, x_range=(-box, box), y_range=(-box, box))


def snap(value: float, options: tuple[float, ...], log: bool = False) -> float:
    """The option nearest ``value`` (in log space for the learning-rate grid)."""
    grid = np.log10(options) if log else np.asarray(options)
    target = math.log10(value) if log else value
    return options[int(np.argmin(np.abs(grid - target)))]


def with_preset(state: PageState, name: str) -> PageState:
    """``state`` with preset ``name``'s learning rates and momenta (and race, if it chooses
    one); other hyperparameters reset."""
    p = preset(name, state.surface)
    new = replace(state, preset=name, learning_rate=snap(p.learning_rate, LEARNING_RATES, log=True),
                   momentum=snap(p.momentum, MOMENTA),
                   own_learning_rate={k: snap(v, LEARNING_RATES, log=True) for k, v in p.own_learning_rate.items()},
                   own_momentum={k: snap(v, MOMENTA) for k, v in p.own_momentum.items()}, hparams={},
                   framework_hparams={})
    if p.optimizers:  # a preset that chooses the race
        new = replace(new, optimizers=p.optimizers, frameworks=p.frameworks)
    return new


def with_surface(state: PageState, surface: str) -> PageState:
    """A new surface: its own start and κ, its whole box in view; the tuned preset re-tunes
    its learning rates."""
    s = surface_of(surface, state.formula, state.box, state.standardize)
    new = replace(state, surface=surface, start=tuple(float(v) for v in s.default_start),
                  kappa=float(s.params.get("kappa", PageState.kappa)), view=None)
    if new.is_data:
        new = replace(new, batch_size=min(new.batch_size, s.data.size))
        new = replace(new, epochs=fit_epochs(new, new.epochs))
    return with_preset(new, new.preset) if new.preset == "tuned" else new


def tuning_axis(optimizer: str) -> tuple[str, tuple[float, ...], bool]:
    """The tuning map's second axis for ``optimizer``: the hyperparameter's name, the values
    tried (its grid in bounds.py, within the optimizer's own bounds) and whether the map
    draws them on a log scale."""
    opt = ALL_OPTIMIZERS[optimizer]
    name = opt.tuning_axis
    values = tuple(v for v in TUNING_GRIDS[name] if opt.hparam(name).allows(v))
    return name, values, name in LOG_TUNING_GRIDS


def fit_epochs(state: PageState, epochs: int) -> int:
    """``epochs``, at most what keeps epochs x batches within MAX_PAGE_STEPS."""
    return max(1, min(int(epochs), MAX_PAGE_STEPS // state.batches_per_epoch()))


def with_cell(state: PageState, optimizer: str, learning_rate: float, value: float | None) -> PageState:
    """``state`` with a tuning-map cell loaded: ``optimizer`` gets that learning rate and
    value of its map's second axis as its own, and joins the race if it was not in it."""
    opt = ALL_OPTIMIZERS[optimizer]
    own_lr = {**state.own_learning_rate, optimizer: snap(learning_rate, LEARNING_RATES, log=True)}
    own_mom, hparams = dict(state.own_momentum), {k: dict(v) for k, v in state.hparams.items()}
    axis, grid, log = tuning_axis(optimizer)
    if axis == "momentum" and value is not None:
        own_mom[optimizer] = snap(value, MOMENTA)
    elif value is not None and (not log or value > 0):
        hparams.setdefault(optimizer, {})[axis] = opt.hparam(axis).validate(snap(value, grid, log=log), optimizer)
    optimizers = state.optimizers if optimizer in state.optimizers else (*state.optimizers, optimizer)
    return replace(state, optimizers=optimizers, own_learning_rate=own_lr, own_momentum=own_mom, hparams=hparams)


def zoomed_view(surface: Surface, xs, ys) -> tuple[float, float, float, float] | None:
    """The view a box (two x and two y values, any order) zooms the race chart to: clipped
    to the surface's box, at least MIN_VIEW of it a side (widened about its centre), each
    end rounded to 4 significant digits of the view's size (short links); None when it
    covers the whole box. ValueError if a value is not a finite number or the box misses
    the surface's box."""
    view = []
    for (low, high), (a, b) in ((surface.x_range, xs), (surface.y_range, ys)):
        a, b = sorted((float(a), float(b)))
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError("not a finite number")
        if b < low or a > high:
            raise ValueError("outside the surface's box")
        a, b = max(a, low), min(b, high)
        least = MIN_VIEW * (high - low)
        if b - a < least:
            middle = min(max((a + b) / 2, low + least / 2), high - least / 2)
            a, b = middle - least / 2, middle + least / 2
        # (+1e-9: a size of 0.0099999... and of 0.01 round alike, so a view read back from
        # its link rounds to itself.)
        digits = max(0, 3 - math.floor(math.log10(b - a) + 1e-9))
        view += [max(round(a, digits), low), min(round(b, digits), high)]
    if view == [*surface.x_range, *surface.y_range]:
        return None
    return tuple(view)


def default_state(surface: str = "rosenbrock", preset_name: str = "tuned", lang: str = "en",
                  formula: str = DEFAULT_FORMULA, box: float = 3.0) -> PageState:
    """The page as it opens on ``surface`` with preset ``preset_name``."""
    base = PageState(lang=lang, preset=preset_name, formula=formula, box=box)
    return with_preset(with_surface(base, surface), preset_name)
