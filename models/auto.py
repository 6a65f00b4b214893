"""The automatic pick: race candidate generators within a time budget, judge them on unseen rows, keep the best."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import torch

from models.base import Generator, ModelError
from models.compute import thread_limit, training_threads
from models.training import (
    ProgressCallback,
    ProgressEvent,
    TrainingControl,
    TrainingOptions,
    TrainingReport,
    TrainingStopped,
)
from tabular.conditions import Conditions
from tabular.parsing import duration, plural
from tabular.privacy import PrivacySettings
from tabular.schema import TableSchema

MIN_SHARE_SECONDS = 3.0  # a candidate given less time than this is skipped: it could not learn anything
JUDGE_SHARE = 0.25  # share of a candidate's time kept for writing and judging its rows (some write slowly)


@dataclass
class AutoConfig:
    """Settings of the automatic pick."""

    budget_seconds: float = 180.0  # the whole race, every candidate and its judging together (a run's own
    # time budget, when it has one, replaces this)
    candidates: tuple[str, ...] = ("copula", "bayesnet", "vae", "autoregressive", "diffusion")  # raced in this
    # order: the quick ones first, so the time they leave goes to the slower ones after them
    preset: str = "balanced"  # the preset every candidate trains with
    judge_rows: int = 2000  # synthetic rows each candidate writes per draw to be judged against the check rows
    judge_draws: int = 3  # draws averaged: the score swings between draws when a generator now and then writes
    # a rare real value that the check rows lack (sdmetrics bins numbers over each table's own range)
    seed: int = 0  # every candidate fits with it (the same rows again when time allows the same epochs)


@dataclass
class RaceEntry:
    """How one candidate did."""

    generator: str  # registry name
    score: float | None = None  # quality (0..1) of its rows against the unseen validation rows
    seconds: float = 0.0  # training and judging
    epochs: int = 0
    note: str = ""  # why it was skipped or failed, in plain words
    model: Generator | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "model"}


class AutoGenerator(Generator):
    """Trains each candidate in turn with a fair share of the time left, then keeps the best judged one.

    A meta-generator: its ``fit`` runs the candidates' own template ``fit`` (so each validates, encodes and
    protects the table itself) instead of learning from an encoding of its own. Afterwards it writes rows,
    and saves, as the candidate it picked (``picked``); the others stay in ``race_`` for the user to open.
    """

    name = "auto"
    Config = AutoConfig

    def fit(self, table: pd.DataFrame, schema: TableSchema, on_progress: ProgressCallback | None = None,
            control: TrainingControl | None = None, options: TrainingOptions | None = None,
            validation: pd.DataFrame | None = None, seed: int | None = None, checkpoint=None, resume=None,
            privacy: PrivacySettings | None = None) -> AutoGenerator:
        """Race the candidates (see ``Generator.fit`` for the arguments; a race is not resumable, so
        ``checkpoint`` and ``resume`` are not used). The validation rows judge the candidates; without
        them (a very small table) the training rows do."""
        self.privacy_ = privacy or PrivacySettings()
        self._check(table, schema)
        options, control = options or TrainingOptions(), control or TrainingControl()
        self.budget_ = float(options.budget_seconds or self.config.budget_seconds)
        race = _Race(self, table, schema, validation, on_progress, control, options,
                     self.config.seed if seed is None else seed)
        self.race_ = race.run()
        self.seconds_, self.judged_unseen_ = race.elapsed(), race.unseen
        finished = [e for e in self.race_ if e.score is not None]
        if not finished:
            raise TrainingStopped(self._nothing_kept(control.cancelled))
        best = max(finished, key=lambda e: e.score)
        self.best_, self.best_name_ = best.model, best.generator
        self.report_ = race.report(best, self.explanation)
        return self

    # ----- the pick -------------------------------------------------------------------------------------------
    @property
    def picked(self) -> Generator:
        self._require_picked()
        return self.best_

    @property
    def explanation(self) -> str:
        """One sentence on the choice, for the Train step, the CLI and the report."""
        from models.registry import card

        self._require_picked()
        ranked = sorted((e for e in self.race_ if e.score is not None), key=lambda e: -e.score)
        best, others = ranked[0], ranked[1:]
        judged = "real rows it never saw" if self.judged_unseen_ else "the real rows (too few to set some aside)"
        why = f"Picked {card(best.generator).title}: its rows matched {judged} best ({_pct(best.score)}"
        if others:
            why += f", against {_pct(others[0].score)} for {card(others[0].generator).title}"
            if len(others) > 1:
                why += f" and less for {plural(len(others) - 1, 'other')}"
        return why + f"), after {duration(self.seconds_)} of the {duration(self.budget_)} budget."

    def sample(self, n: int, seed: int | None = None, conditions: Conditions | None = None) -> pd.DataFrame:
        return self.picked.sample(n, seed, conditions)

    def save(self, path: str | Path | BinaryIO) -> None:
        """Write the picked candidate's model file (it loads as that generator)."""
        self.picked.save(path)

    @classmethod
    def load(cls, path: str | Path | bytes) -> Generator:
        """A saved race is its pick's model file, so it loads as that generator."""
        return Generator.load(path)

    def privacy_state(self) -> dict:
        return self.picked.privacy_state()

    @property
    def epsilon_spent(self) -> float | None:
        return self.picked.epsilon_spent

    @property
    def privacy_summary(self) -> str:
        return self.picked.privacy_summary

    def _nothing_kept(self, cancelled: bool) -> str:
        """Why no candidate finished, and what to do about it."""
        if cancelled:
            return "The race was cancelled before any generator had finished, so there is nothing to keep."
        failures = dict.fromkeys(e.note for e in self.race_ if e.note.startswith("Failed"))
        if failures:
            return "No candidate finished, so there is nothing to keep. " + " ".join(failures)
        least = len(self.race_) * MIN_SHARE_SECONDS / (1 - JUDGE_SHARE)
        return (f"No candidate finished: a time budget of {duration(self.budget_)} is too short for "
                f"{plural(len(self.race_), 'generator')} to learn anything. Allow at least {duration(least)}.")

    def _require_picked(self) -> None:
        if getattr(self, "best_", None) is None:
            self._require_fitted()  # no pick yet: the same plain error as any untrained generator

    # ----- the template's hooks: a race has no networks or encoding of its own ---------------------------
    def _fit(self, data: Any, session: Any) -> None:
        raise NotImplementedError("the automatic pick overrides fit")

    def _sample(self, n: int, generator: torch.Generator):
        return self.picked._sample(n, generator)

    def _networks(self) -> dict[str, torch.nn.Module]:
        return self.picked._networks() if getattr(self, "best_", None) is not None else {}


def _pct(score: float) -> str:
    return f"{100 * score:.1f}%"


class _Race:
    """The running race: each candidate's share of the time, its fit, its judging and the live events."""

    def __init__(self, auto: AutoGenerator, table: pd.DataFrame, schema: TableSchema,
                 validation: pd.DataFrame | None, callback: ProgressCallback | None, control: TrainingControl,
                 options: TrainingOptions, seed: int) -> None:
        self.auto, self.table, self.schema, self.seed = auto, table, schema, seed
        self.judge_rows = validation if validation is not None and len(validation) > 0 else table
        self.validation, self.callback, self.control, self.options = validation, callback, control, options
        self.start = time.perf_counter()
        self.judge_seconds: list[float] = []
        self.overhead = 0.0  # seconds a fit spends outside its own training clock (encoding, setup), at most
        self.unseen = validation is not None and len(validation) > 0  # else the training rows judge

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def run(self) -> list[RaceEntry]:
        names, entries = list(self.auto.config.candidates), []
        for index, name in enumerate(names):
            if self.control.cancelled:
                break
            share = self._share(len(names) - index)
            if share < MIN_SHARE_SECONDS:
                entries.append(RaceEntry(name, note="Skipped: the time budget was used up."))
                continue
            entries.append(self._run_one(name, share))
        return entries

    def _share(self, left: int) -> float:
        """Seconds of training for the next candidate: an equal share of the time left for each candidate still
        to run, less what judging it will take (the slowest judging so far, and at least ``JUDGE_SHARE``)."""
        share = (self.auto.budget_ - self.elapsed()) / left
        return share - max(JUDGE_SHARE * share, max(self.judge_seconds, default=0.0))

    def _run_one(self, name: str, share: float) -> RaceEntry:
        """Train one candidate within ``share`` seconds of its own training clock, then judge it. A candidate
        that fails is noted and the race goes on; one stopped by a cancel is not judged (it had not finished)."""
        from models.registry import create

        began = time.perf_counter()
        model = create(name, self.auto.config.preset)
        options = dataclasses.replace(self.options, budget_seconds=max(share - self.overhead, 1.0))
        try:
            model.fit(self.table, self.schema, on_progress=self._forward(name), control=self.control,
                      options=options, validation=self.validation, seed=self.seed, privacy=self.auto.privacy_)
            self.overhead = max(self.overhead, time.perf_counter() - began - model.report_.seconds)
            if self.control.cancelled:
                return RaceEntry(name, seconds=time.perf_counter() - began, note="Stopped: the race was cancelled.")
            score = self._judge(model)
        except (ModelError, TrainingStopped) as exc:
            return RaceEntry(name, seconds=time.perf_counter() - began, note=f"Failed: {exc}")
        except Exception as exc:  # a bug in one candidate must not lose the others
            return RaceEntry(name, seconds=time.perf_counter() - began,
                             note=f"Failed unexpectedly ({type(exc).__name__}: {exc}).")
        entry = RaceEntry(name, score, time.perf_counter() - began, model.report_.epochs_run, model=model)
        self._emit(ProgressEvent(entry.epochs, entry.epochs, 0, {}, self.elapsed(), self._left(),
                                 candidate=name, judged=score))
        return entry

    def _judge(self, model: Generator) -> float:
        """Quality of the candidate's rows against the judging rows, on this training's share of the cores."""
        from evaluation.sdmetrics_bridge import quality_report

        judged = time.perf_counter()
        cfg, scores = self.auto.config, []
        with thread_limit(training_threads()):
            for draw in range(cfg.judge_draws):
                synthetic = model.sample(cfg.judge_rows, seed=self.seed + draw)
                scores.append(float(quality_report(self.judge_rows, synthetic, self.schema)["quality"]))
        score = sum(scores) / len(scores)
        self.judge_seconds.append(time.perf_counter() - judged)
        return score

    def _forward(self, name: str) -> ProgressCallback:
        """Pass a candidate's progress on, tagged with its name and timed from the start of the race."""
        def forward(event: ProgressEvent) -> bool | None:
            if event.message:  # the candidate's own "Done": the race goes on
                return None
            return self._emit(dataclasses.replace(event, elapsed=self.elapsed(), eta=self._left(), candidate=name))
        return forward

    def _left(self) -> float:
        return max(self.auto.budget_ - self.elapsed(), 0.0)

    def _emit(self, event: ProgressEvent) -> bool | None:
        if self.callback is not None and self.callback(event) is False:
            self.control.cancel()
            return False
        return None

    def report(self, best: RaceEntry, explanation: str) -> TrainingReport:
        """The race's report; its closing event carries the explanation."""
        stopped = self.control.cancelled
        report = TrainingReport(
            epochs_run=sum(e.epochs for e in self.auto.race_), stop_reason="cancelled" if stopped else "finished",
            message=explanation, best_fidelity=best.score, seconds=self.elapsed(),
            history=[e.to_dict() for e in self.auto.race_])
        if self.callback is not None:
            self.callback(ProgressEvent(report.epochs_run, report.epochs_run, 0, {}, report.seconds, 0.0, None,
                                        best.score, explanation, candidate=best.generator))
        return report
