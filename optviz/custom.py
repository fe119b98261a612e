"""Custom surfaces: a formula in x and y, typed on the page, as a :class:`Surface`.

>>> surface = custom_surface("sin(x)*cos(y) + 0.1*(x**2 + y**2)")
>>> surface.name, surface.key
('custom', 'custom:(+ (* (sin x) (cos y)) (* 0.1 (+ (** x 2.0) (** y 2.0))))')

The grammar is a whitelist over Python's ``ast`` (``mode="eval"``):

* numbers (int or float literals, ``|n| <= 1e6``) and the constants ``pi`` and ``e``;
* the variables ``x`` and ``y``;
* binary ``+ - * / **``, unary ``-`` and ``+``, parentheses;
* calls of ``sin cos tan exp log sqrt abs tanh sinh cosh arctan`` (one argument) and
  ``min max`` (exactly two arguments, elementwise: ``jnp.minimum`` / ``jnp.maximum``).

Nothing else: no attribute access, subscripts, strings, keywords, lambdas,
comprehensions, comparisons, ``and``/``or``, ``if``/``else``, starred arguments,
f-strings, ``^`` (write ``**``), non-ASCII characters or line breaks. Anything
else is a ``ValueError`` naming the offending token and its column. Nothing the
user typed is ever evaluated, executed or compiled to code: the text is parsed
(``ast.parse`` builds a tree and runs nothing), the tree is checked node by node,
turned into a small tree of our own and the JAX function is a chain of closures
over ``jax.numpy`` built by walking it.

Limits (decisions):

* at most :data:`MAX_LENGTH` (300) characters and :data:`MAX_NODES` (200) numbers,
  names, operators and calls;
* at most :data:`MAX_DEPTH` (30) levels of nesting: parentheses, calls, powers and
  signs each add a level, a chain ``a + b - c`` or ``a * b / c`` counts as one;
* literals at most 1e6 in size; a variable-free exponent (``x**2``, ``x**(1/3)``,
  ``x**-pi``) must lie in [-10, 10], so ``x**99999999`` or ``x**10**10`` is refused.
  An exponent that uses x or y (``2**x``) is allowed: in float32 it costs one
  ``pow`` whatever its value and at worst overflows to inf. Variable-free parts are
  computed in float64, never as Python integers, so no input can make a huge number;
* at most :data:`MAX_WEIGHT` (12) costly operations on x or y: calls of the functions
  other than ``abs``, ``min`` and ``max``, and powers other than a whole constant
  exponent. A formula is compiled into every step of every run and evaluated in each
  (the tuning map runs it 24 million times): its compile time and each run's grow with
  this count (``bench/hostile.py``), and this bound keeps one visitor's link within the
  page's work budget (the README's "What a visitor can make the server do");
* every variable-free part must be finite (``x + 1/0`` and ``log(-1)*x`` are refused);
* the formula must use x or y: a constant is a flat surface on which nothing moves.

Where the formula is undefined (``log`` or ``sqrt`` of a negative number, ``1/0``)
it is NaN or inf. The engine ends a path at its last finite point; the contour grid
keeps NaN there (a gap in the chart). The default start is put where the formula
and its neighbourhood are finite; a start that is given must be such a point.

The Surface's ``minima`` are *estimates*: the lowest interior points of a 200×200
grid over the view box, refined on a finer 41×41 grid around each, listed when
there are at most a few of them (a valley floor or a plateau gives none, and so
does a lowest point on the edge of the box: the surface may keep falling beyond
it). ``min_value`` stays None, so nothing claims a tolerance was reached against
a guessed minimum. ``key`` is ``"custom:"`` plus the normalized formula (an
S-expression of the checked tree: spacing and redundant parentheses do not
matter). The formula's numbers are the surface's ``params`` (``c0``, ``c1``, ...:
each variable-free part but a whole exponent), traced in the compiled programs, whose
cache key (``program_key``) is the formula's shape: the engine compiles a shape once,
and a formula that differs only in its numbers reuses that program.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import string
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import jax.numpy as jnp
import numpy as np

from .checks import NOT_A_NUMBER, shown
from .surfaces import Surface

MAX_LENGTH = 300  # characters
MAX_NODES = 200  # numbers, names, operators and calls
MAX_DEPTH = 30  # nesting levels (parentheses, calls, powers, signs)
MAX_WEIGHT = 12  # costly operations (function calls, non-integer or variable powers) on x or y
MAX_NUMBER = 1e6  # largest literal
MAX_EXPONENT = 10.0  # largest |p| for a variable-free exponent of **
MINIMA_GRID = 200  # resolution of the grid the minima are estimated on
MAX_MINIMA = 4  # more candidate minima than this: a valley or plateau, none listed

VARIABLES = ("x", "y")
CONSTANTS = {"pi": math.pi, "e": math.e}
UNARY_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh", "arctan")
BINARY_FUNCTIONS = ("min", "max")
FUNCTIONS = UNARY_FUNCTIONS + BINARY_FUNCTIONS

HINT = ("use x, y, numbers, pi, e, + - * / ** ( ) and "
        + ", ".join(UNARY_FUNCTIONS) + ", min(a, b), max(a, b)")

_JNP_FUNCTIONS: dict[str, Callable] = {
    "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt,
    "abs": jnp.abs, "tanh": jnp.tanh, "sinh": jnp.sinh, "cosh": jnp.cosh, "arctan": jnp.arctan,
    "min": jnp.minimum, "max": jnp.maximum,
}
_NP_FUNCTIONS: dict[str, Callable] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "abs": np.abs, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "arctan": np.arctan,
    "min": np.minimum, "max": np.maximum,
}
_BINARY_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_OPERATORS: dict[str, Callable] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}  # a chain of one precedence is one nesting level

# Characters allowed in the text, and a word for some that are not.
_ALLOWED_CHARS = frozenset(string.ascii_letters + string.digits + "_.+-*/(), \t")
_PRINTABLE_ASCII = frozenset(chr(c) for c in range(32, 127)) | {"\t"}  # what ast.parse may see
_CHAR_NOTES = {
    "^": "use ** for powers", "'": "no strings", '"': "no strings", "[": "no subscripts or lists",
    "]": "no subscripts or lists", "{": "no sets or dicts", "}": "no sets or dicts",
    "=": "no assignments or comparisons", "<": "no comparisons", ">": "no comparisons",
    "!": "no comparisons", ":": "no lambdas, slices or :=", ";": "one expression only",
    "\n": "one line only", "\r": "one line only", "%": "no remainder", "@": "no matrix product",
    "&": "no bitwise operators", "|": "use abs() for absolute values", "~": "no bitwise operators",
    "#": "no comments", "\\": "no backslashes", "`": "no backticks",
    "π": "write pi", "×": "use * to multiply", "·": "use * to multiply", "÷": "use / to divide",
    "−": "use - (the ASCII minus)", "²": "use **2", "³": "use **3", "√": "use sqrt()",
}
# What a refused kind of expression is called in an error message.
_NODE_NOTES = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Slice: "slices", ast.Lambda: "lambda",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.Compare: "comparisons", ast.BoolOp: "and/or",
    ast.IfExp: "if/else", ast.NamedExpr: "assignments (:=)", ast.Starred: "starred arguments",
    ast.JoinedStr: "f-strings", ast.FormattedValue: "f-strings", ast.Tuple: "tuples", ast.List: "lists",
    ast.Dict: "dicts", ast.Set: "sets", ast.Await: "await", ast.keyword: "keyword arguments",
}
_OPERATOR_TOKENS = {
    ast.BitXor: ("^", "use ** for powers"), ast.FloorDiv: ("//", "use /"), ast.Mod: ("%", "no remainder"),
    ast.MatMult: ("@", "no matrix product"), ast.LShift: ("<<", ""), ast.RShift: (">>", ""),
    ast.BitAnd: ("&", ""), ast.BitOr: ("|", ""), ast.Not: ("not", ""), ast.Invert: ("~", ""),
}


def _fail(token: str, column: int | None, note: str = "") -> ValueError:
    where = f" at column {column}" if column is not None else ""
    extra = f" ({note})" if note else ""
    return ValueError(f"formula: `{token}` is not allowed{where}{extra}; {HINT}")


# --- the checked tree -------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One node of a checked formula.

    ``kind`` is "num", "var" (x, y), "const" (pi, e), "+", "-", "*", "/", "**", "neg" or
    "call"; ``name`` the variable, constant or function name; ``args`` the operands;
    ``value`` the number, or the float64 value of a subtree that uses neither x nor y
    (None when it does).
    """

    kind: str
    args: tuple["Node", ...] = ()
    name: str = ""
    value: float | None = None

    @property
    def constant(self) -> bool:
        return self.value is not None

    def sexpr(self) -> str:
        """The normalized formula: an S-expression, the same for any spacing or parentheses."""
        if self.kind == "num":
            return repr(float(self.value))
        if self.kind in ("var", "const"):
            return self.name
        head = self.name if self.kind == "call" else self.kind
        return "(" + " ".join([head] + [a.sexpr() for a in self.args]) + ")"


@dataclass(frozen=True)
class Formula:
    """A checked formula: its text, tree, normalized form and LaTeX; its constants (each
    variable-free part but a whole exponent, in order) and its shape, the normalized form
    with each constant written ``c`` (``sin(x) + 0.5*y`` and ``sin(x) + 0.7*y`` share it)."""

    text: str
    tree: Node
    normalized: str
    latex: str
    variables: frozenset[str]

    @functools.cached_property
    def _constant_nodes(self) -> tuple[Node, ...]:
        return tuple(_constant_nodes(self.tree))

    @property
    def constants(self) -> dict[str, float]:
        """The formula's constants as a surface's parameters: ``c0``, ``c1``, ... -> value."""
        return {f"c{i}": float(node.value) for i, node in enumerate(self._constant_nodes)}

    @property
    def shape(self) -> str:
        return _shape(self.tree, {id(node) for node in self._constant_nodes})

    def _names(self) -> dict[int, str]:
        return {id(node): f"c{i}" for i, node in enumerate(self._constant_nodes)}

    def jax_fn(self) -> Callable:
        """``fn(x, y, params)`` in ``jax.numpy`` (a Surface's ``fn``), shaped like x and y
        broadcast. Its constants are read from ``params`` (``c0``, ``c1``, ...; this
        formula's own where absent): traced, so a formula of the same shape with other
        constants runs in the same compiled program."""
        body = _build(self.tree, _JNP_FUNCTIONS, self._names())
        defaults = self.constants

        def fn(x, y, params=None):
            out = jnp.asarray(body(x, y, {**defaults, **(params or {})}))
            return jnp.broadcast_to(out, jnp.broadcast_shapes(jnp.shape(x), jnp.shape(y)))

        return fn

    def numpy(self, x, y, dtype=np.float64) -> np.ndarray:
        """The formula on NumPy arrays in ``dtype``, warnings off (NaN and inf where undefined)."""
        x = np.asarray(x, dtype)
        y = np.asarray(y, dtype)
        with np.errstate(all="ignore"):
            out = np.asarray(_build(self.tree, _NP_FUNCTIONS, self._names())(x, y, self.constants), dtype)
        return np.broadcast_to(out, np.broadcast_shapes(x.shape, y.shape))


def _column(node: ast.AST) -> int | None:
    offset = getattr(node, "col_offset", None)
    return None if offset is None else offset + 1  # the text is ASCII: bytes are characters


def _segment(text: str, node: ast.AST) -> str:
    piece = ast.get_source_segment(text, node) or type(node).__name__
    return piece if len(piece) <= 40 else piece[:37] + "..."


def _check_characters(text: str, allowed: frozenset[str]) -> None:
    """Refuse the first character outside ``allowed``, and parentheses nested too deeply."""
    depth = 0
    for i, char in enumerate(text):
        if char not in allowed:
            shown = char if char.isprintable() else repr(char)[1:-1]
            raise _fail(shown, i + 1, _CHAR_NOTES.get(char, "not a formula character"))
        if char == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"formula: nested too deeply at column {i + 1} "
                                 f"(at most {MAX_DEPTH} levels of parentheses)")
        elif char == ")":
            depth = max(depth - 1, 0)


def _parse(text: str) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "invalid decimal literal" and friends
            return ast.parse(text, mode="eval")
    except SyntaxError as error:
        column = error.offset if error.offset else None
        near = f" near `{text[column - 1]}`" if column and column <= len(text) else ""
        where = f"at column {column}" if column and column <= len(text) else "at the end (something is missing)"
        raise ValueError(f"formula: {error.msg} {where}{near}; {HINT}") from None
    except (ValueError, MemoryError, RecursionError) as error:
        raise ValueError(f"formula: cannot be read ({error}); {HINT}") from None


def _problem(node: ast.AST, parents: dict[int, ast.AST], text: str) -> ValueError | None:
    """Why ``node`` on its own is not allowed (None: it is). Nodes without a position
    (operators, contexts, a comprehension's parts) are judged with their parent."""
    column = _column(node)
    if column is None or isinstance(node, ast.Expression):
        return None
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            return _fail(_segment(text, node), column)
        if isinstance(value, (str, bytes)):
            return _fail(_segment(text, node), column, "no strings")
        if isinstance(value, complex):
            return _fail(_segment(text, node), column, "no complex numbers")
        if not isinstance(value, (int, float)):
            return _fail(_segment(text, node), column)
        if not abs(value) <= MAX_NUMBER:  # also refuses inf and nan
            return _fail(_segment(text, node), column, "numbers must be at most 1e6 in size")
        return None
    if isinstance(node, ast.Name):
        parent = parents.get(id(node))
        called = isinstance(parent, ast.Call) and parent.func is node
        if called:
            if node.id in FUNCTIONS:
                return None
            if node.id in VARIABLES or node.id in CONSTANTS:
                return _fail(node.id, column, f"{node.id} is not a function; write {node.id}*(...) to multiply")
            return _fail(node.id, column, "not one of the functions")
        if node.id in VARIABLES or node.id in CONSTANTS:
            return None
        if node.id in FUNCTIONS:
            return _fail(node.id, column, f"a function: call it, like {node.id}(x)")
        return _fail(node.id, column, "the variables are x and y")
    if isinstance(node, ast.BinOp):
        if type(node.op) in _BINARY_OPS:
            return None
        token, note = _OPERATOR_TOKENS.get(type(node.op), (type(node.op).__name__, ""))
        # the operator's own column: the token between the two operands
        at = text.find(token, node.left.end_col_offset or 0, node.right.col_offset)
        return _fail(token, at + 1 if at >= 0 else column, note)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            return None
        token, note = _OPERATOR_TOKENS.get(type(node.op), (type(node.op).__name__, ""))
        return _fail(token, column, note)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            if type(node.func) in _NODE_NOTES:
                return None  # an attribute, a lambda, a subscript...: it reports itself
            return _fail(_segment(text, node), column, "only the named functions can be called")
        if node.keywords:
            return None  # each keyword reports itself
        name = node.func.id
        wanted = 2 if name in BINARY_FUNCTIONS else 1
        starred = any(isinstance(a, ast.Starred) for a in node.args)  # reports itself
        if name in FUNCTIONS and not starred and len(node.args) != wanted:
            plural = "s" if wanted > 1 else ""
            return _fail(_segment(text, node), column,
                         f"{name} takes exactly {wanted} argument{plural}, got {len(node.args)}")
        return None
    note = _NODE_NOTES.get(type(node), "not part of a formula")
    return _fail(_segment(text, node), column, note)


def _check_nodes(tree: ast.Expression, text: str) -> None:
    """Refuse the leftmost (then narrowest) node that is not allowed, so the message names it."""
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    problems = []
    for node in ast.walk(tree):
        problem = _problem(node, parents, text)
        if problem is not None:
            problems.append(((getattr(node, "col_offset", 0), getattr(node, "end_col_offset", 0)), problem))
    if problems:
        raise min(problems, key=lambda item: item[0])[1]


def _check_size(tree: ast.Expression) -> None:
    """Bound the number of parts and the nesting depth (iteratively: no recursion yet)."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ValueError(f"formula: too long (more than {MAX_NODES} numbers, names and operators)")
        if depth > MAX_DEPTH:
            raise ValueError(f"formula: nested too deeply at column {_column(node)} (at most {MAX_DEPTH} levels)")
        if isinstance(node, ast.BinOp):
            level = _PRECEDENCE.get(_BINARY_OPS.get(type(node.op), ""))
            left_level = (_PRECEDENCE.get(_BINARY_OPS.get(type(node.left.op), ""))
                          if isinstance(node.left, ast.BinOp) else None)
            stack.append((node.left, depth if level is not None and level == left_level else depth + 1))
            stack.append((node.right, depth + 1))
        elif isinstance(node, ast.UnaryOp):
            stack.append((node.operand, depth + 1))
        elif isinstance(node, ast.Call):
            stack.extend((arg, depth + 1) for arg in node.args)


def _fold(kind: str, name: str, args: Sequence[Node]) -> float | None:
    """The float64 value of a variable-free node (None if it uses x or y)."""
    if any(a.value is None for a in args):
        return None
    values = [np.float64(a.value) for a in args]
    with np.errstate(all="ignore"):
        if kind == "neg":
            out = -values[0]
        elif kind == "call":
            out = _NP_FUNCTIONS[name](*values)
        else:
            out = _OPERATORS[kind](*values)
    return float(out)


def _convert(node: ast.AST, text: str) -> Node:
    """The checked ``ast`` node as a :class:`Node`, refusing bad exponents and infinite constants."""
    if isinstance(node, ast.Constant):
        return Node("num", value=float(node.value))
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return Node("const", name=node.id, value=CONSTANTS[node.id])
        return Node("var", name=node.id)
    if isinstance(node, ast.UnaryOp):
        operand = _convert(node.operand, text)
        if isinstance(node.op, ast.UAdd):
            return operand
        out = Node("neg", (operand,), value=_fold("neg", "", (operand,)))
    elif isinstance(node, ast.BinOp):
        kind = _BINARY_OPS[type(node.op)]
        left, right = _convert(node.left, text), _convert(node.right, text)
        if kind == "**" and right.constant and not abs(right.value) <= MAX_EXPONENT:
            raise _fail(_segment(text, node.right), _column(node.right),
                        f"a constant exponent must lie in [-{MAX_EXPONENT:g}, {MAX_EXPONENT:g}]")
        out = Node(kind, (left, right), value=_fold(kind, "", (left, right)))
    elif isinstance(node, ast.Call):
        name = node.func.id  # checked: a Name in FUNCTIONS with the right number of arguments
        args = tuple(_convert(a, text) for a in node.args)
        out = Node("call", args, name=name, value=_fold("call", name, args))
    else:  # pragma: no cover - _check_nodes refuses everything else
        raise _fail(_segment(text, node), _column(node))
    if out.value is not None and not math.isfinite(out.value):
        raise _fail(_segment(text, node), _column(node), "this part is not a finite number")
    return out


_CHEAP_FUNCTIONS = ("abs", "min", "max")  # a sign or a select: nothing to compile worth counting


def formula_weight(node: Node) -> int:
    """The costly operations on x or y in ``node``: calls of the functions other than abs,
    min and max, and powers whose exponent is not a whole constant (a ``pow`` of two
    arrays, with a log and an exp in its gradient). Variable-free parts are numbers already."""
    weight, stack = 0, [node]
    while stack:
        node = stack.pop()
        if node.constant:
            continue
        if node.kind == "call" and node.name not in _CHEAP_FUNCTIONS:
            weight += 1
        elif node.kind == "**" and not (node.args[1].constant and float(node.args[1].value).is_integer()):
            weight += 1
        stack.extend(node.args)
    return weight


def _variables(node: Node) -> frozenset[str]:
    if node.kind == "var":
        return frozenset([node.name])
    return frozenset().union(*(_variables(a) for a in node.args)) if node.args else frozenset()


# --- evaluation: closures over the checked tree -----------------------------------------------


def _whole_exponent(node: Node) -> bool:
    """``node`` is a ``**`` with a whole constant exponent (built as an integer power)."""
    return node.kind == "**" and node.args[1].value is not None and float(node.args[1].value).is_integer()


def _constant_nodes(root: Node) -> list[Node]:
    """The formula's constants in order: each largest variable-free part, except a whole
    exponent (part of the formula's shape: an integer power)."""
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.value is not None:
            out.append(node)
            continue
        args = node.args[:1] if _whole_exponent(node) else node.args
        stack.extend(reversed(args))
    return out


def _shape(node: Node, constants: set[int]) -> str:
    """The normalized form with each constant written ``c``."""
    if id(node) in constants:
        return "c"
    if node.kind == "num":
        return repr(float(node.value))
    if node.kind in ("var", "const"):
        return node.name
    head = node.name if node.kind == "call" else node.kind
    return "(" + " ".join([head] + [_shape(a, constants) for a in node.args]) + ")"


def _build(node: Node, functions: dict[str, Callable], names: dict[int, str]) -> Callable:
    """``f(x, y, constants)`` for ``node``, from closures over ``functions`` (jnp or np); no
    eval anywhere. A constant is read from ``constants`` by its name in ``names``."""
    if node.value is not None:  # a number, a constant or a variable-free part
        name = names.get(id(node))
        if name is not None:
            return lambda x, y, p: p[name]
        value = node.value
        return lambda x, y, p: value
    if node.kind == "var":
        return (lambda x, y, p: x) if node.name == "x" else (lambda x, y, p: y)
    if node.kind == "neg":
        inner = _build(node.args[0], functions, names)
        return lambda x, y, p: -inner(x, y, p)
    if node.kind == "call":
        fn = functions[node.name]
        if len(node.args) == 1:
            arg = _build(node.args[0], functions, names)
            return lambda x, y, p: fn(arg(x, y, p))
        first, second = (_build(a, functions, names) for a in node.args)
        return lambda x, y, p: fn(first(x, y, p), second(x, y, p))
    left = _build(node.args[0], functions, names)
    if _whole_exponent(node):
        power = int(node.args[1].value)  # |power| <= 10: jnp's integer_pow, exact and with a clean gradient
        return lambda x, y, p: left(x, y, p) ** power
    right = _build(node.args[1], functions, names)
    op = _OPERATORS[node.kind]
    return lambda x, y, p: op(left(x, y, p), right(x, y, p))


# --- LaTeX ---------------------------------------------------------------------------------------

_LATEX_FUNCTIONS = {
    "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "exp": r"\exp", "log": r"\ln", "tanh": r"\tanh",
    "sinh": r"\sinh", "cosh": r"\cosh", "arctan": r"\arctan", "min": r"\min", "max": r"\max",
}


def _latex_number(value: float) -> tuple[str, int]:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value)), 5
    text = repr(float(value))
    if "e" not in text:
        return text, 5
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return (power, 5) if mantissa in ("1", "1.0") else (f"{mantissa} \\times {power}", 2)


def _paren(text: str) -> str:
    return rf"\left({text}\right)"


def _latex(node: Node) -> tuple[str, int]:
    """LaTeX for ``node`` and its precedence (1 sums, 2 products, 3 signs, 4 powers, 5 atoms)."""
    if node.kind == "num":
        return _latex_number(node.value)
    if node.kind == "var":
        return node.name, 5
    if node.kind == "const":
        return (r"\pi" if node.name == "pi" else "e"), 5
    if node.kind == "neg":
        inner, prec = _latex(node.args[0])
        return "-" + (_paren(inner) if prec <= 1 else inner), 3
    if node.kind == "call":
        args = [_latex(a)[0] for a in node.args]
        if node.name == "sqrt":
            return rf"\sqrt{{{args[0]}}}", 5
        if node.name == "abs":
            return rf"\left|{args[0]}\right|", 5
        return _LATEX_FUNCTIONS[node.name] + _paren(r",\, ".join(args)), 5
    (left, lp), (right, rp) = (_latex(a) for a in node.args)
    if node.kind in ("+", "-"):
        wrap_right = rp <= 1 and node.kind == "-" or node.args[1].kind == "neg"
        return f"{left} {node.kind} {_paren(right) if wrap_right else right}", 1
    if node.kind == "*":
        left = _paren(left) if lp < 2 else left
        right = _paren(right) if rp < 2 or node.args[1].kind == "neg" else right
        letters = ("var", "const", "**")
        if right[0].isdigit() or right[0] in "-.":
            joint = r" \cdot "  # 2 \cdot 3, x \cdot 2: juxtaposed digits would read as one number
        elif node.args[0].kind == "num" and node.args[1].kind in ("var", "const"):
            joint = ""  # 2x, 2\pi
        elif node.args[0].kind in letters + ("*",) and node.args[1].kind in letters:
            joint = " "  # x y, x^{2} y
        else:
            joint = r"\,"  # 0.1\,\left(x + y\right), \sin\left(x\right)\,\cos\left(y\right)
        return f"{left}{joint}{right}", 2
    if node.kind == "/":
        return rf"\frac{{{left}}}{{{right}}}", 4
    # "**": the base in parentheses unless it is an atom
    return f"{left if lp >= 5 else _paren(left)}^{{{right}}}", 4


# --- the public API ---------------------------------------------------------------------------------


def parse_formula(text: str) -> Formula:
    """Check ``text`` against the grammar and return it as a :class:`Formula`.

    ValueError saying what is wrong and where (column, offending token) for anything
    outside the grammar or its limits (see the module docstring). Runs nothing typed.
    """
    if not isinstance(text, str):
        raise ValueError(f"formula: must be text, got {type(text).__name__}")
    text = text.strip()
    if not text:
        raise ValueError(f"formula: is empty; {HINT}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"formula: too long ({len(text)} characters; at most {MAX_LENGTH})")
    # Printable ASCII only (columns are then characters; no Unicode look-alikes), bounded
    # parentheses; then the parser (which runs nothing) so that the message can name the
    # leftmost offending name or construct; then every character against the whitelist
    # (a comment `#` leaves no node).
    _check_characters(text, _PRINTABLE_ASCII)
    try:
        tree = _parse(text)
    except ValueError:
        _check_characters(text, _ALLOWED_CHARS)  # a clearer message when a character is the cause
        raise
    _check_nodes(tree, text)
    _check_characters(text, _ALLOWED_CHARS)
    _check_size(tree)
    root = _convert(tree.body, text)
    weight = formula_weight(root)
    if weight > MAX_WEIGHT:
        raise ValueError(f"formula: too costly to run ({weight} function calls and powers on x or y; at most "
                         f"{MAX_WEIGHT}, each compiled into every step of every run): write a shorter formula")
    variables = _variables(root)
    if not variables:
        raise ValueError("formula: must use x or y (a constant surface is flat: nothing would move)")
    return Formula(text=text, tree=root, normalized=root.sexpr(), latex=_latex(root)[0], variables=variables)


def _check_box(name: str, value) -> tuple[float, float]:
    if isinstance(value, (str, bytes)):  # "12" would read as (1, 2)
        raise ValueError(f"`{name}` must be two numbers (low, high), got {shown(value)}")
    try:
        low, high = (float(v) for v in value)
    except NOT_A_NUMBER:
        raise ValueError(f"`{name}` must be two numbers (low, high), got {shown(value)}") from None
    if not (math.isfinite(low) and math.isfinite(high) and abs(low) <= 1e6 and abs(high) <= 1e6):
        raise ValueError(f"`{name}` must be finite and within ±1e6, got {shown(value)}")
    if not low < high:
        raise ValueError(f"`{name}` must have low < high, got {shown(value)}")
    return low, high


def _defined_near(formula: Formula, point: tuple[float, float], h: float) -> bool:
    """Finite (in float32, like the engine) at ``point`` and at a small stencil around it."""
    offsets = np.array([-h, 0.0, h])
    xx, yy = np.meshgrid(point[0] + offsets, point[1] + offsets)
    return bool(np.all(np.isfinite(formula.numpy(xx, yy, np.float32))))


def _default_start(formula: Formula, xr: tuple[float, float], yr: tuple[float, float]) -> tuple[float, float]:
    """20% in from the upper-left corner, else another corner or the centre, else the
    defined grid point nearest to it: a start where the first gradient is finite."""
    (x0, x1), (y0, y1) = xr, yr
    w, h = x1 - x0, y1 - y0
    step = 1e-3 * min(w, h)
    candidates = [(x0 + 0.2 * w, y1 - 0.2 * h), (x0 + 0.2 * w, y0 + 0.2 * h), (x1 - 0.2 * w, y1 - 0.2 * h),
                  (x1 - 0.2 * w, y0 + 0.2 * h), (x0 + 0.5 * w, y0 + 0.5 * h)]
    for point in candidates:
        if _defined_near(formula, point, step):
            return _tidy(point)
    xs = np.linspace(x0, x1, 81)
    ys = np.linspace(y0, y1, 81)
    xx, yy = np.meshgrid(xs, ys)
    z = formula.numpy(xx, yy, np.float32)
    ok = np.isfinite(z)
    ok[1:-1, 1:-1] &= ok[:-2, 1:-1] & ok[2:, 1:-1] & ok[1:-1, :-2] & ok[1:-1, 2:]
    if not ok.any():
        raise ValueError(f"formula: `{formula.text}` is not finite anywhere in the view box")
    distance = np.hypot(xx - candidates[0][0], yy - candidates[0][1])
    i = np.argmin(np.where(ok, distance, np.inf))
    return _tidy((float(xx.flat[i]), float(yy.flat[i])))


def _tidy(point) -> tuple[float, float]:
    return float(round(point[0], 6)) + 0.0, float(round(point[1], 6)) + 0.0  # no -0.0


def estimate_minima(formula: Formula, x_range: tuple[float, float], y_range: tuple[float, float],
                    resolution: int = MINIMA_GRID) -> tuple[tuple[float, float], ...]:
    """Approximate global minima inside the box: see the module docstring.

    The lowest interior local minima of a ``resolution``² grid (within a small
    tolerance of the lowest value), each refined on a 41×41 grid spanning its
    neighbouring cells; () for a valley floor, a plateau, or a lowest point on the edge.
    """
    xs = np.linspace(*x_range, resolution)
    ys = np.linspace(*y_range, resolution)
    z = formula.numpy(*np.meshgrid(xs, ys))
    z = np.where(np.isfinite(z), z, np.inf)
    if not np.isfinite(z).any():
        return ()
    low = float(z.min())
    row, col = np.unravel_index(np.argmin(z), z.shape)
    if row in (0, resolution - 1) or col in (0, resolution - 1):
        return ()
    finite = z[np.isfinite(z)]
    spread = max(float(np.percentile(finite, 95)) - low, 1e-12)
    inner = z[1:-1, 1:-1]
    is_min = np.ones_like(inner, bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                is_min &= inner <= z[1 + dr:resolution - 1 + dr, 1 + dc:resolution - 1 + dc]
    is_min &= inner <= low + 1e-3 * spread
    # next to an undefined point the surface may fall without bound (log(x) at 0): no minimum there
    is_min &= np.isfinite(z[:-2, :-2] + z[:-2, 2:] + z[2:, :-2] + z[2:, 2:] + z[1:-1, :-2] + z[1:-1, 2:]
                          + z[:-2, 1:-1] + z[2:, 1:-1])
    rows, cols = np.nonzero(is_min)
    if rows.size == 0 or rows.size > 4 * MAX_MINIMA:
        return ()
    hx, hy = xs[1] - xs[0], ys[1] - ys[0]
    refined = []
    for r, c in zip(rows + 1, cols + 1):
        fx = np.linspace(xs[c] - hx, xs[c] + hx, 41)
        fy = np.linspace(ys[r] - hy, ys[r] + hy, 41)
        fz = formula.numpy(*np.meshgrid(fx, fy))
        fz = np.where(np.isfinite(fz), fz, np.inf)
        i, j = np.unravel_index(np.argmin(fz), fz.shape)
        refined.append((float(fz[i, j]), float(fx[j]), float(fy[i])))
    best = min(v for v, _, _ in refined)
    points: list[tuple[float, float]] = []
    for value, px, py in sorted(refined):
        if value > best + 1e-4 * spread:
            break
        if all(math.hypot(px - qx, py - qy) > 2 * math.hypot(hx, hy) for qx, qy in points):
            points.append((px, py))
    if len(points) > MAX_MINIMA:
        return ()
    return tuple(_tidy(p) for p in points)


def custom_surface(
    text: str,
    *,
    x_range: Sequence[float] = (-3, 3),
    y_range: Sequence[float] = (-3, 3),
    start: Sequence[float] | None = None,
    estimate: bool = True,
) -> Surface:
    """The formula ``text`` in x and y as a :class:`Surface` usable wherever a surface name is.

    ``name`` is "custom", ``display_name`` "Custom: <text>", ``latex`` the formula in
    LaTeX; ``minima`` an estimate from a grid (see :func:`estimate_minima`; ``estimate``
    False leaves it empty) and ``min_value`` None; ``default_start`` is ``start``, or a
    defined point 20% in from the upper-left corner. ``key`` is "custom:" + the
    normalized formula; ``params`` its numbers and ``program_key`` its shape, so the engine
    compiles a shape once, whatever its numbers, box or start.
    ValueError for a bad formula, box or start. Results are cached (surfaces are immutable).
    """
    formula = parse_formula(text)
    xr, yr = _check_box("x_range", x_range), _check_box("y_range", y_range)
    point = None
    if start is not None:
        if isinstance(start, (str, bytes)):
            raise ValueError(f"`start` must be two numbers (x, y), got {shown(start)}")
        try:
            point = tuple(float(v) for v in start)
        except NOT_A_NUMBER:
            raise ValueError(f"`start` must be two numbers (x, y), got {shown(start)}") from None
        if len(point) != 2 or not all(math.isfinite(v) for v in point):
            raise ValueError(f"`start` must be two finite numbers (x, y), got {shown(start)}")
        if not (xr[0] <= point[0] <= xr[1] and yr[0] <= point[1] <= yr[1]):
            raise ValueError(f"`start` {point} must lie inside the view box x in {xr}, y in {yr}")
    return _surface(formula, xr, yr, point, bool(estimate))


@functools.lru_cache(maxsize=128)
def _surface(formula: Formula, xr: tuple[float, float], yr: tuple[float, float],
             start: tuple[float, float] | None, estimate: bool) -> Surface:
    if start is None:
        start = _default_start(formula, xr, yr)
    elif not _defined_near(formula, start, 1e-3 * min(xr[1] - xr[0], yr[1] - yr[0])):
        raise ValueError(f"`start` {start}: the formula is not finite there (or right next to it)")
    minima = estimate_minima(formula, xr, yr) if estimate else ()
    note = (f"your formula; the star marks the lowest point on a {MINIMA_GRID}×{MINIMA_GRID} grid (approximate)"
            if minima else "your formula")
    return Surface(
        "custom", f"Custom: {formula.text}", "f(x, y) = " + formula.latex, formula.jax_fn(),
        minima=minima, min_value=None, x_range=xr, y_range=yr, default_start=start, log_levels=False,
        description=note, key="custom:" + formula.normalized, params=formula.constants,
        program_key="custom:" + formula.shape,
    )
