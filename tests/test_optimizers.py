"""The optimizer registry: every definition complete and consistent, and named state packed
into the engine's (MAX_SLOTS, 2) rows and back without loss."""

import re

import jax.numpy as jnp
import numpy as np
import pytest

from optviz import i18n
from optviz.optimizers import (
    ALL_OPTIMIZERS,
    ARTICLE_OPTIMIZERS,
    ENGINE_OPTIMIZERS,
    MAX_SLOTS,
    MORE_OPTIMIZERS,
    Optimizer,
    pack,
    pack_numpy,
    unpack,
)
from optviz.optimizers.base import zeros

ALL = list(ALL_OPTIMIZERS)
PLOTLY_DASHES = {"solid", "dot", "dash", "longdash", "dashdot", "longdashdot"}
START = (-1.5, 2.0)


def _random_state(opt: Optimizer, seed: int):
    """A state of ``opt``'s NamedTuple with distinct values: (2,) rows, scalars where Keras has them."""
    rng = np.random.default_rng(seed)
    scalars = getattr(opt.state, "SCALARS", ())
    return opt.state(*(np.float32(rng.normal()) if name in scalars else rng.normal(size=2).astype(np.float32)
                       for name in opt.state._fields))


def test_the_registry_is_in_the_engine_s_order_with_the_article_s_six_first():
    assert ALL[:6] == ["sgd", "nesterov", "adagrad", "rmsprop", "adam", "adamax"]
    assert list(ARTICLE_OPTIMIZERS) == ALL[:6] and list(MORE_OPTIMIZERS) == ALL[6:]
    assert all(name == opt.name for name, opt in ALL_OPTIMIZERS.items())


@pytest.mark.parametrize("name", ALL)
def test_every_definition_is_complete(name):
    opt = ALL_OPTIMIZERS[name]
    # Names: English in the definition, Korean in i18n, and i18n's English is the definition's.
    assert opt.display_name and opt.short_name
    assert i18n.OPTIMIZER_NAMES["en"][name] == opt.display_name
    assert i18n.OPTIMIZER_SHORT_NAMES["en"][name] == opt.short_name
    for lang in i18n.LANGUAGES:
        assert i18n.OPTIMIZER_NAMES[lang][name] and i18n.OPTIMIZER_SHORT_NAMES[lang][name]
        assert i18n.EXPLANATIONS[lang][name]
    # Style and LaTeX.
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", opt.style.color)
    assert opt.style.dash in PLOTLY_DASHES and opt.style.symbol
    assert opt.latex and opt.latex.count("{") == opt.latex.count("}")
    # Named state: the engine's rows are the NamedTuple's fields, in order.
    assert opt.slot_names == opt.state._fields and 1 <= len(opt.slot_names) <= MAX_SLOTS
    assert set(getattr(opt.state, "SCALARS", ())) <= set(opt.state._fields)
    state = opt.initial_state(opt.resolve(), START)
    assert type(state) is opt.state
    scalars = getattr(opt.state, "SCALARS", ())
    for field, value in zip(state._fields, state):
        assert np.shape(value) == (() if field in scalars else (2,)), field


def test_any_two_optimizers_are_told_apart_by_colour_and_dash():
    styles = [(o.style.color.lower(), o.style.dash) for o in ALL_OPTIMIZERS.values()]
    assert len(set(styles)) == len(styles)
    assert len({o.style.color.lower() for o in ARTICLE_OPTIMIZERS.values()}) == 6


def test_names_are_unique_in_every_language():
    for table in (i18n.OPTIMIZER_NAMES, i18n.OPTIMIZER_SHORT_NAMES):
        for lang, names in table.items():
            # Keras's fourteen and every other framework's ("pytorch:adam"), each its own name:
            # "Adam" and "Adam · PyTorch" are told apart in every legend.
            assert set(names) == set(ENGINE_OPTIMIZERS), lang
            assert len(set(names.values())) == len(names), lang


@pytest.mark.parametrize("name", ALL)
def test_pack_then_unpack_is_the_identity(name):
    opt = ALL_OPTIMIZERS[name]
    state = _random_state(opt, seed=ALL.index(name))
    for slots in (pack(state, jnp.zeros((MAX_SLOTS, 2), jnp.float32)), pack_numpy(state)):
        assert slots.shape == (MAX_SLOTS, 2)
        back = unpack(opt.state, slots)
        assert type(back) is opt.state
        for field, want, got in zip(state._fields, state, back):
            assert np.shape(got) == np.shape(want), field
            np.testing.assert_array_equal(np.asarray(got), want, err_msg=field)
    # The engine's array: a scalar fills its row, rows past the state stay as they were.
    packed = np.asarray(pack(state, jnp.full((MAX_SLOTS, 2), 7.0, jnp.float32)))
    np.testing.assert_array_equal(packed[len(state):], 7.0)
    np.testing.assert_array_equal(packed[: len(state)], pack_numpy(state)[: len(state)])


@pytest.mark.parametrize("name", ALL)
def test_unpack_then_pack_is_the_identity_on_the_engine_s_rows(name):
    opt = ALL_OPTIMIZERS[name]
    slots = opt.init_slots(opt.resolve(), START)
    np.testing.assert_array_equal(np.asarray(pack(unpack(opt.state, jnp.asarray(slots)), jnp.asarray(slots))), slots)
    np.testing.assert_array_equal(pack_numpy(zeros(opt.state)), np.zeros((MAX_SLOTS, 2), np.float32))


@pytest.mark.parametrize("name", ALL)
def test_update_is_the_rule_on_named_state(name):
    opt = ALL_OPTIMIZERS[name]
    hp = {k: jnp.float32(0.0 if v is None else float(v)) for k, v in opt.resolve().items()}
    hp.update({f"1-{k}": jnp.float32(1.0 - float(hp[k])) for k in ("rho", "beta_1", "beta_2") if k in hp})
    g, w, t = jnp.array([0.3, -0.2], jnp.float32), jnp.array([0.5, 1.5], jnp.float32), jnp.float32(3.0)
    state = opt.initial_state(opt.resolve(), START)
    # Op by op (as Keras steps): two jitted programs may fuse different products into FMAs.
    w_rule, state_rule = opt.rule(g, w, state, t, hp)
    w_packed, slots = opt.update(g, w, jnp.asarray(pack_numpy(state)), t, hp)
    np.testing.assert_array_equal(w_packed, w_rule)
    np.testing.assert_array_equal(slots, pack_numpy(state_rule))


def test_optimizers_sharing_a_rule_share_one_engine_branch():
    # AdamW is Adam's rule after weight decay: one lax.switch branch for both.
    assert ALL_OPTIMIZERS["adam"].update is ALL_OPTIMIZERS["adamw"].update
    assert ALL_OPTIMIZERS["sgd"].update is not ALL_OPTIMIZERS["nesterov"].update
