"""Starting, re-attaching and resuming the open project's trainings (each runs in a worker, never here)."""

from __future__ import annotations

import sqlite3

import streamlit as st

from models import jobs
from models.jobs import TrainingJob, TrainingRequest, split_rows
from tabular.schema import TableSchema
from ui import state
from workspace import trainings
from workspace.trainings import TrainingRecord

URL_KEY = "project"  # ?project=<id> in the address bar, so a refreshed tab finds its project again
NOT_FOUND = ("The project in the address bar was not opened: it does not exist or belongs to someone else. "
             "Open one of your own projects, or load a table to start a new one.")


def start(request: TrainingRequest, schema: TableSchema, resume: dict | None = None,
          job_id: str | None = None) -> TrainingJob:
    """Queue a training of the open table; with a project it checkpoints and keeps its model by itself."""
    rows = split_rows(state.get(state.DATASET), request.holdout_share, seed=request.seed, schema=schema)
    project = state.get(state.PROJECT)
    store = trainings.ProjectTrainings(state.workspace(), project) if project is not None else None
    job = TrainingJob(request, rows, schema, owner_alive=state.session_alive_check(), store=store,
                      project=project, resume=resume, job_id=job_id, space=_space_id())
    state.put(state.TRAIN_JOB, jobs.QUEUE.submit(job))
    return job


def _space_id() -> str | None:
    """Whose trainings these are: a job is found again only from the space that started it."""
    current = state.space()
    return current.id if current is not None else None


def reattach() -> None:
    """A refreshed tab (a new browser session) picks up the training still running for its project."""
    project, job = state.get(state.PROJECT), state.get(state.TRAIN_JOB)
    if project is None or (job is not None and job.active):
        return
    running = jobs.QUEUE.find(project, _space_id())
    if running is not None and running is not job:
        running.adopt(state.session_alive_check())
        state.put(state.TRAIN_JOB, running)


def restore_from_url() -> None:
    """Reopen the project named in the address bar when this browser session has none (after a refresh,
    a reconnect or a restart), and keep the address bar naming the open project."""
    wanted, project = st.query_params.get(URL_KEY), state.get(state.PROJECT)
    if project is None and wanted and state.get(state.DATASET) is None:
        try:
            problems = state.open_project(wanted)
        except KeyError:  # deleted meanwhile, or someone else's: start afresh rather than fail on every run
            del st.query_params[URL_KEY]
            state.put(state.NOTICE, NOT_FOUND)
            return
        except Exception as exc:  # a damaged project must not break every page of a fresh tab
            del st.query_params[URL_KEY]
            state.put(state.NOTICE, f"Your last project could not be reopened ({type(exc).__name__}: {exc}). "
                                    "Open it from Recent projects on the Data step, or load the table again.")
            return
        if problems:
            state.put(state.NOTICE, " ".join(problems))
        project = wanted
    if project is not None and st.query_params.get(URL_KEY) != project:
        st.query_params[URL_KEY] = project
    elif project is None and URL_KEY in st.query_params:
        del st.query_params[URL_KEY]


def interrupted() -> list[TrainingRecord]:
    """Trainings of the open project that stopped before they ended and are not running now."""
    project = state.get(state.PROJECT)
    if project is None:
        return []
    job = state.get(state.TRAIN_JOB)
    live = {job.job_id} if job is not None and job.active else set()
    running = jobs.QUEUE.find(project, _space_id())
    live |= {running.job_id} if running is not None else set()
    try:
        return trainings.unfinished(state.workspace(), project, live)
    except (OSError, sqlite3.Error):
        return []


def resume(record: TrainingRecord) -> None:
    """Go on from the record's last checkpoint (or start it again when there is none to go on from)."""
    checkpoint = trainings.load_checkpoint(record)
    if checkpoint is None:
        state.put(state.NOTICE, "Its saved progress could not be read, so the training starts again from the "
                                "beginning with the same settings.")
    start(TrainingRequest(**record.request), TableSchema.from_json(record.schema), resume=checkpoint,
          job_id=record.id)


def start_again(record: TrainingRecord) -> None:
    """The same settings from the beginning; the interrupted one is forgotten."""
    trainings.forget(state.workspace(), record, "restarted")
    start(TrainingRequest(**record.request), TableSchema.from_json(record.schema))


def dismiss(record: TrainingRecord) -> None:
    trainings.forget(state.workspace(), record)
