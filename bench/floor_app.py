"""The floor of a first render in Chromium (bench_browser.py): a Streamlit page with the Overview's kinds of
elements — a title, four multiselects of 50 options, six metrics, two small Plotly charts, a 30-line table —
and no data at all. What a fresh browser context pays for Streamlit and Plotly themselves."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
st.title("Audit-trail completeness")
for i in range(4):
    st.sidebar.multiselect(f"Filter {i}", [f"value {j}" for j in range(50)], key=f"f{i}")
for column in st.columns(6):
    column.metric("A figure", "1,000")
left, right = st.columns([2, 1])
left.plotly_chart(go.Figure(go.Scatter(x=list(range(30)), y=list(range(30)), mode="lines")), width="stretch")
right.plotly_chart(go.Figure(go.Bar(x=[3, 2, 1], y=["a", "b", "c"], orientation="h")), width="stretch")
st.subheader("Controls")
st.dataframe(pd.DataFrame({"control": [f"c{i}" for i in range(30)], "result": ["met"] * 30}), hide_index=True)
