"""Widgets shared by several pages: the sidebar status, prerequisite guards and error boxes."""

from __future__ import annotations

import streamlit as st

from tabular.errors import DataReadError
from ui import state

DATA_PAGE = "pages/data.py"
TRAIN_PAGE = "pages/train.py"


def sidebar_status() -> None:
    """Show where the user is: which table, whether a model is trained, whether it was evaluated."""
    dataset = state.get(state.DATASET)
    with st.sidebar:
        st.markdown("#### Your project")
        if dataset is None:
            st.markdown(":material/table: **Data:** none loaded yet")
        else:
            st.markdown(f":material/table: **Data:** {dataset.name}  \n"
                        f"{dataset.n_rows:,} rows × {dataset.n_columns} columns")
        model, job = state.get(state.MODEL), state.get(state.TRAIN_JOB)
        if job is not None and job.active:
            status = "training…" if job.state == "running" else "waiting to train…"
        elif model is not None:
            from models.registry import card

            status = f"{card(model.generator).title}, trained"
        else:
            status = "not trained yet"
        st.markdown(f":material/model_training: **Model:** {status}")
        st.markdown(":material/fact_check: **Evaluation:** "
                    + ("done" if state.get(state.EVALUATION) else "not done yet"))


def require_dataset():
    """Return the loaded dataset, or explain what is missing, link back, and stop the page."""
    state.collect_training()  # app.py does this too, but AppTest reruns only the page
    dataset = state.get(state.DATASET)
    if dataset is None:
        st.info("This step needs a table to work on. Start by loading your own file or a sample dataset.",
                icon=":material/info:")
        st.page_link(DATA_PAGE, label="Go to step 1: Data", icon=":material/arrow_back:")
        st.stop()
    return dataset


def require_model():
    """Return the trained model, or explain that training comes first, link back, and stop the page."""
    require_dataset()
    model = state.get(state.MODEL)
    if model is None:
        st.info("This step needs a trained generator. Train one on your table first.", icon=":material/info:")
        st.page_link(TRAIN_PAGE, label="Go to step 2: Train", icon=":material/arrow_back:")
        st.stop()
    return model


def show_read_error(error: DataReadError) -> None:
    """A plain-words error with the technical detail tucked away."""
    st.error(error.message, icon=":material/error:")
    if error.detail:
        with st.expander("Technical details"):
            st.code(error.detail, language=None)
