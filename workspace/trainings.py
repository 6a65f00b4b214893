"""Trainings on disk: a catalogue row per training and its latest checkpoint, so a restart loses nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from models.jobs import TrainingJob
    from workspace.projects import Workspace

CHECKPOINT_FORMAT = 1
UNFINISHED = ("queued", "running", "paused")  # states a training is left in when the app stops under it
PAUSED_MESSAGE = "It was paused because its browser tab was closed."
STOPPED_MESSAGE = "The app stopped while it was training."


@dataclass
class TrainingRecord:
    """One training of a project as the catalogue knows it."""

    id: str
    project: str
    request: dict  # models.jobs.TrainingRequest as a dict
    schema: str  # the column settings it trained with (TableSchema JSON)
    state: str  # queued, running, paused, done, failed, cancelled
    started: float
    updated: float
    epoch: int  # epochs finished at the last checkpoint
    epochs: int  # epochs planned
    message: str
    checkpoint: Path | None  # the latest checkpoint, when one was written


class ProjectTrainings:
    """The ``models.jobs.TrainingStore`` of one project: the job reports here from its worker thread.

    A write that fails (full or read-only disk) is remembered in ``problem`` instead of stopping the fit.
    """

    def __init__(self, workspace: Workspace, project_id: str) -> None:
        self.workspace, self.project = workspace, project_id
        self.problem: str | None = None

    def started(self, job: TrainingJob) -> None:
        epochs = int(job.request.overrides.get("epochs", 0))
        self._write(lambda db: db.execute(
            "INSERT INTO trainings (id, project, request, schema, state, started, updated, epoch, epochs, message) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?, 0, ?, '') ON CONFLICT(id) DO UPDATE SET state = 'running', "
            "updated = excluded.updated, message = ''",
            (job.job_id, self.project, json.dumps(asdict(job.request)), job.schema.to_json(), time.time(),
             time.time(), epochs)))

    def checkpoint(self, job: TrainingJob, state: dict) -> None:
        path = self.workspace.checkpoint_path(self.project, job.job_id)
        payload = {"format": CHECKPOINT_FORMAT, "session": state, "events": [asdict(e) for e in job.events()]}
        try:
            path.parent.mkdir(exist_ok=True)  # not parents: a project deleted meanwhile is not brought back
            partial = path.with_suffix(".partial")
            torch.save(payload, partial)
            os.replace(partial, path)  # a crash while writing leaves the previous checkpoint whole
        except OSError as exc:
            self.problem = f"Progress could not be saved ({exc})."
            return
        events = payload["events"]
        self._set(job.job_id, "epoch = ?, epochs = ?", (int(state["epoch"]), events[-1]["epochs"] if events else 0))

    def finished(self, job: TrainingJob, outcome: str) -> None:
        """Keep the model, or the checkpoint of a paused job; forget the checkpoint otherwise."""
        if outcome == "paused":
            self._set(job.job_id, "state = 'paused', message = ?", (PAUSED_MESSAGE,))
            return
        if job.result is not None:
            try:
                for trained in [*job.result.runners_up, job.result]:  # a race keeps every candidate, its pick last
                    self.workspace.add_model(self.project, trained)
            except (OSError, ValueError, sqlite3.Error) as exc:
                self.problem = f"The trained model could not be saved to the project folder ({exc})."
        self._set(job.job_id, "state = ?, message = ?", (outcome, job.error or ""))
        self.workspace.checkpoint_path(self.project, job.job_id).unlink(missing_ok=True)

    def _set(self, training_id: str, assignment: str, values: tuple) -> None:
        self._write(lambda db: db.execute(f"UPDATE trainings SET {assignment}, updated = ? WHERE id = ?",
                                          (*values, time.time(), training_id)))

    def _write(self, action) -> None:
        try:
            with closing(self.workspace._connect()) as db, db:
                action(db)
        except sqlite3.Error as exc:
            self.problem = f"The training could not be recorded in the project folder ({exc})."


def unfinished(workspace: Workspace, project_id: str, running_here: set[str] = frozenset()) -> list[TrainingRecord]:
    """Trainings of a project that stopped before they ended (newest first), leaving out those still
    running in this process (``running_here``: their ids)."""
    with closing(workspace._connect()) as db:
        rows = db.execute(
            "SELECT id, project, request, schema, state, started, updated, epoch, epochs, message FROM trainings "
            f"WHERE project = ? AND state IN ({', '.join('?' * len(UNFINISHED))}) ORDER BY started DESC",
            (project_id, *UNFINISHED)).fetchall()
    records = []
    for r in rows:
        if r[0] in running_here:
            continue
        path = workspace.checkpoint_path(project_id, r[0])
        message = r[9] or (STOPPED_MESSAGE if r[4] != "paused" else PAUSED_MESSAGE)
        records.append(TrainingRecord(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], message,
                                      path if path.is_file() else None))
    return records


def load_checkpoint(record: TrainingRecord) -> dict | None:
    """The stored checkpoint (weights and plain data only), or None when it is missing or unreadable."""
    if record.checkpoint is None:
        return None
    try:
        payload = torch.load(record.checkpoint, map_location="cpu", weights_only=True)
    except Exception:  # torch raises several types for damaged files; a damaged one just cannot be resumed
        return None
    return payload if isinstance(payload, dict) and payload.get("format") == CHECKPOINT_FORMAT else None


def forget(workspace: Workspace, record: TrainingRecord, state: str = "dismissed") -> None:
    """Mark an interrupted training as dealt with and delete its checkpoint."""
    with closing(workspace._connect()) as db, db:
        db.execute("UPDATE trainings SET state = ?, updated = ? WHERE id = ?", (state, time.time(), record.id))
    if record.checkpoint is not None:
        record.checkpoint.unlink(missing_ok=True)
