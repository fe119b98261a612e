"""What every optimizer shares: hyperparameters, the :class:`Optimizer` definition, its
named state and how the engine packs it, and what Keras's ``BaseOptimizer`` does before
each ``update_step`` (clipping, weight decay).

A rule is written against its own state, a NamedTuple of Keras's variable names::

    def rule(g, w, state: AdamState, t, hp) -> (w, AdamState)

``g`` the gradient, ``w`` the point (both (2,) float32), ``t`` the 1-based step (float32),
``hp`` every hyperparameter as a float32 scalar (booleans 0.0 / 1.0). The engine races any
mix of optimizers in one ``lax.switch``, which needs one state shape for all: each state
travels as a (MAX_SLOTS, 2) array, one row per field, and :func:`pack` / :func:`unpack`
convert at that boundary (``Optimizer.update`` is the rule wrapped in them).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import schedules
from ..checks import F32_RANGE, NOT_A_NUMBER, as_float32, fits_float32, shown
from ..pycode import py_literal

MAX_SLOTS = 3  # the most variables any optimizer keeps (Adam with amsgrad, RMSprop, Nadam)

Rule = Callable[..., tuple]


@dataclass(frozen=True)
class HParam:
    """One Keras hyperparameter: its name, default and the range it must lie in."""

    name: str
    default: float | bool | tuple | None
    # "float", "bool", "int" (a whole number), "optional" (None or a float) or "pair"
    # (two floats, e.g. PyTorch's ``betas``; each in the range)
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: value must be > low (else >= low)
    high_open: bool = False  # True: value must be < high (else <= high)
    help: str = ""
    # The engine's hp entry (or, for a pair, the two entries) the rule reads this value from;
    # empty: the name. Frameworks share an entry where the meaning is the same.
    columns: tuple[str, ...] = ()

    @property
    def engine_columns(self) -> tuple[str, ...]:
        return self.columns or (self.name,)

    def element(self, i: int) -> "HParam":
        """A pair's ``i``-th number as a hyperparameter of its own (``betas[0]``)."""
        return replace(self, name=f"{self.name}[{i}]", kind="float", default=self.default[i],
                       columns=(self.engine_columns[i],))

    def rule(self) -> str:
        if self.kind == "pair":
            return "two numbers, each " + self._range()
        if self.kind == "bool":
            return "true or false"
        if self.kind == "int":
            return "a whole number " + self._range()
        if self.kind == "optional":
            return "unset (None) or a number " + self._range()
        return self._range()

    def _range(self) -> str:
        parts = []
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f"in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        if self.low is not None:
            parts.append((">" if self.low_open else ">=") + f" {_fmt(self.low)}")
        if self.high is not None:
            parts.append(("<" if self.high_open else "<=") + f" {_fmt(self.high)}")
        return " and ".join(parts) or "a finite number"

    def _within(self, number: float) -> bool:
        ok = True
        if self.low is not None:
            ok &= number > self.low if self.low_open else number >= self.low
        if self.high is not None:
            ok &= number < self.high if self.high_open else number <= self.high
        return ok

    def allows(self, value) -> bool:
        """True if :meth:`validate` takes ``value``."""
        try:
            self.validate(value, "")
        except ValueError:
            return False
        return True

    def validate(self, value, optimizer: str):
        """Return the value as float (or bool); raise ValueError naming the field."""
        where = f"{optimizer}: `{self.name}`"
        if self.kind == "pair":
            if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
                raise ValueError(f"{where} must be {self.rule()}, got {value!r}")
            return tuple(self.element(i).validate(v, optimizer) for i, v in enumerate(value))
        if self.kind == "optional" and value is None:
            return None
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
                return value.strip().lower() in ("true", "1")
            raise ValueError(f"{where} must be true or false, got {shown(value)}")
        if isinstance(value, bool):
            raise ValueError(f"{where} must be a number, got {shown(value)}")
        try:
            number = float(value)
        except NOT_A_NUMBER:
            raise ValueError(f"{where} must be a number, got {shown(value)}") from None
        if not math.isfinite(number):
            raise ValueError(f"{where} must be finite, got {shown(value)}")
        if not self._within(number):
            raise ValueError(f"{where} must be {self.rule()}, got {shown(number)}")
        # The engine, like Keras, computes in float32: 1e39 would be inf there, 1e-50 zero
        # (an epsilon of 0: refused; a weight decay of 0: fine), 1 - 1e-9 exactly 1 (a beta
        # of 1). Refuse what float32 breaks.
        if not fits_float32(number):
            raise ValueError(f"{where} must be {self.rule()} and fit in float32, got {shown(number)} ({F32_RANGE})")
        if number != 0 and not self._within(as_float32(number)):
            raise ValueError(f"{where} must be {self.rule()}, got {number!r}, which is {as_float32(number)!r} "
                             "in float32, the precision Keras computes in")
        if self.kind == "int":
            if number != int(number):
                raise ValueError(f"{where} must be {self.rule()}, got {shown(value)}")
            return int(number)
        return number


def _fmt(x: float) -> str:
    return f"{x:g}"


def learning_rate(default: float) -> HParam:
    return HParam("learning_rate", default, low=0.0, help="step size")


def momentum(default: float) -> HParam:
    return HParam("momentum", default, low=0.0, high=1.0, help="fraction of the last step kept")


def epsilon(default: float = 1e-7) -> HParam:
    return HParam("epsilon", default, low=0.0, low_open=True, help="guards the division")


def beta(name: str, default: float, help: str) -> HParam:
    return HParam(name, default, low=0.0, high=1.0, high_open=True, help=help)


def _option(name: str, help: str) -> HParam:
    return HParam(name, None, kind="optional", low=0.0, help=help)


WEIGHT_DECAY_HELP = "decoupled weight decay: w -= w * weight_decay * learning_rate before each step"

# What every Keras optimizer's constructor takes besides its own hyperparameters
# (BaseOptimizer): None means "not set", as in Keras. AdamW has its own weight_decay
# (default 0.004) among its hyperparameters instead.
COMMON_OPTIONS: tuple[HParam, ...] = (
    _option("weight_decay", WEIGHT_DECAY_HELP),
    _option("clipnorm", "clip the gradient to this norm"),
    _option("clipvalue", "clip each gradient coordinate to [-clipvalue, clipvalue]"),
    _option("global_clipnorm", "clip the gradient to this global norm (all variables together)"),
)
CLIP_OPTIONS = ("clipnorm", "clipvalue", "global_clipnorm")


# --- named state, packed into the engine's (MAX_SLOTS, 2) rows ------------------------------


def _scalars(state_type: type) -> tuple[str, ...]:
    # A NamedTuple's fields are (2,) rows, like Keras's variables for the point (x, y); a
    # state lists in SCALARS the fields Keras keeps as a scalar (Nadam's u_product).
    return getattr(state_type, "SCALARS", ())


def unpack(state_type: type, slots) -> NamedTuple:
    """The (MAX_SLOTS, 2) array ``slots`` as a ``state_type``: row i is field i, a scalar
    field its row's first entry."""
    scalars = _scalars(state_type)
    return state_type(*(slots[i, 0] if name in scalars else slots[i] for i, name in enumerate(state_type._fields)))


def pack(state: NamedTuple, slots):
    """``state`` as rows of a (MAX_SLOTS, 2) array: ``slots`` with the state's rows set
    (rows the state has no field for are kept), a scalar field repeated across its row."""
    scalars = _scalars(type(state))
    rows = [jnp.broadcast_to(value, (2,)) if name in scalars else value for name, value in zip(state._fields, state)]
    if len(rows) == MAX_SLOTS:
        return jnp.stack(rows)
    for i, row in enumerate(rows):
        slots = slots.at[i].set(row)
    return slots


def pack_numpy(state: NamedTuple) -> np.ndarray:
    """``state`` (NumPy or Python numbers) as a float32 (MAX_SLOTS, 2) array, unused rows zero."""
    slots = np.zeros((MAX_SLOTS, 2), np.float32)
    for i, value in enumerate(state):
        slots[i] = value
    return slots


def zeros(state_type: type) -> NamedTuple:
    """A ``state_type`` of zeros (Keras's ``add_variable_from_reference`` default)."""
    scalars = _scalars(state_type)
    return state_type(*(np.float32(0) if name in scalars else np.zeros(2, np.float32) for name in state_type._fields))


@functools.cache
def packed_update(rule: Rule, state_type: type) -> Callable:
    """``rule`` as the engine calls it: ``update(g, w, slots, t, hp) -> (w, slots)`` on the
    (MAX_SLOTS, 2) array. Cached: two optimizers sharing a rule (Adam, AdamW) share one
    function, hence one ``lax.switch`` branch."""

    def update(g, w, slots, t, hp):
        w, state = rule(g, w, unpack(state_type, slots), t, hp)
        return w, pack(state, slots)

    update.__name__ = update.__qualname__ = getattr(rule, "__name__", "update")
    return update


# --- the definition -----------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """How the optimizer is drawn: Plotly's line colour, dash and marker symbol."""

    color: str
    dash: str = "solid"
    symbol: str = "circle"


FRAMEWORKS = ("keras", "pytorch", "optax")
FRAMEWORK_NAMES = {"keras": "Keras", "pytorch": "PyTorch", "optax": "optax"}


def check_framework(framework) -> str:
    """``framework`` as one of :data:`FRAMEWORKS` (None: "keras"); ValueError naming it otherwise."""
    if framework is None:
        return "keras"
    key = str(framework).strip().lower()
    if key in ("torch", "torch.optim"):
        key = "pytorch"
    if key not in FRAMEWORKS:
        raise ValueError(f"`framework` must be one of {', '.join(FRAMEWORKS)}, got {framework!r}")
    return key


@dataclass(frozen=True, kw_only=True)
class Optimizer:
    """One optimizer of one framework, in one place: its rule and named state, its
    hyperparameters (the framework's names, defaults and validity rules), how it is drawn
    and written. Keras's are the default (``framework="keras"``); PyTorch's and optax's
    live in :mod:`.pytorch` and :mod:`.optax_rules`."""

    name: str  # optviz's name, e.g. "nesterov"
    display_name: str  # English, e.g. "SGD + Nesterov" (Korean: optviz.i18n)
    hparams: tuple[HParam, ...]
    state: type  # a NamedTuple of the framework's variable names
    rule: Rule = field(repr=False, compare=False)  # rule(g, w, state, t, hp) -> (w, state)
    style: Style
    latex: str = field(repr=False)  # the update in one line; w the point, g the gradient, t the step
    keras_class: str = ""  # e.g. "SGD" (Keras's optimizers)
    framework: str = "keras"
    # The framework's own class or function for the other frameworks: torch.optim.<api_name>,
    # optax.<api_name>.
    api_name: str = ""
    short_name: str = ""  # English, for inside charts; "" means display_name
    keras_fixed: Mapping[str, object] = field(default_factory=dict)  # e.g. nesterov=True
    # Where optviz's default differs from the Keras constructor's (keras_code omits a value
    # only when Keras would take it by default).
    keras_defaults: Mapping[str, object] = field(default_factory=dict)
    # Engine columns the optimizer sets itself, not a hyperparameter of its (AdamW's
    # decoupled weight decay in PyTorch, where Adam's is a flag).
    fixed_columns: Mapping[str, float] = field(default_factory=dict)
    momentum_like: str | None = None  # the parameter on a sweep's "momentum" axis
    # The tuning map's second axis (after the learning rate): the momentum-like parameter,
    # or for an optimizer without one its most telling other (Adagrad's initial accumulator).
    tuning_axis: str | None = None
    # (values, start) -> the state before the first step; None: zeros.
    init: Callable | None = field(default=None, repr=False, compare=False)
    # (values) -> None, raising ValueError for settings the framework refuses together
    # (PyTorch's nesterov without momentum).
    check: Callable | None = field(default=None, repr=False, compare=False)
    article: bool = False  # one of the article's six

    def __post_init__(self):
        if not self.short_name:
            object.__setattr__(self, "short_name", self.display_name)
        if self.tuning_axis is None:
            object.__setattr__(self, "tuning_axis", self.momentum_like)

    @property
    def key(self) -> str:
        """The engine's name for it: ``adam`` for Keras's, ``pytorch:adam``, ``optax:adam``."""
        return self.name if self.framework == "keras" else f"{self.framework}:{self.name}"

    @property
    def where(self) -> str:
        """How error messages name it: ``adam``, ``adam (PyTorch)``."""
        return self.name if self.framework == "keras" else f"{self.name} ({FRAMEWORK_NAMES[self.framework]})"

    @property
    def label(self) -> str:
        """English, framework included for the other frameworks: "Adam · PyTorch"."""
        return self.display_name if self.framework == "keras" else \
            f"{self.display_name} · {FRAMEWORK_NAMES[self.framework]}"

    @property
    def rate_name(self) -> str:
        """The learning rate's name: ``lr`` in PyTorch, ``learning_rate`` elsewhere."""
        return "lr" if self.framework == "pytorch" else "learning_rate"

    @property
    def slot_names(self) -> tuple[str, ...]:
        """The state's variable names, in the order of the engine's rows."""
        return self.state._fields

    @functools.cached_property
    def update(self) -> Callable:
        """The rule on the engine's (MAX_SLOTS, 2) state array (see :func:`packed_update`)."""
        return packed_update(self.rule, self.state)

    @property
    def defaults(self) -> dict[str, float | bool]:
        """The optimizer's own hyperparameters with the framework's defaults (no common options)."""
        return {h.name: h.default for h in self.hparams}

    @functools.cached_property
    def options(self) -> tuple[HParam, ...]:
        """The common Keras options (weight decay, clipping) not among ``hparams``; none
        for the other frameworks (their weight decay is a hyperparameter of the optimizer)."""
        if self.framework != "keras":
            return ()
        own = {h.name for h in self.hparams}
        return tuple(h for h in COMMON_OPTIONS if h.name not in own)

    @functools.cached_property
    def _by_name(self) -> Mapping[str, HParam]:
        # (The page looks up every optimizer's every setting on each rerun.)
        by_name = {h.name: h for h in (*self.hparams, *self.options)}
        for h in self.hparams:
            if h.kind == "pair":  # a sweep's axis may be one number of a pair: betas[0]
                by_name.update({f"{h.name}[{i}]": h.element(i) for i in range(2)})
        return by_name

    @property
    def all_defaults(self) -> dict[str, object]:
        """Own hyperparameters and common options, with the framework's defaults (None: not set)."""
        return {h.name: h.default for h in (*self.hparams, *self.options)}

    def hparam(self, name: str) -> HParam:
        return self._by_name[name]

    def hp_row(self, values: Mapping[str, object]) -> dict[str, object]:
        """Resolved ``values`` as the engine's hp entries: each value under its column(s),
        a pair split in two, plus the optimizer's fixed columns."""
        row: dict[str, object] = dict(self.fixed_columns)
        for h in (*self.hparams, *self.options):
            value = values[h.name]
            if h.kind == "pair":
                row.update(zip(h.engine_columns, value))
            else:
                row[h.engine_columns[0]] = value
        return row

    def resolve(self, overrides: Mapping[str, object] | None = None) -> dict[str, object]:
        """The framework's defaults updated with ``overrides``, each validated.

        The result holds every own hyperparameter and every common option (None where
        not set). For Keras, ``learning_rate`` may be a Keras schedule (a ``{"class_name",
        "config"}`` mapping, see :mod:`optviz.schedules`); it comes back parsed, with every
        field. PyTorch's and optax's learning rate is a constant (schedules are Keras's
        here). Raises ValueError naming the field for an unknown or out-of-range value, and
        for more than one of ``clipnorm``, ``clipvalue``, ``global_clipnorm`` (as Keras does).
        """
        values = self.all_defaults
        for key, value in (overrides or {}).items():
            if key not in values:
                raise ValueError(
                    f"{self.where}: unknown hyperparameter `{key}`; "
                    f"{self.where} takes {', '.join(values)}"
                )
            if key == self.rate_name and schedules.is_schedule(value):
                if self.framework != "keras":
                    raise ValueError(f"{self.where}: `{key}` must be a number: learning-rate schedules "
                                     "are Keras's here (PyTorch and optax race at a constant rate)")
                values[key] = schedules.parse(value, where=f"{self.name}: `learning_rate`")
            else:
                values[key] = self.hparam(key).validate(value, self.where)
        clipping = [k for k in CLIP_OPTIONS if values.get(k) is not None]
        if len(clipping) > 1:
            raise ValueError(
                f"{self.name}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set; "
                f"got {', '.join(f'{k}={shown(values[k])}' for k in clipping)}"
            )
        if self.check is not None:
            self.check(values, self.where)
        return values

    def learning_rate_of(self, values: Mapping[str, object]):
        """The learning rate (a number, or a Keras schedule) in resolved ``values``."""
        return values[self.rate_name]

    def initial_state(self, values: Mapping[str, object], start=None) -> NamedTuple:
        """The state before the first step (Keras's ``build``): zeros unless the definition
        says otherwise (Adagrad's and Ftrl's accumulator, Nadam's u_product,
        ScheduleFreeAdamW's z at the start point)."""
        return zeros(self.state) if self.init is None else self.init(values, start)

    def init_slots(self, values: Mapping[str, object], start=None) -> np.ndarray:
        """:meth:`initial_state` as the engine's float32 (MAX_SLOTS, 2) array."""
        if self.init is None:  # zeros: skip building the NamedTuple (a race does this once a lane)
            return np.zeros((MAX_SLOTS, 2), np.float32)
        return pack_numpy(self.init(values, start))

    def code(self, values: Mapping[str, object] | None = None) -> str:
        """The framework's own code for these settings: ``keras.optimizers.Adam(...)``,
        ``torch.optim.Adam([w], lr=...)``, ``optax.adam(learning_rate=...)``. The learning
        rate is always written, everything else where it differs from the framework's default."""
        if self.framework == "keras":
            return self.keras_code(values)
        values = self.resolve(values)
        args = [f"{self.rate_name}={py_literal(values[self.rate_name])}"]
        args += [f"{h.name}={py_literal(values[h.name])}" for h in self.hparams
                 if h.name != self.rate_name and values[h.name] != h.default]
        if self.framework == "pytorch":
            return f"torch.optim.{self.api_name}([w], {', '.join(args)})"
        return f"optax.{self.api_name}({', '.join(args)})"

    def keras_code(self, values: Mapping[str, object] | None = None, *, prefix: str = "keras.optimizers.") -> str:
        """Keras code for these settings, e.g.
        ``keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)``.

        ``learning_rate`` is always written (a schedule as
        ``keras.optimizers.schedules.<Class>(...)``); other hyperparameters and options only
        where they differ from Keras's default (the article writes them this way).
        """
        values = self.resolve(values)
        rate = values["learning_rate"]
        if schedules.is_schedule(rate):
            rate_code = schedules.keras_code(rate, prefix=prefix + "schedules.")
        else:
            rate_code = py_literal(rate)
        args = [f"learning_rate={rate_code}"]
        for h in (*self.hparams, *self.options):
            if h.name == "learning_rate":
                continue
            if values[h.name] != self.keras_defaults.get(h.name, h.default):
                args.append(f"{h.name}={py_literal(values[h.name])}")
        args += [f"{k}={py_literal(v)}" for k, v in self.keras_fixed.items()]
        return f"{prefix}{self.keras_class}({', '.join(args)})"


# --- arithmetic the rules share ------------------------------------------------------------


def barrier_sqrt(x):
    """sqrt that XLA cannot fuse into the division after it.

    Under jit XLA rewrites ``a / sqrt(b)`` as ``a * rsqrt(b)``, which rounds
    differently from Keras's eager ``divide(a, sqrt(b))``; on a chaotic path a
    one-ulp difference grows. The barrier keeps the division a division.
    """
    return jax.lax.optimization_barrier(jnp.sqrt(x))


def power(hp, name, t):
    """``beta ** t``, as Keras's ``ops.power(beta, local_step)``."""
    return jnp.power(hp[name], t)


def rms(x):
    return jnp.sqrt(jnp.mean(jnp.square(x)))


# --- what BaseOptimizer does before update_step ------------------------------------------


def clip_by_norm(g, clipnorm):
    # BaseOptimizer._clip_by_norm: g * c / max(||g||, c), applied whatever the norm.
    l2sum = jnp.sum(jnp.square(g), keepdims=True)
    pred = l2sum > 0
    l2sum_safe = jnp.where(pred, l2sum, jnp.ones_like(l2sum))
    l2norm = jnp.where(pred, jnp.sqrt(l2sum_safe), l2sum)
    return (g * clipnorm) / jnp.maximum(l2norm, clipnorm)


def _clip_by_global_norm(g, clipnorm, inverse_clipnorm):
    # base_optimizer.clip_by_global_norm: scale = c * min(1/||g||, 1/c) + (||g|| - ||g||),
    # with 1/c computed in Python double.
    norm = barrier_sqrt(jnp.sum(jnp.stack([jnp.sum(jnp.square(g))])))
    scale = clipnorm * jnp.minimum(1.0 / norm, inverse_clipnorm) + (norm - norm)
    return g * scale


def _decay(w, hp):
    wd = hp["weight_decay"]
    # Unset is 0 here; Keras skips the decay when unset and subtracts w * 0 * lr when
    # weight_decay=0.0, which changes nothing but the sign of a zero.
    return jnp.where(wd != 0, w - w * wd * hp["learning_rate"], w)


def clip_and_decay_lanes(g, w, hp):
    """Keras's steps before ``update_step`` (``_backend_apply_gradients``), for all lanes at
    once (``g``, ``w``: (lanes, 2), ``hp``: (lanes,)): clip the gradient (``_clip_gradients``:
    clipnorm, else global_clipnorm, else clipvalue; a value that is unset or <= 0 clips
    nothing, as in Keras), then decay the weights (``_apply_weight_decay``:
    ``w - w * weight_decay * learning_rate``). With a single (2,) variable,
    global_clipnorm's norm is that variable's, but its formula differs.

    Each option runs only if some lane uses it (``lax.cond`` on the whole batch: a cond
    inside ``vmap`` would compute every branch for every lane). Keras lets an optimizer
    set at most one clip option, so applying them in turn is Keras's if/elif.
    """
    lanes = jax.vmap

    def clip(g, on, fn):
        return jax.lax.cond(jnp.any(on), lambda: jnp.where(on[:, None], lanes(fn)(g, hp), g), lambda: g)

    def apply(g, w):
        g = clip(g, hp["clipnorm"] > 0, lambda g, hp: clip_by_norm(g, hp["clipnorm"]))
        g = clip(g, hp["global_clipnorm"] > 0,
                 lambda g, hp: _clip_by_global_norm(g, hp["global_clipnorm"], hp["1/global_clipnorm"]))
        g = clip(g, hp["clipvalue"] > 0, lambda g, hp: jnp.clip(g, -hp["clipvalue"], hp["clipvalue"]))
        w = jax.lax.cond(jnp.any(hp["weight_decay"] != 0), lambda: lanes(_decay)(w, hp), lambda: w)
        return g, w

    return jax.lax.cond(clips_or_decays(hp), apply, lambda g, w: (g, w), g, w)


def clips_or_decays(hp):
    """Whether any lane clips its gradient or decays its weights (``hp``: (lanes,) columns)."""
    return jnp.any((hp["clipnorm"] > 0) | (hp["global_clipnorm"] > 0) | (hp["clipvalue"] > 0)
                   | (hp["weight_decay"] != 0))


