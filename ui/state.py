"""The one place that names session-state keys; pages read and write state only through here."""

from __future__ import annotations

from typing import Any

import streamlit as st

DATASET = "dataset"  # tabular.dataset.Dataset of the table being worked on
DATASET_SOURCE = "dataset_source"  # identity of the upload or sample it came from
UPLOAD_SEEN = "upload_seen"  # file_id of the last upload read, so a rerun does not read it again
PROFILE_VERSION = "profile_version"  # bumped to reset the profile editor after a change
TRAIN_JOB = "train_job"  # models.jobs.TrainingJob of the latest training, running or finished
MODEL = "model"  # models.jobs.TrainedModel: the trained generator (filled by the Train step)
EVALUATION = "evaluation"  # the latest scores (filled by the Evaluate step)
NOTICE = "notice"  # one-off message shown on the next run

_DEFAULTS: dict[str, Any] = {
    DATASET: None,
    DATASET_SOURCE: None,
    UPLOAD_SEEN: None,
    PROFILE_VERSION: 0,
    TRAIN_JOB: None,
    MODEL: None,
    EVALUATION: None,
    NOTICE: None,
}


def init() -> None:
    """Set every key once per browser session (called from app.py before any page runs)."""
    for key, value in _DEFAULTS.items():
        st.session_state.setdefault(key, value)


def get(key: str) -> Any:
    return st.session_state.get(key, _DEFAULTS.get(key))


def put(key: str, value: Any) -> None:
    st.session_state[key] = value


def set_dataset(dataset, source: str) -> None:
    """Start work on a new table: anything trained or scored on the old one no longer applies."""
    st.session_state[DATASET] = dataset
    st.session_state[DATASET_SOURCE] = source
    job = st.session_state.get(TRAIN_JOB)
    if job is not None:
        job.cancel()  # a training on the old table is of no use any more
    st.session_state[TRAIN_JOB] = None
    st.session_state[MODEL] = None
    st.session_state[EVALUATION] = None
    bump_profile()


def collect_training() -> None:
    """Keep the result of a finished training as the model (run on every page, before the sidebar)."""
    job = st.session_state.get(TRAIN_JOB)
    if job is not None and not job.active and job.result is not None and st.session_state.get(MODEL) is not job.result:
        st.session_state[MODEL] = job.result
        st.session_state[EVALUATION] = None


def session_alive_check():
    """A function telling whether this browser session is still connected (always True outside a server)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return lambda: True
    runtime, session_id = Runtime.instance(), ctx.session_id
    return lambda: runtime.is_active_session(session_id)


def bump_profile() -> None:
    st.session_state[PROFILE_VERSION] = get(PROFILE_VERSION) + 1
