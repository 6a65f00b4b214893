"""Template for generators trained by minibatch steps on one loss that can also score held-out rows.

The autoregressive and diffusion generators share this loop: AdamW with a one-cycle learning rate over the
planned epochs, bfloat16 matrix products where the hardware is fast at it, and after every epoch the same
loss on the validation rows (with fixed random draws, so epochs compare fairly) handed to the session,
which draws it on the chart and stops training once it clearly rises.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch

from models.base import Generator
from models.compute import autocast
from models.private_training import PrivateTrainer, private_trainer
from models.training import TrainingSession

RowsOf = Callable[[torch.nn.Parameter, int], torch.Tensor]  # a parameter repeated for each row (DP-SGD)


def one_cycle(optim: torch.optim.Optimizer, max_lr: float, total_steps: int) -> torch.optim.lr_scheduler.OneCycleLR:
    """A one-cycle learning rate: 5% warm-up (at least two steps), then annealing to almost zero.

    PyTorch divides by the warm-up's length minus one step, so a warm-up of exactly one step (5% of 20
    steps, e.g. 2 epochs of 10 batches) would fail; the share is raised so that it never is.
    """
    share = min(0.9, max(0.05, 2.0 / total_steps))
    return torch.optim.lr_scheduler.OneCycleLR(optim, max_lr=max_lr, total_steps=total_steps, pct_start=share)


def advance(schedule: torch.optim.lr_scheduler.OneCycleLR) -> None:
    """One step of the learning-rate schedule (held at its end: resumed or stretched fits may overrun)."""
    if schedule.last_epoch + 1 < schedule.total_steps:
        schedule.step()


class MinibatchGenerator(Generator):
    """Subclasses turn their representation into tensors (``_tensors``) and define the loss (``_loss``).

    Their config needs ``epochs``, ``batch_size``, ``learning_rate`` and ``weight_decay``.
    """

    loss_name: ClassVar[str] = "training"  # the training loss's name on the chart

    @abstractmethod
    def _tensors(self, data: Any) -> tuple[torch.Tensor, ...]:
        """The encoded rows as tensors on the model's device, one row per record in each."""

    @abstractmethod
    def _loss(self, *batch: torch.Tensor, generator: torch.Generator, rows_of: RowsOf | None = None) -> torch.Tensor:
        """Mean loss per row of a batch (slices of the ``_tensors``), its randomness from ``generator``.

        Under differential privacy ``rows_of`` is given: the loss of every row then (a vector), with any
        parameter that is not inside a standard layer passed through ``rows_of(parameter, rows)``.
        """

    def _prepare(self, tensors: tuple[torch.Tensor, ...]) -> None:
        """Called once the networks exist and before the first step (e.g. to set starting biases)."""

    def _prepare_private(self) -> None:
        """``_prepare`` under differential privacy: from the encoder's (private) statistics, never the rows."""

    def _fit(self, data: Any, session: TrainingSession) -> None:
        self._build({})
        self._init_networks()
        cfg = self.config
        tensors = self._tensors(data)
        held_out = self._tensors(session.held_out) if session.held_out is not None else None
        rows = len(tensors[0])
        batch = max(1, min(cfg.batch_size, rows))
        params = [p for net in self._networks().values() for p in net.parameters()]
        optim = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        private = private_trainer(self, list(self._networks().values()), optim, rows, batch, cfg.epochs)
        per_epoch = private.plan.steps_per_epoch if private is not None else -(-rows // batch)
        schedule = one_cycle(optim, cfg.learning_rate, max(cfg.epochs * per_epoch, 1))
        if private is None:
            self._prepare(tensors)
        else:
            self._prepare_private()
        for epoch in range(session.track({"adamw": optim}, {"one_cycle": schedule}), cfg.epochs + 1):
            if private is None:
                loss = self._epoch(tensors, batch, optim, schedule, session)
            else:
                loss = self._private_epoch(tensors, private, schedule, session)
            if not session.epoch_end(epoch, {self.loss_name: loss}, self._held_out_loss(held_out)):
                break

    def _train_mode(self, training: bool) -> None:
        for net in self._networks().values():
            net.train(training)

    def _epoch(self, tensors, batch, optim, schedule, session) -> float:
        self._train_mode(True)
        order = torch.from_numpy(self.rng_.permutation(len(tensors[0]))).to(self.device_)
        total, steps = 0.0, 0
        for start in range(0, len(order), batch):
            pick = order[start:start + batch]
            with autocast(self.device_):
                loss = self._loss(*(t[pick] for t in tensors), generator=self.torch_rng_)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            advance(schedule)
            total, steps = total + loss.item(), steps + 1
            session.step += 1
            if session.should_stop():
                break
        return total / max(steps, 1)

    def _private_epoch(self, tensors, private: PrivateTrainer, schedule, session) -> float:
        """An epoch of DP-SGD steps on Poisson batches."""
        self._train_mode(True)
        total, steps = 0.0, 0
        for _ in range(private.plan.steps_per_epoch):
            pick = private.draw(self.rng_, len(tensors[0]), self.device_)
            losses = None
            if len(pick):
                with autocast(self.device_):
                    losses = self._loss(*(t[pick] for t in tensors), generator=self.torch_rng_, rows_of=private.rows_of)
            mean = private.step(losses)
            advance(schedule)
            if mean is not None:
                total, steps = total + mean, steps + 1
            session.step += 1
            if session.should_stop():
                break
        return total / max(steps, 1)

    @torch.no_grad()
    def _held_out_loss(self, tensors: tuple[torch.Tensor, ...] | None, repeats: int = 4) -> float | None:
        """The loss of rows never learned, with the same random draws at every epoch."""
        if tensors is None or not len(tensors[0]):
            return None
        self._train_mode(False)
        generator = torch.Generator(device=self.device_).manual_seed(0)
        with autocast(self.device_):
            return float(np.mean([self._loss(*tensors, generator=generator).item() for _ in range(repeats)]))
