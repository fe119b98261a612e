"""A link's query string and the page's state, both ways, from one table of fields.

Each key of a link is declared once in :data:`FIELDS`: the ``PageState`` field it sets,
how its text is parsed and checked (against :mod:`optviz.bounds`), what a warning names
as the fallback, and how :func:`to_query` writes it. :func:`parse_query` reads any query
into a valid state, replacing every bad or unknown value and saying why; nothing from a
link is ever evaluated.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from .bounds import (
    BOXES,
    KAPPAS,
    LANGS,
    LEARNING_RATES,
    MAX_COORDINATE,
    MAX_HPARAM,
    MAX_NOISE,
    MAX_PAGE_STEPS,
    MAX_SCHEDULE_STEPS,
    MAX_SCHEDULE_VALUE,
    MAX_SEED,
    MAX_VALUE_CHARS,
    MIN_STEPS,
    MOMENTA,
    SIDE_CHARTS,
    TABS,
)
from .checks import NOT_A_NUMBER, parse_bool, parse_number, parse_number_list
from .lessons import load_lessons
from .models import DATA_SURFACES
from .optimizers import ALL_OPTIMIZERS, CLIP_OPTIONS
from .presets import PRESETS, preset
from .state import (
    CUSTOM,
    EXTRA_HPARAMS,
    FRAMEWORK_ENTRIES,
    MOMENTUM_OPTIMIZERS,
    SCHEDULE_FIELDS,
    PageState,
    default_state,
    schedule_spec,
    snap,
    surface_of,
    with_surface,
    zoomed_view,
)
from .surfaces import SURFACES

MAX_SHOWN_CHARS = 40  # a bad value is quoted in a warning up to this long


@dataclass(frozen=True)
class Problem:
    """A value a link asked for and did not get: the page shows each one as a warning."""

    key: str
    value: str
    reason: str
    default: str  # "" for an unknown key


Parser = Callable[[str, PageState], object]  # (text, the state read so far) -> value; ValueError says why

def _always(state: PageState) -> bool:
    return True


_NO_DEFAULT = object()


@dataclass(frozen=True)
class Field:
    """One key of a link. Its fallback is the value the link's starting state has (the
    lesson's, or the surface's and preset's), unless ``default`` is given."""

    key: str
    attr: str  # the PageState field
    parse: Parser
    item: tuple = ()  # the place inside ``attr``: an index of a tuple, or keys of nested mappings
    # For a key inside a mapping (hyperparameters, schedule fields): the value that is left
    # out of the state (Keras's default), and the fallback a warning names.
    default: object = _NO_DEFAULT
    shown: str | Callable[[PageState], str] | None = None  # the fallback as a warning names it
    applies: Callable[[PageState], bool] = _always  # a key that does not apply is unknown
    writes: Callable[[PageState], bool] | None = None  # whether to_query writes it (default: applies)
    write: Callable[[PageState], str | None] | None = None  # the text to write, if not the value's
    resets: str = ""  # a PageState mapping a valid value empties (the shared rate replaces own rates)


# --- Parsers ---------------------------------------------------------------------------


def _choice(options: Callable[[], tuple[str, ...]] | tuple[str, ...], *, lower: bool = True) -> Parser:
    def parse(text: str, state: PageState) -> str:
        choices = options() if callable(options) else options
        value = text.strip().lower() if lower else text.strip()
        if value not in choices:
            raise ValueError(f"not one of {', '.join(choices)}")
        return value
    return parse


def _number(low: float, high: float, *, integer: bool = False) -> Parser:
    return lambda text, state: parse_number(text, low, high, integer=integer)


def _on_grid(options: tuple[float, ...], *, log: bool = False) -> Parser:
    """A number within the slider's range, moved to its nearest option (links stay on the slider)."""
    return lambda text, state: snap(parse_number(text, options[0], options[-1]), options, log=log)


def _boolean(text: str, state: PageState) -> bool:
    return parse_bool(text)


def _formula(text: str, state: PageState) -> str:
    # On the box the link asks for (read first): a formula finite on the default box may be
    # finite nowhere on a smaller one. ValueError says what is wrong and where.
    surface_of(CUSTOM, text, state.box)
    return text


def _optimizers(text: str, state: PageState) -> tuple[str, ...]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_OPTIMIZERS]
    if unknown:
        raise ValueError(f"unknown optimizer {unknown[0][:20]!r}")
    if not names:
        raise ValueError("empty")
    return tuple(dict.fromkeys(names))


def _frameworks(text: str, state: PageState) -> tuple[str, ...]:
    # (Empty: none, so a link can take away the ones its preset or lesson races.)
    keys = [k.strip().lower() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in FRAMEWORK_ENTRIES]
    if unknown:
        raise ValueError(f"unknown framework optimizer {unknown[0][:24]!r} (e.g. pytorch:adam, optax:adam)")
    return tuple(dict.fromkeys(keys))


def _view(text: str, state: PageState):
    if text.strip().lower() == "all":  # the whole box, where a lesson would zoom
        return None
    corners = [parse_number(t, -MAX_COORDINATE, MAX_COORDINATE) for t in text.split(",")]
    if len(corners) != 4:
        raise ValueError("not four numbers x0,x1,y0,y1")
    return zoomed_view(state.surface_object(), corners[:2], corners[2:])


def _hparam(optimizer: str, name: str) -> Parser:
    spec = ALL_OPTIMIZERS[optimizer].hparam(name)

    def parse(text: str, state: PageState):
        if spec.kind == "bool":
            return parse_bool(text)
        value = spec.validate(parse_number(text, -MAX_HPARAM, MAX_HPARAM), optimizer)
        if spec.kind == "optional" and value == 0:
            raise ValueError("0 means not set: leave it out")
        return value
    return parse


def _framework_hparam(key: str, name: str) -> Parser:
    """One of another framework's hyperparameters, by its own name (a pair as "0.9,0.99")."""
    opt = FRAMEWORK_ENTRIES[key]
    spec = opt.hparam(name)

    def parse(text: str, state: PageState):
        if spec.kind == "bool":
            return parse_bool(text)
        if spec.kind == "pair":
            return spec.validate(tuple(parse_number(t, -MAX_HPARAM, MAX_HPARAM) for t in text.split(",")), opt.where)
        if spec.kind == "optional" and text.strip().lower() in ("", "none"):
            return None
        return spec.validate(parse_number(text, -MAX_HPARAM, MAX_HPARAM), opt.where)
    return parse


def _schedule_field(key: str, default) -> Parser:
    if isinstance(default, bool):
        return _boolean
    if isinstance(default, str):  # a list of numbers, kept as typed
        def parse(text: str, state: PageState) -> str:
            parse_number_list(text, integer=key == "boundaries")
            return text.strip()
        return parse
    if isinstance(default, int):
        return _number(0, MAX_SCHEDULE_STEPS, integer=True)
    return _number(0.0, MAX_SCHEDULE_VALUE)


# --- Writers ---------------------------------------------------------------------------


def _fmt(value: float) -> str:
    """The shortest text that reads back as the same float (so links round-trip exactly)."""
    text = repr(float(value))
    return text.removesuffix(".0")


def _text(value) -> str:
    """A value as a link writes it (and as a warning names a default)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (tuple, list)):
        return ",".join(map(_text, value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return _fmt(value)
    return str(value)


def _starting_frameworks(state: PageState) -> tuple[str, ...]:
    """The other frameworks' optimizers a link starts from: its lesson's, or its preset's."""
    lesson = load_lessons().get(state.lesson)
    return lesson.settings.frameworks if lesson else preset(state.preset, state.surface).frameworks


def _lesson_zooms(state: PageState) -> bool:
    lesson = load_lessons().get(state.lesson)
    return lesson is not None and lesson.settings.view is not None and lesson.settings.surface == state.surface


def _write_view(state: PageState) -> str | None:
    if state.view is not None:
        return _text(state.view)
    return "all" if state.lesson and _lesson_zooms(state) else None  # the whole surface, where the lesson zooms


def _unlike_start(name: str) -> Callable[[PageState], bool]:
    """Written when the state's ``name`` is not what the link starts from (its lesson's, or the default)."""
    def writes(state: PageState) -> bool:
        lesson = load_lessons().get(state.lesson)
        return getattr(state, name) != getattr(lesson.settings if lesson else PageState(), name)

    return writes


def _has_kappa(state: PageState) -> bool:
    return "kappa" in state.surface_object().params


def _is_custom(state: PageState) -> bool:
    return state.surface == CUSTOM


def _is_data(state: PageState) -> bool:
    return state.is_data


def _batch_size(text: str, state: PageState) -> int:
    return int(parse_number(text, 1, state.surface_object().data.size, integer=True))


def _epochs(text: str, state: PageState) -> int:
    # (Read after the batch size: epochs x batches may be at most MAX_PAGE_STEPS.)
    return int(parse_number(text, 1, MAX_PAGE_STEPS // state.batches_per_epoch(), integer=True))


# --- The table -------------------------------------------------------------------------

# Read first, against a blank state: they choose the state the link starts from.
SETUP_FIELDS = (
    Field("lang", "lang", _choice(LANGS)),
    Field("present", "presenter", _boolean, writes=lambda s: s.presenter),
    Field("lesson", "lesson", _choice(lambda: tuple(load_lessons())), shown="no lesson",
          writes=lambda s: bool(s.lesson)),
    Field("box", "box", _on_grid(BOXES), writes=_is_custom),
    Field("f", "formula", _formula, writes=_is_custom),  # a formula only travels with its surface
)
# Read against the lesson's state (or a blank one): the surface and the preset.
START_FIELDS = (
    Field("surface", "surface", _choice((*SURFACES, *DATA_SURFACES, CUSTOM))),
    Field("preset", "preset", _choice(PRESETS)),
)
SHARED_FIELDS = (
    # A data surface's fit (before the view: standardizing moves the surface's box).
    Field("std", "standardize", _boolean, applies=_is_data, writes=lambda s: s.is_data and s.standardize),
    Field("batch", "batch_size", _batch_size, applies=_is_data),
    Field("epochs", "epochs", _epochs, applies=_is_data),
    Field("shuffle", "shuffle", _boolean, applies=_is_data, writes=lambda s: s.is_data and s.shuffle),
    Field("view", "view", _view, shown=lambda s: "the lesson's view" if s.view else "the whole surface",
          writes=lambda s: _write_view(s) is not None, write=_write_view),
    Field("tab", "tab", _choice(TABS), writes=_unlike_start("tab")),
    Field("chart", "chart", _choice(SIDE_CHARTS), writes=_unlike_start("chart")),
    Field("opt", "optimizers", _optimizers),
    # PyTorch's and optax's optimizers beside Keras's: "pytorch:adam,optax:adam" ("": none).
    Field("fw", "frameworks", _frameworks, shown=lambda s: _text(s.frameworks) or "none",
          writes=lambda s: s.frameworks != _starting_frameworks(s)),
    Field("kappa", "kappa", _on_grid(KAPPAS, log=True), applies=_has_kappa),  # only the quadratic has one
    # A link written by the page carries `lr` / `mom` and every own value; a short hand-written
    # link (?surface=saddle) keeps the preset's own values. (A bad `lr` or `mom` falls back to
    # the preset's whole setting, its own values too.)
    Field("lr", "learning_rate", _on_grid(LEARNING_RATES, log=True), resets="own_learning_rate"),
    Field("mom", "momentum", _on_grid(MOMENTA), resets="own_momentum"),
    # (On a data surface too: the slider's value, kept for a formula surface picked next.)
    Field("steps", "steps", _number(MIN_STEPS, MAX_PAGE_STEPS, integer=True)),
    Field("x", "start", _number(-MAX_COORDINATE, MAX_COORDINATE), item=(0,)),
    Field("y", "start", _number(-MAX_COORDINATE, MAX_COORDINATE), item=(1,)),
    Field("noise", "noise", _number(0.0, MAX_NOISE), writes=lambda s: bool(s.noise)),
    Field("seed", "seed", _number(0, MAX_SEED, integer=True),
          writes=lambda s: bool(s.noise or s.seed or (s.is_data and s.shuffle))),
)


def _optimizer_fields(name: str) -> tuple[Field, ...]:
    """``<optimizer>.lr``, ``.momentum`` and each other hyperparameter: set only if the link says."""
    fields = [Field(f"{name}.lr", "own_learning_rate", _on_grid(LEARNING_RATES, log=True), item=(name,),
                    shown="the shared learning rate")]
    if name in MOMENTUM_OPTIMIZERS:
        fields.append(Field(f"{name}.momentum", "own_momentum", _on_grid(MOMENTA), item=(name,),
                            shown="the shared momentum"))
    for hp in EXTRA_HPARAMS[name]:
        fields.append(Field(f"{name}.{hp}", "hparams", _hparam(name, hp), item=(name, hp),
                            default=ALL_OPTIMIZERS[name].hparam(hp).default))
    return tuple(fields)


def _schedule_fields(schedule: str) -> tuple[Field, ...]:
    """``sched.<field>`` for each field of ``schedule``: keys of the schedule the link chose."""
    return tuple(Field(f"sched.{key}", "schedule_fields", _schedule_field(key, default), item=(key,),
                       default=default, applies=lambda s, schedule=schedule: s.schedule == schedule)
                 for key, default in SCHEDULE_FIELDS[schedule].items())


def _framework_fields(key: str) -> tuple[Field, ...]:
    """``pytorch:adam.lr``, ``pytorch:adam.betas`` ...: the framework's own names, set only if
    the link says (the learning rate otherwise follows the shared one)."""
    opt = FRAMEWORK_ENTRIES[key]
    fields = [Field(f"{key}.{opt.rate_name}", "framework_hparams", _on_grid(LEARNING_RATES, log=True),
                    item=(key, opt.rate_name), shown="the learning rate of Keras's namesake")]
    fields += [Field(f"{key}.{h.name}", "framework_hparams", _framework_hparam(key, h.name), item=(key, h.name),
                     default=h.default) for h in opt.hparams if h.name != opt.rate_name]
    return tuple(fields)


OPTIMIZER_FIELDS = (*(f for name in ALL_OPTIMIZERS for f in _optimizer_fields(name)),
                    *(f for key in FRAMEWORK_ENTRIES for f in _framework_fields(key)))
SCHEDULE_KEYS = (
    Field("sched", "schedule", _choice(tuple(SCHEDULE_FIELDS), lower=False), shown="none",
          writes=lambda s: bool(s.schedule)),
    *(f for schedule in SCHEDULE_FIELDS for f in _schedule_fields(schedule)),
)
FIELDS = (*SETUP_FIELDS, *START_FIELDS, *SHARED_FIELDS, *OPTIMIZER_FIELDS, *SCHEDULE_KEYS)


# --- Reading and writing by the table --------------------------------------------------


def _get(state: PageState, field: Field):
    value = getattr(state, field.attr)
    for part in field.item:
        value = value[part] if isinstance(value, tuple) else value.get(part)
        if value is None:
            return None
    return value


def _put(container, item: tuple, value):
    """``container`` (a tuple or a mapping, nested) with ``value`` at ``item``, as a new copy."""
    if not item:
        return value
    head, rest = item[0], item[1:]
    if isinstance(container, tuple):
        return tuple(_put(v, rest, value) if i == head else v for i, v in enumerate(container))
    return {**container, head: _put(container.get(head, {}), rest, value)}


def _first(value) -> str:
    """Streamlit gives the last value of a repeated key; a list may come from tests."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value)


class _Reader:
    """Reads a query's fields into a state one at a time, noting each problem."""

    def __init__(self, query: Mapping[str, object]):
        self.raw = {str(k): _first(v) for k, v in query.items()}
        self.used: set[str] = set()
        self.problems: list[Problem] = []

    def read(self, state: PageState, fields) -> PageState:
        for field in fields:
            if field.key not in self.raw or not field.applies(state):
                continue
            self.used.add(field.key)
            text = self.raw[field.key]
            try:
                if len(text) > MAX_VALUE_CHARS:
                    raise ValueError("too long")
                value = field.parse(text, state)
            except NOT_A_NUMBER as exc:
                self.problems.append(Problem(field.key, _quoted(text), str(exc) or "not valid", _shown(field, state)))
                continue
            if field.default is not _NO_DEFAULT and value == field.default:
                continue  # a mapping keeps only what differs from Keras's default
            if field.resets:
                state = replace(state, **{field.resets: {}})
            state = replace(state, **{field.attr: _put(getattr(state, field.attr), field.item, value)})
        return state

    def problem(self, key: str, value: str, reason: str, default: str) -> None:
        self.problems.append(Problem(key, value, reason, default))

    def unknown(self) -> None:
        for key, text in self.raw.items():
            if key not in self.used:
                self.problem(key[:MAX_SHOWN_CHARS], text[:MAX_SHOWN_CHARS], "unknown", "")


def _quoted(text: str) -> str:
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS - 3] + "..."


def _shown(field: Field, state: PageState) -> str:
    """The fallback as a warning names it: as a link would write it, not as Python would."""
    if field.shown is not None:
        return field.shown(state) if callable(field.shown) else field.shown
    return _text(field.default if field.default is not _NO_DEFAULT else _get(state, field))


def _starting_state(reader: _Reader) -> PageState:
    """The state a link's other keys change: its lesson's, or its surface's with its preset."""
    setup = reader.read(PageState(), SETUP_FIELDS)
    if setup.lesson:
        lesson = load_lessons()[setup.lesson].state(setup.lang, setup.presenter)
        # (A lesson on a typed formula keeps its formula and box unless the link gives good ones.)
        given = {k for k in ("f", "box") if k in reader.raw and not any(p.key == k for p in reader.problems)}
        setup = replace(setup, formula=setup.formula if "f" in given else lesson.formula,
                        box=setup.box if "box" in given else lesson.box)
        chosen = reader.read(lesson, START_FIELDS)
        state = lesson
        if chosen.surface != lesson.surface:
            # (The lesson's data switches go with its surface: the link sets its own, std= and shuffle=.)
            state = with_surface(replace(lesson, formula=setup.formula, box=setup.box, standardize=False,
                                         shuffle=False), chosen.surface)
        state = replace(state, preset=chosen.preset)
    else:
        chosen = reader.read(setup, START_FIELDS)
        state = replace(default_state(chosen.surface, chosen.preset, setup.lang), presenter=setup.presenter)
        if chosen.surface == CUSTOM:
            state = with_surface(replace(state, formula=setup.formula, box=setup.box), CUSTOM)
    if state.surface == CUSTOM:
        state = replace(state, formula=setup.formula, box=setup.box)
    # A link carries every hyperparameter and schedule it sets: none come from elsewhere.
    return replace(state, hparams={}, framework_hparams={}, schedule="", schedule_fields={})


def _one_clipping_option(state: PageState, reader: _Reader) -> PageState:
    """Keras takes one clipping option: a link keeps the first of CLIP_OPTIONS it sets."""
    hparams = {name: dict(values) for name, values in state.hparams.items()}
    for name, values in hparams.items():
        clips = [c for c in CLIP_OPTIONS if c in values]
        for extra in clips[1:]:
            value = values.pop(extra)
            reader.problem(f"{name}.{extra}", _text(value)[:MAX_SHOWN_CHARS],
                           f"only one of {', '.join(CLIP_OPTIONS)} can be set; {name}.{clips[0]} is", "not set")
    return replace(state, hparams=hparams)


def _whole_framework_settings(state: PageState, reader: _Reader) -> PageState:
    """Each value may be valid and the set not (PyTorch's nesterov without momentum): such an
    optimizer's settings fall back to its framework's defaults, saying why."""
    kept = {}
    for key, values in state.framework_hparams.items():
        try:
            FRAMEWORK_ENTRIES[key].resolve(values)
        except ValueError as exc:
            shown = ", ".join(f"{k}={_text(v)}" for k, v in values.items())
            reader.problem(key[:MAX_SHOWN_CHARS], _quoted(shown), str(exc), "its framework's defaults")
            continue
        kept[key] = values
    return replace(state, framework_hparams=kept)


def _whole_schedule(state: PageState, reader: _Reader) -> PageState:
    """Each field may be valid and the schedule not (boundaries and factors that do not pair up)."""
    if not state.schedule:
        return state
    try:
        schedule_spec(state.schedule, state.schedule_fields, 0.01)
    except ValueError as exc:
        reader.problem("sched", state.schedule, str(exc), "none")
        return replace(state, schedule="", schedule_fields={})
    return state


def parse_query(query: Mapping[str, object]) -> tuple[PageState, list[Problem]]:
    """The state a link asks for, and every bad or unknown value in it (reported and
    skipped). Never raises: any query settles on a valid state."""
    reader = _Reader(query)
    state = _starting_state(reader)
    standardized = state.standardize
    state = reader.read(state, (*SHARED_FIELDS, *OPTIMIZER_FIELDS))
    if state.is_data and state.standardize and not standardized and "x" not in reader.raw and "y" not in reader.raw:
        # (std=1 moves the surface: a link without a start takes the standardized one's.)
        state = replace(state, start=tuple(map(float, state.surface_object().default_start)))
    state = _one_clipping_option(state, reader)
    state = _whole_framework_settings(state, reader)
    state = _whole_schedule(reader.read(state, SCHEDULE_KEYS), reader)
    reader.unknown()
    return state, reader.problems


def to_query(state: PageState) -> dict[str, str]:
    """The link form of ``state``: every shared setting, and the per-optimizer values and
    schedule fields that are set."""
    out: dict[str, str] = {}
    for field in FIELDS:
        if not field.applies(state) or not (field.writes or _always)(state):
            continue
        if field.write is not None:
            out[field.key] = field.write(state)
        elif (value := _get(state, field)) is not None:
            out[field.key] = _text(value)
    return out
