"""The page's whole state as one value, and its URL form (no Streamlit here).

``PageState`` is what the sidebar shows. ``parse_query`` reads a URL's query string
into a state, replacing every bad value by its default and saying why;
``to_query`` writes a state back. Each key is parsed by type and checked against
its range: nothing from a URL is ever evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Mapping

import numpy as np

from . import schedules as schedule_lib
from .optimizers import ALL_OPTIMIZERS, ARTICLE_OPTIMIZERS, CLIP_OPTIONS
from .presets import PRESETS, preset
from .surfaces import SURFACES, Surface, get_surface

CUSTOM = "custom"  # the surface name for a typed formula
DEFAULT_FORMULA = "sin(x)*cos(y) + 0.1*(x**2 + y**2)"
BOXES = (1.0, 2.0, 3.0, 5.0, 10.0)  # half-width of a custom surface's square view box

# The learning-rate slider: 24 values a decade from 1e-5 to 1 (every tuned rate is on it).
LEARNING_RATES = tuple(float(f"{10 ** (k / 24):.3g}") for k in range(-120, 1))
MOMENTA = tuple(round(k / 100, 2) for k in range(0, 100))  # 0 .. 0.99
MIN_STEPS, MAX_PAGE_STEPS, STEP_STEP = 10, 2000, 10
TABS = ("race", "tune", "3d", "rules")  # the page's views: the race, the tuning heat map, 3D, the update rules
MAX_NOISE = 50.0
MAX_SEED = 2**31 - 1
MIN_VIEW = 1e-3  # the closest zoom: a view this fraction of the surface's box a side
MOMENTUM_OPTIMIZERS = tuple(n for n, o in ALL_OPTIMIZERS.items() if "momentum" in o.defaults)
# Per-optimizer hyperparameters and Keras options (weight decay, clipping) set in the
# optimizer's own expander (learning rate and momentum have "own value" switches instead).
EXTRA_HPARAMS = {n: tuple(h.name for h in (*o.hparams, *o.options) if h.name not in ("learning_rate", "momentum"))
                 for n, o in ALL_OPTIMIZERS.items()}

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


def _number_list(text: str, integer: bool = False) -> list:
    """'100, 300' -> [100, 300]: numbers only (float() reads numbers; nothing is evaluated)."""
    if len(str(text)) > 200:
        raise ValueError("too long")
    items = [item.strip() for item in str(text).split(",") if item.strip()]
    if not items or len(items) > 16:
        raise ValueError("expected 1 to 16 numbers separated by commas")
    values = [float(item) for item in items]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("numbers must be finite")
    if integer:
        if any(v != int(v) or v < 0 for v in values):
            raise ValueError("boundaries must be whole numbers >= 0")
        return [int(v) for v in values]
    return values


def schedule_spec(name: str, fields: Mapping[str, object], learning_rate: float) -> dict:
    """Keras's serialized schedule for the page's fields, starting from ``learning_rate``
    (validated by optviz.schedules: ValueError naming the field)."""
    if name not in SCHEDULE_FIELDS:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULE_FIELDS)}")
    values = {**SCHEDULE_FIELDS[name], **fields}
    if name == "PiecewiseConstantDecay":
        factors = _number_list(values["factors"])
        config = {"boundaries": _number_list(values["boundaries"], integer=True),
                  "values": [learning_rate * f for f in factors]}
    else:
        config = {k: v for k, v in values.items() if k in schedule_lib.SCHEDULES[name]}
        config["initial_learning_rate"] = learning_rate
        if name == "CosineDecay" and values.get("warmup_steps"):
            # Warm up linearly from 0 to the learning rate, then decay from there.
            config.update(initial_learning_rate=0.0, warmup_target=learning_rate)
    return schedule_lib.parse({"class_name": name, "config": config})
MAX_VALUE_CHARS = 200
KAPPAS = (0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 500.0, 1000.0)  # longer URL values are refused unread


@dataclass(frozen=True)
class PageState:
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

    def surface_object(self) -> Surface:
        """The surface to draw: a named one, or the typed formula (ValueError if it is bad)."""
        return surface_of(self.surface, self.formula, self.box)

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

    def race_spec(self) -> dict:
        """name -> hyperparameters, for ``optviz.race``."""
        return {name: self.hyperparameters(name) for name in self.optimizers}

    def key(self) -> tuple:
        """A hashable summary of everything that changes the computed race."""
        custom = (self.formula, self.box) if self.surface == CUSTOM else ()
        return (self.surface, custom, self.kappa, self.steps, self.start, self.noise, self.seed,
                self.schedule, tuple(sorted((k, str(v)) for k, v in self.schedule_fields.items())),
                tuple((n, tuple(sorted((k, str(v)) for k, v in self.hyperparameters(n).items())))
                      for n in self.optimizers))


def surface_of(name: str, formula: str = DEFAULT_FORMULA, box: float = 3.0) -> Surface:
    """A named surface, or for ``custom`` the formula's (cached; ValueError if the formula is bad)."""
    if name != CUSTOM:
        return get_surface(name)
    from .custom import custom_surface  # the parser is only needed for typed formulas

    return custom_surface(formula, x_range=(-box, box), y_range=(-box, box))


def snap(value: float, options: tuple[float, ...], log: bool = False) -> float:
    """The option nearest ``value`` (in log space for the learning-rate grid)."""
    grid = np.log10(options) if log else np.asarray(options)
    target = math.log10(value) if log else value
    return options[int(np.argmin(np.abs(grid - target)))]


def with_preset(state: PageState, name: str) -> PageState:
    """``state`` with preset ``name``'s learning rates and momenta; other hyperparameters reset."""
    p = preset(name, state.surface)
    return replace(state, preset=name, learning_rate=snap(p.learning_rate, LEARNING_RATES, log=True),
                   momentum=snap(p.momentum, MOMENTA),
                   own_learning_rate={k: snap(v, LEARNING_RATES, log=True) for k, v in p.own_learning_rate.items()},
                   own_momentum={k: snap(v, MOMENTA) for k, v in p.own_momentum.items()}, hparams={})


def with_surface(state: PageState, surface: str) -> PageState:
    """A new surface: its own start and κ, its whole box in view; the tuned preset re-tunes
    its learning rates."""
    s = surface_of(surface, state.formula, state.box)
    new = replace(state, surface=surface, start=tuple(float(v) for v in s.default_start),
                  kappa=float(s.params.get("kappa", PageState.kappa)), view=None)
    return with_preset(new, new.preset) if new.preset == "tuned" else new


def with_cell(state: PageState, optimizer: str, learning_rate: float, value: float | None) -> PageState:
    """``state`` with a tuning-map cell loaded: ``optimizer`` gets that learning rate and
    momentum-like value as its own, and joins the race if it was not in it."""
    opt = ALL_OPTIMIZERS[optimizer]
    own_lr = {**state.own_learning_rate, optimizer: snap(learning_rate, LEARNING_RATES, log=True)}
    own_mom, hparams = dict(state.own_momentum), {k: dict(v) for k, v in state.hparams.items()}
    axis = opt.momentum_like
    if axis == "momentum" and value is not None:
        own_mom[optimizer] = snap(value, MOMENTA)
    elif axis and value is not None:
        hparams.setdefault(optimizer, {})[axis] = opt.hparam(axis).validate(snap(value, MOMENTA), optimizer)
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
        digits = max(0, 3 - math.floor(math.log10(b - a)))
        view += [max(round(a, digits), low), min(round(b, digits), high)]
    if view == [*surface.x_range, *surface.y_range]:
        return None
    return tuple(view)


def default_state(surface: str = "rosenbrock", preset_name: str = "tuned", lang: str = "en",
                  formula: str = DEFAULT_FORMULA, box: float = 3.0) -> PageState:
    base = PageState(lang=lang, preset=preset_name, formula=formula, box=box)
    return with_preset(with_surface(base, surface), preset_name)


# --- URL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrlProblem:
    key: str
    value: str
    reason: str
    default: str  # "" for an unknown key


def _first(value) -> str:
    """Streamlit gives the last value of a repeated key; a list may come from tests."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value)


def _number(text: str, low: float, high: float, *, integer: bool = False) -> float:
    if len(text) > 40:
        raise ValueError("too long")
    number = float(text.strip())  # float() reads numbers only; it never evaluates anything
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    if integer and number != int(number):
        raise ValueError("not a whole number")
    if not low <= number <= high:
        raise ValueError(f"outside {low:g} to {high:g}")
    return int(number) if integer else number


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("not true or false")


def parse_query(query: Mapping[str, object]) -> tuple[PageState, list[UrlProblem]]:
    """The state a URL asks for; every bad or unknown value is reported and skipped."""
    problems: list[UrlProblem] = []
    raw = {str(k): _first(v) for k, v in query.items()}
    used: set[str] = set()

    def take(key, parse, default, shown_default=None):
        if key not in raw:
            return default
        used.add(key)
        text = raw[key]
        try:
            if len(text) > MAX_VALUE_CHARS:
                raise ValueError("too long")
            return parse(text)
        except (ValueError, TypeError, OverflowError) as exc:
            shown = text if len(text) <= 40 else text[:37] + "..."
            problems.append(UrlProblem(key, shown, str(exc) or "not valid",
                                       _shown(default if shown_default is None else shown_default)))
            return default

    def choice(options):
        def parse(text):
            value = text.strip().lower()
            if value not in options:
                raise ValueError(f"not one of {', '.join(options)}")
            return value
        return parse

    from .lessons import load_lessons  # lessons build on this module

    lessons = load_lessons()
    lang = take("lang", choice(("en", "ko")), "en")
    presenter = take("present", _bool, False)
    lesson_id = take("lesson", choice(tuple(lessons)), "", "no lesson")
    surfaces = (*SURFACES, CUSTOM)

    def formula_text(text):
        from .custom import custom_surface

        custom_surface(text)  # ValueError says what is wrong and where
        return text

    formula = take("f", formula_text, DEFAULT_FORMULA)
    box = take("box", lambda t: snap(_number(t, BOXES[0], BOXES[-1]), BOXES), PageState.box)
    if lesson_id:
        state = lessons[lesson_id].state(lang, presenter)
        surface = take("surface", choice(surfaces), state.surface)
        if surface != state.surface:
            state = with_surface(replace(state, formula=formula, box=box), surface)
        state = replace(state, preset=take("preset", choice(PRESETS), state.preset))
    else:
        surface = take("surface", choice(surfaces), "rosenbrock")
        preset_name = take("preset", choice(PRESETS), "tuned")
        state = replace(default_state(surface, preset_name, lang), presenter=presenter)
        if surface == CUSTOM:
            state = with_surface(replace(state, formula=formula, box=box), CUSTOM)
    if state.surface == CUSTOM:  # a formula only travels in a link with its surface
        state = replace(state, formula=formula, box=box)
    s = state.surface_object()

    def optimizer_list(text):
        names = [n.strip().lower() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in ALL_OPTIMIZERS]
        if unknown:
            raise ValueError(f"unknown optimizer {unknown[0][:20]!r}")
        if not names:
            raise ValueError("empty")
        return tuple(dict.fromkeys(names))

    def view_box(text):
        if text.strip().lower() == "all":  # the whole box, where a lesson would zoom
            return None
        numbers = [_number(t, -1e4, 1e4) for t in text.split(",")]
        if len(numbers) != 4:
            raise ValueError("not four numbers x0,x1,y0,y1")
        return zoomed_view(s, numbers[:2], numbers[2:])

    view = take("view", view_box, state.view, "the lesson's view" if state.view else "the whole surface")
    tab = take("tab", choice(TABS), TABS[0])
    optimizers = take("opt", optimizer_list, state.optimizers)
    kappa = take("kappa", lambda t: snap(_number(t, KAPPAS[0], KAPPAS[-1]), KAPPAS, log=True), state.kappa) if "kappa" in s.params \
        else state.kappa
    learning_rate = take("lr", lambda t: snap(_number(t, LEARNING_RATES[0], 1.0), LEARNING_RATES, log=True),
                         state.learning_rate)
    momentum = take("mom", lambda t: snap(_number(t, 0.0, 0.99), MOMENTA), state.momentum)
    steps = take("steps", lambda t: int(_number(t, MIN_STEPS, MAX_PAGE_STEPS, integer=True)), state.steps)
    x = take("x", lambda t: _number(t, -1e4, 1e4), state.start[0])
    y = take("y", lambda t: _number(t, -1e4, 1e4), state.start[1])
    noise = take("noise", lambda t: _number(t, 0.0, MAX_NOISE), state.noise)
    seed = take("seed", lambda t: int(_number(t, 0, MAX_SEED, integer=True)), state.seed)

    # A link written by the page carries `lr` / `mom` and every own value; a short
    # hand-written link (?surface=saddle) keeps the preset's own values.
    # (A bad `lr` or `mom` falls back to the preset's whole setting, its own values too.)
    refused = {problem.key for problem in problems}
    own_lr = {} if "lr" in raw and "lr" not in refused else dict(state.own_learning_rate)
    own_mom = {} if "mom" in raw and "mom" not in refused else dict(state.own_momentum)
    hparams: dict = {}
    for name, opt in ALL_OPTIMIZERS.items():
        lr = take(f"{name}.lr", lambda t: snap(_number(t, LEARNING_RATES[0], 1.0), LEARNING_RATES, log=True), None,
                  "the shared learning rate")
        if lr is not None:
            own_lr[name] = lr
        if name in MOMENTUM_OPTIMIZERS:
            mom = take(f"{name}.momentum", lambda t: snap(_number(t, 0.0, 0.99), MOMENTA), None,
                       "the shared momentum")
            if mom is not None:
                own_mom[name] = mom
        for hp_name in EXTRA_HPARAMS[name]:
            spec = opt.hparam(hp_name)

            def parse(t, spec=spec, name=name):
                if spec.kind == "bool":
                    return _bool(t)
                value = spec.validate(_number(t, -1e9, 1e9), name)
                if spec.kind == "optional" and value == 0:
                    raise ValueError("0 means not set: leave it out")
                return value

            value = take(f"{name}.{hp_name}", parse, None, spec.default)
            if value is not None and value != spec.default:
                hparams.setdefault(name, {})[hp_name] = value
        clips = [c for c in CLIP_OPTIONS if c in hparams.get(name, {})]
        for extra in clips[1:]:  # Keras takes one clipping option: a link keeps the first
            value = hparams[name].pop(extra)
            problems.append(UrlProblem(f"{name}.{extra}", _fmt(value)[:40],
                                       f"only one of {', '.join(CLIP_OPTIONS)} can be set; "
                                       f"{name}.{clips[0]} is", "not set"))
    def schedule_name(text):
        if text.strip() not in SCHEDULE_FIELDS:
            raise ValueError(f"not one of {', '.join(SCHEDULE_FIELDS)}")
        return text.strip()

    schedule = take("sched", schedule_name, "", "none")
    schedule_fields: dict = {}
    if schedule:
        for key, default in SCHEDULE_FIELDS[schedule].items():
            if isinstance(default, bool):
                parser = _bool
            elif isinstance(default, str):
                def parser(t, key=key):
                    _number_list(t, integer=key == "boundaries")
                    return t.strip()
            elif isinstance(default, int):
                parser = lambda t: int(_number(t, 0, 10**6, integer=True))  # noqa: E731
            else:
                parser = lambda t: _number(t, 0.0, 1e6)  # noqa: E731
            value = take(f"sched.{key}", parser, None, default)
            if value is not None and value != default:
                schedule_fields[key] = value
        try:
            schedule_spec(schedule, schedule_fields, 0.01)
        except ValueError as exc:
            problems.append(UrlProblem("sched", schedule, str(exc), "none"))
            schedule, schedule_fields = "", {}
    for key in raw:
        if key not in used:
            problems.append(UrlProblem(key[:40], raw[key][:40], "unknown", ""))
    state = replace(state, optimizers=optimizers, kappa=float(kappa), learning_rate=learning_rate,
                    momentum=momentum, steps=steps, start=(float(x), float(y)), noise=float(noise), seed=seed,
                    own_learning_rate=own_lr, own_momentum=own_mom, hparams=hparams, schedule=schedule,
                    schedule_fields=schedule_fields, view=view, tab=tab)
    return state, problems


def _shown(value) -> str:
    """A default as a warning names it: as a link would write it, not as Python would."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return _fmt(value)
    return str(value)


def _fmt(value: float) -> str:
    """The shortest text that reads back as the same float (so links round-trip exactly)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def to_query(state: PageState) -> dict[str, str]:
    """The URL form of ``state``: every shared setting, and per-optimizer values that are set."""
    out = {
        "lang": state.lang, "surface": state.surface, "preset": state.preset, "opt": ",".join(state.optimizers),
        "lr": _fmt(state.learning_rate), "mom": _fmt(state.momentum), "steps": str(state.steps),
        "x": _fmt(state.start[0]), "y": _fmt(state.start[1]),
    }
    if "kappa" in state.surface_object().params:
        out["kappa"] = _fmt(state.kappa)
    if state.surface == CUSTOM:
        out["f"] = state.formula
        out["box"] = _fmt(state.box)
    if state.noise:
        out["noise"] = _fmt(state.noise)
    if state.noise or state.seed:
        out["seed"] = str(state.seed)
    if state.lesson:
        out["lesson"] = state.lesson
    if state.presenter:
        out["present"] = "1"
    if state.view is not None:
        out["view"] = ",".join(_fmt(v) for v in state.view)
    elif state.lesson:  # the whole surface, where the lesson zooms
        from .lessons import load_lessons

        lesson = load_lessons().get(state.lesson)
        if lesson is not None and lesson.settings.view is not None and lesson.settings.surface == state.surface:
            out["view"] = "all"
    if state.tab != TABS[0]:
        out["tab"] = state.tab
    if state.schedule:
        out["sched"] = state.schedule
        for key, value in state.schedule_fields.items():
            out[f"sched.{key}"] = ("1" if value else "0") if isinstance(value, bool) else (
                value if isinstance(value, str) else _fmt(value))
    for name in ALL_OPTIMIZERS:
        if name in state.own_learning_rate:
            out[f"{name}.lr"] = _fmt(state.own_learning_rate[name])
        if name in state.own_momentum:
            out[f"{name}.momentum"] = _fmt(state.own_momentum[name])
        for hp_name, value in state.hparams.get(name, {}).items():
            out[f"{name}.{hp_name}"] = ("1" if value else "0") if isinstance(value, bool) else _fmt(value)
    return out
