"""Command line: ``optviz trajectory|sweep|fit|list|serve`` (or ``python -m optviz ...``).

Every Keras hyperparameter of the fourteen optimizers, and the options every Keras
optimizer takes (weight decay, clipping), is a flag: ``--beta-1``, ``--weight-decay``,
``--learning-rate-power``... A learning-rate schedule is given in Keras's serialized
form: ``--learning-rate-json '{"class_name": "CosineDecay", "config": {...}}'``.
``optviz fit`` trains a two-weight Keras model (linear, logistic, plane) on a named data
set (``--dataset anscombe``) or a CSV file (``--csv data.csv --x col --y col``), batch by
batch as ``model.fit`` does; ``--format keras`` prints the runnable Keras program.
``--framework pytorch`` or ``--framework optax`` runs that framework's optimizer, with its
own names as flags (``--lr``, ``--betas B1 B2``, ``--eps``; ``--b1``, ``--eps-root``) and a
constant learning rate; ``optviz list --framework pytorch`` lists them.
Bad input exits with status 2 and one line on stderr (never a traceback).
``optviz serve [--replicas N] [streamlit options]`` starts the page (``--server.port 8502`` and
the like pass through to ``streamlit run``); with N > 1, N page processes behind nginx
(optviz/serving.py).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from . import datasets, schedules, serving, xla
from .checks import parse_bool
from .engine import DEFAULT_TOLERANCE, MAX_STEPS, fit, simulate, sweep
from .models import MODELS, keras_program
from .optimizers import (
    ALL_OPTIMIZERS,
    COMMON_OPTIONS,
    ENGINE_OPTIMIZERS,
    FRAMEWORK_NAMES,
    FRAMEWORK_OPTIMIZERS,
    FRAMEWORKS,
    get_optimizer,
)
from .surfaces import SURFACES


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line, via UsageError."""

    def error(self, message):  # noqa: D401 - argparse's hook
        raise UsageError(message)


# CLI flag -> hyperparameter name. Every hyperparameter any optimizer of any framework
# has, and Keras's common options (weight_decay, clipnorm, clipvalue, global_clipnorm).
_HPARAMS: dict = {}
for _o in ENGINE_OPTIMIZERS.values():
    for _h in (*_o.hparams, *_o.options):
        _HPARAMS.setdefault(_h.name, _h)
_HPARAM_FLAGS = sorted(set(_HPARAMS) - {"learning_rate"})


def _bool(text: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}") from None


# A list of schedules nests four deep (list, schedule, config, boundaries); anything much
# deeper is hostile, and Python's JSON parser and repr() recurse once per level.
MAX_JSON_DEPTH = 10


def _json_depth(value) -> int:
    """How deep lists and objects nest in ``value`` (without recursion), stopping past MAX_JSON_DEPTH."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_JSON_DEPTH:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _json(text: str):
    try:
        value = json.loads(text)
    except RecursionError:  # not a ValueError: argparse would let it through as a traceback
        raise argparse.ArgumentTypeError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if _json_depth(value) > MAX_JSON_DEPTH:
        raise argparse.ArgumentTypeError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def _add_run_options(p: argparse.ArgumentParser, *, sweep_mode: bool, fit_mode: bool = False) -> None:
    p.add_argument("--optimizer", required=True, help=", ".join(ALL_OPTIMIZERS) + " (Keras's; see optviz list "
                   "--framework pytorch|optax for the others)")
    if fit_mode:
        p.add_argument("--model", help=f"{', '.join(MODELS)} (default: the data set's)")
        data = p.add_mutually_exclusive_group(required=True)
        data.add_argument("--dataset", help=", ".join(datasets.DATASETS))
        data.add_argument("--csv", type=Path, metavar="PATH", help="a CSV file with a header row")
        p.add_argument("--x", nargs="+", metavar="COLUMN", help="--csv's input column(s) (default: the first)")
        p.add_argument("--y", metavar="COLUMN", help="--csv's target column (default: the last)")
        p.add_argument("--n", type=int, help="a synthetic data set's size")
        p.add_argument("--data-noise", type=float, help="a synthetic data set's noise")
        p.add_argument("--data-seed", type=int, default=0, help="a synthetic data set's seed")
        p.add_argument("--standardize", action="store_true", help="centre and scale each input column")
        p.add_argument("--batch-size", type=int, default=32)
        p.add_argument("--epochs", type=int, default=1)
        p.add_argument("--shuffle", action="store_true", help="optviz's seeded order each epoch (--seed)")
        p.add_argument("--start", nargs=2, type=float, metavar=("W0", "W1"), help="the two weights (default 0 0)")
        p.add_argument("--seed", type=int, default=0)
    else:  # (model.fit is Keras's: a fit takes Keras's optimizers)
        p.add_argument("--framework", choices=FRAMEWORKS, default="keras",
                       help="whose optimizer: Keras's (default), PyTorch's or optax's, with that framework's names")
        p.add_argument("--surface", default="rosenbrock", help=", ".join(SURFACES))
        p.add_argument("--start", nargs=2, type=float, metavar=("X", "Y"), help="default: the surface's start")
        p.add_argument("--steps", type=int, default=200, help=f"1 to {MAX_STEPS}")
        p.add_argument("--noise", type=float, default=0.0, help="std of Gaussian noise added to each gradient")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--kappa", type=float, help="the quadratic surface's condition number")
    if not sweep_mode:
        rate = p.add_mutually_exclusive_group()
        rate.add_argument("--learning-rate", type=float)
        rate.add_argument("--learning-rate-json", type=_json, metavar="JSON",
                          help='a Keras schedule, e.g. \'{"class_name": "CosineDecay", "config": '
                               '{"initial_learning_rate": 0.1, "decay_steps": 200}}\' (or a number)')
    for name in _HPARAM_FLAGS:
        spec = _HPARAMS[name]
        kind = {"bool": _bool, "int": int}.get(spec.kind, float)
        owners = sorted({FRAMEWORK_NAMES[o.framework] for o in ENGINE_OPTIMIZERS.values()
                         if name in o.all_defaults}, key=list(FRAMEWORK_NAMES.values()).index)
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, nargs=2 if spec.kind == "pair" else None,
                       metavar=("B1", "B2") if spec.kind == "pair" else None,
                       help=f"{' and '.join(owners)}'s `{name}`")
    p.add_argument("--format", choices=("json", "csv", "keras") if fit_mode else ("json", "csv"), default="json")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="optviz", description="Keras 3 optimizer paths on 2-D loss surfaces.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("trajectory", help="one optimizer's path and loss")
    _add_run_options(t, sweep_mode=False)
    s = sub.add_parser("sweep", help="a learning rate x momentum grid")
    _add_run_options(s, sweep_mode=True)
    rates = s.add_mutually_exclusive_group()
    rates.add_argument("--learning-rates", nargs="+", type=float, help="default: 16 values log-spaced from 1e-4 to 1")
    rates.add_argument("--learning-rates-json", type=_json, metavar="JSON",
                       help="a JSON list of learning rates: numbers or Keras schedules")
    s.add_argument("--momenta", nargs="+", type=float,
                   help="the momentum-like hyperparameter (momentum for sgd, nesterov, rmsprop; beta_1 for the "
                        "Adam family, lion, lamb, schedulefreeadamw); default: 8 values from 0 (or 0.05) to 0.95")
    s.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    f = sub.add_parser("fit", help="a two-weight Keras model's model.fit on a data set, batch by batch")
    _add_run_options(f, sweep_mode=False, fit_mode=True)
    ls = sub.add_parser("list", help="optimizers, options, schedules and surfaces with their defaults")
    ls.add_argument("--format", choices=("text", "json"), default="text")
    ls.add_argument("--framework", choices=FRAMEWORKS, default="keras",
                    help="list Keras's optimizers (default), PyTorch's or optax's")
    serve = sub.add_parser("serve", help="start the page: --replicas N Streamlit processes (default one per core) "
                                         "behind nginx; Streamlit's options such as --server.port 8502 pass through",
                           prefix_chars="\0")  # (every option is Streamlit's, none is ours)
    serve.add_argument("streamlit_options", nargs=argparse.REMAINDER)
    return parser


def _serve(args) -> int:
    return serving.serve(args.streamlit_options)


def _hyperparameters(args, optimizer) -> dict:
    """The hyperparameters given on the command line; one the optimizer lacks is an error."""
    given = {name: getattr(args, name) for name in _HPARAM_FLAGS if getattr(args, name, None) is not None}
    if getattr(args, "learning_rate", None) is not None:
        given["learning_rate"] = args.learning_rate
    if getattr(args, "learning_rate_json", None) is not None:
        given["learning_rate"] = args.learning_rate_json
    for name in given:
        if name not in optimizer.all_defaults:
            raise ValueError(
                f"--{name.replace('_', '-')}: {optimizer.where} has no `{name}` "
                f"(it takes {', '.join(optimizer.all_defaults)})"
            )
        if isinstance(given[name], list):  # --betas B1 B2
            given[name] = tuple(given[name])
    return given


def _surface_params(args) -> dict:
    return {} if args.kappa is None else {"kappa": args.kappa}


def _dump_json(data, out) -> None:
    """Strict JSON (no NaN or Infinity, which JSON parsers refuse)."""
    try:
        out.write(json.dumps(data, allow_nan=False))
    except ValueError:
        raise ValueError("the result holds a number JSON cannot write (inf or NaN); "
                         "check the learning rate or schedule") from None


def _trajectory(args, out) -> None:
    optimizer = get_optimizer(args.optimizer, args.framework)
    tr = simulate(
        optimizer, args.surface, args.start, args.steps, noise=args.noise, seed=args.seed,
        surface_params=_surface_params(args), **_hyperparameters(args, optimizer),
    )
    if args.format == "json":
        _dump_json(
            {
                "optimizer": tr.optimizer,
                "framework": tr.framework,
                "surface": tr.surface,
                "hyperparameters": tr.hyperparameters,
                **({"keras": optimizer.keras_code(tr.hyperparameters)} if tr.framework == "keras" else {}),
                "code": optimizer.code(tr.hyperparameters),
                "steps": tr.steps,
                "diverged_at": tr.diverged_at,
                "path": tr.path.astype(float).tolist(),
                "loss": tr.loss.astype(float).tolist(),
                "learning_rate": tr.learning_rate.astype(float).tolist(),
                # (JSON has no NaN: a point where the surface has no second derivative is null.)
                "sharpness": [v if math.isfinite(v) else None for v in tr.sharpness.astype(float).tolist()],
            },
            out,
        )
        out.write("\n")
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["step", "x", "y", "loss", "learning_rate", "sharpness"])
        rows = zip(tr.path.tolist(), tr.loss.tolist(), tr.learning_rate.tolist(), tr.sharpness.tolist())
        for k, ((x, y), loss, rate, sharp) in enumerate(rows):
            writer.writerow([k, repr(x), repr(y), repr(loss), repr(rate), repr(sharp)])


def _sweep(args, out) -> None:
    optimizer = get_optimizer(args.optimizer, args.framework)
    fixed = _hyperparameters(args, optimizer)
    axis = optimizer.momentum_like
    if axis in fixed and args.momenta is None:
        args.momenta = [fixed.pop(axis)]
    pair = axis and axis.endswith("[0]") and axis[:-3]
    if pair and pair in fixed and args.momenta is None:  # --betas B1 B2: sweep B1 alone
        args.momenta = [fixed[pair][0]]
    if args.learning_rates_json is not None:
        given = args.learning_rates_json
        learning_rates = given if isinstance(given, list) else [given]
    else:
        learning_rates = args.learning_rates or np.logspace(-4, 0, 16).tolist()
    momenta = args.momenta
    if momenta is None and axis:
        spec = optimizer.hparam(axis)
        low = 0.05 if spec.low_open else 0.0  # lion's and schedulefreeadamw's beta_1 must be > 0
        momenta = np.linspace(low, 0.95, 8).round(4).tolist()
    result = sweep(
        optimizer, args.surface, args.start, args.steps, learning_rates, momenta,
        tolerance=args.tolerance, noise=args.noise, seed=args.seed, surface_params=_surface_params(args), **fixed,
    )
    if args.format == "json":
        _dump_json(
            {
                "optimizer": result.optimizer,
                "framework": result.framework,
                "surface": result.surface,
                "momentum_name": result.momentum_name,
                "learning_rates": result.learning_rates.tolist(),
                "learning_rate_schedules": list(result.learning_rate_schedules),
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
        writer.writerow(["learning_rate", result.momentum_name or "momentum", "final_loss", "steps_to_tolerance",
                         "diverged"])
        for i, lr in enumerate(result.learning_rates):
            for j, m in enumerate(result.momenta):
                writer.writerow([
                    repr(float(lr)), "" if np.isnan(m) else repr(float(m)), repr(float(result.final_loss[i, j])),
                    int(result.steps_to_tolerance[i, j]), bool(result.diverged[i, j]),
                ])


MAX_CSV_BYTES = 1_000_000  # a data set for a two-weight model is small; refuse a large file unread


def _read_csv_columns(path: Path, x_columns, y_column) -> tuple[np.ndarray, np.ndarray, str]:
    """x (n, k) and y (n,) from a CSV file with a header row; ValueError naming --csv,
    --x or --y."""
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise ValueError(f"--csv: {path} is larger than {MAX_CSV_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--csv: cannot read {path} ({exc.__class__.__name__})") from None
    rows = list(csv.reader(line for line in text.splitlines() if line.strip() and not line.startswith("#")))
    if len(rows) < 2:
        raise ValueError(f"--csv: {path} needs a header row and at least one row of numbers")
    header = [name.strip() for name in rows[0]]
    x_columns = list(x_columns or header[:1])
    y_column = y_column or header[-1]
    for flag, name in [*(("--x", c) for c in x_columns), ("--y", y_column)]:
        if name not in header:
            raise ValueError(f"{flag}: no column {name!r} in {path} (it has {', '.join(header)})")
    picked = [header.index(c) for c in x_columns] + [header.index(y_column)]
    try:
        table = np.array([[float(row[i]) for i in picked] for row in rows[1:]], np.float64)
    except (ValueError, IndexError):
        raise ValueError(f"--csv: every row of {path} must hold a number in columns "
                         f"{', '.join(x_columns + [y_column])}") from None
    return table[:, :-1], table[:, -1], f"{path.name}: {', '.join(x_columns)} -> {y_column}"


def _fit(args, out) -> None:
    optimizer = get_optimizer(args.optimizer)
    if args.dataset is not None:
        data = datasets.load(args.dataset, n=args.n, noise=args.data_noise, seed=args.data_seed,
                             standardize=args.standardize)
        x, y, model, about = data.x, data.y, args.model or data.model, data.name
    else:
        if args.model is None:
            raise ValueError("--model: give the model (linear, logistic or plane) for a --csv file")
        x, y, about = _read_csv_columns(args.csv, args.x, args.y)
        if args.standardize:
            x = datasets.standardized(datasets.DataSet("csv", args.model, x, y, about)).x
        model = args.model
    hyperparameters = _hyperparameters(args, optimizer)
    kw = dict(batch_size=args.batch_size, epochs=args.epochs, start=args.start or (0.0, 0.0), shuffle=args.shuffle,
              seed=args.seed)
    tr = fit(optimizer, model, x, y, **kw, **hyperparameters)
    if args.format == "keras":
        out.write(keras_program(optimizer, hyperparameters, model, x, y, about=about, **kw))
    elif args.format == "json":
        _dump_json(
            {
                "optimizer": tr.optimizer, "model": tr.surface, "data": about, "hyperparameters": tr.hyperparameters,
                "keras": optimizer.keras_code(tr.hyperparameters), "batch_size": tr.batch_size,
                "epochs": tr.epochs, "shuffle": tr.shuffle, "steps": tr.steps, "diverged_at": tr.diverged_at,
                "minimum": [list(m) for m in tr.minima], "path": tr.path.astype(float).tolist(),
                "loss": tr.loss.astype(float).tolist(), "batch_loss": tr.batch_loss.astype(float).tolist(),
            },
            out,
        )
        out.write("\n")
    else:
        w0, w1 = MODELS[tr.surface].coordinates
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["step", w0, w1, "loss", "batch_loss"])
        for k, ((a, b), loss, batch) in enumerate(zip(tr.path.tolist(), tr.loss.tolist(), tr.batch_loss.tolist())):
            writer.writerow([k, repr(a), repr(b), repr(loss), repr(batch)])


def _api(o) -> str:
    """The optimizer's class or function in its framework's code."""
    if o.framework == "keras":
        return "keras.optimizers." + o.keras_class + ("(nesterov=True)" if o.keras_fixed else "")
    return ("torch.optim." if o.framework == "pytorch" else "optax.") + o.api_name


def _list(args, out) -> None:
    framework = args.framework
    optimizers = {
        o.name: {
            **({"keras": o.keras_class + ("(nesterov=True)" if o.keras_fixed else "")} if framework == "keras" else {}),
            "api": _api(o),
            "defaults": o.defaults,
            "momentum_like": o.momentum_like,
            "state": list(o.slot_names),
        }
        for o in FRAMEWORK_OPTIMIZERS[framework].values()
    }
    options = {h.name: h.help for h in COMMON_OPTIONS}
    schedule_info = {
        name: {field: ("required" if default is schedules._REQUIRED else default)
               for field, (default, _) in fields.items()}
        for name, fields in schedules.SCHEDULES.items()
    }
    surfaces = {
        s.name: {
            "name": s.display_name, "start": list(s.default_start), "minima": [list(m) for m in s.minima],
            "min_value": s.min_value, "parameters": dict(s.params),
        }
        for s in SURFACES.values()
    }
    models = {m.name: {"name": m.display_name, "keras": m.layer, "loss": m.loss, "weights": list(m.coordinates)}
              for m in MODELS.values()}
    data_sets = {name: {"model": spec.model, "about": spec.description, "synthetic": spec.synthetic}
                 for name, spec in datasets.DATASETS.items()}
    if framework != "keras":  # Keras's options and schedules are not theirs
        options, schedule_info = {}, {}
    if args.format == "json":
        json.dump({"framework": framework, "optimizers": optimizers, "options": options, "schedules": schedule_info,
                   "surfaces": surfaces, "models": models, "datasets": data_sets}, out, indent=1)
        out.write("\n")
        return
    if framework != "keras":
        out.write(f"Optimizers ({FRAMEWORK_NAMES[framework]}'s names and defaults; a constant learning rate, "
                  f"schedules are Keras's; run with --framework {framework}):\n")
        for name, info in optimizers.items():
            params = ", ".join(f"{k}={v}" for k, v in info["defaults"].items())
            out.write(f"  {name:<11} {info['api']:<20} {params}\n")
        _list_surfaces(surfaces, out)
        _list_data(models, data_sets, out)
        return
    out.write("Optimizers (Keras 3 defaults):\n")
    for name, info in optimizers.items():
        params = ", ".join(f"{k}={v}" for k, v in info["defaults"].items())
        out.write(f"  {name:<17} keras.optimizers.{info['keras']:<22} {params}\n")
    out.write("Options of every optimizer (unset by default; AdamW's weight_decay defaults to 0.004; "
              "at most one of the three clip options):\n")
    for name, text in options.items():
        out.write(f"  {name:<17} {text}\n")
    out.write("Learning-rate schedules (--learning-rate-json '{\"class_name\": ..., \"config\": {...}}'):\n")
    for name, fields in schedule_info.items():
        params = ", ".join(f"{k}" if v == "required" else f"{k}={v}" for k, v in fields.items() if k != "name")
        out.write(f"  {name:<23} {params}\n")
    _list_surfaces(surfaces, out)
    _list_data(models, data_sets, out)


def _list_surfaces(surfaces, out) -> None:
    out.write("Surfaces:\n")
    for name, info in surfaces.items():
        extra = "".join(f", {k}={v:g}" for k, v in info["parameters"].items())
        out.write(f"  {name:<16} {info['name']:<26} start={tuple(info['start'])}{extra}\n")


def _list_data(models, data_sets, out) -> None:
    out.write("Models (optviz fit --model):\n")
    for name, info in models.items():
        out.write(f"  {name:<16} {info['keras']:<45} loss={info['loss']}, weights {', '.join(info['weights'])}\n")
    out.write("Data sets (optviz fit --dataset; synthetic ones take --n, --data-noise, --data-seed):\n")
    for name, info in data_sets.items():
        out.write(f"  {name:<16} {info['model']:<9} {info['about']}\n")


def main(argv: Sequence[str] | None = None, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
        xla.configure()  # before the first computation starts JAX's backend
        if args.command == "serve":
            return _serve(args)
        buffer = io.StringIO()  # nothing reaches stdout unless the whole command succeeds
        {"trajectory": _trajectory, "sweep": _sweep, "fit": _fit, "list": _list}[args.command](args, buffer)
    except RecursionError:  # a last guard, should some input still nest too deep for Python
        err.write("optviz: error: the input nests too deeply\n")
        return 2
    except (UsageError, ValueError) as exc:
        # One line, whatever the user typed into the message (a newline in a JSON key).
        message = str(exc).replace("\r", "\\r").replace("\n", "\\n")
        err.write(f"optviz: error: {message}\n")
        return 2
    try:
        out.write(buffer.getvalue())
        out.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error to report
        if out is sys.stdout:  # and Python's own flush at exit must not report it either
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


def main_exit() -> None:
    """The ``optviz`` console script."""
    sys.exit(main())
