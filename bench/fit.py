"""Fit race benchmark: optviz.fit_race against real Keras model.fit and a NumPy loop.

    python bench/fit.py

The job: the article's six optimizers (Keras defaults) each fit the linear model
(``Dense(1)``, mse) on 200 points (the ``line`` data set, standardized) for 20 epochs in
batches of 8, no shuffling: 25 batches an epoch, 500 steps each, from (0, 0).

1. ``optviz.fit_race``: all six in one compiled call, warm (median), and its first call
   (compile + run) in this process.
2. Real Keras 3 (JAX backend): ``model.fit(x, y, batch_size=8, epochs=20, shuffle=False)``
   per optimizer, a fresh model each; the first fit (Keras traces and compiles its train
   step) and a second fit of the same model (warm: the same 500 steps again).
3. NumPy: the same six Keras rules (bench/engine.py's), a Python loop over the batches
   computing each batch's mse gradient by hand.
4. Recompiles: what a batch size does to the compiled program. The batch is a traced mask,
   so the batch size changes no shape; only the number of steps the program holds does
   (its output block has one row per step, rounded up to a power of two). Batch 8 -> 1
   (500 -> 4000 steps) compiles once for the new bucket, unless the caller passes
   ``compile_steps`` (the page passes its largest epochs x batches).

Prints each figure and the ratios to optviz in one run; sanity: every peer's final
weights against optviz's.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import optviz.xla  # noqa: E402

optviz.xla.configure()  # as the page and the CLI do

import keras  # noqa: E402
import numpy as np  # noqa: E402
from engine import NUMPY_RULES, fmt_spread, fmt_time, timed  # noqa: E402  (bench/engine.py)
from machine import busy_cores, cpu_model, git_revision  # noqa: E402

import optviz  # noqa: E402
from optviz.engine import _fit_program  # noqa: E402

OPTIMIZERS = ("sgd", "nesterov", "adagrad", "rmsprop", "adam", "adamax")
N, EPOCHS, BATCH = 200, 20, 8
KERAS_CLASS = {"sgd": ("SGD", {}), "nesterov": ("SGD", {"nesterov": True, "momentum": 0.9}),
               "adagrad": ("Adagrad", {}), "rmsprop": ("RMSprop", {}), "adam": ("Adam", {}),
               "adamax": ("Adamax", {})}
F32 = np.float32


def data():
    d = optviz.datasets.load("line", n=N, standardize=True)
    return d.x.astype(F32), d.y.astype(F32)


def optviz_race(x, y, **kw):
    return optviz.fit_race("linear", x, y, list(OPTIMIZERS), batch_size=BATCH, epochs=EPOCHS, start=(0.0, 0.0),
                           **kw)


def keras_fits(x, y) -> tuple[float, float, dict]:
    """(first fits' total seconds, second fits' total seconds, name -> final weights after the first)."""
    first = second = 0.0
    finals = {}
    for name in OPTIMIZERS:
        cls, kw = KERAS_CLASS[name]
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.set_weights([np.zeros((1, 1), F32), np.zeros(1, F32)])
        model.compile(optimizer=getattr(keras.optimizers, cls)(**kw), loss="mse")
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
        first += time.perf_counter() - t0
        finals[name] = np.concatenate([w.ravel() for w in model.get_weights()])
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
        second += time.perf_counter() - t0
    return first, second, finals


def numpy_fits(x, y) -> dict:
    """name -> final weights: the six rules, one batch at a time in Python."""
    finals = {}
    xs, n = x[:, 0], len(x)
    with np.errstate(all="ignore"):
        for name in OPTIMIZERS:
            rule, init = NUMPY_RULES[name]
            state = {k: np.full(2, v, F32) for k, v in init.items()}
            w = np.zeros(2, F32)
            step = 0
            for _ in range(EPOCHS):
                for begin in range(0, n, BATCH):
                    bx, by = xs[begin:begin + BATCH], y[begin:begin + BATCH]
                    residual = by - (bx * w[0] + w[1])
                    scale = F32(-2.0) / F32(len(bx))
                    g = np.array([np.sum(residual * bx) * scale, np.sum(residual) * scale], F32)
                    step += 1
                    w = rule(g, w, state, F32(step)).astype(F32)
            finals[name] = w
    return finals


def main() -> None:
    print(f"fit race: six optimizers x {EPOCHS} epochs x {N} points, batch {BATCH} "
          f"({EPOCHS * -(-N // BATCH)} steps each)")
    print(f"  machine: {cpu_model()}, {os.cpu_count()} cores (busy: {busy_cores()}); commit {git_revision()}")
    x, y = data()

    t0 = time.perf_counter()
    ours = optviz_race(x, y)
    cold = time.perf_counter() - t0
    warm, times = timed(lambda: optviz_race(x, y), 20)
    print(f"  optviz.fit_race, first call (compile + run): {fmt_time(cold)}")
    print(f"  optviz.fit_race, warm: {fmt_spread(times)}")

    numpy_s, numpy_times = timed(lambda: numpy_fits(x, y), 3, warmup=0)
    numpy_final = numpy_fits(x, y)
    print(f"  NumPy loop: {fmt_spread(numpy_times)}")

    keras_first, keras_second, keras_final = keras_fits(x, y)
    print(f"  Keras model.fit x6, first fits (trace + compile + run): {fmt_time(keras_first)}; "
          f"second fits (warm): {fmt_time(keras_second)}")

    print("ratios (peer / optviz warm):")
    print(f"  Keras first fits / optviz = {keras_first / warm:.0f}x   Keras warm fits / optviz = "
          f"{keras_second / warm:.0f}x   NumPy / optviz = {numpy_s / warm:.0f}x   "
          f"Keras warm / optviz first call = {keras_second / cold:.2f}x")

    worst_keras = max(float(np.max(np.abs(ours[n].path[-1] - keras_final[n]))) for n in OPTIMIZERS)
    worst_numpy = max(float(np.max(np.abs(ours[n].path[-1] - numpy_final[n]))) for n in OPTIMIZERS)
    print(f"sanity: final weights, largest difference to Keras {worst_keras:.2e}, to NumPy {worst_numpy:.2e}")

    print("recompiles (batch size 8 -> 1: 500 -> 4000 steps):")
    before = _fit_program.cache_info().misses
    t0 = time.perf_counter()
    optviz.fit_race("linear", x, y, list(OPTIMIZERS), batch_size=1, epochs=EPOCHS)
    print(f"  without compile_steps: {_fit_program.cache_info().misses - before} new program(s), "
          f"first call {fmt_time(time.perf_counter() - t0)}")
    optviz_race(x, y, compile_steps=4000)  # the page's way: one program for every batch size
    before = _fit_program.cache_info().misses
    big, big_times = timed(lambda: optviz_race(x, y, compile_steps=4000), 10)
    t0 = time.perf_counter()
    optviz.fit_race("linear", x, y, list(OPTIMIZERS), batch_size=1, epochs=EPOCHS, compile_steps=4000)
    print(f"  with compile_steps=4000: {_fit_program.cache_info().misses - before} new program(s); batch 1 "
          f"{fmt_time(time.perf_counter() - t0)}; batch 8 warm {fmt_spread(big_times)} "
          f"({big / warm:.2f}x the 512-step program's)")
    print(f"  (median of the warm batch-8 times: {fmt_time(statistics.median(times))})")


if __name__ == "__main__":
    main()
