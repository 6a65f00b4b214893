"""Training as the app, the command line and the benchmarks run it: the row split, the fit, and the
background queue (each fit in a worker thread; a shared queue caps how many run at once)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from models import registry
from models.base import MIN_TRAIN_ROWS, Generator, ModelError
from models.compute import TRAINING_SLOTS
from models.training import (
    CheckpointSink,
    ProgressCallback,
    ProgressEvent,
    TrainingControl,
    TrainingOptions,
    TrainingReport,
    TrainingStopped,
)
from tabular.dataset import Dataset
from tabular.privacy import PrivacySettings
from tabular.schema import TableSchema

MAX_TRAININGS = TRAINING_SLOTS  # trainings running at once on this server (SDS_MAX_TRAININGS)
CHECKPOINT_EVERY = float(os.environ.get("SDS_CHECKPOINT_SECONDS", 10))  # seconds between resumable checkpoints
ABANDON_AFTER = 60.0  # seconds a job's owner may be gone (closed tab) before the job is cancelled
WATCH_EVERY = 5.0  # seconds between checks for abandoned jobs
HOLDOUT_SHARE = 0.2  # real rows set aside for the Evaluate step: never learned, never used to steer training
VALIDATION_SHARE = 0.1  # training rows set aside to watch the fit (live quality, held-out loss, early stop)
VALIDATION_ROWS = (20, 1000)  # fewer than 20 is no yardstick (then every training row is learned); cap


@dataclass
class TrainingRequest:
    """What to train and how."""

    generator: str  # registry name
    preset: str = "balanced"
    overrides: dict = field(default_factory=dict)  # config fields the user changed
    budget_seconds: float | None = None
    seed: int = 0  # seeds the fit and the train/holdout split
    holdout_share: float = HOLDOUT_SHARE  # share of real rows set aside before the fit (see Dataset.split)
    privacy: dict = field(default_factory=lambda: PrivacySettings().to_dict())  # protections and DP budget


def new_model_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class RowSplit:
    """The real rows of one training: what is learned, what watches the fit, what is kept for evaluation."""

    fit: pd.DataFrame  # learned
    validation: pd.DataFrame | None  # not learned; live quality, held-out loss and early stopping
    holdout: pd.DataFrame  # not learned and not used by the fit at all: the Evaluate step's unseen rows

    @property
    def real_rows(self) -> int:
        return len(self.fit) + (0 if self.validation is None else len(self.validation)) + len(self.holdout)


def split_rows(dataset: Dataset, holdout_share: float = HOLDOUT_SHARE, seed: int = 0,
               schema: TableSchema | None = None) -> RowSplit:
    """Split a table for training, the same way in the app, the command line and the benchmarks.

    The holdout is ``Dataset.split`` (so the Evaluate step rebuilds it from the seed); the validation rows
    come out of the remaining training rows.
    """
    train, holdout = dataset.split(holdout_share, seed=seed, schema=schema)
    low, high = VALIDATION_ROWS
    size = min(high, int(round(len(train) * VALIDATION_SHARE)))
    if size < low:
        return RowSplit(train, None, holdout)
    chosen = np.zeros(len(train), dtype=bool)
    chosen[np.random.default_rng(seed + 1).choice(len(train), size, replace=False)] = True
    return RowSplit(train[~chosen], train[chosen], holdout)


def train_model(request: TrainingRequest, rows: RowSplit, schema: TableSchema,
                on_progress: ProgressCallback | None = None, control: TrainingControl | None = None,
                checkpoint: CheckpointSink | None = None, resume: dict | None = None) -> TrainedModel:
    """Fit one generator on ``rows`` as asked; the single path behind the app, the CLI and the benchmarks.

    Args:
        checkpoint: given a resumable state now and then (see ``Generator.fit``).
        resume: such a state, from a fit of the same request on the same rows; the fit goes on from it.

    Raises:
        ModelError, TrainingStopped: the fit cannot be done; the message is for the user.
    """
    if len(rows.fit) < MIN_TRAIN_ROWS:  # count the whole table, not just the rows left after the holdout
        held = rows.real_rows - len(rows.fit)
        raise ModelError(f"A generator needs at least {MIN_TRAIN_ROWS} rows to learn from. This table has "
                         f"{rows.real_rows:,} rows, and {held:,} of them are held back to check the result, "
                         f"which leaves {len(rows.fit):,}. Add more rows.")
    model = registry.create(request.generator, request.preset, **request.overrides)
    model.fit(rows.fit, schema, on_progress=on_progress, control=control,
              options=TrainingOptions(budget_seconds=request.budget_seconds, checkpoint_every=CHECKPOINT_EVERY),
              validation=rows.validation, seed=request.seed, checkpoint=checkpoint, resume=resume,
              privacy=PrivacySettings.from_dict(request.privacy))
    return _trained(request, model, rows)


def _trained(request: TrainingRequest, model: Generator, rows: RowSplit) -> TrainedModel:
    """The fit as the rest of the app sees it; an automatic pick becomes the generator it picked, carrying
    the race and the runners-up (each a trained model the user may open instead)."""
    split = dict(holdout_share=request.holdout_share, split_seed=request.seed, real_rows=rows.real_rows)
    race = getattr(model, "race_", None)
    if race is None:
        return TrainedModel(request.generator, request.preset, model, model.report_, time.time(), **split)
    now, others = time.time(), [e for e in race if e.model is not None and e.model is not model.picked]
    kept = {id(e.model): TrainedModel(e.generator, request.preset, e.model, e.model.report_, now + 0.001 * i, **split)
            for i, e in enumerate(others)}  # each its own time: a reopened project lists them in race order ...
    runners = list(kept.values())  # ... and the pick comes last, the newest: a reopened project uses it
    picked = TrainedModel(model.best_name_, request.preset, model.picked, model.picked.report_,
                          now + 0.001 * len(others), runners_up=runners, **split)
    kept[id(model.picked)] = picked
    entries = [{**e.to_dict(), "model_id": kept[id(e.model)].model_id if e.model is not None else None}
               for e in race]
    picked.race = {"entries": entries, "explanation": model.explanation, "budget": model.budget_,
                   "seconds": model.seconds_, "stopped": model.report_.stop_reason}
    return picked


@dataclass
class TrainedModel:
    """A finished fit, as the rest of the app sees it."""

    generator: str
    preset: str
    model: Generator
    report: TrainingReport
    finished_at: float
    model_id: str = field(default_factory=new_model_id)
    holdout_share: float = 0.2  # with split_seed, rebuilds the exact training/holdout split of the dataset
    split_seed: int = 0
    real_rows: int = 0  # rows of the real table (training + holdout); 0 when unknown (uploaded model file)
    race: dict | None = None  # an automatic pick's race: entries (generator, score, seconds, model_id ...),
    # explanation, budget, seconds; None for a generator trained on its own
    runners_up: list[TrainedModel] = field(default_factory=list)  # the race's other candidates, trained


class TrainingStore(Protocol):
    """Where a job keeps itself so that nothing is lost (see workspace.trainings); every call is from its worker."""

    def started(self, job: TrainingJob) -> None: ...

    def checkpoint(self, job: TrainingJob, state: dict) -> None: ...

    def finished(self, job: TrainingJob, outcome: str) -> None: ...


class TrainingJob:
    """One fit in a worker thread. The worker never touches the UI; the UI polls ``events`` and ``state``.

    With a ``store``, the job records itself, checkpoints as it goes and keeps its model when done, so a
    closed tab, a refresh or a server restart loses nothing; ``resume`` (a stored checkpoint with the events
    drawn so far) makes it go on from where an interrupted job of the same request stopped.
    """

    def __init__(self, request: TrainingRequest, rows: RowSplit, schema: TableSchema,
                 owner_alive: Callable[[], bool] | None = None, store: TrainingStore | None = None,
                 project: str | None = None, resume: dict | None = None, job_id: str | None = None,
                 space: str | None = None) -> None:
        self.request, self.rows, self.schema = request, rows, schema
        self.job_id, self.project, self.store = job_id or new_model_id(), project, store
        self.space = space  # whose project it trains (see workspace.users); only that space may re-attach
        self.owner_alive = owner_alive  # False once whoever started the job has gone for good
        self._gone_since: float | None = None
        self.control = TrainingControl()
        self.state = "queued"  # queued, running, done, failed, cancelled, paused
        self.error: str | None = None
        self.result: TrainedModel | None = None
        self.paused = False  # stopped because its owner left; resumable from its last checkpoint
        self.finished = threading.Event()  # set once the job has ended, whatever the outcome
        self._resume = (resume or {}).get("session")
        self._events = [ProgressEvent(**e) for e in (resume or {}).get("events", [])]
        self.resumed_from = len(self._events)  # events drawn before an interruption
        self._lock = threading.Lock()

    def events(self) -> list[ProgressEvent]:
        with self._lock:
            return list(self._events)

    def cancel(self) -> None:
        self.control.cancel()

    def adopt(self, owner_alive: Callable[[], bool]) -> None:
        """A new browser session (e.g. the same user after a refresh) now watches this job."""
        self.owner_alive, self._gone_since = owner_alive, None

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def resumed(self) -> bool:
        return self._resume is not None

    def check_owner(self, now: float) -> None:
        """Pause the job (it can be resumed) when its owner has been gone longer than ``ABANDON_AFTER``."""
        if self.owner_alive is None or self.owner_alive():
            self._gone_since = None
            return
        if self._gone_since is None:
            self._gone_since = now
        if now - self._gone_since >= ABANDON_AFTER:
            self.paused = True
            self.cancel()

    def _record(self, event: ProgressEvent) -> None:
        with self._lock:
            self._events.append(event)

    def _checkpoint(self, state: dict) -> None:
        if self.store is not None:
            self.store.checkpoint(self, state)

    def run(self) -> None:
        """The worker's body: fit, keep the result or a plain-words error, tell the store, then end.

        The state changes only after the store has kept the model, so whoever sees the job done finds the
        model in the project too.
        """
        if self.control.cancelled:
            self.state = "cancelled"
            return
        self.state = "running"
        if self.store is not None:
            self.store.started(self)
        outcome = "failed"
        try:
            outcome = self._fit()
        finally:
            if self.store is not None:
                self.store.finished(self, outcome)
            self.rows = None  # the real rows are not needed any more: free them now, not when the tab closes
            self.state = outcome

    def _fit(self) -> str:
        """Run the fit; returns how it ended (done, cancelled, paused or failed)."""
        try:
            result = train_model(self.request, self.rows, self.schema, self._record, self.control,
                                 self._checkpoint if self.store is not None else None, self._resume)
        except (ModelError, TrainingStopped) as exc:
            self.error = str(exc)
            return "failed"
        except Exception as exc:  # a bug must not kill the worker silently: say so in plain words
            self.error = f"Training failed unexpectedly ({type(exc).__name__}: {exc})."
            return "failed"
        if self.paused and not result.race:  # resumable from its checkpoint
            return "paused"
        self.result = result  # a race cannot resume, so a paused one keeps the candidates that had finished
        stopped = result.race["stopped"] if result.race else result.report.stop_reason
        return "cancelled" if stopped == "cancelled" else "done"


class TrainingQueue:
    """Runs jobs in daemon threads, at most ``limit`` at a time; the rest wait in order."""

    def __init__(self, limit: int = MAX_TRAININGS) -> None:
        self.limit = max(1, limit)
        self._slots = threading.Semaphore(self.limit)
        self._waiting: list[TrainingJob] = []
        self._jobs: list[TrainingJob] = []  # every job not yet finished, for the abandonment watch
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: TrainingJob) -> TrainingJob:
        with self._lock:
            self._waiting.append(job)
            self._jobs.append(job)
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, daemon=True, name="training-watch")
                self._watcher.start()
        threading.Thread(target=self._work, args=(job,), daemon=True, name="training").start()
        return job

    def _watch(self) -> None:
        """Frees the slots of jobs whose owners closed their browser tab."""
        while True:
            time.sleep(WATCH_EVERY)  # a periodic check: there is no event to wait on
            with self._lock:
                self._jobs = [job for job in self._jobs if job.active]
                jobs = list(self._jobs)
            for job in jobs:
                job.check_owner(time.time())

    def find(self, project: str, space: str | None = None) -> TrainingJob | None:
        """The newest unfinished job of a project in a space, to re-attach a refreshed tab to it."""
        with self._lock:
            found = [job for job in self._jobs if job.project == project and job.space == space and job.active]
        return found[-1] if found else None

    def running(self) -> int:
        """Jobs holding a slot now."""
        with self._lock:
            return sum(job.state == "running" for job in self._jobs)

    def position(self, job: TrainingJob) -> int | None:
        """How many jobs are ahead of this one in the queue (None once it runs)."""
        with self._lock:
            return self._waiting.index(job) if job in self._waiting else None

    def _work(self, job: TrainingJob) -> None:
        while True:
            with self._lock:
                first = self._waiting and self._waiting[0] is job
            if job.control.cancelled or (first and self._slots.acquire(timeout=0.2)):
                break
            job.control._stop.wait(0.2)  # wake at once on cancel
        with self._lock:
            self._waiting.remove(job)
        if job.control.cancelled and job.state == "queued":
            job.state = "cancelled"
            job.finished.set()
            return
        try:
            job.run()
        finally:
            self._slots.release()
            job.finished.set()


QUEUE = TrainingQueue()
