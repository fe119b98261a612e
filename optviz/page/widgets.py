"""The widgets <-> PageState glue: session-state keys, what the widgets show as a PageState
and back, the choice widgets' labels, and the widgets' callbacks.

The widgets take no ``value=``: their session-state keys hold their values (set from the URL
once a session, by :func:`open_session`, then by the callbacks), so a state is put on the
page by :func:`write_widgets` and read back by :func:`read_widgets`.
"""

from __future__ import annotations

import streamlit as st

from optviz import i18n
from optviz.bounds import MAX_COORDINATE, SIDE_CHARTS, TABS
from optviz.optimizers import ALL_OPTIMIZERS
from optviz.page.caches import lessons
from optviz.state import (
    EXTRA_HPARAMS,
    FRAMEWORK_ENTRIES,
    MOMENTUM_OPTIMIZERS,
    SCHEDULE_FIELDS,
    PageState,
    fit_epochs,
    tuning_axis,
    with_cell,
    with_preset,
    with_surface,
    zoomed_view,
)
from optviz.url import parse_query

ss = st.session_state


def kept() -> dict:
    """Widget values kept while their expander is closed (their widgets not drawn), in ONE
    session-state entry: every widget call copies the whole session state once, so a
    key per value (150 of them) made every rerun slower."""
    return ss.setdefault("_kept", {})


def kept_value(key: str, default=None):
    """A widget's value, or the copy kept while its expander is closed (its widget not drawn)."""
    return ss.get(key, kept().get(key, default))


def set_kept(key: str, value) -> None:
    """Set an expander widget's value: kept here, and given to the widget when it is drawn
    (see :func:`widget`); no session-state key while its expander is closed."""
    ss.pop(key, None)
    kept()[key] = value


def write_widgets(state: PageState) -> None:
    """Put a state into the widgets' session-state keys (the widgets take no value=)."""
    ss.lang, ss.preset, ss.surface = state.lang, state.preset, state.surface
    ss.kappa, ss.optimizers = state.kappa, list(state.optimizers)
    ss.lr, ss.momentum, ss.steps = state.learning_rate, state.momentum, state.steps
    ss.x0, ss.y0 = float(state.start[0]), float(state.start[1])
    ss.noise, ss.seed = state.noise, state.seed
    ss.formula, ss.box = state.formula, state.box
    ss._formula, ss._box = state.formula, state.box  # kept while the formula box is hidden
    ss.lesson, ss.presenter, ss.view, ss.tab = state.lesson, state.presenter, state.view, state.tab
    ss.chart = state.chart
    ss.batch, ss.epochs, ss.std, ss.shuffle = state.batch_size, state.epochs, state.standardize, state.shuffle
    for name, opt in ALL_OPTIMIZERS.items():
        set_kept(f"{name}.own_lr", name in state.own_learning_rate)
        set_kept(f"{name}.lr", state.own_learning_rate.get(name, state.learning_rate))
        if name in MOMENTUM_OPTIMIZERS:
            set_kept(f"{name}.own_momentum", name in state.own_momentum)
            set_kept(f"{name}.momentum", state.own_momentum.get(name, state.momentum))
        for hp in EXTRA_HPARAMS[name]:
            spec = opt.hparam(hp)
            value = state.hparams.get(name, {}).get(hp, spec.default)
            if value is None:  # an unset Keras option shows as 0 ("off")
                value = 0.0
            set_kept(f"{name}.{hp}", value if isinstance(value, bool) else int(value) if spec.kind == "int"
                 else float(value))
    ss.frameworks = list(state.frameworks)
    for key, opt in FRAMEWORK_ENTRIES.items():
        values = state.framework_hparams.get(key, {})
        set_kept(f"{key}.own_lr", opt.rate_name in values)
        set_kept(f"{key}.lr", values.get(opt.rate_name, state.learning_rate))
        for h in opt.hparams:
            if h.name == opt.rate_name:
                continue
            value = values.get(h.name, h.default)
            if h.kind == "pair":
                for i in range(2):
                    set_kept(f"{key}.{h.name}.{i}", float(value[i]))
            else:
                set_kept(f"{key}.{h.name}", value if isinstance(value, bool) else int(value) if h.kind == "int"
                         else 0.0 if value is None else float(value))
    ss.schedule = state.schedule
    for sched, fields in SCHEDULE_FIELDS.items():
        for key, default in fields.items():
            value = state.schedule_fields.get(key, default) if sched == state.schedule else default
            set_kept(f"sched.{sched}.{key}", value)


def read_widgets() -> PageState:
    """The state the widgets show.

    Read from one plain-dict snapshot of session state (kept values under the widgets'):
    each `st.session_state` lookup takes Streamlit's lock and maps widget ids, and the
    hundreds of lookups this makes were a large part of a rerun."""
    default = PageState()
    get = {**ss.get("_kept", {}), **ss.to_dict()}.get
    own_lr, own_mom, hparams = {}, {}, {}
    for name, opt in ALL_OPTIMIZERS.items():
        if get(f"{name}.own_lr"):
            own_lr[name] = float(get(f"{name}.lr"))
        if name in MOMENTUM_OPTIMIZERS and get(f"{name}.own_momentum"):
            own_mom[name] = float(get(f"{name}.momentum"))
        for hp in EXTRA_HPARAMS[name]:
            spec = opt.hparam(hp)
            value = get(f"{name}.{hp}", spec.default)
            if spec.kind == "optional":
                value = float(value) if value else None  # 0 means "off", as Keras's None
            if value != spec.default:
                hparams.setdefault(name, {})[hp] = value
    framework_hparams = {}
    for key, opt in FRAMEWORK_ENTRIES.items():
        values = {}
        if get(f"{key}.own_lr"):
            values[opt.rate_name] = float(get(f"{key}.lr"))
        for h in opt.hparams:
            if h.name == opt.rate_name:
                continue
            if h.kind == "pair":
                value = tuple(float(get(f"{key}.{h.name}.{i}", h.default[i])) for i in range(2))
            else:
                value = get(f"{key}.{h.name}", h.default)
                if h.kind == "optional":
                    value = float(value) if value else None  # 0 means "not set"
            if value != h.default:
                values[h.name] = value
        if values:
            framework_hparams[key] = values
    schedule = get("schedule") or ""
    return PageState(
        lang=get("lang", default.lang), preset=get("preset", default.preset),
        surface=get("surface", default.surface), kappa=float(get("kappa", default.kappa)),
        optimizers=tuple(get("optimizers", default.optimizers)), learning_rate=float(get("lr", 0.01)),
        momentum=float(get("momentum", 0.0)), steps=int(get("steps", default.steps)),
        start=(float(get("x0", 0.0)), float(get("y0", 0.0))), noise=float(get("noise", 0.0)),
        seed=int(get("seed", 0)), own_learning_rate=own_lr, own_momentum=own_mom, hparams=hparams,
        lesson=get("lesson", ""), presenter=bool(get("presenter", False)),
        schedule=schedule,
        schedule_fields={k: get(f"sched.{schedule}.{k}", d) for k, d in SCHEDULE_FIELDS.get(schedule, {}).items()
                         if get(f"sched.{schedule}.{k}", d) != d},
        formula=str(get("formula", get("_formula", default.formula))),
        box=float(get("box", get("_box", default.box))),
        view=get("view"), tab=get("tab", default.tab), chart=get("chart", default.chart),
        batch_size=int(get("batch", default.batch_size)), epochs=int(get("epochs", default.epochs)),
        standardize=bool(get("std", False)), shuffle=bool(get("shuffle", False)),
        frameworks=tuple(get("frameworks", ())), framework_hparams=framework_hparams,
    )


def choice_labels(key: str, lg: str) -> dict:
    """The labels that the choice widget ``key`` shows its options by, in language ``lg``."""
    words = i18n.text(lg)
    if key == "lesson":
        return {"": words["free_play"], **{i: lesson.text[lg].title for i, lesson in lessons().items()}}
    if key == "schedule":
        return {"": words["schedule_none"], **i18n.SCHEDULE_NAMES[lg]}
    if key == "tab":
        return {tab: words[f"tab_{tab}"] for tab in TABS}
    if key == "chart":
        return {chart: words[f"chart_{chart}"] for chart in SIDE_CHARTS}
    if key == "frameworks":
        return {k: i18n.OPTIMIZER_NAMES[lg][k] for k in FRAMEWORK_ENTRIES}
    return {"preset": i18n.PRESET_NAMES, "surface": i18n.SURFACE_NAMES, "optimizers": i18n.OPTIMIZER_NAMES,
            "tune_optimizer": i18n.OPTIMIZER_NAMES}[key][lg]


LABELLED = ("lesson", "preset", "surface", "optimizers", "frameworks", "tune_optimizer", "schedule", "tab", "chart")


def label_of(labels: dict):
    """A choice widget's format_func that never fails: Streamlit formats the value it holds
    too, and after a language switch that can be a label (see unlabel)."""
    return lambda option: labels.get(option, str(option))


def unlabel(*keys: str) -> set:
    """Put back the options that came back as labels; returns the keys it changed.

    Streamlit sends a selectbox's (a multiselect's) choice back from the browser as its label,
    and a label that none of the widget's options has now comes back as the value itself: after
    a language switch, the old language's label ("— 자유 탐색 —" for the lesson's "", which
    then raised a KeyError in on_lesson and showed the page's exception)."""
    changed = set()
    for key in keys or LABELLED:
        value = ss.get(key)
        if not isinstance(value, (str, list)):
            continue
        options = {option for lg in i18n.LANGUAGES for option in choice_labels(key, lg)}
        by_label = {label: option for lg in i18n.LANGUAGES for option, label in choice_labels(key, lg).items()}
        back = lambda v: v if not isinstance(v, str) or v in options else by_label.get(v, v)  # noqa: E731
        fixed = [back(v) for v in value] if isinstance(value, list) else back(value)
        if fixed != value:
            ss[key] = fixed
            changed.add(key)
    return changed


def on_preset() -> None:
    if unlabel("preset"):  # only the language changed: the settings stay as they are
        return
    write_widgets(with_preset(read_widgets(), ss.preset))


def on_surface() -> None:
    if unlabel("surface"):
        return
    try:
        write_widgets(with_surface(read_widgets(), ss.surface))
    except ValueError:  # a bad formula: the page shows why; nothing to reset yet
        pass


def on_standardize() -> None:
    """Standardizing moves the data surface (its minimum, its box): its own start, all in view."""
    state = read_widgets()
    start = state.surface_object().default_start
    ss.x0, ss.y0 = float(start[0]), float(start[1])
    ss.view = None
    ss.view_step = None


def on_batch() -> None:
    """A batch size keeps epochs x batches within the page's steps (fewer epochs if need be)."""
    ss.epochs = fit_epochs(read_widgets(), ss.epochs)
    ss.view_step = None


def on_lesson() -> None:
    if unlabel("lesson"):
        return
    if ss.lesson:
        write_widgets(lessons()[ss.lesson].state(ss.get("lang", "en"), bool(ss.get("presenter"))))
    ss.view_step = None


def on_lesson_step(offset: int) -> None:
    ids = list(lessons())
    current = ids.index(ss.lesson) if ss.get("lesson") in ids else -1
    ss.lesson = ids[(current + offset) % len(ids)]
    on_lesson()


def on_view_step(action: str) -> None:
    """Step-through: every head moves together; None shows the whole race."""
    steps = read_widgets().run_steps()
    now = steps if ss.get("view_step") is None else int(ss.view_step)
    if action == "first":
        ss.view_step = 0
    elif action == "last":
        ss.view_step = None
    elif action == "back":
        ss.view_step = max(0, now - 1)
    else:  # "step" or "ten": from the end, start again from the beginning
        size = 1 if action == "step" else 10
        start = 0 if now >= steps else now
        ss.view_step = min(steps, start + size)


def _selected(chart_key: str, part: str) -> list:
    """One part ("points", "box") of a plotly chart's selection event: a dict in session
    state, or the attribute form a test may hand over."""
    event = ss.get(chart_key)
    if isinstance(event, dict) and "select" in event:  # the race chart's own element (race_chart)
        event = event["select"]
    if isinstance(event, dict):
        return event.get("selection", {}).get(part, []) or []
    return getattr(getattr(event, "selection", None), part, []) or []


def clicked_point(chart_key: str) -> dict | None:
    """The first point of a plotly chart's selection event (a click), or None."""
    points = _selected(chart_key, "points")
    if not points or "x" not in points[0] or "y" not in points[0]:
        return None
    return points[0]


def selected_boxes(chart_key: str) -> list:
    """The boxes of a plotly chart's selection event (Box Select), each {"x": [..], "y": [..]}."""
    return [b for b in _selected(chart_key, "box")
            if isinstance(b, dict) and len(b.get("x", ())) == 2 and len(b.get("y", ())) == 2]


def on_tune_click() -> None:
    """A heat-map cell was clicked: load its learning rate and second axis's value into the race."""
    point = clicked_point("tune_chart")
    name = ss.get("tune_optimizer")
    if point is None or name not in ALL_OPTIMIZERS:
        return
    axis, _, log_axis = tuning_axis(name)
    learning_rate, value = 10 ** float(point["x"]), float(point["y"])
    value = 10 ** value if log_axis else value
    try:
        write_widgets(with_cell(read_widgets(), name, learning_rate, value))
    except ValueError:  # (not a cell of the map: a forged event)
        return
    ss.tune_loaded = (name, learning_rate, value, axis)
    ss._full_rerun = True  # the optimizer list and its own settings are outside live()


def on_chart_click() -> None:
    """A click on the race chart sets the start point there (the number inputs stay); a box
    drawn with the chart's Box Select zooms the chart to it (kept, and in the link)."""
    boxes = selected_boxes("race_chart")
    if boxes:
        try:
            ss.view = zoomed_view(read_widgets().surface_object(), boxes[-1]["x"], boxes[-1]["y"])
        except (KeyError, TypeError, ValueError):  # a box outside the surface (or a bad event)
            pass
        return
    point = clicked_point("race_chart")
    if point is None:
        return
    x, y = float(point["x"]), float(point["y"])
    if all(abs(v) <= MAX_COORDINATE for v in (x, y)):
        ss.x0, ss.y0 = round(x, 3), round(y, 3)
        ss.view_step = None
        ss.started_at = (ss.x0, ss.y0)
        ss._full_rerun = True  # the start's inputs are outside live()


def on_reset_view() -> None:
    ss.view = None


def on_reset_start() -> None:
    try:
        start = read_widgets().surface_object().default_start
    except ValueError:  # a bad formula: the page says so; keep the start
        return
    ss.x0, ss.y0 = float(start[0]), float(start[1])


def on_reset_optimizer(name: str) -> None:
    if name in FRAMEWORK_ENTRIES:  # another framework's: its own defaults, the shared rate
        opt = FRAMEWORK_ENTRIES[name]
        set_kept(f"{name}.own_lr", False)
        for h in opt.hparams:
            if h.kind == "pair":
                for i in range(2):
                    set_kept(f"{name}.{h.name}.{i}", float(h.default[i]))
            elif h.name != opt.rate_name:
                set_kept(f"{name}.{h.name}", 0.0 if h.default is None else h.default)
        return
    opt = ALL_OPTIMIZERS[name]
    set_kept(f"{name}.own_lr", False)
    if name in MOMENTUM_OPTIMIZERS:
        set_kept(f"{name}.own_momentum", False)
    for hp in EXTRA_HPARAMS[name]:
        set_kept(f"{name}.{hp}", opt.hparam(hp).default)


def widget(kind, label: str, key: str, **kwargs):
    """A widget inside a lazily drawn expander: restored from its kept value, and kept again."""
    values = kept()
    if key not in ss and key in values:
        ss[key] = values[key]
    value = kind(label, key=key, **kwargs)
    values[key] = value
    return value


def open_session() -> None:
    """Before anything reads the widgets, on every run: the URL's state into the widgets (once
    a session), the last run's refused start put back, labels turned back into options."""
    if "initialized" not in ss:
        url_state, problems = parse_query(st.query_params.to_dict())
        write_widgets(url_state)
        ss.url_problems = problems
        ss.initialized = True
    if "bad_start" in ss:  # the last run's start had no finite loss (see main.py live)
        ss.start_notice = ss.pop("bad_start")
        on_reset_start()
    unlabel()  # (a callback that reads the widgets does it first)
