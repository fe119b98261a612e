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
from optviz.cli import main
from optviz.optimizers import FRAMEWORK_OPTIMIZERS

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
    for name in list(optviz.ARTICLE_OPTIMIZERS) + list(optviz.SURFACES):
        assert name in out
    assert "beta_2=0.999" in out and "initial_accumulator_value=0.1" in out
    code, out, _ = run("list", "--format", "json")
    assert json.loads(out)["optimizers"]["nesterov"]["defaults"]["momentum"] == 0.9


def test_list_names_all_fourteen_optimizers_the_options_and_the_schedules():
    code, out, _ = run("list")
    assert code == 0
    for name in optviz.optimizers.ALL_OPTIMIZERS:
        assert f"\n  {name} " in out
    for text in ("keras.optimizers.ScheduleFreeAdamW", "learning_rate_power=-0.5", "weight_decay=0.004",
                 "clip_threshold=1.0", "global_clipnorm", "CosineDecayRestarts", "warmup_target=None",
                 "PiecewiseConstantDecay  boundaries, values"):
        assert text in out
    data = json.loads(run("list", "--format", "json")[1])
    assert len(data["optimizers"]) == 14 and data["optimizers"]["lion"]["momentum_like"] == "beta_1"
    assert data["optimizers"]["nadam"]["state"] == ["momentum", "velocity", "u_product"]
    assert data["schedules"]["CosineDecay"]["decay_steps"] == "required"
    assert set(data["options"]) == {"weight_decay", "clipnorm", "clipvalue", "global_clipnorm"}


SCHEDULE = '{"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 50}}'


def test_trajectory_takes_a_schedule_and_the_new_hyperparameters():
    code, out, err = run("trajectory", "--optimizer", "ftrl", "--surface", "quadratic", "--steps", "40",
                         "--learning-rate-json", SCHEDULE.replace("0.1", "0.5"), "--learning-rate-power", "-0.7",
                         "--l1-regularization-strength", "0.01", "--weight-decay", "0.1", "--clipnorm", "2")
    assert code == 0, err
    data = json.loads(out)
    tr = optviz.simulate("ftrl", "quadratic", None, 40, learning_rate=json.loads(SCHEDULE.replace("0.1", "0.5")),
                         learning_rate_power=-0.7, l1_regularization_strength=0.01, weight_decay=0.1, clipnorm=2.0)
    np.testing.assert_array_equal(np.array(data["path"], np.float32), tr.path)
    np.testing.assert_array_equal(np.array(data["learning_rate"], np.float32), tr.learning_rate)
    np.testing.assert_array_equal(np.array(data["sharpness"], np.float32), tr.sharpness)  # 2κ = 20 everywhere
    assert data["sharpness"][0] == 20.0
    assert data["keras"] == (
        "keras.optimizers.Ftrl(learning_rate=keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.5, "
        "decay_steps=50), learning_rate_power=-0.7, l1_regularization_strength=0.01, weight_decay=0.1, clipnorm=2.0)"
    )
    code, out, _ = run("trajectory", "--optimizer", "schedulefreeadamw", "--steps", "5", "--warmup-steps", "3",
                       "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 6 and float(rows[0]["learning_rate"]) == pytest.approx(0.0025)
    code, out, _ = run("trajectory", "--optimizer", "adafactor", "--steps", "5", "--relative-step", "false")
    assert code == 0 and json.loads(out)["hyperparameters"]["relative_step"] is False


def test_sweep_of_a_new_optimizer_and_of_schedules():
    code, out, err = run("sweep", "--optimizer", "lion", "--surface", "quadratic", "--steps", "60",
                         "--learning-rates", "0.001", "0.01")
    assert code == 0, err
    data = json.loads(out)
    assert data["momentum_name"] == "beta_1" and data["momenta"][0] == 0.05  # lion's beta_1 must be > 0
    code, out, err = run("sweep", "--optimizer", "adadelta", "--surface", "quadratic", "--steps", "60",
                         "--learning-rates-json", f"[1.0, {SCHEDULE}]")
    assert code == 0, err
    data = json.loads(out)
    assert data["momentum_name"] is None and np.array(data["final_loss"]).shape == (2, 1)
    assert data["learning_rate_schedules"][0] is None
    assert data["learning_rate_schedules"][1]["class_name"] == "CosineDecay"


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
        (["trajectory", "--optimizer", "sgd", "--learning-rate-json", '{"class_name": "Cosine", "config": {}}'],
         "Cosine"),
        (["trajectory", "--optimizer", "sgd", "--learning-rate-json", '{"class_name": "CosineDecay", '
          '"config": {"initial_learning_rate": 0.1}}'], "decay_steps"),
        (["trajectory", "--optimizer", "sgd", "--learning-rate-json", "{bad"], "JSON"),
        (["trajectory", "--optimizer", "sgd", "--learning-rate-json", '"fast"'], "learning_rate"),
        (["trajectory", "--optimizer", "sgd", "--learning-rate", "0.1", "--learning-rate-json", "0.2"],
         "not allowed with"),
        (["trajectory", "--optimizer", "sgd", "--clipnorm", "1", "--clipvalue", "1"], "only one of"),
        (["trajectory", "--optimizer", "sgd", "--clipnorm", "-1"], "clipnorm"),
        (["trajectory", "--optimizer", "adamw", "--weight-decay", "-0.1"], "weight_decay"),
        (["trajectory", "--optimizer", "adam", "--beta", "0.5"], "beta"),
        (["trajectory", "--optimizer", "lion", "--beta-1", "0"], "beta_1"),
        (["trajectory", "--optimizer", "ftrl", "--learning-rate-power", "0.5"], "learning_rate_power"),
        (["trajectory", "--optimizer", "schedulefreeadamw", "--warmup-steps", "2.5"], "warmup-steps"),
        (["trajectory", "--optimizer", "adafactor", "--relative-step", "maybe"], "relative-step"),
        (["sweep", "--optimizer", "lion", "--momenta", "0"], "beta_1"),
        (["sweep", "--optimizer", "sgd", "--learning-rates-json", '[0.1, {"class_name": "X", "config": {}}]'], "X"),
        (["sweep", "--optimizer", "sgd", "--learning-rates-json", "[]"], "learning_rates"),
        # found by fuzzing: a whole number too large for a float, float32's range, typed newlines
        (["trajectory", "--optimizer", "sgd", "--steps", "1" * 400], "steps"),
        (["trajectory", "--optimizer", "adam", "--learning-rate-json", "1" * 400], "learning_rate"),
        (["sweep", "--optimizer", "sgd", "--learning-rates-json", "[" + "1" * 400 + "]"], "learning_rate"),
        (["trajectory", "--optimizer", "schedulefreeadamw", "--warmup-steps", "1" * 400], "warmup_steps"),
        (["trajectory", "--optimizer", "sgd", "--learning-rate", "1e39"], "float32"),
        (["trajectory", "--optimizer", "sgd", "--learning-rate-json", '{"class_name": "CosineDecay", "config": '
          '{"initial_learning_rate": 0.1, "decay_steps": 1e-50}}'], "decay_steps"),
        (["trajectory", "--optimizer", "adam", "--learning-rate-json", '{"class_name": ["CosineDecay"], '
          '"config": {}}'], "class_name"),
        (["trajectory", "--optimizer", "sgd", "--learning-rate-json", '{"class_name": "CosineDecay", "config": '
          '{"initial_learning_rate": 0.1, "decay_steps": 5, "bad\\nkey": 1}}'], "bad"),
        (["list", "foo\nbar"], "foo"),
        (["trajectory", "--optimizer", "adam", "--surface", "beale", "--start", "1e5", "1e5"], "start"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle):
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def _nested_config(depth: int) -> str:
    """A CosineDecay whose `alpha` is an object nested ``depth`` levels deep."""
    deep = '{"a": ' * depth + "1" + "}" * depth
    return '{"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 5, "alpha": ' \
        + deep + "}}"


DEEP = "[" * 100_000 + "]" * 100_000  # past Python's recursion limit: json.loads raises RecursionError


@pytest.mark.parametrize(
    "args",
    [
        ["trajectory", "--optimizer", "sgd", "--learning-rate-json", DEEP],
        ["sweep", "--optimizer", "sgd", "--learning-rates-json", DEEP],
        ["sweep", "--optimizer", "sgd", "--learning-rates-json", "[" + _nested_config(100_000) + "]"],
        # deep enough to parse, but not to be quoted back by repr() in the schedule's error message
        ["trajectory", "--optimizer", "sgd", "--learning-rate-json", _nested_config(980)],
        ["trajectory", "--optimizer", "sgd", "--learning-rate-json", _nested_config(11)],
    ],
    ids=["list", "sweep-list", "sweep-schedule", "schedule-980", "schedule-11"],
)
def test_deeply_nested_json_exits_2_with_one_line(args):
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("optviz: error: ") and "nested" in err


def test_the_deepest_json_a_schedule_needs_still_runs():
    piecewise = '{"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [3], "values": [0.1, 0.01]}}'
    code, out, err = run("sweep", "--optimizer", "sgd", "--surface", "quadratic", "--steps", "5",
                         "--learning-rates-json", f"[0.1, {piecewise}]", "--momenta", "0")
    assert code == 0 and err == ""
    assert np.array(json.loads(out)["final_loss"]).shape == (2, 1)


def test_deeply_nested_json_in_a_real_process_prints_no_traceback():
    deep = "[" * 50_000 + "]" * 50_000  # one argument may hold at most 128 KiB
    proc = subprocess.run([sys.executable, "-m", "optviz", "trajectory", "--optimizer", "sgd", "--learning-rate-json",
                           deep], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("optviz: error: ")
    assert "Traceback" not in proc.stderr


def test_real_process_exit_status_and_stderr():
    bad = subprocess.run([sys.executable, "-m", "optviz", "trajectory", "--optimizer", "sgd", "--rho", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "rho" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "optviz", "trajectory", "--optimizer", "nesterov", "--surface",
                           "quadratic", "--steps", "5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0 and len(json.loads(good.stdout)["path"]) == 6


def test_a_reader_that_stops_early_gets_no_traceback():
    # `... | true`, `... | head`: the pipe is closed under the command's output; Python's
    # BrokenPipeError (and its "Exception ignored" at exit) must not reach the terminal.
    proc = subprocess.Popen([sys.executable, "-m", "optviz", "trajectory", "--optimizer", "sgd", "--steps", "20000"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader is gone before a byte is written
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 1
    assert err == ""


# --- optviz fit ------------------------------------------------------------------------------


def test_fit_on_a_named_data_set_is_the_engine_fit():
    code, out, err = run("fit", "--optimizer", "adam", "--dataset", "line", "--n", "30", "--standardize",
                         "--batch-size", "7", "--epochs", "3", "--start", "0.5", "-1", "--shuffle", "--seed", "4",
                         "--learning-rate", "0.1", "--beta-1", "0.8")
    assert code == 0 and err == ""
    data = json.loads(out)
    d = optviz.datasets.load("line", n=30, standardize=True)
    tr = optviz.fit("adam", "linear", d.x, d.y, batch_size=7, epochs=3, start=(0.5, -1), shuffle=True, seed=4,
                    learning_rate=0.1, beta_1=0.8)
    np.testing.assert_array_equal(np.array(data["path"], np.float32), tr.path)
    np.testing.assert_array_equal(np.array(data["batch_loss"], np.float32), tr.batch_loss)
    assert data["model"] == "linear" and len(data["path"]) == 1 + 3 * 5


def test_fit_reads_a_csv_file_and_prints_the_keras_program(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("hours,score,other\n1,0,9\n2,0,9\n3,1,9\n4,1,9\n2.5,1,9\n")
    code, out, _ = run("fit", "--optimizer", "sgd", "--model", "logistic", "--csv", str(path), "--x", "hours",
                       "--y", "score", "--batch-size", "2", "--epochs", "2", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    tr = optviz.fit("sgd", "logistic", [1, 2, 3, 4, 2.5], [0, 0, 1, 1, 1], batch_size=2, epochs=2)
    assert [float(r["kernel"]) for r in rows] == tr.path[:, 0].tolist()
    code, program, _ = run("fit", "--optimizer", "sgd", "--model", "logistic", "--csv", str(path), "--x", "hours",
                           "--y", "score", "--batch-size", "2", "--epochs", "2", "--format", "keras")
    assert code == 0
    compile(program, "program", "exec")  # valid Python (run against Keras in test_fit_parity)
    assert "model.fit(x, y, batch_size=2, epochs=2" in program and 'loss="binary_crossentropy"' in program


@pytest.mark.parametrize("args, message", [
    (("--dataset", "mnist"), "`dataset`"),
    (("--dataset", "line", "--batch-size", "0"), "`batch_size`"),
    (("--dataset", "anscombe", "--n", "5"), "synthetic"),
    (("--dataset", "line", "--model", "plane"), "`x`"),
    (("--csv", "/nonexistent.csv", "--model", "linear"), "--csv"),
    (("--csv", "CSV"), "--model"),
    (("--csv", "CSV", "--model", "linear", "--x", "nope"), "--x"),
    (("--csv", "CSV", "--model", "linear"), "must hold a number"),
])
def test_fit_bad_input_exits_2_with_one_line(tmp_path, args, message):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n2,x\n")
    args = [str(path) if a == "CSV" else a for a in args]
    code, out, err = run("fit", "--optimizer", "sgd", *args)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_framework_trajectory_takes_its_own_names_and_prints_its_code():
    code, out, err = run("trajectory", "--framework", "pytorch", "--optimizer", "adam", "--lr", "0.01",
                         "--betas", "0.8", "0.99", "--steps", "100")
    assert code == 0 and err == ""
    data = json.loads(out)
    tr = optviz.simulate("adam", "rosenbrock", None, 100, framework="pytorch", lr=0.01, betas=(0.8, 0.99))
    np.testing.assert_array_equal(np.array(data["path"], np.float32), tr.path)
    assert data["framework"] == "pytorch" and "keras" not in data
    assert data["code"] == "torch.optim.Adam([w], lr=0.01, betas=(0.8, 0.99))"
    code, out, _ = run("trajectory", "--framework", "optax", "--optimizer", "rmsprop", "--learning-rate", "0.01",
                       "--decay", "0.8", "--steps", "50")
    assert code == 0 and json.loads(out)["code"] == "optax.rmsprop(learning_rate=0.01, decay=0.8)"


def test_framework_flag_of_another_framework_exits_2_naming_it():
    code, out, err = run("trajectory", "--framework", "pytorch", "--optimizer", "adam", "--beta-1", "0.8")
    assert code == 2 and out == ""
    assert "--beta-1" in err and "adam (PyTorch)" in err and "lr, betas, eps" in err
    code, _, err = run("trajectory", "--framework", "pytorch", "--optimizer", "lion")
    assert code == 2 and "lion" in err and "adamw" in err  # lists PyTorch's optimizers
    code, _, err = run("trajectory", "--framework", "jax", "--optimizer", "adam")
    assert code == 2 and "--framework" in err


def test_framework_sweep_runs_the_frameworks_axis():
    code, out, _ = run("sweep", "--framework", "pytorch", "--optimizer", "adam", "--steps", "60",
                       "--learning-rates", "0.01", "0.05", "--momenta", "0.5", "0.9", "--betas", "0.9", "0.99")
    assert code == 0
    data = json.loads(out)
    result = optviz.sweep("adam", "rosenbrock", None, 60, [0.01, 0.05], [0.5, 0.9], framework="pytorch",
                          betas=(0.9, 0.99))
    assert data["momentum_name"] == "betas[0]" and data["framework"] == "pytorch"
    np.testing.assert_allclose(data["final_loss"], result.final_loss)


@pytest.mark.parametrize("framework", ["pytorch", "optax"])
def test_list_framework_shows_its_optimizers_and_defaults(framework):
    code, out, _ = run("list", "--framework", framework, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert list(data["optimizers"]) == list(FRAMEWORK_OPTIMIZERS[framework])
    assert data["options"] == {} and data["schedules"] == {}  # Keras's, not theirs
    if framework == "pytorch":
        assert data["optimizers"]["rmsprop"]["api"] == "torch.optim.RMSprop"
        assert data["optimizers"]["rmsprop"]["defaults"]["alpha"] == 0.99
        assert data["optimizers"]["adam"]["defaults"]["betas"] == [0.9, 0.999]
    else:
        assert data["optimizers"]["adagrad"]["defaults"]["initial_accumulator_value"] == 0.1
    code, text, _ = run("list", "--framework", framework)
    assert code == 0 and ("torch.optim.Adam" in text if framework == "pytorch" else "optax.adabelief" in text)
