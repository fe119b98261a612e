"""Regenerate optviz/tuned.json: per surface, a learning rate per optimizer that moves visibly.

    python tools/tune_presets.py

For each surface and optimizer it sweeps 41 learning rates (1e-5 to 1, log) at the
page's default steps with the preset's momentum, and keeps the one with the lowest
|log(steps to reach the minimum / 200)| (it arrives, visibly, within the race), or
failing that the lowest loss gap, among runs that stay inside the view box and never
jump more than 8% of its diagonal; on a surface with no minimum (the saddle) it keeps
the one that travels furthest while staying in view. Ties go to the smaller rate (a calmer path to watch).

On each data surface (a model's loss over a data set) it fits the page's default batches
(8) and epochs (10) from the surface's start with rates 1e-4 to 1 (every other notch of
the page's slider) and keeps the smallest rate whose final loss gap is within 5 % of the
best one's.
"""

import json
from pathlib import Path

import numpy as np

import optviz
from optviz.bounds import LEARNING_RATES
from optviz.models import DATA_SURFACES, data_surface
from optviz.presets import TUNED_MOMENTUM, TUNED_STEPS
from optviz.state import PageState

RATES = np.logspace(-5, 0, 41)


def tune(surface: optviz.Surface) -> dict:
    out = {}
    for name, opt in optviz.ARTICLE_OPTIMIZERS.items():
        fixed = {"momentum": TUNED_MOMENTUM if name != "rmsprop" else 0.0} if "momentum" in opt.defaults else {}
        best, best_score = None, np.inf
        for lr in RATES:
            tr = optviz.simulate(name, surface, None, TUNED_STEPS, learning_rate=float(lr), **fixed)
            end = tr.path[-1]
            in_view = (surface.x_range[0] <= end[0] <= surface.x_range[1]
                       and surface.y_range[0] <= end[1] <= surface.y_range[1])
            jumps = np.linalg.norm(np.diff(tr.path, axis=0), axis=1)
            diagonal = np.hypot(np.ptp(surface.x_range), np.ptp(surface.y_range))
            if tr.diverged_at is not None or not in_view or jumps.max(initial=0) > 0.08 * diagonal:
                continue  # off the chart, or jumps too far between steps to follow by eye
            if surface.min_value is None:
                score = -float(np.linalg.norm(end - tr.path[0]))
            else:
                reached = tr.steps_to_tolerance(1e-3)
                if reached is not None:  # arrives: prefer arriving around 40% of the way through
                    score = abs(np.log(max(reached, 1) / (0.4 * TUNED_STEPS)))
                else:  # never arrives: the lowest loss gap
                    score = 10 + float(np.log10(max(tr.final_loss - surface.min_value, 1e-9)))
            if score < best_score - 1e-3:
                best, best_score = float(lr), score
        out[name] = float(f"{best:.3g}") if best else opt.defaults["learning_rate"]
    return out


def tune_data(name: str) -> dict:
    surface = data_surface(name)
    rates = [r for r in LEARNING_RATES if r >= 1e-4][::2]
    out = {}
    for opt in optviz.ARTICLE_OPTIMIZERS:
        scores = []
        for lr in rates:
            hp = {"learning_rate": lr, **({"momentum": TUNED_MOMENTUM} if opt in ("sgd", "nesterov") else {})}
            tr = optviz.fit(opt, surface.model, surface.data.x, surface.data.y, batch_size=PageState.batch_size,
                            epochs=PageState.epochs, start=surface.default_start, **hp)
            if tr.diverged_at is None and np.isfinite(tr.final_loss):
                scores.append((tr.final_loss - (surface.min_value or 0.0), lr))
        gap = max(min(scores)[0], 1e-12)
        out[opt] = float(f"{min(lr for loss, lr in scores if loss <= 1.05 * gap + 1e-9):.3g}")
    return out


if __name__ == "__main__":
    table = {name: tune(s) for name, s in optviz.SURFACES.items()}
    table.update({name: tune_data(name) for name in DATA_SURFACES})
    path = Path(__file__).resolve().parents[1] / "optviz" / "tuned.json"
    path.write_text(json.dumps(table, indent=1) + "\n")
    print(json.dumps(table, indent=1))
