"""Guided lessons: scenes that each make one point, read from ``lessons.toml``.

The file is data, not code, so a teacher can add a lesson. :func:`load_lessons`
checks every field and raises a ``ValueError`` naming the lesson and the field.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .bounds import (
    BOXES,
    KAPPAS,
    LANGS,
    LEARNING_RATES,
    MAX_COORDINATE,
    MAX_NOISE,
    MAX_PAGE_STEPS,
    MAX_SEED,
    MIN_STEPS,
    MOMENTA,
    SIDE_CHARTS,
)
from .checks import NOT_A_NUMBER, parse_number
from .models import DATA_SURFACES
from .optimizers import ALL_OPTIMIZERS  # a lesson may race any of the fourteen
from .state import (
    CUSTOM,
    FRAMEWORK_ENTRIES,
    MOMENTUM_OPTIMIZERS,
    PageState,
    default_state,
    fit_epochs,
    snap,
    surface_of,
    zoomed_view,
)
from .surfaces import SURFACES

LESSONS_FILE = Path(__file__).with_name("lessons.toml")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class LessonText:
    title: str
    narrative: tuple[str, ...]
    look_for: str
    question: str


@dataclass(frozen=True)
class Lesson:
    id: str
    settings: PageState  # language-neutral; the page sets its own language
    text: Mapping[str, LessonText]

    def state(self, lang: str = "en", presenter: bool = False) -> PageState:
        return replace(self.settings, lang=lang, lesson=self.id, presenter=presenter)


def _fail(lesson: str, field: str, message: str) -> ValueError:
    return ValueError(f"lesson {lesson!r}: `{field}` {message}")


def _number(lesson, field, value, low, high) -> float:
    # TOML types its values: a quoted "0.1" in a lessons file is a mistake, not a number.
    if isinstance(value, (str, bool)) or not isinstance(value, (int, float)):
        raise _fail(lesson, field, f"must be a number, got {value!r}")
    try:
        return float(parse_number(value, low, high))
    except NOT_A_NUMBER:
        raise _fail(lesson, field, f"must be between {low:g} and {high:g}, got {value!r}") from None


def _text(lesson: str, lang: str, raw) -> LessonText:
    if not isinstance(raw, dict):
        raise _fail(lesson, lang, "must be a table with title, narrative, look_for and question")
    for key in ("title", "look_for", "question"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _fail(lesson, f"{lang}.{key}", "must be a non-empty string")
    narrative = raw.get("narrative")
    if not isinstance(narrative, list) or not 3 <= len(narrative) <= 5 or not all(
        isinstance(line, str) and line.strip() for line in narrative
    ):
        raise _fail(lesson, f"{lang}.narrative", "must be a list of 3 to 5 non-empty lines")
    unknown = set(raw) - {"title", "narrative", "look_for", "question"}
    if unknown:
        raise _fail(lesson, f"{lang}.{min(unknown)}", "is not a lesson text field")
    return LessonText(raw["title"].strip(), tuple(line.strip() for line in narrative), raw["look_for"].strip(),
                      raw["question"].strip())


_FIELDS = {"id", "surface", "kappa", "optimizers", "learning_rate", "momentum", "own", "start", "steps", "noise",
           "seed", "view", "chart", "en", "ko", "batch_size", "epochs", "standardize", "shuffle", "formula", "box",
           "frameworks", "framework_own"}
_DATA_FIELDS = ("batch_size", "epochs", "standardize", "shuffle")  # a data surface's (and only its)


def _lesson(raw: dict, index: int) -> Lesson:
    lesson_id = raw.get("id")
    if not isinstance(lesson_id, str) or not _ID.match(lesson_id):
        raise ValueError(f"lesson #{index + 1}: `id` must be lower-case letters, digits and hyphens, got {lesson_id!r}")
    name = lesson_id
    unknown = set(raw) - _FIELDS
    if unknown:
        raise _fail(name, min(unknown), "is not a lesson field")
    surface = raw.get("surface")
    if surface not in SURFACES and surface not in DATA_SURFACES and surface != CUSTOM:
        raise _fail(name, "surface", f"must be one of {', '.join((*SURFACES, *DATA_SURFACES, CUSTOM))}, "
                    f"got {surface!r}")
    data = surface in DATA_SURFACES
    formula, box = _custom_surface(name, raw, surface)
    for key in _DATA_FIELDS if not data else ("steps",):
        if key in raw:
            raise _fail(name, key, f"is not a field of a lesson on {surface}")
    standardize = raw.get("standardize", False)
    if not isinstance(standardize, bool):
        raise _fail(name, "standardize", f"must be true or false, got {standardize!r}")
    shuffle = raw.get("shuffle", False)
    if not isinstance(shuffle, bool):
        raise _fail(name, "shuffle", f"must be true or false, got {shuffle!r}")
    state = default_state(surface, formula=formula, box=box)
    if data:
        state = replace(state, standardize=standardize, shuffle=shuffle)
        size = state.surface_object().data.size
        batch = raw.get("batch_size")
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= size:
            raise _fail(name, "batch_size", f"must be a whole number from 1 to {size}, got {batch!r}")
        state = replace(state, batch_size=batch)
        epochs = raw.get("epochs")
        most = fit_epochs(state, MAX_PAGE_STEPS)
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= most:
            raise _fail(name, "epochs", f"must be a whole number from 1 to {most} at this batch size, got {epochs!r}")
        state = replace(state, epochs=epochs)
    optimizers = raw.get("optimizers")
    if not isinstance(optimizers, list) or not optimizers or any(o not in ALL_OPTIMIZERS for o in optimizers):
        raise _fail(name, "optimizers", f"must be a non-empty list of {', '.join(ALL_OPTIMIZERS)}, got {optimizers!r}")
    if len(set(optimizers)) != len(optimizers):
        raise _fail(name, "optimizers", "names an optimizer twice")
    lr = _number(name, "learning_rate", raw.get("learning_rate"), LEARNING_RATES[0], 1.0)
    momentum = _number(name, "momentum", raw.get("momentum"), 0.0, MOMENTA[-1])
    start = raw.get("start")
    if not isinstance(start, list) or len(start) != 2:
        raise _fail(name, "start", f"must be [x, y], got {start!r}")
    x, y = (_number(name, "start", v, -MAX_COORDINATE, MAX_COORDINATE) for v in start)
    steps = raw.get("steps", state.steps if data else None)
    if isinstance(steps, bool) or not isinstance(steps, int) or not MIN_STEPS <= steps <= MAX_PAGE_STEPS:
        raise _fail(name, "steps", f"must be a whole number from {MIN_STEPS} to {MAX_PAGE_STEPS}, got {steps!r}")
    noise = _number(name, "noise", raw.get("noise", 0.0), 0.0, MAX_NOISE)
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise _fail(name, "seed", f"must be a whole number >= 0, got {seed!r}")
    kappa = state.kappa
    if "kappa" in raw:
        if data or "kappa" not in SURFACES[surface].params:
            raise _fail(name, "kappa", f"only the quadratic has a condition number, not {surface}")
        kappa = snap(_number(name, "kappa", raw["kappa"], KAPPAS[0], KAPPAS[-1]), KAPPAS, log=True)

    own_lr, own_momentum, hparams = {}, {}, {}
    own = raw.get("own", {})
    if not isinstance(own, dict):
        raise _fail(name, "own", "must be a table of optimizer -> settings")
    for opt_name, values in own.items():
        where = f"own.{opt_name}"
        if opt_name not in optimizers:
            raise _fail(name, where, "names an optimizer the lesson does not race")
        if not isinstance(values, dict):
            raise _fail(name, where, "must be a table of hyperparameters")
        opt = ALL_OPTIMIZERS[opt_name]
        for key, value in values.items():
            if key == "learning_rate":
                own_lr[opt_name] = snap(_number(name, f"{where}.{key}", value, LEARNING_RATES[0], 1.0),
                                        LEARNING_RATES, log=True)
            elif key == "momentum" and opt_name in MOMENTUM_OPTIMIZERS:
                own_momentum[opt_name] = snap(_number(name, f"{where}.{key}", value, 0.0, MOMENTA[-1]), MOMENTA)
            else:
                try:
                    checked = opt.resolve({key: value})[key]
                except ValueError as exc:
                    raise _fail(name, f"{where}.{key}", f"is not valid: {exc}") from None
                hparams.setdefault(opt_name, {})[key] = checked
    view = raw.get("view")
    if view is not None:
        if not isinstance(view, list) or len(view) != 4:
            raise _fail(name, "view", f"must be [x0, x1, y0, y1], got {view!r}")
        corners = [_number(name, "view", v, -MAX_COORDINATE, MAX_COORDINATE) for v in view]
        if not (corners[0] < corners[1] and corners[2] < corners[3]):
            raise _fail(name, "view", f"must have x0 < x1 and y0 < y1, got {view!r}")
        try:
            view = zoomed_view(surface_of(surface, standardize=standardize), corners[:2], corners[2:])
        except ValueError as exc:
            raise _fail(name, "view", f"{exc}, got {corners!r}") from None
    frameworks, framework_hparams = _frameworks(name, raw)
    chart = raw.get("chart", SIDE_CHARTS[0])
    if chart not in SIDE_CHARTS:
        raise _fail(name, "chart", f"must be one of {', '.join(SIDE_CHARTS)}, got {chart!r}")
    text = {lang: _text(name, lang, raw.get(lang)) for lang in LANGS}
    settings = replace(
        state, preset="tuned", optimizers=tuple(optimizers), learning_rate=snap(lr, LEARNING_RATES, log=True),
        momentum=snap(momentum, MOMENTA), steps=steps, start=(x, y), noise=noise, seed=seed, kappa=kappa,
        own_learning_rate=own_lr, own_momentum=own_momentum, hparams=hparams, view=view, chart=chart,
        frameworks=frameworks, framework_hparams=framework_hparams,
    )
    return Lesson(lesson_id, settings, text)


def _custom_surface(name: str, raw: dict, surface: str) -> tuple[str, float]:
    """A typed formula's lesson (surface = "custom"): its formula and box (checked as the page
    checks a typed one); none elsewhere."""
    if surface != CUSTOM:
        for key in ("formula", "box"):
            if key in raw:
                raise _fail(name, key, f"is only a field of a lesson on {CUSTOM}")
        return PageState.formula, PageState.box
    formula, box = raw.get("formula"), raw.get("box", PageState.box)
    if not isinstance(formula, str) or not formula.strip():
        raise _fail(name, "formula", "must be a formula in x and y")
    if box not in BOXES:
        raise _fail(name, "box", f"must be one of {', '.join(map(str, BOXES))}, got {box!r}")
    try:
        surface_of(CUSTOM, formula, float(box))
    except ValueError as exc:
        raise _fail(name, "formula", f"is not valid: {exc}") from None
    return formula, float(box)


def _frameworks(name: str, raw: dict) -> tuple[tuple[str, ...], dict]:
    """Other frameworks' optimizers the lesson races ("pytorch:adam") and their settings, by
    their framework's own names (``framework_own``; the learning rate snapped to the slider)."""
    keys = raw.get("frameworks", [])
    if not isinstance(keys, list) or any(k not in FRAMEWORK_ENTRIES for k in keys) or len(set(keys)) != len(keys):
        raise _fail(name, "frameworks", f"must be a list of distinct framework optimizers such as pytorch:adam, "
                    f"got {keys!r}")
    own = raw.get("framework_own", {})
    if not isinstance(own, dict):
        raise _fail(name, "framework_own", "must be a table of framework optimizer -> settings")
    hparams = {}
    for key, values in own.items():
        where = f"framework_own.{key}"
        if key not in keys:
            raise _fail(name, where, "names an optimizer the lesson does not race")
        if not isinstance(values, dict):
            raise _fail(name, where, "must be a table of hyperparameters")
        opt = FRAMEWORK_ENTRIES[key]
        try:
            checked = opt.resolve(values)
        except ValueError as exc:
            raise _fail(name, where, f"is not valid: {exc}") from None
        settings = {k: tuple(checked[k]) if isinstance(checked[k], list) else checked[k] for k in values}
        if opt.rate_name in settings:
            settings[opt.rate_name] = snap(settings[opt.rate_name], LEARNING_RATES, log=True)
        hparams[key] = {k: v for k, v in settings.items()
                        if k == opt.rate_name or v != opt.hparam(k).default}
    return tuple(keys), hparams


def parse_lessons(text: str) -> dict[str, Lesson]:
    """Lessons from TOML text, in file order; ValueError naming the lesson and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"lessons file is not valid TOML: {exc}") from None
    raw = data.get("lesson")
    if not isinstance(raw, list) or not raw:
        raise ValueError("lessons file: expected [[lesson]] tables")
    lessons: dict[str, Lesson] = {}
    for index, item in enumerate(raw):
        lesson = _lesson(item, index)
        if lesson.id in lessons:
            raise _fail(lesson.id, "id", "is used by two lessons")
        lessons[lesson.id] = lesson
    return lessons


def load_lessons(path: str | Path = LESSONS_FILE) -> dict[str, Lesson]:
    """The lessons in ``path`` (default: the file shipped with optviz, read once)."""
    if Path(path) == LESSONS_FILE:
        return _shipped_lessons()
    return parse_lessons(Path(path).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _shipped_lessons() -> dict[str, Lesson]:
    return parse_lessons(LESSONS_FILE.read_text(encoding="utf-8"))
