"""The template every generator follows: public fit/sample/save/load wrap each model's _fit/_sample."""

from __future__ import annotations

import dataclasses
import io
import secrets
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np
import pandas as pd
import torch

from models.compute import pick_device, seeded_generator, thread_limit, training_threads
from models.conditional import Evidence, sample_conditioned
from models.nets import init_parameters
from models.training import (
    CheckpointSink,
    ProgressCallback,
    TrainingControl,
    TrainingOptions,
    TrainingReport,
    TrainingSession,
)
from tabular.conditions import Conditions
from tabular.encoding import TableEncoder
from tabular.privacy import PrivacyLedger, PrivacySettings, describe
from tabular.representations import OneHot, Representation
from tabular.schema import Handling, Kind, TableSchema
from tabular.surrogates import SurrogateMaker

MIN_TRAIN_ROWS = 10  # fewer rows than this cannot teach a generator anything
CHECKPOINT_FORMAT = 2  # 2: token generators, grouped one-hot layout, one GAN learning rate


class ModelError(Exception):
    """A problem with a fit or a model file, in plain words for the user."""


class Generator(ABC):
    """Base class: validate and encode in ``fit``, decode in ``sample``; subclasses learn and draw.

    Subclasses set ``name`` and ``Config`` (a dataclass) and implement ``_fit``, ``_sample`` and
    ``_networks``. ``representation`` (see ``tabular.representations``) is the form of the shared encoding
    they read: one-hot rows, normal scores, tokens, or numbers and tokens.

    Everything random in a fit comes from the fit's own generators (``rng_`` for NumPy, ``torch_rng_`` for
    PyTorch, on the model's device), and the fit runs with this training's share of the CPU threads, so
    trainings running side by side neither disturb each other's results nor oversubscribe the cores.
    """

    name: ClassVar[str]
    Config: ClassVar[type]
    representation: ClassVar[Representation] = OneHot()
    sample_chunk: ClassVar[int] = 50_000  # rows drawn per network call (bounds memory; one progress step)
    supports_dp: ClassVar[bool] = False  # trains with differential privacy when ``privacy.epsilon`` is set
    native_conditions: ClassVar[str] = ""  # how it meets conditions itself, in a few words ("": draw and keep)

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self.config = dataclasses.replace(config or self.Config(), **overrides)

    # ----- public API -------------------------------------------------------------------------------------
    def fit(self, table: pd.DataFrame, schema: TableSchema, on_progress: ProgressCallback | None = None,
            control: TrainingControl | None = None, options: TrainingOptions | None = None,
            validation: pd.DataFrame | None = None, seed: int | None = None,
            checkpoint: CheckpointSink | None = None, resume: dict | None = None,
            privacy: PrivacySettings | None = None) -> Generator:
        """Learn the table.

        Args:
            table: the typed table (``Dataset.typed()``); only columns the schema synthesizes are learned.
            schema: column kinds and handling.
            on_progress: called with a ``ProgressEvent`` after every epoch; returning False stops.
            control: lets another thread cancel the fit.
            options: budget, early stopping and live-fidelity settings.
            validation: rows held out of the fit (typed), for the live quality, the held-out loss and early
                stopping.
            seed: makes the fit reproducible.
            checkpoint: given a resumable state every ``options.checkpoint_every`` seconds.
            resume: such a state; the fit (same rows, schema, seed and settings) goes on from it.
            privacy: protections and differential privacy (default: protections on, no DP). Under DP the
                spending is recorded in ``ledger_`` and saved with the model, and the ``validation`` rows are
                learned with the rest: stopping or keeping an epoch by rows outside the private training
                would leak them.
        """
        self.privacy_ = privacy or PrivacySettings()
        if self.privacy_.private and validation is not None:
            table, validation = pd.concat([table, validation]), None
        self._check(table, schema)
        seed = self.config.seed if seed is None else seed
        if self.privacy_.private and self.privacy_.secret_noise:  # noise must not be predictable from a seed;
            seed = (resume or {}).get("fit_seed") or secrets.randbits(62)  # only a resumable checkpoint keeps it
        self.fit_seed_ = seed
        self.rng_ = np.random.default_rng(seed)
        self.device_ = pick_device()
        self.torch_rng_ = seeded_generator(seed, self.device_)
        self.schema_ = TableSchema.from_json(schema.to_json())
        self.ledger_ = PrivacyLedger(self.privacy_.delta_for(len(table))) if self.privacy_.private else None
        self.encoder_ = TableEncoder().fit(table, self.schema_, self.privacy_, self.ledger_, self.rng_)
        if self.privacy_.protect or self.privacy_.private:  # the model file keeps no exact real value
            self.schema_ = self.encoder_.guarded_schema(self.schema_)
        self.surrogates_ = SurrogateMaker().fit(table, self.schema_)
        self.constants_ = self._constants(table)
        data = self._encode(table)
        held_out = self._encode(validation) if validation is not None and len(validation) else None
        session = TrainingSession(self, self._planned_epochs(), validation, on_progress, control,
                                  self._options(options or TrainingOptions()), held_out, checkpoint, resume)
        threads = self._threads()
        self.dp_trainer_ = None  # set by models.private_training.private_trainer in a private fit
        try:
            with thread_limit(threads):
                self._fit(data, session)
        finally:  # finished, stopped early or failed: the ledger records the DP-SGD steps that ran
            if self.dp_trainer_ is not None:
                self.dp_trainer_.finish(self.ledger_, session.step)
                self.dp_trainer_ = None  # its optimiser and hooks are not kept with the model
        self.report_: TrainingReport = session.finish()
        self.report_.threads = threads or 0
        return self

    def sample(self, n: int, seed: int | None = None, conditions: Conditions | None = None) -> pd.DataFrame:
        """Draw ``n`` synthetic rows with the original columns (dropped ones left out) in file order.

        Args:
            n: rows to draw.
            seed: makes the draw reproducible.
            conditions: fixed values, ranges and a target mix every returned row meets (see
                ``tabular.conditions``), met in the generator's own way where it has one
                (``native_conditions``), else by drawing and keeping matching rows, a bounded number of
                times. Raises ``ConditionError`` (plain words) for a value the model never saw, a range
                outside what it knows, or a case too rare to find.
        """
        self._require_fitted()
        if conditions:
            frame = sample_conditioned(self, n, conditions, seed)
        else:
            frame = self._decode_sample(n, seed)
        rng = np.random.default_rng(None if seed is None else seed + 1)
        for name, value in self.constants_.items():
            frame[name] = pd.Series([value] * n, dtype=pd.StringDtype("pyarrow"))
        self.surrogates_.fill(frame, self.schema_, rng)
        keep = [c.name for c in self.schema_.columns if c.handling is not Handling.DROP and c.name in frame]
        return frame[keep]

    def save(self, path: str | Path | BinaryIO) -> None:
        """Write weights, config, encoder and schema as one checkpoint (tensors and plain data, no pickle)."""
        self._require_fitted()
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "generator": self.name,
            "config": dataclasses.asdict(self.config),
            "schema": self.schema_.to_json(),
            "encoder": self.encoder_.state_dict(),
            "surrogates": self.surrogates_.state_dict(),
            "constants": self.constants_,
            "networks": {name: net.state_dict() for name, net in self._networks().items()},
            "extra": self._extra_state(),
            "privacy": self.privacy_state(),
        }
        torch.save(checkpoint, path if hasattr(path, "write") else str(path))

    @property
    def picked(self) -> Generator:
        """The generator that writes the rows: this one (the automatic pick answers with its choice)."""
        return self

    def privacy_state(self) -> dict:
        """The protections used and, under differential privacy, the budget spent (plain data)."""
        ledger = getattr(self, "ledger_", None)
        return {"settings": self.privacy_.to_dict(), "ledger": ledger.state() if ledger is not None else None}

    @property
    def epsilon_spent(self) -> float | None:
        """The differential-privacy budget this model spent (None when trained without it)."""
        ledger = getattr(self, "ledger_", None)
        return ledger.epsilon() if ledger is not None else None

    @property
    def privacy_summary(self) -> str:
        """One plain sentence on how this model protects people (Train step, Evaluate, report, CLI)."""
        ledger = getattr(self, "ledger_", None)
        return describe(self.privacy_, self.epsilon_spent, ledger.total_delta if ledger is not None else None)

    def _load_privacy(self, state: dict | None) -> None:
        """Settings and ledger of a loaded model (files from before protections: protections off)."""
        state = state or {"settings": PrivacySettings.off().to_dict(), "ledger": None}
        self.privacy_ = PrivacySettings.from_dict(state["settings"])
        self.ledger_ = PrivacyLedger.from_state(state["ledger"]) if state.get("ledger") else None

    def to_bytes(self) -> bytes:
        """The checkpoint as the bytes of a model file."""
        buffer = io.BytesIO()
        self.save(buffer)
        return buffer.getvalue()

    @classmethod
    def load(cls, path: str | Path | bytes) -> Generator:
        """Read a checkpoint written by ``save`` (safe: only tensors and plain data are accepted)."""
        source = io.BytesIO(path) if isinstance(path, bytes) else str(path)
        try:
            checkpoint = torch.load(source, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for foreign or damaged files
            raise ModelError("This is not a model file saved by Synthetic Data Studio, or it is damaged.") from exc
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise ModelError("This model file was saved by another version of the app and cannot be read.")
        from models.registry import generator_class

        try:
            model_cls = generator_class(checkpoint["generator"]) if cls is Generator else cls
            model = model_cls(model_cls.Config(**checkpoint["config"]))
            model.device_ = pick_device()
            model.schema_ = TableSchema.from_json(checkpoint["schema"])
            model.encoder_ = TableEncoder().load_state_dict(checkpoint["encoder"], model.schema_)
            model.surrogates_ = SurrogateMaker().load_state_dict(checkpoint["surrogates"])
            model.constants_ = dict(checkpoint["constants"])
            model._load_privacy(checkpoint.get("privacy"))
            model._build(checkpoint["extra"])
            for name, net in model._networks().items():
                net.load_state_dict(checkpoint["networks"][name])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ModelError("This model file is damaged or incomplete, so it cannot be used.") from exc
        return model

    # ----- for subclasses ---------------------------------------------------------------------------------
    @abstractmethod
    def _fit(self, data: np.ndarray, session: TrainingSession) -> None:
        """Learn from the encoded data, calling ``session.epoch_end`` after each epoch."""

    @abstractmethod
    def _sample(self, n: int, generator: torch.Generator) -> np.ndarray:
        """Draw ``n`` encoded rows (one-hot/probabilities, or normal scores)."""

    def _sample_given(self, n: int, generator: torch.Generator, evidence: Evidence):
        """Draw up to ``n`` encoded rows that meet ``evidence`` (``models.conditional``) as far as this model can.

        Generators with a native way override this and set ``native_conditions``; the rows are checked and
        topped up afterwards either way, so this default (draw freely) is always correct, only slower.
        """
        return self._sample(n, generator)

    @abstractmethod
    def _networks(self) -> dict[str, torch.nn.Module]:
        """The modules whose weights make up the model (saved, snapshotted for early stopping)."""

    def _build(self, extra: dict) -> None:
        """Create the networks for a loaded model before its weights are put in."""

    def _extra_state(self) -> dict:
        """Plain data (no objects) besides the weights needed to rebuild the networks."""
        return {}

    def _planned_epochs(self) -> int:
        return int(getattr(self.config, "epochs", 1))

    def _options(self, options: TrainingOptions) -> TrainingOptions:
        """The watching and stopping settings as this model needs them (by default, as given)."""
        return options

    # ----- helpers ----------------------------------------------------------------------------------------
    def _threads(self) -> int | None:
        """CPU threads for this fit: the configured number, else this training's share (None on a GPU)."""
        if self.device_.type != "cpu":
            return None
        return getattr(self.config, "threads", None) or training_threads()

    def _init_networks(self) -> None:
        """Draw the networks' starting weights from this fit's generator."""
        init_parameters(self._networks().values(), self.torch_rng_)

    def _encode(self, table: pd.DataFrame):
        return self.representation.encode(self.encoder_, table, self.rng_)

    def _decode_sample(self, n: int, seed: int | None = None, evidence: Evidence | None = None) -> pd.DataFrame:
        """Model columns only, decoded to typed values, ``sample_chunk`` rows at a time.

        With ``evidence``, rows are drawn by ``_sample_given`` (fewer may come back). Draws from generators
        of its own, so several threads may sample one model at once.
        """
        rng = np.random.default_rng(seed)
        frames = []
        for start in range(0, max(n, 1), self.sample_chunk):
            size = min(self.sample_chunk, n - start)
            generator = seeded_generator(int(rng.integers(2**62)), torch.device("cpu"))
            data = self._sample_given(size, generator, evidence) if evidence else self._sample(size, generator)
            frames.append(self.representation.decode(self.encoder_, data, rng))
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def _constants(self, table: pd.DataFrame) -> dict[str, str | None]:
        """The one value of each constant column, as text (revived by kind when sampling)."""
        out = {}
        for spec in self.schema_.modelled():
            if spec.kind is Kind.CONSTANT:
                present = table[spec.name].dropna()
                few = self.privacy_.protect and len(present) < self.privacy_.min_count
                out[spec.name] = str(present.iloc[0]) if len(present) and not few else None
        return out

    def _check(self, table: pd.DataFrame, schema: TableSchema) -> None:
        if self.privacy_.private and not self.supports_dp:
            raise ModelError(f"The {self.name} generator cannot train with differential privacy. "
                             "Pick one that can, or turn differential privacy off.")
        missing = [c.name for c in schema.modelled() if c.name not in table.columns]
        if missing:
            raise ModelError(f"The table lacks columns the settings mention: {', '.join(missing)}.")
        if len(table) < MIN_TRAIN_ROWS:
            raise ModelError(f"A generator needs at least {MIN_TRAIN_ROWS} rows to learn from; "
                             f"it was given {len(table)}.")
        if not [c for c in schema.modelled() if c.kind is not Kind.CONSTANT]:
            raise ModelError("No column is set to 'Synthesize', so there is nothing to learn. "
                             "Change the handling of at least one column on the Data step.")

    def _require_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise ModelError("This generator has not been trained yet.")
