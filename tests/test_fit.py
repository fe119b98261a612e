"""optviz.fit, its models and data sets: hand-worked steps, the batches, bad input, no
recompile, and the data sets' promises (standardizing rounds the bowl)."""

import numpy as np
import pytest
from helpers import count_compiles

import optviz
from optviz import datasets
from optviz.engine import epoch_order
from optviz.models import MODELS, full_loss, loss_at, minimum


def test_one_sgd_step_by_hand():
    # x = 0, 1, 2; y = 1, 3, 5; batches {0, 1} and {2}. At (0, 0) the first batch's mse is
    # (1 + 9) / 2 = 5; d/dw = -(0*1 + 1*3) = -3, d/db = -(1 + 3) = -4: lr 0.1 steps to (0.3, 0.4).
    tr = optviz.fit("sgd", "linear", [0, 1, 2], [1, 3, 5], batch_size=2, epochs=2, learning_rate=0.1)
    np.testing.assert_allclose(tr.path[:2], [[0, 0], [0.3, 0.4]], rtol=1e-6)
    assert tr.batch_loss[0] == pytest.approx(5.0)
    assert tr.loss[0] == pytest.approx((1 + 9 + 25) / 3)  # the whole data set's loss
    np.testing.assert_allclose(tr.gradient[0], [-3, -4])
    # The second batch is the last point alone: residual 5 - (2*0.3 + 0.4) = 4.
    assert tr.batch_loss[1] == pytest.approx(16.0, rel=1e-6)
    np.testing.assert_allclose(tr.gradient[1], [-16, -8], rtol=1e-6)
    assert tr.path.shape == (5, 2) and (tr.batch_size, tr.epochs) == (2, 2)


def test_logistic_loss_is_keras_binary_crossentropy_with_its_clipping():
    # A confident wrong answer: sigmoid(40) is 1 in float32, clipped to float32(1 - 1e-7),
    # so the loss is -log(1.19e-7) (about 15.94), not inf; and other points against Keras's own.
    import keras

    tr = optviz.fit("sgd", "logistic", [1.0], [0.0], batch_size=1, start=(40.0, 0.0))
    assert tr.loss[0] == pytest.approx(-np.log(np.float32(1) - np.float32(1 - 1e-7)), rel=1e-6)
    assert np.isfinite(tr.path).all()
    x, y = np.array([[-2.0], [0.5], [3.0], [30.0]], np.float32), np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    for w in ((0.7, -0.2), (-20.0, 3.0)):
        keras_loss = keras.losses.binary_crossentropy(y, keras.activations.sigmoid(x * w[0] + w[1]))
        ours = full_loss(MODELS["logistic"], x, y[:, 0], w[0], w[1])
        assert ours == pytest.approx(float(np.mean(keras_loss)), rel=1e-6)


def test_path_starts_at_start_and_has_a_row_per_batch():
    d = datasets.load("correlated", n=30)
    tr = optviz.fit("adam", "plane", d.x, d.y, batch_size=8, epochs=3, start=(0.25, -0.5))
    assert tuple(tr.path[0]) == (0.25, -0.5)
    assert len(tr.path) == 1 + 3 * 4  # 8 + 8 + 8 + 6 per epoch


def test_race_on_data_sees_the_same_batches():
    d = datasets.load("line", n=20)
    paths = optviz.fit_race("linear", d.x, d.y, {"sgd": {"learning_rate": 0.001}, "adam": None}, batch_size=3)
    alone = optviz.fit("sgd", "linear", d.x, d.y, batch_size=3, learning_rate=0.001)
    np.testing.assert_array_equal(paths["sgd"].path, alone.path)
    np.testing.assert_array_equal(paths["sgd"].batch_loss[:1], paths["adam"].batch_loss[:1])


def test_epoch_order_is_a_seeded_permutation():
    orders = [epoch_order(5, epoch, 37) for epoch in range(3)]
    for order in orders:
        assert sorted(order) == list(range(37))
    assert not np.array_equal(orders[0], orders[1])
    np.testing.assert_array_equal(epoch_order(5, 1, 37), orders[1])
    assert not np.array_equal(epoch_order(6, 1, 37), orders[1])


def test_shuffled_fit_is_reproducible():
    d = datasets.load("classes", n=40)
    a = optviz.fit("sgd", "logistic", d.x, d.y, batch_size=4, epochs=3, shuffle=True, seed=1)
    b = optviz.fit("sgd", "logistic", d.x, d.y, batch_size=4, epochs=3, shuffle=True, seed=1)
    c = optviz.fit("sgd", "logistic", d.x, d.y, batch_size=4, epochs=3, shuffle=True, seed=2)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.array_equal(a.path, c.path)
    # The full batch is the same whatever the order (up to summation order).
    full = [optviz.fit("sgd", "logistic", d.x, d.y, batch_size=40, epochs=3, shuffle=s).path for s in (False, True)]
    np.testing.assert_allclose(*full, rtol=1e-5)


@pytest.mark.parametrize("call, field", [
    (lambda: optviz.fit("sgd", "linear", [], []), "`x`"),
    (lambda: optviz.fit("sgd", "linear", [[1, 2]], [1]), "`x`"),
    (lambda: optviz.fit("sgd", "plane", [1, 2], [1, 2]), "`x`"),
    (lambda: optviz.fit("sgd", "linear", [1, 2], [1]), "`y`"),
    (lambda: optviz.fit("sgd", "linear", [1, 2], [[1, 2], [3, 4]]), "`y`"),
    (lambda: optviz.fit("sgd", "linear", [1, np.nan], [1, 2]), "`x`"),
    (lambda: optviz.fit("sgd", "logistic", [1, 2], [0, 2]), "`y`"),
    (lambda: optviz.fit("sgd", "logistic", [1, 2], [-0.5, 1]), "`y`"),
    (lambda: optviz.fit("sgd", "linear", [1, 2], [1, 2], batch_size=0), "`batch_size`"),
    (lambda: optviz.fit("sgd", "linear", [1, 2], [1, 2], batch_size=1.5), "`batch_size`"),
    (lambda: optviz.fit("sgd", "linear", [1, 2], [1, 2], epochs=0), "`epochs`"),
    (lambda: optviz.fit("sgd", "linear", [1, 2], [1, 2], shuffle="yes"), "`shuffle`"),
    (lambda: optviz.fit("sgd", "linear", [1, 2], [1, 2], start=(1,)), "`start`"),
    (lambda: optviz.fit("sgd", "cubic", [1, 2], [1, 2]), "`model`"),
    (lambda: optviz.fit("sgd", "linear", [1, 2], [1, 2], momentum=2), "`momentum`"),
    (lambda: optviz.fit("sgd", "linear", np.ones(5000), np.ones(5000)), "`x`"),
    (lambda: optviz.fit("sgd", "linear", np.ones(100), np.ones(100), batch_size=1, epochs=5000), "`epochs`"),
])
def test_bad_input_is_a_value_error_naming_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()


def test_no_recompile_when_rate_momentum_batch_size_epochs_or_shuffle_change():
    d = datasets.load("line", n=50)
    kw = dict(compile_steps=1000)  # what the page passes: its largest epochs x batches
    optviz.fit_race("linear", d.x, d.y, {"sgd": {"momentum": 0.9}}, batch_size=8, epochs=5, **kw)

    def moves():
        optviz.fit_race("linear", d.x, d.y, {"sgd": {"momentum": 0.5, "learning_rate": 0.003}}, batch_size=1,
                        epochs=3, **kw)
        optviz.fit_race("linear", d.x, d.y, {"sgd": {"momentum": 0.1}}, batch_size=50, epochs=20, shuffle=True,
                        seed=4, **kw)
        other = datasets.load("line", n=40, noise=3.0, seed=9)  # other data of the same padded size
        optviz.fit_race("linear", other.x, other.y, {"sgd": {"learning_rate": 0.1}}, batch_size=7, epochs=2, **kw)

    assert count_compiles(moves) == []


def test_standardizing_rounds_the_bowl():
    """The Hessian of a linear model's mse is 2 [[E x^2, E x], [E x, 1]]: with x in [0, 10]
    it is long and thin; standardized, it is twice the identity."""
    for standardize, low, high in ((False, 50, None), (True, 0.99, 1.01)):
        d = datasets.load("line", standardize=standardize)
        x = d.x[:, 0]
        hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
        kappa = np.linalg.cond(hessian)
        assert kappa > low if high is None else low < kappa < high
    d = datasets.load("iris_plane", standardize=True)
    np.testing.assert_allclose(d.x.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.x.std(axis=0), 1)


def test_minimum_is_least_squares_and_the_logistic_optimum():
    d = datasets.load("anscombe")
    slope, intercept = np.polyfit(d.x[:, 0], d.y, 1)
    np.testing.assert_allclose(minimum(MODELS["linear"], d.x, d.y), (slope, intercept), rtol=1e-9)
    assert (round(slope, 2), round(intercept, 2)) == (0.5, 3.0)  # Anscombe's published fit
    d = datasets.load("iris_petals")
    w = np.array(minimum(MODELS["logistic"], d.x, d.y))
    for k in range(2):  # the loss is higher a little either side, along each weight
        for h in (-1e-3, 1e-3):
            moved = w.copy()
            moved[k] += h
            assert loss_at(MODELS["logistic"], d.x, d.y, moved) > loss_at(MODELS["logistic"], d.x, d.y, w)
    # Separable classes have no minimum.
    assert minimum(MODELS["logistic"], np.array([[0.0], [1.0]]), np.array([0.0, 1.0])) is None


def test_adam_reaches_the_minimum_and_full_loss_agrees():
    d = datasets.load("line", standardize=True)
    tr = optviz.fit("adam", "linear", d.x, d.y, batch_size=10, epochs=60, learning_rate=0.1)
    assert tr.distance_to_minimum() < 0.1
    assert tr.min_value == pytest.approx(loss_at(MODELS["linear"], d.x, d.y, tr.minima[0]))
    np.testing.assert_allclose(full_loss(MODELS["linear"], d.x.astype(np.float32), d.y.astype(np.float32),
                                         tr.path[:5, 0], tr.path[:5, 1]), tr.loss[:5], rtol=1e-5)


@pytest.mark.parametrize("name", list(datasets.DATASETS))
def test_every_data_set_loads_for_its_model(name):
    d = datasets.load(name)
    spec = datasets.DATASETS[name]
    assert d.model == spec.model and d.x.shape == (d.size, MODELS[d.model].features) and d.y.shape == (d.size,)
    if not spec.synthetic:
        assert "Public domain" in d.source and d.size >= 11
    tr = optviz.fit("adam", d.model, d.x, d.y, batch_size=16, epochs=1)
    assert tr.diverged_at is None


def test_synthetic_sets_take_size_noise_and_seed():
    a = datasets.load("line", n=30, noise=0.0, seed=1)
    np.testing.assert_allclose(a.y, 2 * a.x[:, 0] + 1)
    assert datasets.load("line", n=30, seed=1).size == 30
    assert not np.array_equal(datasets.load("line", seed=1).x, datasets.load("line", seed=2).x)
    for bad, field in (({"n": 1}, "`n`"), ({"noise": -1}, "`noise`"), ({"seed": -1}, "`seed`")):
        with pytest.raises(ValueError, match=field):
            datasets.load("classes", **bad)
    with pytest.raises(ValueError, match="`dataset`"):
        datasets.load("mnist")
    with pytest.raises(ValueError, match="synthetic"):
        datasets.load("anscombe", n=5)


def test_exported_csv_of_a_fit_carries_each_batch_loss():
    import csv
    import io

    from optviz.export import trajectories_csv

    d = datasets.load("line", n=20)
    fits = optviz.fit_race("linear", d.x, d.y, ["sgd", "adam"], batch_size=6, epochs=2)
    rows = list(csv.DictReader(io.StringIO(trajectories_csv(fits))))
    assert len(rows) == 2 * (1 + 2 * 4)
    adam = [r for r in rows if r["optimizer"] == "adam"]
    np.testing.assert_array_equal(np.array([r["batch_loss"] for r in adam], np.float32), fits["adam"].batch_loss)
    np.testing.assert_array_equal(np.array([[r["x"], r["y"]] for r in adam], np.float32), fits["adam"].path)


@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_indices_are_the_batches_the_engine_steps_on(shuffle):
    from optviz.models import batch_indices, loss_grid

    d = datasets.load("classes", n=23)
    tr = optviz.fit("adam", "logistic", d.x, d.y, batch_size=5, epochs=3, shuffle=shuffle, seed=8,
                    learning_rate=0.1)
    for step in range(len(tr.path) - 1):
        idx = batch_indices(23, 5, step, shuffle=shuffle, seed=8)
        assert len(idx) == (3 if step % 5 == 4 else 5)
        w0, w1 = tr.path[step]
        assert loss_grid(MODELS["logistic"], d.x[idx], d.y[idx], w0, w1) == pytest.approx(tr.batch_loss[step],
                                                                                          rel=1e-5)
