"""The page with PyTorch's and optax's optimizers beside Keras's (AppTest): drawn, told apart,
in the link, the rules tab and the exports; a bad link value falls back with a warning."""

import numpy as np
import torch
from helpers import chart_spec, open_page, path_traces, paths

from optviz import export
from optviz.url import parse_query

SADDLE_LINK = {"surface": "saddle", "opt": "adam", "fw": "pytorch:adam", "lr": "0.01", "steps": "200",
               "x": "-1.5", "y": "0.01"}


def torch_adam_path(start, steps: int, **settings) -> np.ndarray:
    """torch.optim.Adam on f = x² - y² (the saddle), stepping a 2-element float32 tensor."""
    w = torch.tensor(start, dtype=torch.float32, requires_grad=True)
    opt = torch.optim.Adam([w], **settings)
    out = [w.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        (w[0] ** 2 - w[1] ** 2).backward()
        opt.step()
        out.append(w.detach().numpy().copy())
    return np.asarray(out)


def test_a_link_with_pytorch_s_adam_draws_both_adams_told_apart():
    at = open_page(SADDLE_LINK, expanded=False)
    assert not at.warning
    spec = chart_spec(at, 0)
    traces = {t["name"]: t for t in path_traces(spec["data"])}
    assert set(traces) == {"Adam", "Adam · PyTorch"}  # the legend names them apart
    assert traces["Adam"]["line"]["dash"] != traces["Adam · PyTorch"]["line"]["dash"]
    drawn = paths(spec)
    # PyTorch's Adam's path is torch.optim.Adam's at the same rate (its own eps, 1e-8).
    reference = torch_adam_path([-1.5, 0.01], 200, lr=0.01)
    np.testing.assert_allclose(drawn["Adam · PyTorch"][-1], reference[-1], rtol=1e-3, atol=1e-4)
    # The results table names both, and the link keeps the PyTorch entry.
    table = at.get("table")[0].value
    assert {"Adam", "Adam · PyTorch"} <= set(table.iloc[:, 0])
    assert at.query_params["fw"] == "pytorch:adam"


def test_pytorch_s_own_names_in_the_link_reach_the_path():
    at = open_page({**SADDLE_LINK, "pytorch:adam.betas": "0.5,0.9", "pytorch:adam.eps": "0.1"}, expanded=False)
    assert not at.warning
    drawn = paths(chart_spec(at, 0))
    reference = torch_adam_path([-1.5, 0.01], 200, lr=0.01, betas=(0.5, 0.9), eps=0.1)
    np.testing.assert_allclose(drawn["Adam · PyTorch"][-1], reference[-1], rtol=1e-3, atol=1e-4)
    assert at.query_params["pytorch:adam.betas"] == "0.5,0.9"


def test_a_bad_framework_value_in_the_link_warns_and_falls_back():
    at = open_page({**SADDLE_LINK, "fw": "pytorch:adam,tensorflow:adam"}, expanded=False)
    assert any("`fw=" in w.value and "tensorflow" in w.value for w in at.warning)
    names = {t["name"] for t in path_traces(chart_spec(at, 0)["data"])}
    assert names == {"Adam"}  # the fallback: no other framework's optimizer
    at = open_page({**SADDLE_LINK, "pytorch:adam.eps": "-1"}, expanded=False)
    assert any("pytorch:adam.eps" in w.value for w in at.warning)
    assert {t["name"] for t in path_traces(chart_spec(at, 0)["data"])} == {"Adam", "Adam · PyTorch"}


def test_the_exports_carry_the_framework_entries():
    from optviz.page.caches import race_figure, race_of

    state, _ = parse_query({**SADDLE_LINK, "fw": "pytorch:adam,optax:adam"})
    race = race_of(state)
    rows = [line.split(",") for line in export.trajectories_csv(race).splitlines()[1:]]
    assert {r[0] for r in rows} == {"adam", "pytorch:adam", "optax:adam"}  # each by its race key
    last = [r for r in rows if r[0] == "pytorch:adam"][-1]
    np.testing.assert_allclose([float(last[2]), float(last[3])], torch_adam_path([-1.5, 0.01], 200, lr=0.01)[-1],
                               rtol=1e-3, atol=1e-4)
    page = export.race_html(race_figure(state, race, "ko", False, None))
    assert "아담 · 파이토치" in page and "아담 · 옵택스" in page  # the legend's names, in Korean too


def test_the_rules_tab_prints_each_framework_s_code_that_takes_the_drawn_path():
    at = open_page({**SADDLE_LINK, "preset": "frameworks", "fw": "pytorch:adam,optax:adam",
                    "pytorch:adam.eps": "1e-7"}, expanded=False)
    drawn = paths(chart_spec(at, 0))
    at.session_state["tab"] = "rules"
    at.run()
    assert not at.exception, at.exception
    codes = [c.value for c in at.code]
    assert "keras.optimizers.Adam(learning_rate=0.01)" in codes
    assert "torch.optim.Adam([w], lr=0.01, eps=1e-07)" in codes
    assert "optax.adam(learning_rate=0.01)" in codes
    notes = " ".join(i.value for i in at.info)
    assert "after the bias correction" in notes  # where PyTorch's and optax's epsilon sit, vs Keras's
    assert any("\\sqrt{v}/\\sqrt{1-\\beta_2^t} + \\epsilon" in x.value for x in at.latex)  # PyTorch's formula
    # The printed PyTorch code, run as it is, takes the PyTorch path the chart draws.
    w = torch.tensor([-1.5, 0.01], dtype=torch.float32, requires_grad=True)
    opt = eval("torch.optim.Adam([w], lr=0.01, eps=1e-07)", {"torch": torch, "w": w})  # the page's text, checked above
    for _ in range(200):
        opt.zero_grad()
        (w[0] ** 2 - w[1] ** 2).backward()
        opt.step()
    np.testing.assert_allclose(drawn["Adam · PyTorch"][-1], w.detach().numpy(), rtol=1e-3, atol=1e-4)


def test_the_preset_races_three_adams_and_an_expander_sets_pytorch_s_own_eps():
    at = open_page(SADDLE_LINK, expanded=False)
    at.sidebar.selectbox(key="preset").set_value("frameworks").run()
    assert not at.exception, at.exception
    names = [t["name"] for t in path_traces(chart_spec(at, 0)["data"])]
    assert names == ["Adam", "Adam · PyTorch", "Adam · optax"]
    assert at.query_params["preset"] == "frameworks" and "fw" not in at.query_params  # the preset's own race
    at.session_state["exp.pytorch:adam"] = True
    at.run()
    eps = at.sidebar.number_input(key="pytorch:adam.eps")
    assert eps.value == 1e-8  # PyTorch's default, under PyTorch's name
    assert any("constant rate" in c.value for c in at.sidebar.caption)  # schedules are Keras's: said there
    eps.set_value(0.1).run()
    assert at.query_params["pytorch:adam.eps"] == "0.1"
    drawn = paths(chart_spec(at, 0))
    reference = torch_adam_path([-1.5, 0.01], 200, lr=0.01, eps=0.1)
    np.testing.assert_allclose(drawn["Adam · PyTorch"][-1], reference[-1], rtol=1e-3, atol=1e-4)
    at.sidebar.button(key="pytorch:adam.reset").click().run()
    assert "pytorch:adam.eps" not in at.query_params
