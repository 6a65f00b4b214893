"""The one place that names session-state keys; pages read and write state only through here."""

from __future__ import annotations

import sqlite3
from typing import Any

import streamlit as st

DATASET = "dataset"  # tabular.dataset.Dataset of the table being worked on
DATASET_SOURCE = "dataset_source"  # identity of the upload or sample it came from
UPLOAD_SEEN = "upload_seen"  # file_id of the last upload read, so a rerun does not read it again
PROFILE_VERSION = "profile_version"  # bumped to reset the profile editor after a change
TRAIN_JOB = "train_job"  # models.jobs.TrainingJob of the latest training, running or finished
MODEL = "model"  # models.jobs.TrainedModel: the generator in use (trained, reopened or uploaded)
MODELS = "models"  # dict model_id -> TrainedModel: every generator trained in this project, oldest first
EVALUATIONS = "evaluations"  # dict model_id -> evaluation.scorecard.Evaluation
CHART_DATA = "chart_data"  # dict model_id -> (real sample, synthetic sample) behind the Evaluate charts
EVAL_TASK = "eval_task"  # ui.tasks.BackgroundTask scoring a model
EXPORT_TASK = "export_task"  # ui.tasks.BackgroundTask generating rows for download
SHAPE_CHECKS = "shape_checks"  # dict model_id -> shaped exports' checks (evaluation.conditional, as dicts), newest first
PROJECT = "project"  # id of the open project in the workspace (None: not saved)
KEEP_DATA = "keep_data"  # the user agreed to store the original table in the workspace
NOTICE = "notice"  # one-off message shown on the next run
PRIVACY_EFFECTS = "privacy_effects"  # (table and settings it was computed for, tabular.protection.effects result)
USER = "user"  # workspace.users.Space the person signed in to (None: nobody yet, or the local space)

_DEFAULTS: dict[str, Any] = {
    DATASET: None,
    DATASET_SOURCE: None,
    UPLOAD_SEEN: None,
    PROFILE_VERSION: 0,
    TRAIN_JOB: None,
    MODEL: None,
    MODELS: None,
    EVALUATIONS: None,
    CHART_DATA: None,
    EVAL_TASK: None,
    EXPORT_TASK: None,
    SHAPE_CHECKS: None,
    PROJECT: None,
    KEEP_DATA: False,
    NOTICE: None,
    PRIVACY_EFFECTS: None,
    USER: None,
}
_PER_PROJECT = (TRAIN_JOB, MODEL, MODELS, EVALUATIONS, CHART_DATA, EVAL_TASK, EXPORT_TASK, SHAPE_CHECKS)


def init() -> None:
    """Set every key once per browser session (called from app.py before any page runs)."""
    for key, value in _DEFAULTS.items():
        st.session_state.setdefault(key, value)


def initialized() -> bool:
    """Whether app.py has set this browser session up."""
    return DATASET in st.session_state


def get(key: str) -> Any:
    return st.session_state.get(key, _DEFAULTS.get(key))


def put(key: str, value: Any) -> None:
    st.session_state[key] = value


def _clear_project() -> None:
    job = st.session_state.get(TRAIN_JOB)
    if job is not None:
        job.cancel()  # a training on the old table is of no use any more
    for key in _PER_PROJECT:
        st.session_state[key] = None
    st.session_state[PROJECT] = None


def set_dataset(dataset, source: str) -> None:
    """Start work on a new table, saved as a new project: anything trained on the old one no longer applies."""
    _clear_project()
    st.session_state[DATASET] = dataset
    st.session_state[DATASET_SOURCE] = source
    st.session_state[PROJECT] = _saving(lambda ws: ws.create_project(dataset, keep_data=bool(get(KEEP_DATA))))
    bump_profile()


def open_project(project_id: str) -> list[str]:
    """Make a saved project the current one; returns problems met while reading it back."""
    opened = workspace().open_project(project_id)
    _clear_project()
    st.session_state[DATASET] = opened.dataset
    st.session_state[DATASET_SOURCE] = f"project:{project_id}"
    st.session_state[PROJECT] = project_id
    st.session_state[KEEP_DATA] = opened.info.data_kept
    st.session_state[MODELS] = {m.model_id: m for m in opened.models}
    st.session_state[MODEL] = opened.models[-1] if opened.models else None
    st.session_state[EVALUATIONS] = dict(opened.evaluations)
    st.session_state[SHAPE_CHECKS] = dict(opened.shape_checks)
    bump_profile()
    return opened.problems


def project_name() -> str | None:
    """The open project's name (its table's name), even when the table itself was not kept."""
    dataset = get(DATASET)
    if dataset is not None:
        return dataset.name
    project = get(PROJECT)
    if project is None:
        return None
    try:
        found = workspace().recent(1, project)
    except (OSError, sqlite3.Error):
        return None
    return found[0].name if found else None


def models() -> dict:
    """Every generator of this project by id (an empty dict when none)."""
    return st.session_state.get(MODELS) or {}


def evaluations() -> dict:
    return st.session_state.get(EVALUATIONS) or {}


def shape_checks(model_id: str) -> list[dict]:
    """The checks of a model's shaped exports in this project, newest first."""
    return (st.session_state.get(SHAPE_CHECKS) or {}).get(model_id, [])


def add_shape_checks(model_id: str, checks: list[dict]) -> None:
    known = st.session_state.get(SHAPE_CHECKS) or {}
    st.session_state[SHAPE_CHECKS] = {**known, model_id: checks + known.get(model_id, [])}


def use_model(trained) -> None:
    """Make a trained model the one the Evaluate and Export steps use, remembering it in the project."""
    st.session_state[MODELS] = {**models(), trained.model_id: trained}
    st.session_state[MODEL] = trained


def collect_training() -> None:
    """Use the result of a finished training as the model (run on every page, before the sidebar)."""
    job = st.session_state.get(TRAIN_JOB)
    if job is not None and not job.active and job.result is not None and job.result.model_id not in models():
        runners = {r.model_id: r for r in job.result.runners_up}  # an automatic pick's others, to compare or open
        st.session_state[MODELS] = {**models(), **runners}
        use_model(job.result)
        problem = getattr(job.store, "problem", None)  # the job keeps its model in the project itself
        if problem:
            st.session_state[NOTICE] = f"{problem} It is kept only until this tab closes."


class NoSpace(PermissionError):
    """Nobody is signed in on a shared server, so there is no workspace to read or write."""

    def __init__(self) -> None:
        super().__init__("sign in first: on a shared server every project belongs to someone")


def space():
    """The workspace.users.Space this session works in: the one signed in to, else the local space when the
    browser is on this computer and the server is not shared (see ui.signin.shared), else None."""
    chosen = st.session_state.get(USER)
    if chosen is not None:
        return chosen
    from ui.signin import shared
    from workspace.users import LOCAL

    return None if shared() else LOCAL


def workspace():
    """The signed-in person's project workspace (a folder and its catalogue; see workspace.projects).

    Raises:
        NoSpace: on a shared server before anyone signed in (app.py shows the sign-in screen first).
    """
    from workspace.users import space_workspace

    current = space()
    if current is None:
        raise NoSpace()
    return space_workspace(current)


def sign_in(person) -> None:
    """Work in this workspace.users.Space from now on."""
    _clear_project()
    st.session_state[USER] = person


def sign_out() -> None:
    """Forget everything of this session, so the next person at this browser starts afresh. A training
    still running goes on and keeps its model in its owner's space."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    init()


def delete_project(project_id: str) -> bool:
    """Delete one of this space's projects; False when the space has no such project."""
    from workspace.projects import ProjectNotFound

    try:
        return workspace().delete_project(project_id)
    except ProjectNotFound:
        return False


def _saving(action):
    """Run a workspace write; a full or read-only disk becomes a notice rather than an error."""
    try:
        return action(workspace())
    except (OSError, ValueError, sqlite3.Error) as exc:
        st.session_state[NOTICE] = ("Your work could not be saved to the project folder, so it will be lost when "
                                    f"this tab closes ({exc}).")
        return None


def save(action) -> None:
    """Write to the open project, if any: ``action(workspace, project_id)``."""
    project = get(PROJECT)
    if project is not None:
        _saving(lambda ws: action(ws, project))


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
