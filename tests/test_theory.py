"""The linear theory (optviz.theory) held against the engine's paths and sweeps, and the
race's sharpness against a NumPy finite-difference Hessian."""

import math

import numpy as np
import pytest
from helpers import array, count_compiles

import optviz
from optviz import custom, figures, theory
from optviz.lessons import load_lessons

QUADRATIC = "quadratic"


def _eigenvalues(kappa: float) -> tuple[float, float]:
    # f = x² + κy²: the Hessian is diag(2, 2κ), worked by hand.
    return tuple(sorted((2.0, 2.0 * kappa)))


@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0])
def test_quadratic_found_with_its_hand_worked_hessian(kappa):
    q = theory.quadratic(QUADRATIC, {"kappa": kappa})
    assert q is not None and q.positive_definite
    np.testing.assert_allclose(q.eigenvalues, _eigenvalues(kappa), rtol=1e-5)
    np.testing.assert_allclose(q.minimum, (0.0, 0.0), atol=1e-5)


def test_only_exact_quadratics_are_quadratic():
    booth = theory.quadratic("booth")  # (x + 2y − 7)² + (2x + y − 5)²: H = [[10, 8], [8, 10]]
    np.testing.assert_allclose(booth.eigenvalues, (2.0, 18.0), rtol=1e-5)
    np.testing.assert_allclose(booth.minimum, (1.0, 3.0), atol=1e-4)
    typed = theory.quadratic(custom.custom_surface("(x + 2*y)**2 + x**2"))  # H = [[4, 4], [4, 8]]
    np.testing.assert_allclose(typed.eigenvalues, (6 - math.sqrt(20), 6 + math.sqrt(20)), rtol=1e-5)
    assert not theory.quadratic("saddle").positive_definite
    for name in ("rosenbrock", "rastrigin", "himmelblau", "ackley"):
        assert theory.quadratic(name) is None, name
    assert theory.quadratic(custom.custom_surface("x**2 + y**2 + 0.01*x**4")) is None


# --- the stability boundary against the sweep's measured divergence ------------------------

GRID = 40
SWEEP_STEPS = 600  # 2 % past the boundary at μ = 0 grows 1.04× a step: 1e6 in ~350 steps


@pytest.mark.parametrize("rule", ["sgd", "nesterov"])
@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0])
def test_boundary_matches_measured_divergence(rule, kappa):
    lam = _eigenvalues(kappa)
    rates = np.geomspace(0.5 / lam[1], 6.0 / lam[1], GRID)
    momenta = np.linspace(0.0, 0.975, GRID)
    result = optviz.sweep(rule, QUADRATIC, None, SWEEP_STEPS, rates, momenta, surface_params={"kappa": kappa})
    lr, mu = np.meshgrid(result.learning_rates, result.momenta, indexing="ij")
    predicted = theory.stable(rule, lr, mu, lam)
    far = np.abs(lr / theory.stability_limit(rule, mu, lam[1]) - 1) > 0.02
    assert far.sum() > 0.8 * far.size
    assert 0.2 < predicted.mean() < 0.8  # both sides of the boundary are on the grid
    wrong = far & (predicted == result.diverged)
    assert not wrong.any(), list(zip(lr[wrong], mu[wrong]))


def test_nesterov_boundary_is_tighter_than_heavy_ball():
    # The two rules part company as μ grows: 2(1+μ)/(1+2μ) against 2(1+μ).
    assert theory.stability_limit("nesterov", 0.0, 10.0) == theory.stability_limit("sgd", 0.0, 10.0) == 0.2
    assert theory.stability_limit("nesterov", 0.9, 10.0) == pytest.approx(2 * 1.9 / 2.8 / 10)
    assert theory.stability_limit("sgd", 0.9, 10.0) == pytest.approx(0.38)


# --- the predicted rate against the measured slope of log(loss − min) ---------------------

RATE_KAPPA = 100.0  # λ = 2 and 200: slow enough that steps 50-300 stay far above float32's floor


@pytest.mark.parametrize("learning_rate, momentum", [
    (0.004, 0.0), (0.0099, 0.0), (0.00995, 0.0),  # λmin's mode leads; both equally; λmax's (alternating)
    (0.002, 0.5), (0.001, 0.8), (0.005, 0.3),  # heavy ball, its slow mode overdamped
])
def test_predicted_rate_matches_the_measured_slope(learning_rate, momentum):
    tr = optviz.simulate("sgd", QUADRATIC, None, 300, learning_rate=learning_rate, momentum=momentum,
                         surface_params={"kappa": RATE_KAPPA})
    steps = np.arange(50, 301)
    measured = np.polyfit(steps, np.log(tr.loss[steps].astype(np.float64)), 1)[0]
    rate = theory.spectral_radius("sgd", learning_rate, momentum, _eigenvalues(RATE_KAPPA))
    predicted = 2 * math.log(float(rate))
    assert measured == pytest.approx(predicted, rel=0.05)


def test_iteration_matrix_is_one_keras_step():
    # Keras's own rule, stepped by hand in float64 on f = λ/2 w², against the matrix.
    lam, lr, mu = 3.0, 0.1, 0.7
    for rule in ("sgd", "nesterov"):
        w, m = 1.3, -0.4
        g = lam * w
        m_new = mu * m - lr * g
        w_new = w + m_new if rule == "sgd" else w + mu * m_new - lr * g
        np.testing.assert_allclose(theory.iteration_matrix(rule, lr, mu, lam) @ [w, m], [w_new, m_new])
        radius = max(abs(np.linalg.eigvals(theory.iteration_matrix(rule, lr, mu, lam))))
        assert theory.spectral_radius(rule, lr, mu, (lam,)) == pytest.approx(radius)


# --- the optimal settings against nearby ones, by the engine's steps to tolerance ------------

# The theory's optimum is asymptotic: it minimises the rate, so it wins far down the
# asymptote. At a loose tolerance the start's weights on the modes, the optimum's double
# roots (a k·ρ^k transient) and an oscillating neighbour's first dip below the line can
# each let a neighbour touch it first; hence a deep tolerance, and "settled": the first
# step from which the loss gap stays within it (float32 holds 1e-20 here: the minimum is 0).
TOLERANCE = 1e-20
GD_NEARBY = (0.7, 0.75, 0.8, 0.85, 0.9, 1.1, 1.15, 1.2, 1.25, 1.3)  # × learning rate
MOMENTUM_NEARBY = ((0.8, -0.05), (0.8, 0.0), (0.8, 0.05), (1.25, -0.05), (1.25, 0.0), (1.25, 0.05),
                   (0.9, 0.0), (1.1, 0.0), (1.0, -0.1), (1.0, 0.1))  # (× learning rate, + momentum)


def _settled_at(rule, kappa, lr, mu):
    tr = optviz.simulate(rule, QUADRATIC, None, 2000, learning_rate=lr, momentum=mu, surface_params={"kappa": kappa})
    if tr.diverged_at is not None:
        return math.inf
    above = np.flatnonzero(tr.loss.astype(np.float64) > TOLERANCE)
    return 0 if above.size == 0 else int(above[-1]) + 1 if above[-1] < len(tr.loss) - 1 else math.inf


@pytest.mark.parametrize("rule, use_momentum, kappa", [
    ("sgd", False, 10.0), ("sgd", True, 10.0), ("sgd", True, 100.0), ("nesterov", True, 10.0),
    ("nesterov", True, 100.0)])
def test_optimal_setting_beats_ten_nearby(rule, use_momentum, kappa):
    best = theory.optimal_setting(rule, _eigenvalues(kappa), momentum=use_momentum)
    ours = _settled_at(rule, kappa, best.learning_rate, best.momentum)
    assert ours < math.inf
    if use_momentum:
        nearby = [(best.learning_rate * a, best.momentum + b) for a, b in MOMENTUM_NEARBY]
    else:  # gradient descent has only the learning rate to vary
        nearby = [(best.learning_rate * a, 0.0) for a in GD_NEARBY]
    for lr, mu in nearby:
        assert ours < _settled_at(rule, kappa, lr, mu), (lr, mu)


# --- sharpness against a NumPy finite-difference Hessian -----------------------------------

NUMPY_SURFACES = {  # written again in NumPy float64, apart from optviz.surfaces
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "himmelblau": lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
    "rastrigin": lambda x, y: 20 + x**2 - 10 * np.cos(2 * np.pi * x) + y**2 - 10 * np.cos(2 * np.pi * y),
}


def _finite_difference_sharpness(f, point, h=1e-4):
    x, y = (float(v) for v in point)
    fxx = (f(x + h, y) - 2 * f(x, y) + f(x - h, y)) / h**2
    fyy = (f(x, y + h) - 2 * f(x, y) + f(x, y - h)) / h**2
    fxy = (f(x + h, y + h) - f(x + h, y - h) - f(x - h, y + h) + f(x - h, y - h)) / (4 * h**2)
    return np.linalg.eigvalsh([[fxx, fxy], [fxy, fyy]])


@pytest.mark.parametrize("surface", list(NUMPY_SURFACES))
def test_sharpness_matches_finite_differences(surface):
    race = optviz.race(surface, None, 150, {"sgd": {"learning_rate": 1e-3, "momentum": 0.9},
                                            "adam": {"learning_rate": 0.05}})
    f = NUMPY_SURFACES[surface]
    for tr in race.values():
        assert len(tr.sharpness) == len(tr.path) > 100
        for point, sharp in zip(tr.path, tr.sharpness):
            low, high = _finite_difference_sharpness(f, point)
            # Relative to the Hessian's size: on Rastrigin λmax crosses zero.
            assert abs(float(sharp) - high) <= 1e-3 * max(abs(high), abs(low)), (point, sharp, high)


def test_sharpness_does_not_compile_again_when_a_value_changes():
    def run(lr, kappa):
        return optviz.simulate("sgd", QUADRATIC, (1.0, 1.0), 50, learning_rate=lr, surface_params={"kappa": kappa})

    run(0.01, 10.0)
    moved = []
    assert count_compiles(lambda: moved.append(run(0.02, 30.0))) == []
    # On f = x² + κy² the sharpness is 2κ everywhere.
    np.testing.assert_allclose(moved[0].sharpness, 60.0, rtol=1e-6)


# --- the overlays on the charts ------------------------------------------------------------


def _named(fig, name):
    return [trace for trace in fig.traces if trace.get("name") == name]


@pytest.mark.parametrize("rule", ["sgd", "nesterov"])
def test_tuning_map_draws_the_boundary_and_the_best_setting_on_a_quadratic(rule):
    kappa = 10.0
    rates = np.geomspace(1e-3, 1.0, 25)
    momenta = np.linspace(0.0, 0.95, 20)
    result = optviz.sweep(rule, QUADRATIC, None, 100, rates, momenta, surface_params={"kappa": kappa})
    q = theory.quadratic(QUADRATIC, {"kappa": kappa})
    fig = figures.add_stability_boundary(figures.sweep_figure(result, 0.0), result, q)
    line = _named(fig, "boundary")[-1]
    x, mu = array(line["x"]).astype(np.float64), array(line["y"]).astype(np.float64)
    drawn = np.isfinite(x)
    assert drawn.sum() > 100
    # Worked by hand from Keras's rules (see optviz.theory): λmax = 2κ = 20.
    limit = 2 * (1 + mu) / 20 if rule == "sgd" else 2 * (1 + mu) / ((1 + 2 * mu) * 20)
    np.testing.assert_allclose(10 ** x[drawn], limit[drawn], rtol=1e-5)
    # The best settings' stars: momentum's classic pair, and gradient descent's 2/(λmax + λmin).
    best = _named(fig, "best")[0]
    if rule == "sgd":
        assert 10 ** best["x"][0] == pytest.approx(4 / (math.sqrt(20) + math.sqrt(2)) ** 2)
        assert best["y"][0] == pytest.approx(((math.sqrt(10) - 1) / (math.sqrt(10) + 1)) ** 2)
    assert 10 ** _named(fig, "best_gd")[0]["x"][0] == pytest.approx(2 / 22) and _named(fig, "best_gd")[0]["y"][0] == 0
    # And the map's cells agree: the measured divergence lies on the far side of the line.
    lr, mm = np.meshgrid(result.learning_rates, result.momenta, indexing="ij")
    far = np.abs(lr / theory.stability_limit(rule, mm, 20.0) - 1) > 0.1
    assert np.array_equal(result.diverged[far], (lr > theory.stability_limit(rule, mm, 20.0))[far])


def test_no_boundary_off_a_quadratic_or_for_another_optimizer():
    rates, momenta = np.geomspace(1e-3, 0.1, 5), [0.0, 0.5, 0.9]
    rastrigin = optviz.sweep("sgd", "rastrigin", None, 50, rates, momenta)
    plain = figures.sweep_figure(rastrigin, 0.0)
    assert figures.add_stability_boundary(plain, rastrigin, theory.quadratic("rastrigin")) is plain
    adam = optviz.sweep("adam", QUADRATIC, None, 50, rates, momenta)
    plain = figures.sweep_figure(adam, 0.0)
    assert figures.add_stability_boundary(plain, adam, theory.quadratic(QUADRATIC)) is plain


def test_loss_chart_predicted_rate_line_follows_the_measured_loss():
    kappa, lr, mu = 100.0, 0.002, 0.5
    race = optviz.race(QUADRATIC, None, 300, {"sgd": {"learning_rate": lr, "momentum": mu},
                                              "adam": {"learning_rate": 0.05}}, surface_params={"kappa": kappa})
    q = theory.quadratic(QUADRATIC, {"kappa": kappa})
    fig = figures.add_predicted_rates(figures.loss_figure(race, min_value=0.0), race, q)
    lines = [t for t in fig.traces if t["line"].get("dash") == "dot"]
    assert len(lines) == 1  # SGD's; Adam has no linear theory
    steps, predicted = array(lines[0]["x"]), array(lines[0]["y"]).astype(np.float64)
    slope = np.polyfit(steps[50:300], np.log(predicted[50:300]), 1)[0]
    measured = np.polyfit(np.arange(50, 300), np.log(race["sgd"].loss[50:300].astype(np.float64)), 1)[0]
    assert slope == pytest.approx(measured, rel=0.05)
    noisy = optviz.race(QUADRATIC, None, 50, ["sgd"], noise=0.1)
    plain = figures.loss_figure(noisy, min_value=0.0)
    assert figures.add_predicted_rates(plain, noisy, q) is plain  # the theory is for the noiseless rule


def test_sharpness_chart_draws_each_path_and_the_two_over_eta_line():
    race = optviz.race("rosenbrock", None, 200, {"sgd": {"learning_rate": 2e-3, "momentum": 0.0},
                                                 "nesterov": {"learning_rate": 1e-3, "momentum": 0.5},
                                                 "adam": {"learning_rate": 0.01}})
    fig = figures.sharpness_figure(race)
    for name, tr in race.items():
        line = _named(fig, figures._display(name))[0]
        np.testing.assert_array_equal(array(line["y"]), tr.sharpness)
    limits = {trace["name"]: trace["y"][0] for trace in fig.traces if "stable below" in trace["name"]}
    assert limits == {"SGD: stable below 1000": pytest.approx(2 / 2e-3),
                      "SGD + Nesterov: stable below 1500": pytest.approx(2 * 1.5 / (2 * 1e-3))}
    assert figures.inspector_rows(race, 10)[0]["sharpness"] == pytest.approx(float(race["sgd"].sharpness[10]))


# --- the two lessons' claims, held against the engine ---------------------------------------


def test_the_stability_boundary_lessons_claim():
    """At κ = 10, learning rate 0.1 and momentum 0.5, SGD converges and Nesterov diverges:
    the theory's limits are 0.15 and 0.075 (worked by hand: 2·1.5/20, 2·1.5/(2·20))."""
    settings = load_lessons()["stability-boundary"].settings
    race = optviz.race(settings.surface, settings.start, settings.steps, settings.race_spec(),
                       surface_params=settings.surface_params())
    assert race["sgd"].diverged_at is None and race["sgd"].final_loss < 1e-3
    assert race["nesterov"].diverged_at is not None
    q = theory.quadratic(settings.surface, settings.surface_params())
    assert theory.stability_limit("sgd", 0.5, q.eigenvalues[1]) == pytest.approx(0.15)
    assert theory.stability_limit("nesterov", 0.5, q.eigenvalues[1]) == pytest.approx(0.075)


def test_the_edge_of_stability_lesson_settles_at_two_over_eta():
    """Gradient descent in Rosenbrock's valley at the lesson's η: the minimum is too sharp for
    it (λmax(∇²f(1, 1)) ≈ 1001.6 > 2/η), and the path's sharpness rises to 2/η and stays."""
    settings = load_lessons()["edge-of-stability"].settings
    tr = optviz.race(settings.surface, settings.start, settings.steps, settings.race_spec())["sgd"]
    edge = 2 / settings.learning_rate
    low, high = _finite_difference_sharpness(NUMPY_SURFACES["rosenbrock"], (1.0, 1.0))
    assert high > 1.2 * edge
    assert tr.diverged_at is None
    assert tr.sharpness[0] < 0.3 * edge  # it starts far below the edge ...
    tail = tr.sharpness[-300:].astype(np.float64)
    assert tail.mean() == pytest.approx(edge, rel=0.02)  # ... and hovers at it
    assert np.all(np.abs(tail / edge - 1) < 0.3)
