"""The editable profile table of the Data step, and the chart that looks closer at one column."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from tabular.dataset import Dataset
from tabular.profile import ColumnProfile
from tabular.schema import HANDLING_LABELS, KIND_LABELS
from ui import state

KIND_BY_LABEL = {label: kind for kind, label in KIND_LABELS.items()}
HANDLING_BY_LABEL = {label: handling for handling, label in HANDLING_LABELS.items()}
ACCENT = "#4F46E5"


def profile_frame(dataset: Dataset) -> pd.DataFrame:
    """One row per column: what the app understood and what it will do."""
    rows = dataset.profile_rows()
    return pd.DataFrame({
        "Column": [r["column"] for r in rows],
        "Kind": [r["kind_label"] for r in rows],
        "Handling": [r["handling_label"] for r in rows],
        "Flag": ["Personal data" if r["personal"] else "Identifier" if r["identifier"] else "" for r in rows],
        "Missing": [r["missing_share"] for r in rows],
        "Distinct": [r["distinct"] for r in rows],
        "Examples": [", ".join(r["examples"]) for r in rows],
        "Distribution": [r["distribution"] for r in rows],
    })


def _apply_edits(dataset: Dataset, key: str, original: pd.DataFrame) -> None:
    """on_change of the editor: turn edited cells into schema changes, then reset the editor."""
    edits = st.session_state[key].get("edited_rows", {})
    messages = []
    for row, changes in edits.items():
        name = original.iloc[int(row)]["Column"]
        if "Kind" in changes and changes["Kind"] in KIND_BY_LABEL:
            dataset.set_kind(name, KIND_BY_LABEL[changes["Kind"]])
        if "Handling" in changes and changes["Handling"] in HANDLING_BY_LABEL:
            problem = dataset.set_handling(name, HANDLING_BY_LABEL[changes["Handling"]])
            if problem:
                messages.append(problem)
    state.put(state.NOTICE, " ".join(messages) or None)
    state.save(lambda ws, project: ws.save_schema(project, dataset.schema))  # a reopened project keeps the edits
    state.bump_profile()


def profile_editor(dataset: Dataset) -> None:
    """The profile table; Kind and Handling can be changed in place."""
    frame = profile_frame(dataset)
    key = f"data_profile_{state.get(state.PROFILE_VERSION)}"
    st.data_editor(
        frame,
        key=key,
        on_change=_apply_edits,
        args=(dataset, key, frame),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(frame), 640),
        disabled=["Column", "Flag", "Missing", "Distinct", "Examples", "Distribution"],
        column_config={
            "Column": st.column_config.TextColumn("Column", pinned=True),
            "Kind": st.column_config.SelectboxColumn("Kind", options=list(KIND_BY_LABEL), required=True,
                                                     help="What the column holds. Change it if we got it wrong."),
            "Handling": st.column_config.SelectboxColumn(
                "Handling", options=list(HANDLING_BY_LABEL), required=True,
                help="Synthesize: learn and imitate it. Drop: leave it out. New unique IDs: fresh identifiers. "
                     "Fake values: realistic made-up personal data."),
            "Flag": st.column_config.TextColumn("Flag", help="Columns that could identify a person."),
            "Missing": st.column_config.ProgressColumn("Missing", format="percent", min_value=0, max_value=1,
                                                       width="small"),
            "Distinct": st.column_config.NumberColumn("Distinct", format="localized", width="small"),
            "Examples": st.column_config.TextColumn("Examples", width="medium"),
            "Distribution": st.column_config.BarChartColumn("Distribution", y_min=0, width="small"),
        },
    )


def distribution_figure(profile: ColumnProfile) -> go.Figure:
    """A bar chart of one column's distribution, sized for the page."""
    fig = go.Figure(go.Bar(x=profile.bar_labels, y=profile.bar_counts, marker_color=ACCENT,
                           hovertemplate="%{x}: %{y:,} rows<extra></extra>"))
    fig.update_layout(title=profile.chart_title, height=320, margin=dict(l=10, r=10, t=40, b=10),
                      yaxis_title="Rows", xaxis_type="category", bargap=0.1)
    return fig
