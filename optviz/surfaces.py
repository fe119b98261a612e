"""Two-dimensional loss surfaces: formula, LaTeX, known minima, view box, default start.

A :class:`Surface` wraps a JAX function ``fn(x, y, params) -> loss``; gradients come
from ``jax.grad``. ``params`` holds the surface's own parameters (the quadratic's
condition number ``kappa``) as traced values, so changing them never compiles again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import jax.numpy as jnp
import numpy as np

from .checks import NOT_A_NUMBER, fits_float32, shown

SurfaceFn = Callable[[jnp.ndarray, jnp.ndarray, Mapping[str, jnp.ndarray]], jnp.ndarray]


@dataclass(frozen=True)
class Surface:
    """A loss surface f(x, y) with what a chart and a test need to know about it."""

    name: str
    display_name: str
    latex: str
    fn: SurfaceFn = field(repr=False, compare=False)
    minima: tuple[tuple[float, float], ...]  # global minima (all with the same loss)
    min_value: float | None  # None: unbounded below (the saddle)
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    default_start: tuple[float, float]
    params: Mapping[str, float] = field(default_factory=dict)  # name -> default
    param_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    log_levels: bool = True  # contour levels spaced in log(f - f_min)
    local_minima: tuple[tuple[float, float], ...] = ()
    description: str = ""
    # Identity (equality, the figures' caches): two surfaces with the same key are the same.
    key: str = ""
    # Compile-cache key: surfaces with the same one share compiled programs, their params
    # passed in (a typed formula's shape, its constants as params). Default: ``key``.
    program_key: str = ""

    def __post_init__(self):
        if not self.key:
            object.__setattr__(self, "key", self.name)
        if not self.program_key:
            object.__setattr__(self, "program_key", self.key)

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, Surface) and other.key == self.key

    def resolve_params(self, overrides: Mapping[str, object] | None = None) -> dict[str, float]:
        """Default parameters updated with ``overrides``; ValueError naming a bad field."""
        values = dict(self.params)
        if overrides is not None and not isinstance(overrides, Mapping):
            raise ValueError(f"`surface_params` must be a mapping of parameter name to number, got {shown(overrides)}")
        for key, value in (overrides or {}).items():
            if key not in values:
                names = ", ".join(values) or "no parameters"
                raise ValueError(f"surface {self.name}: unknown parameter `{key}`; it takes {names}")
            try:
                number = float(value)
            except NOT_A_NUMBER:
                raise ValueError(f"surface {self.name}: `{key}` must be a number, got {shown(value)}") from None
            low, high = self.param_ranges.get(key, (-math.inf, math.inf))
            if not (math.isfinite(number) and low <= number <= high and fits_float32(number)):
                raise ValueError(f"surface {self.name}: `{key}` must be in [{low:g}, {high:g}], got {shown(value)}")
            values[key] = number
        return values

    def __call__(self, x, y, **params):
        """Evaluate on NumPy arrays (for contours and tests), in float32 like the engine."""
        p = {k: jnp.float32(v) for k, v in self.resolve_params(params).items()}
        out = self.fn(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), p)
        return np.asarray(out)

    def zoomed(self, x_range, y_range) -> "Surface":
        """The same surface (same key: the same compiled programs) with another view box."""
        return replace(self, x_range=tuple(map(float, x_range)), y_range=tuple(map(float, y_range)))

    def grid(self, resolution: int = 120, **params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x (r,), y (r,), z (r, r) over the view box, for contour and 3D charts."""
        xs = np.linspace(*self.x_range, resolution, dtype=np.float32)
        ys = np.linspace(*self.y_range, resolution, dtype=np.float32)
        xx, yy = np.meshgrid(xs, ys)
        return xs, ys, self(xx, yy, **params)


def _safe_norm(r2):
    """sqrt with a zero gradient at 0 (plain sqrt gives NaN there): the double-where trick."""
    positive = r2 > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, r2, 1.0)), 0.0)


def _rosenbrock(x, y, p):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _saddle(x, y, p):
    return x**2 - y**2


def _quadratic(x, y, p):
    return x**2 + p["kappa"] * y**2


def _himmelblau(x, y, p):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _beale(x, y, p):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _rastrigin(x, y, p):
    two_pi = 2 * math.pi
    return 20 + x**2 - 10 * jnp.cos(two_pi * x) + y**2 - 10 * jnp.cos(two_pi * y)


def _ackley(x, y, p):
    two_pi = 2 * math.pi
    radius = _safe_norm(0.5 * (x**2 + y**2))
    return (
        -20 * jnp.exp(-0.2 * radius)
        - jnp.exp(0.5 * (jnp.cos(two_pi * x) + jnp.cos(two_pi * y)))
        + math.e
        + 20
    )


def _booth(x, y, p):
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def _goldstein_price(x, y, p):
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return a * b


def _six_hump_camel(x, y, p):
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in [
        Surface(
            "rosenbrock", "Rosenbrock", r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2", _rosenbrock,
            minima=((1.0, 1.0),), min_value=0.0, x_range=(-2.0, 2.0), y_range=(-1.0, 3.0),
            default_start=(-1.5, 2.0), description="a long, curved, flat-bottomed valley",
        ),
        Surface(
            "saddle", "Saddle", r"f(x, y) = x^2 - y^2", _saddle,
            minima=(), min_value=None, x_range=(-2.0, 2.0), y_range=(-2.0, 2.0),
            default_start=(-1.8, 0.01), log_levels=False,
            description="a saddle point at the origin: downhill in y, uphill in x",
        ),
        Surface(
            "quadratic", "Ill-conditioned quadratic", r"f(x, y) = x^2 + \kappa\, y^2", _quadratic,
            minima=((0.0, 0.0),), min_value=0.0, x_range=(-3.0, 3.0), y_range=(-2.0, 2.0),
            default_start=(-2.5, 1.5), params={"kappa": 10.0}, param_ranges={"kappa": (0.01, 1000.0)},
            description="a bowl κ times steeper in y than in x (κ is the condition number)",
        ),
        Surface(
            "himmelblau", "Himmelblau", r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2", _himmelblau,
            minima=((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
            min_value=0.0, x_range=(-5.0, 5.0), y_range=(-5.0, 5.0), default_start=(-0.5, -0.5),
            description="four equal minima: where you start decides where you end",
        ),
        Surface(
            "beale", "Beale",
            r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2", _beale,
            minima=((3.0, 0.5),), min_value=0.0, x_range=(-4.5, 4.5), y_range=(-4.5, 4.5),
            default_start=(1.0, 1.5), description="flat plateaus and sharp ridges",
        ),
        Surface(
            "rastrigin", "Rastrigin",
            r"f(x, y) = 20 + x^2 - 10\cos(2\pi x) + y^2 - 10\cos(2\pi y)", _rastrigin,
            minima=((0.0, 0.0),), min_value=0.0, x_range=(-5.12, 5.12), y_range=(-5.12, 5.12),
            default_start=(-2.3, 3.4), log_levels=False,
            description="a bowl covered in local minima",
        ),
        Surface(
            "ackley", "Ackley",
            r"f(x, y) = -20e^{-0.2\sqrt{0.5(x^2+y^2)}} - e^{0.5(\cos 2\pi x + \cos 2\pi y)} + e + 20",
            _ackley, minima=((0.0, 0.0),), min_value=0.0, x_range=(-5.0, 5.0), y_range=(-5.0, 5.0),
            default_start=(-3.3, 2.7), log_levels=False,
            description="a nearly flat, bumpy plain around one deep hole",
        ),
        Surface(
            "booth", "Booth", r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2", _booth,
            minima=((1.0, 3.0),), min_value=0.0, x_range=(-10.0, 10.0), y_range=(-10.0, 10.0),
            default_start=(-8.0, -6.0), description="a tilted bowl: an easy warm-up",
        ),
        Surface(
            "goldstein_price", "Goldstein–Price",
            r"f(x, y) = [1 + (x+y+1)^2(19 - 14x + 3x^2 - 14y + 6xy + 3y^2)]"
            r"\,[30 + (2x-3y)^2(18 - 32x + 12x^2 + 48y - 36xy + 27y^2)]",
            _goldstein_price, minima=((0.0, -1.0),), min_value=3.0, x_range=(-2.0, 2.0),
            y_range=(-3.0, 1.0), default_start=(-0.6, 0.5),
            description="values from 3 to a million: steep walls, several basins",
        ),
        Surface(
            "six_hump_camel", "Six-hump camel",
            r"f(x, y) = (4 - 2.1x^2 + x^4/3)\,x^2 + xy + (4y^2 - 4)\,y^2", _six_hump_camel,
            minima=((0.0898, -0.7126), (-0.0898, 0.7126)), min_value=-1.0316285,
            x_range=(-2.5, 2.5), y_range=(-1.5, 1.5), default_start=(-1.6, 1.1),
            description="six local minima, two of them global",
        ),
    ]
}


def get_surface(surface: str | Surface) -> Surface:
    """The surface called ``surface`` (or the object itself); ValueError listing valid names."""
    if isinstance(surface, Surface):
        return surface
    key = str(surface).strip().lower()
    if key not in SURFACES:
        raise ValueError(f"unknown surface {shown(surface)}; choose one of {', '.join(SURFACES)}")
    return SURFACES[key]
