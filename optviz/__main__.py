"""Command line: ``python -m optviz trajectory|sweep|list``.

Bad input exits with status 2 and one line on stderr (never a traceback).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Sequence

import numpy as np

from .engine import DEFAULT_TOLERANCE, MAX_STEPS, simulate, sweep
from .optimizers import OPTIMIZERS, get_optimizer
from .surfaces import SURFACES


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line, via UsageError."""

    def error(self, message):  # noqa: D401 - argparse's hook
        raise UsageError(message)


# CLI flag -> Keras hyperparameter name. Every hyperparameter any optimizer has.
_HPARAM_FLAGS = sorted({h.name for o in OPTIMIZERS.values() for h in o.hparams} - {"learning_rate"})


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _add_run_options(p: argparse.ArgumentParser, *, sweep_mode: bool) -> None:
    p.add_argument("--optimizer", required=True, help=", ".join(OPTIMIZERS))
    p.add_argument("--surface", default="rosenbrock", help=", ".join(SURFACES))
    p.add_argument("--start", nargs=2, type=float, metavar=("X", "Y"), help="default: the surface's start")
    p.add_argument("--steps", type=int, default=200, help=f"1 to {MAX_STEPS}")
    p.add_argument("--noise", type=float, default=0.0, help="std of Gaussian noise added to each gradient")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kappa", type=float, help="the quadratic surface's condition number")
    if not sweep_mode:
        p.add_argument("--learning-rate", type=float)
    for name in _HPARAM_FLAGS:
        kind = _bool if name in ("centered", "amsgrad") else float
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=f"Keras's `{name}`")
    p.add_argument("--format", choices=("json", "csv"), default="json")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m optviz", description="Keras 3 optimizer paths on 2-D loss surfaces.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("trajectory", help="one optimizer's path and loss")
    _add_run_options(t, sweep_mode=False)
    s = sub.add_parser("sweep", help="a learning rate x momentum grid")
    _add_run_options(s, sweep_mode=True)
    s.add_argument("--learning-rates", nargs="+", type=float, help="default: 16 values log-spaced from 1e-4 to 1")
    s.add_argument("--momenta", nargs="+", type=float, help="momentum (beta_1 for adam, adamax); default: 0..0.95")
    s.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    ls = sub.add_parser("list", help="optimizers and surfaces with their defaults")
    ls.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _hyperparameters(args, optimizer) -> dict:
    """The hyperparameters given on the command line; one the optimizer lacks is an error."""
    given = {name: getattr(args, name) for name in _HPARAM_FLAGS if getattr(args, name, None) is not None}
    if getattr(args, "learning_rate", None) is not None:
        given["learning_rate"] = args.learning_rate
    for name in given:
        if name not in optimizer.defaults:
            raise ValueError(
                f"--{name.replace('_', '-')}: {optimizer.name} has no `{name}` "
                f"(it takes {', '.join(optimizer.defaults)})"
            )
    return given


def _surface_params(args) -> dict:
    return {} if args.kappa is None else {"kappa": args.kappa}


def _trajectory(args, out) -> None:
    optimizer = get_optimizer(args.optimizer)
    tr = simulate(
        optimizer, args.surface, args.start, args.steps, noise=args.noise, seed=args.seed,
        surface_params=_surface_params(args), **_hyperparameters(args, optimizer),
    )
    if args.format == "json":
        json.dump(
            {
                "optimizer": tr.optimizer,
                "surface": tr.surface,
                "hyperparameters": tr.hyperparameters,
                "keras": optimizer.keras_code(tr.hyperparameters),
                "steps": tr.steps,
                "diverged_at": tr.diverged_at,
                "path": tr.path.astype(float).tolist(),
                "loss": tr.loss.astype(float).tolist(),
            },
            out,
        )
        out.write("\n")
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["step", "x", "y", "loss"])
        for k, ((x, y), loss) in enumerate(zip(tr.path.tolist(), tr.loss.tolist())):
            writer.writerow([k, repr(x), repr(y), repr(loss)])


def _sweep(args, out) -> None:
    optimizer = get_optimizer(args.optimizer)
    fixed = _hyperparameters(args, optimizer)
    axis = optimizer.momentum_like
    if axis in fixed and args.momenta is None:
        args.momenta = [fixed.pop(axis)]
    learning_rates = args.learning_rates or np.logspace(-4, 0, 16).tolist()
    momenta = args.momenta
    if momenta is None and axis:
        momenta = np.linspace(0, 0.95, 8).round(4).tolist()
    result = sweep(
        optimizer, args.surface, args.start, args.steps, learning_rates, momenta,
        tolerance=args.tolerance, noise=args.noise, seed=args.seed, surface_params=_surface_params(args), **fixed,
    )
    if args.format == "json":
        json.dump(
            {
                "optimizer": result.optimizer,
                "surface": result.surface,
                "momentum_name": result.momentum_name,
                "learning_rates": result.learning_rates.tolist(),
                "momenta": [None if np.isnan(m) else m for m in result.momenta.tolist()],
                "final_loss": result.final_loss.tolist(),
                "steps_to_tolerance": result.steps_to_tolerance.tolist(),
                "diverged": result.diverged.tolist(),
                "steps": result.steps,
                "tolerance": result.tolerance,
            },
            out,
        )
        out.write("\n")
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["learning_rate", result.momentum_name or "momentum", "final_loss", "steps_to_tolerance", "diverged"])
        for i, lr in enumerate(result.learning_rates):
            for j, m in enumerate(result.momenta):
                writer.writerow([
                    repr(float(lr)), "" if np.isnan(m) else repr(float(m)), repr(float(result.final_loss[i, j])),
                    int(result.steps_to_tolerance[i, j]), bool(result.diverged[i, j]),
                ])


def _list(args, out) -> None:
    optimizers = {
        o.name: {"keras": o.keras_class + ("(nesterov=True)" if o.keras_fixed else ""), "defaults": o.defaults}
        for o in OPTIMIZERS.values()
    }
    surfaces = {
        s.name: {
            "name": s.display_name, "start": list(s.default_start), "minima": [list(m) for m in s.minima],
            "min_value": s.min_value, "parameters": dict(s.params),
        }
        for s in SURFACES.values()
    }
    if args.format == "json":
        json.dump({"optimizers": optimizers, "surfaces": surfaces}, out, indent=1)
        out.write("\n")
        return
    out.write("Optimizers (Keras 3 defaults):\n")
    for name, info in optimizers.items():
        params = ", ".join(f"{k}={v}" for k, v in info["defaults"].items())
        out.write(f"  {name:<10} keras.optimizers.{info['keras']:<22} {params}\n")
    out.write("Surfaces:\n")
    for name, info in surfaces.items():
        extra = "".join(f", {k}={v:g}" for k, v in info["parameters"].items())
        out.write(f"  {name:<16} {info['name']:<26} start={tuple(info['start'])}{extra}\n")


def main(argv: Sequence[str] | None = None, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
        buffer = io.StringIO()  # nothing reaches stdout unless the whole command succeeds
        {"trajectory": _trajectory, "sweep": _sweep, "list": _list}[args.command](args, buffer)
    except (UsageError, ValueError) as exc:
        err.write(f"optviz: error: {exc}\n")
        return 2
    out.write(buffer.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
