"""The training loop's companion: progress events, live fidelity, early stopping, budget, cancel, NaN guard.

A generator's ``_fit`` calls ``session.epoch_end(...)`` after every epoch; the session decides whether to
go on, keeps the best weights, and reports progress through a plain callback. Models that can score rows
they never learned (a held-out loss, e.g. the autoregressive model's likelihood) pass it to ``epoch_end``:
it is drawn on the chart and decides early stopping; otherwise the live fidelity decides. Knows nothing
of Streamlit.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from evaluation.fidelity import FidelityReference


@dataclass
class ProgressEvent:
    """One report from a running fit."""

    epoch: int  # epochs finished
    epochs: int  # epochs planned
    step: int  # optimiser steps so far
    losses: dict[str, float]  # this epoch's mean losses
    elapsed: float  # seconds since the fit started
    eta: float | None  # seconds left, estimated
    fidelity: float | None = None  # live fidelity (0..1) when it was measured this epoch
    best_fidelity: float | None = None
    message: str = ""  # plain words for the user, e.g. why training stopped
    candidate: str | None = None  # in a race of generators (models.auto), the one this event is about ...
    judged: float | None = None  # ... and, once it has finished, its quality on the rows that judge the race


@dataclass
class TrainingOptions:
    """How a fit is watched and stopped."""

    budget_seconds: float | None = None  # stop (keeping the best so far) after this long
    eval_every: int = 5  # measure live fidelity every this many epochs
    patience: int = 5  # stop after this many measurements without improvement ...
    min_share: float = 0.5  # ... but never before this share of the planned epochs has run
    min_delta: float = 0.001  # smaller gains than this do not count as improvement
    eval_rows: int = 1000  # validation rows compared with as many synthetic rows
    loss_patience: int = 10  # epochs in a row with a clearly worse held-out loss before stopping ...
    loss_tolerance: float = 0.01  # ... "clearly" meaning more than this share above the best (less is noise)
    display_share: float = 0.1  # share of the time a display-only quality measurement may take
    checkpoint_every: float = 10.0  # seconds between resumable checkpoints (when the fit is given somewhere to put them)


ProgressCallback = Callable[[ProgressEvent], Any]
CheckpointSink = Callable[[dict], None]  # receives a resumable state (tensors and plain data) now and then


class TrainingControl:
    """Thread-safe stop button shared between the worker and whoever watches it."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()


class TrainingStopped(Exception):
    """Raised from a fit when it ends early for a reason the user should hear about."""


@dataclass
class TrainingReport:
    """How a fit ended."""

    epochs_run: int = 0
    stop_reason: str = "finished"  # finished, early_stop, budget, cancelled, unstable
    message: str = ""
    best_fidelity: float | None = None
    best_epoch: int | None = None
    seconds: float = 0.0
    history: list[dict] = field(default_factory=list)
    threads: int = 0  # CPU threads the fit used (0: a GPU, or not recorded)
    best_held_out: float | None = None  # lowest held-out loss, for models that report one


class TrainingSession:
    """Per-fit bookkeeping used by a generator's ``_fit``."""

    def __init__(self, model, epochs: int, validation: pd.DataFrame | None, callback: ProgressCallback | None,
                 control: TrainingControl | None, options: TrainingOptions, held_out: Any = None,
                 checkpoint: CheckpointSink | None = None, resume: dict | None = None) -> None:
        self.model, self.epochs, self.validation = model, epochs, validation
        self.held_out = held_out  # the validation rows in the model's representation
        self.callback, self.control, self.options = callback, control or TrainingControl(), options
        self.checkpoint, self.resume = checkpoint, resume  # see ``track``
        self._optimizers: dict[str, Any] = {}
        self._last_checkpoint = time.perf_counter()
        self.report = TrainingReport()
        self.start = time.perf_counter()
        self.step = 0
        self._best_state: dict | None = None
        self._good_state: dict | None = None
        self._stale = 0
        self._reference: FidelityReference | None = None
        self._last_held_out: float | None = None
        self._measuring = 0.0  # seconds spent on display-only quality measurements

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def track(self, optimizers: dict[str, Any], schedules: dict[str, Any] | None = None) -> int:
        """Register what a resumable fit carries from epoch to epoch; returns the first epoch to run.

        Called by ``_fit`` once the networks, optimisers and learning-rate schedules exist. When the fit
        resumes an interrupted one, their states, the random generators and this session's bookkeeping are
        put back as they were at the checkpoint, so the rest of the fit runs as if it had never stopped.
        """
        self._optimizers = {**{f"optimizer/{k}": v for k, v in optimizers.items()},
                            **{f"schedule/{k}": v for k, v in (schedules or {}).items()}}
        if self.resume is None:
            return 1
        return _restore(self, self.resume) + 1

    def _maybe_checkpoint(self, epoch: int) -> None:
        due = time.perf_counter() - self._last_checkpoint >= self.options.checkpoint_every
        if self.checkpoint is not None and self._optimizers and due:
            self.checkpoint(_capture(self, epoch))
            self._last_checkpoint = time.perf_counter()

    def should_stop(self) -> bool:
        """Checked between batches too, so cancel and budget act within a batch."""
        budget = self.options.budget_seconds
        return self.control.cancelled or (budget is not None and self.elapsed() > budget)

    def epoch_end(self, epoch: int, losses: dict[str, float], held_out: float | None = None) -> bool:
        """Record an epoch; returns False when training should stop.

        Args:
            epoch: epochs finished.
            losses: this epoch's mean training losses, by name.
            held_out: the loss on rows the model never learned, when the model can compute one; the
                lowest is kept, and it stops training once it no longer improves.
        """
        self.report.epochs_run = epoch
        if held_out is not None:
            losses = {**losses, "held-out": held_out}
        if not all(math.isfinite(v) for v in losses.values()):
            return self._stop("unstable", "Training became unstable (a loss was not a number), so it stopped. "
                                          "The last good state is kept; try a lower learning rate.")
        self._good_state = self._snapshot()
        if held_out is not None:
            self._track_loss(epoch, held_out)
            fidelity = self._display_fidelity(epoch)
        else:
            fidelity = self._measure(epoch)
        self._emit(epoch, losses, fidelity)
        if self.control.cancelled:
            return self._stop("cancelled", "Training was cancelled; the best model so far is kept.")
        if epoch >= self.epochs:
            return False
        budget = self.options.budget_seconds
        if budget is not None and self.elapsed() > budget:
            return self._stop("budget", f"The time budget of {budget:.0f} s was reached; the best model is kept.")
        if held_out is not None:
            if self._stale >= self.options.loss_patience:
                return self._stop("early_stop", "The loss on rows it never learned kept rising (it began to "
                                                "memorise), so training stopped and the best state is kept.")
        elif self._stale >= self.options.patience and epoch >= self.options.min_share * self.epochs:
            return self._stop("early_stop", "Quality stopped improving, so training stopped early.")
        self._maybe_checkpoint(epoch)
        return True

    def _track_loss(self, epoch: int, loss: float) -> None:
        """Remember the weights with the lowest held-out loss; count epochs that are clearly worse than it."""
        best = self.report.best_held_out
        if best is None or loss < best:
            self.report.best_held_out, self.report.best_epoch = loss, epoch
            self._best_state = self._good_state
        worse = best is not None and loss > best + self.options.loss_tolerance * abs(best)
        self._stale = self._stale + 1 if worse else 0
        self._last_held_out = loss

    def _last_is_as_good(self) -> bool:
        """Whether the last weights are not clearly worse on held-out rows than the best seen (after a
        finished one-cycle run they have settled, so they are kept)."""
        best, last = self.report.best_held_out, self._last_held_out
        return best is not None and last is not None and last <= best + self.options.loss_tolerance * abs(best)

    def _state_to_restore(self) -> dict | None:
        """The weights to go back to at the end, or None to keep the last ones."""
        if self.report.stop_reason == "unstable":
            return self._best_state or self._good_state
        if self.report.stop_reason != "early_stop" and self._last_is_as_good():
            self.report.best_held_out, self.report.best_epoch = self._last_held_out, self.report.epochs_run
            return None
        return self._best_state

    def _score(self, epoch: int) -> float:
        if self._reference is None:
            self._reference = FidelityReference(self.validation, self.model.encoder_)
        synth = self.model._decode_sample(len(self.validation), seed=epoch)
        return self._reference.score(synth)["score"]

    def _display_fidelity(self, epoch: int) -> float | None:
        """Live quality for the chart only (the held-out loss decides), within a small share of the time."""
        if self.validation is None:
            return None
        due = epoch == self.epochs or not epoch % self.options.eval_every
        if not due or self._measuring > self.options.display_share * self.elapsed():
            return None
        started = time.perf_counter()
        score = self._score(epoch)
        self._measuring += time.perf_counter() - started
        self.report.history.append({"epoch": epoch, "fidelity": score})
        if self.report.best_fidelity is None or score > self.report.best_fidelity:
            self.report.best_fidelity = score
        return score

    def _measure(self, epoch: int) -> float | None:
        if self.validation is None or (epoch % self.options.eval_every and epoch != self.epochs):
            return None
        score = self._score(epoch)
        self.report.history.append({"epoch": epoch, "fidelity": score})
        best = self.report.best_fidelity
        if best is None or score > best + self.options.min_delta:
            self.report.best_fidelity, self.report.best_epoch = score, epoch
            self._best_state = self._good_state
            self._stale = 0
        else:
            self._stale += 1
        return score

    def _emit(self, epoch: int, losses: dict[str, float], fidelity: float | None) -> None:
        elapsed = self.elapsed()
        eta = elapsed / epoch * (self.epochs - epoch) if epoch else None
        budget = self.options.budget_seconds
        if budget is not None and eta is not None:
            eta = min(eta, max(budget - elapsed, 0.0))
        event = ProgressEvent(epoch, self.epochs, self.step, losses, elapsed, eta, fidelity,
                              self.report.best_fidelity)
        if self.callback is not None and self.callback(event) is False:
            self.control.cancel()

    def _snapshot(self) -> dict:
        return {name: copy.deepcopy(net.state_dict()) for name, net in self.model._networks().items()}

    def _stop(self, reason: str, message: str) -> bool:
        self.report.stop_reason, self.report.message = reason, message
        return False

    def finish(self) -> TrainingReport:
        """Restore the best (or last good) weights and close the report."""
        state = self._state_to_restore()
        if state is not None:
            for name, net in self.model._networks().items():
                net.load_state_dict(state[name])
        if self.report.stop_reason == "unstable" and self._good_state is None:
            raise TrainingStopped("Training became unstable in its first epoch. Try a lower learning rate.")
        self.report.seconds = self.elapsed()
        if self.callback is not None:
            self.callback(ProgressEvent(self.report.epochs_run, self.epochs, self.step, {}, self.report.seconds,
                                        0.0, None, self.report.best_fidelity, self.report.message or "Done"))
        return self.report


_BOOKKEEPING = ("step", "_best_state", "_good_state", "_stale", "_last_held_out", "_measuring")


def _capture(session: TrainingSession, epoch: int) -> dict:
    """Everything needed to go on after ``epoch`` (tensors and plain data only, loadable with weights_only)."""
    model = session.model
    return {
        "epoch": epoch,
        "elapsed": session.elapsed(),
        "networks": session._snapshot(),
        "carried": {name: copy.deepcopy(part.state_dict()) for name, part in session._optimizers.items()},
        "numpy_rng": copy.deepcopy(model.rng_.bit_generator.state),
        "torch_rng": model.torch_rng_.get_state(),
        "bookkeeping": {name: copy.deepcopy(getattr(session, name)) for name in _BOOKKEEPING},
        "report": asdict(session.report),
        "fit_seed": model.fit_seed_,  # a private fit's secret seed: the resumed fit redraws the same statistics
    }


def _restore(session: TrainingSession, state: dict) -> int:
    """Put a ``_capture``d state back into a freshly built fit; returns the epoch it was taken after."""
    model = session.model
    if set(model._networks()) - set(state["networks"]):
        raise TrainingStopped("This paused training was saved by an earlier version of the app, so it cannot go "
                              "on. Start the training again.")
    for name, net in model._networks().items():
        net.load_state_dict(state["networks"][name])
    for name, part in session._optimizers.items():
        part.load_state_dict(state["carried"][name])
    model.rng_.bit_generator.state = state["numpy_rng"]
    model.torch_rng_.set_state(state["torch_rng"])
    for name, value in state["bookkeeping"].items():
        setattr(session, name, value)
    session.report = TrainingReport(**state["report"])
    session.start = time.perf_counter() - float(state["elapsed"])
    return int(state["epoch"])
