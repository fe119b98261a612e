"""Custom surfaces: the grammar, its values and gradients, the engine, and hostile input."""

import builtins
import contextlib
import math
import os
import re
import subprocess
import sys
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import plotly.graph_objects as go
import pytest
from helpers import count_compiles as _count_compiles
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import optviz
from optviz import figures
from optviz.custom import FUNCTIONS, MAX_LENGTH, custom_surface, estimate_minima, parse_formula

RNG = np.random.default_rng(0)
POINTS = RNG.uniform(-2.5, 2.5, size=(2, 256))

# (text, the same formula written by hand with `m` = numpy or jax.numpy): every function and operator.
FORMULAS = [
    ("sin(x)*cos(y) + 0.1*(x**2 + y**2)", lambda m, x, y: m.sin(x) * m.cos(y) + 0.1 * (x**2 + y**2)),
    ("(1 - x)**2 + 100*(y - x**2)**2", lambda m, x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2),
    ("tan(x/4) - y/2 + 3", lambda m, x, y: m.tan(x / 4) - y / 2 + 3),
    ("-exp(-(x**2 + y**2)/2) + +x/10", lambda m, x, y: -m.exp(-(x**2 + y**2) / 2) + x / 10),
    ("log(1 + x**2) + sqrt(y**2 + 1)", lambda m, x, y: m.log(1 + x**2) + m.sqrt(y**2 + 1)),
    ("abs(x) + abs(y)**1.5", lambda m, x, y: m.abs(x) + m.abs(y) ** 1.5),
    ("tanh(x)*sinh(y/2) + cosh(x/3)", lambda m, x, y: m.tanh(x) * m.sinh(y / 2) + m.cosh(x / 3)),
    ("arctan(x*y) + pi*e - 2*pi*x", lambda m, x, y: m.arctan(x * y) + m.pi * m.e - 2 * m.pi * x),
    ("min(x, y)**2 + max(x**2, y)", lambda m, x, y: m.minimum(x, y) ** 2 + m.maximum(x**2, y)),
    ("(x**2 + 1)**-2 + 2**y - (y**2 + 1)**(1/3)", lambda m, x, y: (x**2 + 1) ** -2 + 2**y - (y**2 + 1) ** (1 / 3)),
    ("x**3/(1 + y**2) - 1.5e-3*x*y + 1e6*0.000001", lambda m, x, y: x**3 / (1 + y**2) - 1.5e-3 * x * y + 1.0),
]


# --- the grammar against NumPy and jax.grad ---------------------------------------------------


@pytest.mark.parametrize("text,hand", FORMULAS, ids=[t for t, _ in FORMULAS])
def test_values_match_numpy(text, hand):
    surface = custom_surface(text)
    x, y = POINTS
    expected = hand(np, x.astype(np.float64), y.astype(np.float64))
    actual = surface(x, y)
    assert actual.dtype == np.float32 and actual.shape == x.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())
    # the NumPy evaluation that estimates minima and picks the start, in float64
    np.testing.assert_allclose(parse_formula(text).numpy(x, y), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("text,hand", FORMULAS, ids=[t for t, _ in FORMULAS])
def test_gradients_match_jax_grad_of_the_hand_written_formula(text, hand):
    surface = custom_surface(text)

    def ours(w):
        return surface.fn(w[0], w[1], {})

    def theirs(w):
        return hand(jnp, w[0], w[1])

    points = jnp.asarray(POINTS.T[:32], jnp.float32)
    np.testing.assert_allclose(jax.vmap(jax.grad(ours))(points), jax.vmap(jax.grad(theirs))(points), rtol=1e-5,
                               atol=1e-5)


def test_surface_fields():
    s = custom_surface("  sin(x)*cos(y) + 0.1*(x**2 + y**2) ", x_range=(-4, 2), y_range=[-1, 3])
    assert s.name == "custom"
    assert s.display_name == "Custom: sin(x)*cos(y) + 0.1*(x**2 + y**2)"
    assert s.latex == r"f(x, y) = \sin\left(x\right)\,\cos\left(y\right) + 0.1\,\left(x^{2} + y^{2}\right)"
    assert s.x_range == (-4.0, 2.0) and s.y_range == (-1.0, 3.0)
    assert s.default_start == pytest.approx((-2.8, 2.2))  # 20% in from the upper-left corner
    assert s.min_value is None and s.log_levels is False
    assert s.params == parse_formula(s.display_name.removeprefix("Custom: ")).constants  # its numbers, traced
    assert s.key.startswith("custom:")
    # The key is the normalized formula: spacing, redundant parentheses, unary plus, 2 vs 2.0.
    same = custom_surface("(sin(x) * cos(y)) + (0.1 * ((+x)**2.0 + y**2))")
    assert same.key == s.key and same == s
    assert custom_surface("sin(x)*cos(y) + 0.2*(x**2 + y**2)").key != s.key
    assert custom_surface("sin(y)*cos(x) + 0.1*(x**2 + y**2)").key != s.key
    assert optviz.get_surface(s) is s


@pytest.mark.parametrize("text,latex", [
    ("x/(1 + y**2)", r"\frac{x}{1 + y^{2}}"),
    ("-x**2", "-x^{2}"),
    ("(-x)**2", r"\left(-x\right)^{2}"),
    ("x - (y - 1)", r"x - \left(y - 1\right)"),
    ("2*pi*x", r"2\pi x"),
    ("sqrt(abs(x)) + log(1 + exp(y))", r"\sqrt{\left|x\right|} + \ln\left(1 + \exp\left(y\right)\right)"),
    ("min(x, y) + max(x, 1e-5)", r"\min\left(x,\, y\right) + \max\left(x,\, 10^{-5}\right)"),
    ("x**(1/3) * 2.5e-7 * 0.0025", r"x^{\frac{1}{3}} \cdot 2.5 \times 10^{-7} \cdot 0.0025"),
    ("arctan(x)*tanh(y)", r"\arctan\left(x\right)\,\tanh\left(y\right)"),
])
def test_latex(text, latex):
    assert parse_formula(text).latex == latex


def test_minima_are_estimated_on_a_grid():
    bowl = custom_surface("(x - 1)**2 + 3*(y + 0.5)**2")
    assert len(bowl.minima) == 1
    np.testing.assert_allclose(bowl.minima[0], (1.0, -0.5), atol=2e-3)
    two = custom_surface("sin(x)*sin(y)")  # minima at (pi/2, -pi/2) and (-pi/2, pi/2)
    np.testing.assert_allclose(sorted(two.minima), [(-math.pi / 2, math.pi / 2), (math.pi / 2, -math.pi / 2)],
                               atol=2e-3)
    assert custom_surface("x + y").minima == ()  # lowest on the edge: the surface goes on falling
    assert custom_surface("abs(x)").minima == ()  # a valley floor, not a point
    assert custom_surface("x**2").minima == ()  # one variable is fine: a valley along y
    assert custom_surface("max(x, 0) + y**2").minima == ()  # a plateau
    assert custom_surface("log(x + 2)*cos(3*y)").minima == ()  # falls without bound next to x = -2
    assert custom_surface("(x - 1)**2 + y**2", estimate=False).minima == ()
    formula = parse_formula("(x - 0.3)**2 + (y - 0.7)**2")
    np.testing.assert_allclose(estimate_minima(formula, (-1, 1), (-1, 1)), [(0.3, 0.7)], atol=2e-3)


def test_undefined_regions_are_nan_and_the_default_start_avoids_them():
    s = custom_surface("log(x) + y**2")
    assert s.default_start[0] > 0  # the upper-left point would be log of a negative number
    assert np.isnan(s(-1.0, 0.0)) and np.isfinite(s(*s.default_start))
    with pytest.raises(ValueError, match="not finite"):
        custom_surface("log(x) + y**2", start=(-1, 0))
    with pytest.raises(ValueError, match="not finite anywhere"):
        custom_surface("log(-x**2 - 1) + y")
    # The chart draws the gap; the engine ends a path at its last finite point.
    tr = optviz.simulate("sgd", s, None, 200, learning_rate=0.5)
    assert tr.diverged_at is not None and len(tr.path) == tr.diverged_at >= 1
    assert np.all(np.isfinite(tr.path)) and np.all(np.isfinite(tr.loss))
    fig = figures.race_figure(s, {"sgd": tr})
    go.Figure(fig.to_dict())  # a valid Plotly figure


@pytest.mark.parametrize("kwargs,field", [
    ({"x_range": (1, 1)}, "x_range"), ({"x_range": (2, -2)}, "x_range"), ({"y_range": (0, math.inf)}, "y_range"),
    ({"y_range": (0, math.nan)}, "y_range"), ({"x_range": "wide"}, "x_range"), ({"y_range": (1,)}, "y_range"),
    ({"start": (5, 0)}, "start"), ({"start": (0, math.nan)}, "start"), ({"start": "here"}, "start"),
    ({"start": (0, 0, 0)}, "start"),
])
def test_bad_box_or_start(kwargs, field):
    with pytest.raises(ValueError, match=field):
        custom_surface("x**2 + y**2", **kwargs)


# --- in the engine --------------------------------------------------------------------------


def test_simulate_race_and_sweep_take_a_custom_surface():
    s = custom_surface("sin(x)*cos(y) + 0.1*(x**2 + y**2)")
    tr = optviz.simulate("adam", s, None, 150, learning_rate=0.05)
    assert tr.surface == "custom" and tr.path.shape == (151, 2) and tr.diverged_at is None
    np.testing.assert_allclose(tr.path[0], s.default_start)
    np.testing.assert_allclose(tr.loss, s(tr.path[:, 0], tr.path[:, 1]), rtol=1e-5, atol=1e-6)
    # The gradient is the formula's: d/dx = cos x cos y + 0.2 x, d/dy = -sin x sin y + 0.2 y.
    x, y = tr.path[:, 0].astype(np.float64), tr.path[:, 1].astype(np.float64)
    expected = np.stack([np.cos(x) * np.cos(y) + 0.2 * x, -np.sin(x) * np.sin(y) + 0.2 * y], axis=1)
    np.testing.assert_allclose(tr.gradient, expected, rtol=1e-4, atol=1e-5)
    # Adam finds the grid-estimated minimum (the function's only one in the box).
    assert tr.distance_to_minimum() < 0.05 and tr.steps_to_tolerance() is None  # no min_value: no claim
    raced = optviz.race(s, None, 150, {"adam": {"learning_rate": 0.05}, "sgd": {}, "rmsprop": None})
    np.testing.assert_array_equal(raced["adam"].path, tr.path)
    result = optviz.sweep("sgd", s, None, 50, [0.01, 0.1], [0.0, 0.9])
    assert result.final_loss.shape == (2, 2) and np.all(np.isfinite(result.final_loss))


def test_each_formula_compiles_once():
    text = "cos(x)*exp(-y**2) + 0.05*x**2 + 0.0123*y"
    first = _count_compiles(lambda: optviz.race(custom_surface(text), None, 100, ["sgd", "adam"]))
    # The same formula, written differently, in another box from another start: no compile.
    again = _count_compiles(lambda: optviz.race(
        custom_surface(" cos( x ) * exp(-(y**2)) + 0.05 * x**2 + 0.0123*y", x_range=(-5, 5), start=(2, 1)),
        None, 120, {"adam": {"learning_rate": 0.3}}))
    # Another constant: the same program, the constants traced (a visitor typing a formula's
    # numbers does not compile each); and its own paths, the same as a first compile's.
    other = "cos(x)*exp(-y**2) + 0.05*x**2 + 0.0124*y"
    changed = _count_compiles(lambda: optviz.race(custom_surface(other), None, 100, ["sgd", "adam"]))
    back = _count_compiles(lambda: (optviz.race(custom_surface(text), None, 90, ["nesterov"]),
                                    optviz.race(custom_surface(other), None, 90, ["adagrad"])))
    assert first and changed == [] and again == [] and back == []
    shape = _count_compiles(lambda: optviz.race(custom_surface("cos(x)*exp(-y**3) + 0.05*x**2 + 0.0124*y"), None,
                                                100, ["sgd", "adam"]))
    assert shape  # another whole exponent is another shape: compiled
    a = optviz.race(custom_surface(other), None, 100, ["adam"])["adam"]
    b = optviz.race(custom_surface(text), None, 100, ["adam"])["adam"]
    assert not np.array_equal(a.path, b.path)


# --- hostile and malformed input ------------------------------------------------------------------


_REAL_IMPORT = builtins.__import__
_DANGEROUS = {"os", "subprocess", "sys", "shutil", "socket", "importlib", "builtins", "ctypes", "pty", "posix",
              "pathlib", "io", "pickle", "marshal", "code", "runpy"}


def _tripwire(*args, **kwargs):
    first = args[0] if args and isinstance(args[0], str) else type(args[0]).__name__ if args else ""
    raise AssertionError(f"a formula ran something: {first}")


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    """Imports of modules already loaded pass (the standard library imports lazily, e.g.
    ast.walk's `from collections import deque`); a new module or a dangerous one trips."""
    if level or name.partition(".")[0] in _DANGEROUS or name not in sys.modules:
        raise AssertionError(f"a formula imported {name}")
    return _REAL_IMPORT(name, globals, locals, fromlist, level)


@contextlib.contextmanager
def _nothing_runs():
    """Every way out of a formula (imports, eval/exec, files, processes) trips an AssertionError."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(builtins, "__import__", _guarded_import))
        for name in ("eval", "exec", "open", "breakpoint", "input", "__build_class__"):
            stack.enter_context(mock.patch.object(builtins, name, _tripwire))
        for name in ("system", "popen", "remove", "execv", "fork", "spawnv"):
            stack.enter_context(mock.patch.object(os, name, _tripwire))
        stack.enter_context(mock.patch.object(subprocess, "Popen", _tripwire))
        yield


HOSTILE = {
    "x.__class__": "`x.__class__` is not allowed at column 1 (attribute access)",
    "x.real + y": "attribute access",
    "().__class__.__bases__[0].__subclasses__()": "not allowed at column 1",
    "__builtins__": "`__builtins__` is not allowed at column 1",
    "x + __name__": "`__name__` is not allowed at column 5",
    "__import__('os').system('ls')": "`__import__` is not allowed at column 1",
    "eval('x')": "`eval` is not allowed at column 1",
    "exec('import os')": "`exec` is not allowed",
    "open('/etc/passwd')": "`open` is not allowed",
    "print(x)": "`print` is not allowed",
    "getattr(x, 'real')": "`getattr` is not allowed",
    "globals()": "`globals` is not allowed",
    "lambda: x": "lambda",
    "(lambda: x)()": "lambda",
    "[x for x in y]": "comprehensions",
    "sin(t for t in x)": "comprehensions",
    "x[0]": "subscripts",
    "'x'": "no strings",
    "x + 'abc'": "no strings",
    "b'x'": "no strings",
    "f'{x}'": "f-strings",
    "x=1": "`=` is not allowed at column 2",
    "x == y": "comparisons",
    "x < y": "comparisons",
    "import os": "invalid syntax",
    "x; y": "`;` is not allowed",
    "(y := 2)": ":=",
    "x " + "+ x " * 150: "too long",
    "(" * 40 + "x" + ")" * 40: "nested too deeply",
    "-" * 40 + "x": "nested too deeply",
    "x**99999999": "at most 1e6",
    "x**10**10": "constant exponent must lie in [-10, 10]",
    "x**(2*6)": "constant exponent",
    "2**-11*x": "constant exponent",
    "sin(x=1)": "keyword arguments",
    "min(x, y, key=abs)": "keyword arguments",
    "min(*x)": "starred arguments",
    "sin(*[x])": "starred",
    "min(x)": "min takes exactly 2 arguments, got 1",
    "max(x, y, 1)": "max takes exactly 2 arguments, got 3",
    "sin(x, y)": "sin takes exactly 1 argument, got 2",
    "exp()": "exp takes exactly 1 argument, got 0",
    "z": "`z` is not allowed at column 1",
    "x + y*z": "`z` is not allowed at column 7",
    "X": "`X` is not allowed",
    "x ^ 2": "`^` is not allowed at column 3 (use ** for powers)",
    "x // 2": "`//`",
    "x % 2": "`%`",
    "x & y": "`&`",
    "~x": "`~`",
    "not x": "`not`",
    "x and y": "and/or",
    "x if y else 1": "if/else",
    "x, y": "tuples",
    "{x}": "sets",
    "{'a': x}": "not allowed",
    "await x": "await",
    "yield x": "invalid syntax",
    "x # comment": "`#` is not allowed at column 3",
    "x\ny": "one line only",
    "x\\\n+ y": "not allowed",
    "x\x00": "not allowed at column 2",
    "π*x": "write pi",
    "ｘ + y": "not allowed at column 1",  # full-width x: no Unicode look-alikes
    "x − y": "ASCII minus",
    "sin": "a function: call it",
    "x(2)": "x is not a function",
    "sin(x)(y)": "only the named functions can be called",
    "True + x": "`True` is not allowed",
    "None": "`None` is not allowed",
    "...": "not allowed",
    "1j*x": "no complex numbers",
    "1e400*x": "at most 1e6",
    "1e7*x": "at most 1e6",
    "1/0 + x": "`1/0` is not allowed at column 1 (this part is not a finite number)",
    "x + log(-1)": "not a finite number",
    "": "empty",
    "   ": "empty",
    "1 + 2": "must use x or y",
    "pi*e": "must use x or y",
    "(x": "never closed",
    "x)": "unmatched",
    "x y": "invalid syntax at column 3",
    "2x": "invalid decimal literal",
}


@pytest.mark.parametrize("text,message", list(HOSTILE.items()), ids=[repr(t)[:40] for t in HOSTILE])
def test_hostile_and_malformed_input_is_refused_and_runs_nothing(text, message):
    with _nothing_runs(), pytest.raises(ValueError) as caught:
        custom_surface(text)
    assert str(caught.value).startswith("formula:")
    assert message in str(caught.value)


def test_length_limit_is_on_the_formula():
    ok = "x" + " + x" * 60 + " " * 100
    assert len(ok.strip()) <= MAX_LENGTH < len(ok)
    parse_formula(ok)
    with pytest.raises(ValueError, match="too long"):
        parse_formula("x+" * 150 + "x")
    with pytest.raises(ValueError, match=r"too long \(301 characters; at most 300\)"):
        parse_formula("(" + "x" * 299 + ")")
    with pytest.raises(ValueError, match=r"too long \(1000000 characters"):
        parse_formula("x" * 1_000_000)
    with pytest.raises(ValueError, match="must be text"):
        parse_formula(None)


def test_the_error_lists_what_is_allowed():
    with pytest.raises(ValueError) as caught:
        parse_formula("__import__('os')")
    for word in ("x, y", "+ - * / **", *FUNCTIONS):
        assert word in str(caught.value)


# --- properties over thousands of inputs ------------------------------------------------------------

# A small grammar of valid formulas, each with its own NumPy evaluation (written here, not by the parser).
_NP_UNARY = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
             "abs": np.abs, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "arctan": np.arctan}
_NP_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}

leaves = st.one_of(
    st.sampled_from([("x", lambda x, y: x), ("y", lambda x, y: y), ("pi", lambda x, y: np.pi + 0 * x),
                     ("e", lambda x, y: np.e + 0 * x)]),
    st.floats(0.01, 1000, allow_nan=False).map(lambda v: (repr(v), lambda x, y, v=v: v + 0 * x)),
    st.integers(0, 100).map(lambda v: (str(v), lambda x, y, v=v: float(v) + 0 * x)),
)


def _extend(children):
    binary = st.tuples(children, st.sampled_from(list(_NP_BINARY)), children).map(
        lambda t: (f"({t[0][0]}) {t[1]} ({t[2][0]})",
                   lambda x, y, a=t[0][1], op=_NP_BINARY[t[1]], b=t[2][1]: op(a(x, y), b(x, y))))
    power = st.tuples(children, st.sampled_from([-3, -2, -1, 0, 1, 2, 3, 0.5, 1.5, -0.25])).map(
        lambda t: (f"({t[0][0]})**{t[1]}" if t[1] >= 0 else f"({t[0][0]})**({t[1]})",
                   lambda x, y, a=t[0][1], p=t[1]: np.power(a(x, y), p)))
    unary = st.tuples(st.sampled_from(list(_NP_UNARY)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", lambda x, y, f=_NP_UNARY[t[0]], a=t[1][1]: f(a(x, y))))
    minmax = st.tuples(st.sampled_from(["min", "max"]), children, children).map(
        lambda t: (f"{t[0]}({t[1][0]}, {t[2][0]})",
                   lambda x, y, f={"min": np.minimum, "max": np.maximum}[t[0]], a=t[1][1], b=t[2][1]:
                   f(a(x, y), b(x, y))))
    negate = children.map(lambda c: (f"-({c[0]})", lambda x, y, a=c[1]: -a(x, y)))
    return st.one_of(binary, power, unary, minmax, negate)


formulas = st.recursive(leaves, _extend, max_leaves=10).map(
    lambda f: f if re.search(r"\b[xy]\b", f[0]) else (f"({f[0]}) + x", lambda x, y, a=f[1]: a(x, y) + x))


ALPHABET = "xyzepi0123456789.+-*/()[]{},'\"_=:;<>!^%&|~@#\\ \t\nsincoexplgqrtabhmdu_jJ"
TOKENS = list(FUNCTIONS) + ["x", "y", "pi", "e", "(", ")", ",", "**", "*", "/", "+", "-", "1", "2.5", "1e6", "1e7",
                            "__import__", ".", "'os'", "[0]", "lambda", ":", "=", " ", "__class__", "z", "^", "#",
                            "**99", "1j", "key=", "*", "not ", " if x else ", "\n", "ｘ"]


def _insert(case) -> str:
    (text, _), at, token = case
    at = at % (len(text) + 1)
    return text[:at] + token + text[at:]


any_text = st.one_of(
    st.text(max_size=400),  # any Unicode
    st.text(alphabet=ALPHABET, max_size=400),
    st.lists(st.sampled_from(TOKENS), max_size=120).map("".join),
    formulas.map(lambda f: f[0]),  # valid, or beyond the limits
    st.tuples(formulas, st.integers(0, 400), st.sampled_from(TOKENS)).map(_insert),  # one token off
)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_random_text_is_a_surface_or_a_value_error_and_runs_nothing(text):
    with _nothing_runs():
        try:
            surface = custom_surface(text)
        except ValueError as error:
            assert str(error).startswith("formula:")
            event("refused")
            return
    event("a surface")
    assert surface.name == "custom" and surface.key.startswith("custom:")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formulas)
def test_generated_formulas_match_numpy(formula):
    text, reference = formula
    try:
        parsed = parse_formula(text)
    except ValueError as error:
        # The only refusals of a grammatical formula: its limits, and variable-free parts
        # that are not finite (log(0), (2 - 2)**-1, ...).
        assert any(reason in str(error) for reason in ("too long", "nested too deeply", "not a finite number",
                                                       "at most 1e6")), str(error)
        assume(False)
    x, y = POINTS[:, :64]
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(np.asarray(reference(x, y), np.float64), x.shape)
    with jax.enable_x64(True):
        actual = np.asarray(parsed.jax_fn()(jnp.asarray(x), jnp.asarray(y), {}))
    finite = np.isfinite(expected)
    assert np.all(np.isfinite(actual[finite])), (text, x[finite & ~np.isfinite(actual)])
    # Where the formula itself is ill-conditioned (sin(sinh(x + 18)): a sine of ~3e7), two
    # correct float64 evaluations differ by far more than rtol: XLA's and NumPy's sinh differ
    # by a few ulps there. Such points are those where moving x and y by 1e-13 (relative)
    # moves the reference's value by more than 1e-7: left out of the comparison.
    with np.errstate(all="ignore"):
        nudged = np.broadcast_to(np.asarray(reference(x * (1 + 1e-13), y * (1 - 1e-13)), np.float64), x.shape)
        stable = finite & (np.abs(nudged - expected) <= 1e-7 * np.maximum(np.abs(expected), 1e-300))
    np.testing.assert_allclose(actual[stable], expected[stable], rtol=1e-5, atol=1e-300, err_msg=text)
    np.testing.assert_allclose(parsed.numpy(x, y)[finite], expected[finite], rtol=1e-12, err_msg=text)
