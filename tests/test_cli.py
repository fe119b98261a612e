"""python -m optviz: trajectory, sweep and list; bad input exits 2 with one line."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optviz
from optviz.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_trajectory_json_is_the_engine_path():
    code, out, err = run("trajectory", "--optimizer", "adam", "--surface", "rosenbrock", "--start", "-1.5", "2",
                         "--steps", "200", "--learning-rate", "0.01", "--beta-1", "0.8", "--format", "json")
    assert code == 0 and err == ""
    data = json.loads(out)
    tr = optviz.simulate("adam", "rosenbrock", (-1.5, 2), 200, learning_rate=0.01, beta_1=0.8)
    np.testing.assert_array_equal(np.array(data["path"], np.float32), tr.path)
    np.testing.assert_array_equal(np.array(data["loss"], np.float32), tr.loss)
    assert data["keras"] == "keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8)"


def test_trajectory_csv_parses_back():
    code, out, _ = run("trajectory", "--optimizer", "rmsprop", "--surface", "quadratic", "--kappa", "20",
                       "--steps", "30", "--rho", "0.5", "--centered", "true", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 31 and rows[0]["step"] == "0"
    tr = optviz.simulate("rmsprop", "quadratic", None, 30, rho=0.5, centered=True, surface_params={"kappa": 20})
    path = np.array([[float(r["x"]), float(r["y"])] for r in rows], np.float32)
    np.testing.assert_array_equal(path, tr.path)


def test_sweep_json_matches_the_engine():
    code, out, _ = run("sweep", "--optimizer", "sgd", "--surface", "quadratic", "--steps", "100",
                       "--learning-rates", "0.001", "0.01", "0.2", "--momenta", "0", "0.9")
    assert code == 0
    data = json.loads(out)
    result = optviz.sweep("sgd", "quadratic", None, 100, [0.001, 0.01, 0.2], [0, 0.9])
    np.testing.assert_allclose(data["final_loss"], result.final_loss)
    assert data["diverged"] == result.diverged.tolist()
    assert np.array(data["final_loss"]).shape == (3, 2)


def test_list_names_every_optimizer_and_surface_with_defaults():
    code, out, _ = run("list")
    assert code == 0
    for name in list(optviz.OPTIMIZERS) + list(optviz.SURFACES):
        assert name in out
    assert "beta_2=0.999" in out and "initial_accumulator_value=0.1" in out
    code, out, _ = run("list", "--format", "json")
    assert json.loads(out)["optimizers"]["nesterov"]["defaults"]["momentum"] == 0.9


@pytest.mark.parametrize(
    "args,needle",
    [
        (["trajectory", "--optimizer", "sophia"], "unknown optimizer"),
        (["trajectory", "--optimizer", "sgd", "--surface", "moon"], "unknown surface"),
        (["trajectory", "--optimizer", "sgd", "--learning-rate", "-1"], "learning_rate"),
        (["trajectory", "--optimizer", "sgd", "--momentum", "1.5"], "momentum"),
        (["trajectory", "--optimizer", "adam", "--rho", "0.9"], "rho"),
        (["trajectory", "--optimizer", "sgd", "--steps", "0"], "steps"),
        (["trajectory", "--optimizer", "sgd", "--steps", "many"], "steps"),
        (["trajectory", "--optimizer", "sgd", "--start", "nan", "1"], "start"),
        (["trajectory", "--optimizer", "adam", "--epsilon", "0"], "epsilon"),
        (["trajectory", "--optimizer", "sgd", "--format", "xml"], "format"),
        (["sweep", "--optimizer", "adam", "--momenta", "1.0"], "beta_1"),
        (["fly"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle):
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_real_process_exit_status_and_stderr():
    bad = subprocess.run([sys.executable, "-m", "optviz", "trajectory", "--optimizer", "sgd", "--rho", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "rho" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "optviz", "trajectory", "--optimizer", "nesterov", "--surface", "quadratic", "--steps", "5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0 and len(json.loads(good.stdout)["path"]) == 6
