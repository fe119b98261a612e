"""The sidebar: language, presenter mode, lesson, preset, surface, optimizers and their settings.

:func:`render` draws what no slider changes, on a whole run; :func:`render_live` fills the
slot it leaves with the sliders, from the page's live part (a slider there reruns only that).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import optviz
from optviz import figures, i18n
from optviz import schedules as lr_schedules
from optviz.bounds import (
    BOXES,
    KAPPAS,
    LEARNING_RATES,
    MAX_COORDINATE,
    MAX_NOISE,
    MAX_PAGE_STEPS,
    MAX_SCHEDULE_VALUE,
    MAX_SEED,
    MIN_STEPS,
    MOMENTA,
    STEP_STEP,
)
from optviz.models import DATA_SURFACES, data_surface, is_data_surface
from optviz.optimizers import ALL_OPTIMIZERS
from optviz.page.caches import lessons
from optviz.page.markdown_text import plain_text
from optviz.page.theory_view import lr_limit_caption
from optviz.page.widgets import (
    choice_labels,
    kept_value,
    label_of,
    on_batch,
    on_lesson,
    on_lesson_step,
    on_preset,
    on_reset_optimizer,
    on_reset_start,
    on_standardize,
    on_surface,
    read_widgets,
    widget,
)
from optviz.presets import PRESETS
from optviz.state import CUSTOM, EXTRA_HPARAMS, FRAMEWORK_ENTRIES, MOMENTUM_OPTIMIZERS, SCHEDULE_FIELDS, schedule_spec

ss = st.session_state


@dataclass(frozen=True)
class Sidebar:
    """What the sidebar leaves the page: the slot for its sliders, and the surface it chose."""

    live_controls: object  # a container: render_live fills it
    surface: object | None  # None: the typed formula was refused, for formula_error's reason
    formula_error: str = ""


def render(lang: str) -> Sidebar:
    t = i18n.text(lang)
    formula_error = ""
    with st.sidebar:
        st.radio(t["language"], list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key="lang", horizontal=True)
        st.toggle(t["presenter"], key="presenter")
        st.selectbox(t["lesson"], ["", *lessons()], key="lesson", on_change=on_lesson,
                     format_func=label_of(choice_labels("lesson", lang)))
        col_prev, col_next = st.columns(2)
        col_prev.button(t["previous"], on_click=on_lesson_step, args=(-1,), key="lesson_prev", width="stretch")
        col_next.button(t["next"], on_click=on_lesson_step, args=(1,), key="lesson_next", width="stretch")
        st.selectbox(t["preset"], PRESETS, format_func=label_of(choice_labels("preset", lang)), key="preset",
                     on_change=on_preset)
        st.selectbox(t["surface"], [*optviz.SURFACES, *DATA_SURFACES, CUSTOM],
                     format_func=label_of(choice_labels("surface", lang)), key="surface", on_change=on_surface)
        st.caption(i18n.SURFACE_NOTES[lang][ss.surface])
        if is_data_surface(ss.surface):
            show_data_controls(t, ss.surface)
        if ss.surface == CUSTOM:
            ss.formula, ss.box = ss.get("formula", ss.get("_formula")), ss.get("box", ss.get("_box"))
            st.text_input(t["formula"], key="formula", max_chars=300, on_change=on_surface)
            st.select_slider(t["box"], BOXES, key="box", format_func=lambda v: f"{v:g}", on_change=on_surface)
            ss._formula, ss._box = ss.formula, ss.box
        try:
            surface = read_widgets().surface_object()
        except ValueError as exc:  # a typed formula the parser refuses: say what and where, draw nothing
            surface = None
            formula_error = str(exc)
        if surface is not None and "kappa" in surface.params:
            st.select_slider(t["kappa"], KAPPAS, key="kappa", format_func=lambda v: f"{v:g}")
        st.multiselect(t["optimizers"], list(ALL_OPTIMIZERS), format_func=label_of(choice_labels("optimizers", lang)),
                       key="optimizers")
        st.multiselect(t["frameworks"], list(FRAMEWORK_ENTRIES),
                       format_func=label_of(choice_labels("frameworks", lang)), key="frameworks",
                       help=t["frameworks_help"])
        live_controls = st.container()  # filled by render_live: a slider there reruns only the live part
        show_start_controls(t)
        for name in ss.get("optimizers", []):
            # Lazy: a closed expander draws no widgets (most of a rerun's elements otherwise); their
            # values live on in session state (widgets.kept) and come back when it opens.
            expander = st.expander(t["settings_of"].format(name=i18n.OPTIMIZER_NAMES[lang][name]), key=f"exp.{name}",
                                   on_change="rerun")
            if expander.open:
                with expander:
                    show_optimizer_settings(name, lang)
        for key in ss.get("frameworks", []):
            expander = st.expander(t["framework_settings_of"].format(name=i18n.OPTIMIZER_NAMES[lang][key]),
                                   key=f"exp.{key}", on_change="rerun")
            if expander.open:
                with expander:
                    show_framework_settings(key, lang)
    return Sidebar(live_controls, surface, formula_error)


def render_live(chosen, lang: str) -> None:
    """The sidebar's sliders and inputs that change the race but not the page's make-up
    (``chosen``: the state they show, read before they are drawn)."""
    t, names = i18n.text(lang), i18n.OPTIMIZER_NAMES[lang]
    st.select_slider(t["learning_rate"], LEARNING_RATES, key="lr", format_func=lambda v: f"{v:.3g}")
    followers = [names[n] for n in chosen.optimizers if n not in chosen.own_learning_rate]
    followers += [names[k] for k in chosen.frameworks  # (their rate is their Keras namesake's)
                  if FRAMEWORK_ENTRIES[k].rate_name not in chosen.framework_hparams.get(k, {})
                  and FRAMEWORK_ENTRIES[k].name not in chosen.own_learning_rate]
    st.caption(t["follows"].format(names=", ".join(followers)) if followers else t["follows_none"])
    if limit := lr_limit_caption(chosen, lang):  # where divergence starts, on a quadratic
        st.caption(limit)
    st.select_slider(t["momentum"], MOMENTA, key="momentum", format_func=lambda v: f"{v:.2f}")
    followers = [names[n] for n in chosen.optimizers if n in MOMENTUM_OPTIMIZERS and n not in chosen.own_momentum]
    st.caption(t["follows"].format(names=", ".join(followers)) if followers else t["follows_none"])
    if chosen.is_data:
        size = chosen.surface_object().data.size
        st.select_slider(t["batch_size"], list(range(1, size + 1)), key="batch", on_change=on_batch,
                         format_func=lambda v: t["full_batch"].format(n=v) if v == size else str(v))
        st.slider(t["epochs"], 1, MAX_PAGE_STEPS // chosen.batches_per_epoch(), key="epochs")
        st.caption(t["fit_steps"].format(batches=chosen.batches_per_epoch(), steps=chosen.run_steps()))
    else:
        st.slider(t["steps"], MIN_STEPS, MAX_PAGE_STEPS, step=STEP_STEP, key="steps")
    show_schedule_settings(lang)  # (its plot follows the learning rate)
    # (The same bound as a link or a lesson may set: a link with noise=30 had crashed the
    # page against a slider that stopped at 20.) A data surface's noise is its batches'.
    if not chosen.is_data:
        st.slider(t["noise"], 0.0, MAX_NOISE, step=0.1, key="noise")


def show_data_controls(t: dict, surface: str) -> None:
    """A data surface's data: where it comes from, standardized or not, shuffled or not."""
    data = data_surface(surface, bool(ss.get("std"))).data
    st.caption(t["data_about"].format(n=data.size, source=data.source or t["synthetic"]))
    st.toggle(t["standardize"], key="std", on_change=on_standardize, help=t["standardize_help"])
    st.toggle(t["shuffle"], key="shuffle", help=t["shuffle_help"])


def show_start_controls(t: dict) -> None:
    """The noise's seed and the start point: typed, not slid, so outside the live part (a change
    reruns the whole page). Every element in the live part is sent again on every slider move."""
    st.number_input(t["seed"], min_value=0, max_value=MAX_SEED, step=1, key="seed")
    st.markdown(f"**{t['start']}**")
    col_x, col_y = st.columns(2)
    col_x.number_input(t["start_x"], min_value=-MAX_COORDINATE, max_value=MAX_COORDINATE, step=0.1, format="%.3f",
                       key="x0")
    col_y.number_input(t["start_y"], min_value=-MAX_COORDINATE, max_value=MAX_COORDINATE, step=0.1, format="%.3f",
                       key="y0")
    st.button(t["reset_start"], on_click=on_reset_start, key="reset_start", width="stretch")


def show_optimizer_settings(name: str, lang: str) -> None:
    """One optimizer's own learning rate, momentum and Keras options, in its expander."""
    t, opt = i18n.text(lang), ALL_OPTIMIZERS[name]
    widget(st.checkbox, t["own_learning_rate"], f"{name}.own_lr")
    widget(st.select_slider, f"{i18n.HPARAM_HELP[lang]['learning_rate']}: {i18n.OPTIMIZER_NAMES[lang][name]}",
           f"{name}.lr", options=LEARNING_RATES,
           format_func=lambda v: f"{v:.3g}", disabled=not kept_value(f"{name}.own_lr"))
    if name in MOMENTUM_OPTIMIZERS:
        widget(st.checkbox, t["own_momentum"], f"{name}.own_momentum")
        widget(st.select_slider, i18n.HPARAM_HELP[lang]["momentum"], f"{name}.momentum", options=MOMENTA,
               format_func=lambda v: f"{v:.2f}", disabled=not kept_value(f"{name}.own_momentum"))
    for hp in EXTRA_HPARAMS[name]:
        spec = opt.hparam(hp)
        label = i18n.HPARAM_HELP[lang].get(hp, hp)
        key = f"{name}.{hp}"
        if spec.kind == "bool":
            widget(st.checkbox, label, key)
        elif spec.kind == "int":
            widget(st.number_input, label, key, min_value=0, max_value=100_000, step=1)
        elif spec.kind == "optional":  # weight decay and clipping: 0 is "off"
            widget(st.number_input, label, key, min_value=0.0, max_value=1e6, step=0.01, format="%.4g")
        elif "epsilon" in hp:
            widget(st.number_input, label, key, min_value=1e-30, max_value=1.0, format="%.1e")
        else:
            high = spec.high if spec.high is not None else 1e6
            if spec.high_open:
                high = high - 1e-4
            low = spec.low if spec.low is not None else -1e6
            widget(st.number_input, label, key, min_value=float(low), max_value=float(high), step=0.01,
                   format="%.4g")
    st.button(t["reset_optimizer"], key=f"{name}.reset", on_click=on_reset_optimizer, args=(name,))


def show_framework_settings(key: str, lang: str) -> None:
    """Another framework's optimizer ("pytorch:adam"): its own names and defaults (a pair as two
    inputs); its learning rate its Keras namesake's unless set; no schedule (Keras's only).
    Labels are the framework's argument names (code, in both languages)."""
    t, opt = i18n.text(lang), FRAMEWORK_ENTRIES[key]
    st.caption(t["framework_note"].format(framework=i18n.FRAMEWORK_LABELS[lang][opt.framework]))
    widget(st.checkbox, t["own_learning_rate"], f"{key}.own_lr")
    widget(st.select_slider, opt.rate_name, f"{key}.lr", options=LEARNING_RATES, format_func=lambda v: f"{v:.3g}",
           disabled=not kept_value(f"{key}.own_lr"))
    for h in opt.hparams:
        if h.name == opt.rate_name:
            continue
        label = h.name
        low = float(h.low) if h.low is not None else -1e6
        high = float(h.high) - (1e-4 if h.high_open else 0) if h.high is not None else 1e6
        if h.kind == "bool":
            widget(st.checkbox, label, f"{key}.{h.name}")
        elif h.kind == "pair":
            for i, column in enumerate(st.columns(2)):
                with column:
                    widget(st.number_input, f"{h.name}[{i}]", f"{key}.{h.name}.{i}", min_value=low, max_value=high,
                           step=0.001, format="%.4g")
        elif h.kind == "int":
            widget(st.number_input, label, f"{key}.{h.name}", min_value=0, max_value=100_000, step=1)
        elif h.kind == "optional":  # 0 is "not set"
            widget(st.number_input, label, f"{key}.{h.name}", min_value=0.0, max_value=1e6, step=0.01, format="%.4g")
        elif "eps" in h.name:
            widget(st.number_input, label, f"{key}.{h.name}", min_value=0.0, max_value=1.0, format="%.1e")
        else:
            widget(st.number_input, label, f"{key}.{h.name}", min_value=low, max_value=high, step=0.01, format="%.4g")
    with_help = ", ".join(f"`{h.name}`: {h.help}" for h in opt.hparams if h.help and h.name != opt.rate_name)
    if lang == "en" and with_help:  # (the definitions' help is English; the names speak for themselves in Korean)
        st.caption(with_help)
    st.button(t["reset_optimizer"], key=f"{key}.reset", on_click=on_reset_optimizer, args=(key,))


def show_schedule_settings(lang: str) -> None:
    """The learning-rate schedule: Keras's class, its fields, and a small plot of the shared rate."""
    t = i18n.text(lang)
    st.selectbox(t["schedule"], ["", *SCHEDULE_FIELDS], key="schedule",
                 format_func=label_of(choice_labels("schedule", lang)))
    name = ss.get("schedule")
    if not name:
        return
    for key, default in SCHEDULE_FIELDS[name].items():
        widget_key = f"sched.{name}.{key}"
        if isinstance(default, bool):
            widget(st.checkbox, key, widget_key)
        elif isinstance(default, str):
            widget(st.text_input, t[key] if key in t else key, widget_key, max_chars=200)
        elif isinstance(default, int):
            widget(st.number_input, key, widget_key, min_value=0 if "warmup" in key else 1, max_value=100_000,
                   step=10)
        else:
            widget(st.number_input, key, widget_key, min_value=0.0, max_value=MAX_SCHEDULE_VALUE, step=0.05,
                   format="%.4g")
    st.caption(t["schedule_help"])
    try:
        chosen = read_widgets()
        spec = schedule_spec(name, chosen.schedule_fields, chosen.learning_rate)
        rates = lr_schedules.values(spec, chosen.run_steps())
        st.plotly_chart(figures.schedule_figure(rates, text=i18n.figure_text(lang)), key="schedule_chart",
                        width="stretch", config={"displayModeBar": False})
        st.code(lr_schedules.keras_code(spec), language="python")
    except ValueError as exc:  # (the reason may quote typed text: shown as text, not Markdown)
        st.error(t["bad_input"].format(reason=plain_text(str(exc))))
