"""PyTorch's and optax's optimizers through the API: the printed code is the run drawn,
names are each framework's own, one compiled race takes any mix.

The printed ``torch.optim.X([w], ...)`` / ``optax.x(...)`` is parsed with ``ast`` (its
keywords read as literals: nothing is executed), the real optimizer is built from it and
stepped, and its path compared with optviz's for the settings that printed it. A default
left out that is not the framework's, a name misspelt, a flag not written: each would show.
"""

import ast

import numpy as np
import pytest
from framework_reference import compare, optax_path, torch_path
from helpers import count_compiles

import optviz
from optviz.optimizers import FRAMEWORK_OPTIMIZERS, get_optimizer

STEPS = 120

CASES = [
    *[("pytorch", name, {}) for name in FRAMEWORK_OPTIMIZERS["pytorch"]],
    *[("optax", name, {}) for name in FRAMEWORK_OPTIMIZERS["optax"]],
    ("pytorch", "sgd", {"lr": 0.002, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("pytorch", "adam", {"lr": 0.05, "betas": (0.8, 0.99), "amsgrad": True}),
    ("pytorch", "rmsprop", {"lr": 0.003, "alpha": 0.9, "centered": True, "momentum": 0.3}),
    ("pytorch", "nadam", {"lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("pytorch", "adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1, "lr_decay": 0.01}),
    ("optax", "sgd", {"learning_rate": 0.002, "momentum": 0.9, "nesterov": True}),
    ("optax", "rmsprop", {"learning_rate": 0.003, "decay": 0.99, "eps_in_sqrt": False, "momentum": 0.5}),
    ("optax", "adam", {"learning_rate": 0.05, "b1": 0.8, "eps_root": 1e-8}),
    ("optax", "lion", {"learning_rate": 0.003, "weight_decay": 0.0}),
]


def _parse(code: str):
    """(dotted function name, positional argument names, keyword literals) of ``code``, one call."""
    call = ast.parse(code, mode="eval").body
    assert isinstance(call, ast.Call)
    parts, func = [], call.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    assert isinstance(func, ast.Name)
    positional = []
    for arg in call.args:  # torch's parameter list: [w]
        assert isinstance(arg, ast.List) and all(isinstance(e, ast.Name) for e in arg.elts)
        positional.append([e.id for e in arg.elts])
    return ".".join([func.id, *reversed(parts)]), positional, {k.arg: ast.literal_eval(k.value) for k in call.keywords}


@pytest.mark.parametrize(("framework", "name", "hp"), CASES)
def test_printed_code_takes_optviz_path(framework, name, hp):
    opt = get_optimizer(name, framework)
    code = opt.code(hp)
    function, positional, kwargs = _parse(code)
    start = (-1.5, 2.0)
    ours = optviz.simulate(name, "rosenbrock", start, STEPS, framework=framework, **hp)
    if framework == "pytorch":
        assert function == f"torch.optim.{opt.api_name}" and positional == [["w"]]
        assert "lr" in kwargs
        theirs = torch_path(name, "rosenbrock", start, STEPS, **kwargs)
    else:
        assert function == f"optax.{opt.api_name}" and positional == []
        assert "learning_rate" in kwargs
        theirs = optax_path(name, "rosenbrock", start, STEPS, **kwargs)
    compare(ours, theirs)


def test_code_is_written_with_each_frameworks_names():
    assert get_optimizer("adam", "pytorch").code({"lr": 0.01, "betas": (0.8, 0.99)}) == \
        "torch.optim.Adam([w], lr=0.01, betas=(0.8, 0.99))"
    assert get_optimizer("optax:adam").code({"b2": 0.99}) == "optax.adam(learning_rate=0.001, b2=0.99)"
    assert get_optimizer("adam").code({"learning_rate": 0.01}) == "keras.optimizers.Adam(learning_rate=0.01)"


@pytest.mark.parametrize(("framework", "bad", "valid"), [
    ("pytorch", "learning_rate", "lr, betas, eps"),
    ("pytorch", "beta_1", "lr, betas, eps"),
    ("optax", "lr", "learning_rate, b1, b2, eps, eps_root"),
    ("keras", "eps", "learning_rate, beta_1, beta_2, epsilon"),
])
def test_unknown_name_for_the_framework_names_it_and_lists_the_valid_ones(framework, bad, valid):
    with pytest.raises(ValueError) as info:
        optviz.simulate("adam", "rosenbrock", None, 10, framework=framework, **{bad: 0.1})
    assert f"`{bad}`" in str(info.value) and valid in str(info.value)


def test_framework_errors_are_value_errors_naming_the_field():
    with pytest.raises(ValueError, match="`framework`"):
        optviz.simulate("adam", "rosenbrock", None, 10, framework="jax")
    with pytest.raises(ValueError, match="lion"):  # PyTorch has no Lion
        optviz.simulate("lion", "rosenbrock", None, 10, framework="pytorch")
    with pytest.raises(ValueError, match="schedules are Keras's"):
        optviz.simulate("sgd", "rosenbrock", None, 10, framework="pytorch",
                        lr={"class_name": "ExponentialDecay",
                            "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9}})
    with pytest.raises(ValueError, match=r"`betas\[1\]` must be in \[0, 1\)"):
        optviz.simulate("adam", "rosenbrock", None, 10, framework="pytorch", betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="`betas`"):
        optviz.simulate("adam", "rosenbrock", None, 10, framework="pytorch", betas=0.9)
    with pytest.raises(ValueError, match="`nesterov`"):
        optviz.simulate("sgd", "rosenbrock", None, 10, framework="pytorch", nesterov=True)


def test_same_settings_differ_by_framework_on_a_plateau():
    """Adam at lr 0.01 on the saddle's flat start: Keras's epsilon-hat (1e-7, before the
    bias correction), PyTorch's eps (1e-8, after it) and optax's take three paths."""
    runs = optviz.race("saddle", None, 100, {"adam": {"learning_rate": 0.01}, "pytorch:adam": {"lr": 0.01},
                                            "optax:adam": {"learning_rate": 0.01}})
    keras_path, torch_run, optax_run = (runs[k].path for k in ("adam", "pytorch:adam", "optax:adam"))
    assert not np.array_equal(keras_path, torch_run)
    np.testing.assert_allclose(torch_run, optax_run, rtol=1e-4, atol=1e-6)  # same rule, eps after the correction


def test_changing_values_and_frameworks_mix_does_not_recompile():
    """A race of Adam in three frameworks compiles once; new values (rates, betas, flags)
    run the same program."""
    def race(lr, b1, amsgrad):
        return optviz.race("rosenbrock", None, 50, {
            "adam": {"learning_rate": lr, "beta_1": b1},
            "pytorch:adam": {"lr": lr, "betas": (b1, 0.99), "amsgrad": amsgrad},
            "optax:rmsprop": {"learning_rate": lr, "centered": amsgrad},
        })

    race(0.01, 0.9, False)
    assert count_compiles(lambda: race(0.02, 0.8, True)) == []


def test_sweep_takes_the_frameworks_names_and_axis():
    result = optviz.sweep("adam", "rosenbrock", None, 60, [0.01, 0.05], [0.5, 0.9], framework="pytorch",
                          betas=(0.9, 0.99))
    assert result.momentum_name == "betas[0]" and result.framework == "pytorch"
    one = optviz.simulate("adam", "rosenbrock", None, 60, framework="pytorch", lr=0.05, betas=(0.5, 0.99))
    assert result.final_loss[1, 0] == pytest.approx(one.final_loss, rel=1e-5)
    optax_result = optviz.sweep("sgd", "rosenbrock", None, 60, [0.001], [0.0, 0.9], framework="optax")
    plain = optviz.simulate("sgd", "rosenbrock", None, 60, framework="optax", learning_rate=0.001)
    assert optax_result.final_loss[0, 0] == pytest.approx(plain.final_loss, rel=1e-5)


def test_one_optimizer_races_twice_under_tagged_labels():
    runs = optviz.race("rosenbrock", None, 30, {"pytorch:sgd": {"lr": 0.001},
                                                "pytorch:sgd#nesterov": {"lr": 0.001, "momentum": 0.9,
                                                                         "nesterov": True}})
    alone = optviz.simulate("sgd", "rosenbrock", None, 30, framework="pytorch", lr=0.001, momentum=0.9, nesterov=True)
    np.testing.assert_array_equal(runs["pytorch:sgd#nesterov"].path, alone.path)
    assert not np.array_equal(runs["pytorch:sgd"].path, alone.path)


def test_learning_rate_curves_run_each_framework_as_its_sweep():
    """The Tuning tab's curves (one compiled race for every optimizer) give each framework's
    entry the numbers its own sweep gives: PyTorch's rate is `lr`, its axis `betas[0]`."""
    from optviz.engine import learning_rate_curves

    rates = [0.001, 0.01, 0.05]
    curves = learning_rate_curves("rosenbrock", None, 80, {"adam": {}, "pytorch:adam": {"betas": (0.8, 0.99)},
                                                          "optax:rmsprop": {}}, rates)
    for label, framework, name, fixed in [("pytorch:adam", "pytorch", "adam", {"betas": (0.8, 0.99)}),
                                          ("optax:rmsprop", "optax", "rmsprop", {}),
                                          ("adam", "keras", "adam", {})]:
        alone = optviz.sweep(name, "rosenbrock", None, 80, rates, None, framework=framework, **fixed)
        assert curves[label].framework == framework
        np.testing.assert_array_equal(curves[label].final_loss, alone.final_loss)
        np.testing.assert_array_equal(curves[label].momenta, alone.momenta)
