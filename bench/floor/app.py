"""The floor for bench/latency_ab.py: the smallest page that does what a slider move does.

One "Learning rate" select_slider in the sidebar (the page's 121 log-spaced values) and one
Plotly chart of six 500-point lines that depend on it, as ``st.plotly_chart(key="race_chart")``:
no frames, no pictures, no other element. What a key press costs here is Streamlit's and
Chromium's own price for a rerun that redraws a chart, on this machine, at this moment:

    python bench/latency_ab.py . bench/floor --presses 20
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(layout="wide")
LEARNING_RATES = [float(v) for v in np.geomspace(1e-5, 1, 121)]
if "lr" not in st.session_state:
    st.session_state.lr = LEARNING_RATES[100]
lr = st.sidebar.select_slider("Learning rate", LEARNING_RATES, key="lr", format_func=lambda v: f"{v:.3g}")
t = np.linspace(0, 1, 500)
st.plotly_chart(go.Figure([go.Scatter(x=np.cos(t * 10 * lr * (k + 1)), y=np.sin(t * 7 * (k + 1)) * lr, mode="lines")
                           for k in range(6)]), key="race_chart", width="stretch")
