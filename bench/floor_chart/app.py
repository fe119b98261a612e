"""bench/floor's page with optviz's race chart instead of six plain lines.

The same one slider; the chart is the page's own default race (six optimizers, 500 steps
on Rosenbrock, animation frames, step slider, backdrop pictures, click grid), built by
``optviz.figures.race_figure`` as app.py builds it. Next to bench/floor and app.py, it
splits a key press's time into Streamlit's floor, the race chart, and the rest of the page:

    python bench/latency_ab.py . bench/floor_chart bench/floor --presses 20
"""

import sys
from pathlib import Path

import numpy as np
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's optviz
import optviz.xla  # noqa: E402

optviz.xla.configure()
import optviz  # noqa: E402
from optviz import figures  # noqa: E402

st.set_page_config(layout="wide")
LEARNING_RATES = [float(v) for v in np.geomspace(1e-5, 1, 121)]
if "lr" not in st.session_state:
    st.session_state.lr = LEARNING_RATES[100]
lr = st.sidebar.select_slider("Learning rate", LEARNING_RATES, key="lr", format_func=lambda v: f"{v:.3g}")
names = ["sgd", "nesterov", "adagrad", "rmsprop", "adam", "adamax"]
race = optviz.race("rosenbrock", None, 500, {name: {"learning_rate": lr} for name in names}, compile_steps=2000)
chart = figures.race_figure(optviz.get_surface("rosenbrock"), race, height=640, click_grid=41).freeze()
st.plotly_chart(chart, key="race_chart", width="stretch", on_select="rerun", selection_mode=("points", "box"))
