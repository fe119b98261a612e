"""The theory on the page (AppTest): the learning-rate note, the tuning map's boundary and
best settings, the sharpness chart and its link field, the inspector's sharpness and the
update rules' derivation, in English and Korean."""

import json
import math

import numpy as np
import pytest
from helpers import array, chart_spec, open_page

import optviz
from optviz.bounds import LEARNING_RATES
from optviz.state import snap

QUADRATIC = {"surface": "quadratic", "kappa": "10", "opt": "sgd,nesterov", "lr": "0.1", "mom": "0.5", "steps": "100"}


def _plotly_specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _traces(spec, name):
    return [trace for trace in spec["data"] if trace.get("name") == name]


@pytest.mark.parametrize("lang, word", [("en", "diverges above"), ("ko", "발산")])
def test_learning_rate_note_says_where_divergence_starts(lang, word):
    at = open_page({**QUADRATIC, "lang": lang}, expanded=False)
    notes = [c.value for c in at.sidebar.caption if word in c.value]
    assert len(notes) == 1
    # λmax = 2κ = 20 at momentum 0.5: SGD 2(1.5)/20 = 0.15, Nesterov 2(1.5)/(2·20) = 0.075.
    assert "0.15" in notes[0] and "0.075" in notes[0]
    off = open_page({"surface": "rastrigin", "opt": "sgd", "lang": lang}, expanded=False)
    assert not [c.value for c in off.sidebar.caption if word in c.value]


def test_tuning_map_draws_the_boundary_and_loads_the_best_settings():
    at = open_page({**QUADRATIC, "tab": "tune"}, expanded=False)
    tuning_map = _plotly_specs(at)[0]
    line = _traces(tuning_map, "boundary")[-1]
    x, mu = array(line["x"]).astype(np.float64), array(line["y"]).astype(np.float64)
    drawn = np.isfinite(x)
    np.testing.assert_allclose(10 ** x[drawn], 2 * (1 + mu[drawn]) / 20, rtol=1e-5)
    assert _traces(tuning_map, "best") and _traces(tuning_map, "best_gd")
    at.button(key="use_best").click().run()
    assert not at.exception
    # Heavy ball's best at λ = 2, 20: η = 4/(√20 + √2)², μ = ((√10 − 1)/(√10 + 1))², on the sliders' notches.
    best_lr, best_mu = 4 / (math.sqrt(20) + math.sqrt(2)) ** 2, ((math.sqrt(10) - 1) / (math.sqrt(10) + 1)) ** 2
    assert float(at.query_params["sgd.lr"]) == snap(best_lr, LEARNING_RATES, log=True)
    assert float(at.query_params["sgd.momentum"]) == round(best_mu, 2)
    assert [s.value for s in at.success if "0.27" in s.value]


def test_no_boundary_on_rastrigin():
    at = open_page({"surface": "rastrigin", "opt": "sgd", "tab": "tune"}, expanded=False)
    tuning_map = _plotly_specs(at)[0]
    assert _traces(tuning_map, "cells") and not _traces(tuning_map, "boundary")
    assert not [b for b in at.button if b.key == "use_best"]


def test_sharpness_chart_link_field_and_inspector():
    query = {"surface": "rosenbrock", "opt": "sgd", "lr": "0.00261", "mom": "0", "steps": "300", "x": "0", "y": "0",
             "chart": "sharpness"}
    at = open_page(query, expanded=False)
    assert at.query_params["chart"] in ("sharpness", ["sharpness"])
    spec = chart_spec(at, 1)  # beside the race chart, in the loss chart's place
    tr = optviz.simulate("sgd", "rosenbrock", (0.0, 0.0), 300, learning_rate=0.00261, momentum=0.0)
    np.testing.assert_array_equal(array(_traces(spec, "SGD")[0]["y"]), tr.sharpness)
    limit = [trace for trace in spec["data"] if "stable below" in trace.get("name", "")]
    assert limit[0]["y"][0] == pytest.approx(2 / 0.00261)
    at.button(key="stepper_step").click().run()
    inspector = [frame.value for frame in at.dataframe]
    assert any("sharpness λmax(∇²f)" in table.index for table in inspector)
    at.button_group(key="chart").set_value("loss").run()
    assert "chart" not in at.query_params
    assert not _traces(chart_spec(at, 1), "SGD: stable below 766.3")
    assert chart_spec(at, 1)["layout"]["yaxis"]["type"] == "log"  # the loss chart is back


@pytest.mark.parametrize("lang, title", [("en", "the derivation"), ("ko", "유도 과정")])
def test_update_rules_show_the_derivation_for_sgd_and_nesterov(lang, title):
    at = open_page({"surface": "quadratic", "opt": "nesterov,adam", "tab": "rules", "lang": lang}, expanded=False)
    derivations = [e for e in at.expander if title in e.label]
    assert len(derivations) == 1
    text = " ".join(m.value for m in derivations[0].markdown)
    assert r"\frac{2(1 + \mu)}{1 + 2\mu}" in text.replace("dfrac", "frac")
    off = open_page({"surface": "quadratic", "opt": "adam", "tab": "rules", "lang": lang}, expanded=False)
    assert not [e for e in off.expander if title in e.label]
