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
        if dataset is None and state.get(state.PROJECT) is not None:
            st.markdown(":material/table: **Data:** not kept in this project")
        elif dataset is None:
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
        evaluation = state.evaluations().get(model.model_id) if model is not None else None
        st.markdown(":material/fact_check: **Evaluation:** " + (
            f"quality {100 * evaluation.quality.quality:.0f}/100 ({evaluation.quality.band})" if evaluation
            else "not done yet"))
        if state.get(state.PROJECT) is not None:
            st.caption(":material/save: Saved to your projects; reopen it from the Data step.")


def show_notice() -> None:
    """A one-off message left by the previous run (e.g. a change that could not be applied)."""
    if state.get(state.NOTICE):
        st.warning(state.get(state.NOTICE), icon=":material/warning:")
        state.put(state.NOTICE, None)


def require_dataset():
    """Return the loaded dataset, or explain what is missing, link back, and stop the page."""
    state.collect_training()  # app.py does this too, but AppTest reruns only the page
    dataset = state.get(state.DATASET)
    if dataset is None:
        show_notice()  # e.g. why the project in the address bar was not opened
        st.info("This step needs a table to work on. Start by loading your own file or a sample dataset"
                + (", or reopen a recent project." if state.get(state.PROJECT) is None else "."),
                icon=":material/info:")
        st.page_link(DATA_PAGE, label="Go to step 1: Data", icon=":material/arrow_back:")
        offer_recent_projects()
        st.stop()
    show_notice()
    return dataset


def offer_recent_projects() -> None:
    """After a refresh or restart nothing is loaded: offer the saved projects right where the user is."""
    if state.get(state.PROJECT) is None and state.get(state.DATASET) is None:
        from ui.projects_view import recent_projects

        recent_projects()


def require_model():
    """Return the model in use, or explain that training comes first, link back, and stop the page.

    A project reopened without its data still has its models, so only a model is required.
    """
    state.collect_training()
    model = state.get(state.MODEL)
    if model is None:
        if state.get(state.DATASET) is None:
            require_dataset()
        st.info("This step needs a trained generator. Train one on your table first.", icon=":material/info:")
        st.page_link(TRAIN_PAGE, label="Go to step 2: Train", icon=":material/arrow_back:")
        st.stop()
    show_notice()
    return model


def show_read_error(error: DataReadError) -> None:
    """A plain-words error with the technical detail tucked away."""
    st.error(error.message, icon=":material/error:")
    if error.detail:
        with st.expander("Technical details"):
            st.code(error.detail, language=None)
