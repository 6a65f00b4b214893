"""DP-SGD for the neural generators: Poisson batches, per-row clipping and calibrated Gaussian noise (Opacus).

A private fit trains the networks that see real rows with ``PrivateTrainer`` instead of a plain optimiser
step. Every step draws a Poisson batch (each row in with probability q, from the fit's NumPy generator),
bounds each row's influence by clipping its gradient to ``max_grad_norm`` and adds Gaussian noise of
``noise_multiplier x max_grad_norm`` before the optimiser moves (Opacus' ``DPOptimizer`` family, noise
drawn from the fit's torch generator). The noise is calibrated once, before training, for the planned
number of steps (``plan_for``), with Renyi-DP accounting through the fit's ``PrivacyLedger``; ``finish``
records the steps that really ran, so an early stop spends less.

Per-row gradient norms come from Opacus' ghost clipping: hooks on the supported layers (``Linear``,
``Embedding``, ``LayerNorm``) compute each row's norm without materialising per-row gradients, and a
second backward pass of the loss weighted by each row's clipping factor gives the sum of the clipped
gradients. A parameter held directly by a custom module (a "loose" parameter, e.g. the VAE's output
scales) has no hook: the model hands it to its loss row by row through ``rows_of``. Networks whose loss
needs gradients with respect to the input (the GAN critic's gradient penalty) use ``per_sample_gradients``
(torch.func) and ``step_with_samples`` instead, with Opacus' ``DPOptimizer`` clipping them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch import nn

from models.base import ModelError

warnings.filterwarnings("ignore", message="Full backward hook is firing when gradients are computed with respect to "
                        "module outputs", category=UserWarning)  # the first layer's input needs no gradient: expected
HOOKED = (nn.Linear, nn.Embedding, nn.LayerNorm)  # layers Opacus computes per-row gradient norms for


@dataclass(frozen=True)
class PrivatePlan:
    """DP-SGD settings fixed before training."""

    sample_rate: float  # q: the chance that a row is in a batch
    steps_per_epoch: int  # batches per epoch (rows / expected batch)
    noise_multiplier: float  # noise standard deviation over the clipping norm
    expected_batch: int  # q x rows: the gradient sum is divided by this
    max_grad_norm: float  # each row's gradient is clipped to this length


def plan_for(model, rows: int, batch: int, epochs: int) -> PrivatePlan:
    """The DP-SGD plan of a private fit: ``epochs`` x expected batches, calibrated to what the budget has left.

    Called after the encoder has spent its share, so the ledger's total stays at ``privacy_.epsilon``.
    """
    batch = max(1, min(batch, rows))
    rate = batch / rows
    steps_per_epoch = max(1, round(rows / batch))
    try:
        noise = model.ledger_.noise_for(model.privacy_.epsilon, rate, max(epochs, 1) * steps_per_epoch)
    except ValueError as exc:
        raise ModelError(f"A privacy budget of {model.privacy_.epsilon:g} is too small for "
                                 f"{epochs} epochs on {rows} rows. Choose a larger budget or fewer epochs.") from exc
    return PrivatePlan(rate, steps_per_epoch, noise, batch, model.privacy_.max_grad_norm)


def private_trainer(model, modules: Sequence[nn.Module], optimizer: torch.optim.Optimizer, rows: int, batch: int,
                    epochs: int, ghost: bool = True) -> PrivateTrainer | None:
    """A ``PrivateTrainer`` for a fit under differential privacy, None for any other fit."""
    if not model.privacy_.private:
        return None
    return PrivateTrainer(modules, optimizer, plan_for(model, rows, batch, epochs), model.torch_rng_, ghost)


def finish_private(model, trainer: PrivateTrainer | None, session) -> None:
    """After a private fit (finished, stopped early or failed): record the steps that ran."""
    if trainer is not None:
        trainer.finish(model.ledger_, session.step)


def poisson_batch(rng: np.random.Generator, rows: int, rate: float, device: torch.device) -> torch.Tensor:
    """Rows of one Poisson batch: each row independently with probability ``rate`` (sorted indices).

    Drawn as a binomial count and then that many distinct rows, which is the same distribution as one
    coin per row without a draw per row.
    """
    count = int(rng.binomial(rows, rate))
    picked = np.sort(rng.choice(rows, size=count, replace=False)) if count else np.zeros(0, dtype=np.int64)
    return torch.from_numpy(picked.astype(np.int64)).to(device)


def split_parameters(modules: Iterable[nn.Module]) -> tuple[list[nn.Module], list[nn.Parameter]]:
    """The layers Opacus hooks, and the loose parameters (held directly by another module)."""
    hooked: list[nn.Module] = []
    loose: list[nn.Parameter] = []
    for module in modules:
        if isinstance(module, HOOKED):
            hooked.append(module)
            continue
        loose.extend(p for p in module.parameters(recurse=False) if p.requires_grad)
        child_hooked, child_loose = split_parameters(module.children())
        hooked.extend(child_hooked)
        loose.extend(child_loose)
    return hooked, loose


class PrivateTrainer:
    """DP-SGD steps for some networks and the optimiser of their parameters.

    Args:
        modules: the networks trained on real rows.
        optimizer: the plain optimiser of their parameters (its state is what checkpoints carry).
        plan: from ``plan_for``.
        generator: the fit's torch generator; the noise comes from it, so a seed gives the same model.
        ghost: per-row norms by Opacus hooks (``step``); False: per-row gradients given (``step_with_samples``).
    """

    def __init__(self, modules: Sequence[nn.Module], optimizer: torch.optim.Optimizer, plan: PrivatePlan,
                 generator: torch.Generator, ghost: bool = True) -> None:
        from opacus.grad_sample import GradSampleHooksFastGradientClipping
        from opacus.optimizers import DPOptimizer, DPOptimizerFastGradientClipping

        self.plan = plan
        self.params = [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
        kind = DPOptimizerFastGradientClipping if ghost else DPOptimizer
        self.optimizer = kind(optimizer, noise_multiplier=plan.noise_multiplier, max_grad_norm=plan.max_grad_norm,
                              expected_batch_size=plan.expected_batch, loss_reduction="mean", generator=generator)
        self.hooks = None
        self.loose: list[nn.Parameter] = []
        self._row_grads: dict[int, torch.Tensor] = {}
        self._collect = False
        self.clip_factors: torch.Tensor | None = None  # of the last step, for tests and diagnostics
        if ghost:
            hooked, self.loose = split_parameters(modules)
            self._container = nn.ModuleList(hooked)
            self.hooks = GradSampleHooksFastGradientClipping(
                self._container, batch_first=True, loss_reduction="sum", strict=True,
                max_grad_norm=plan.max_grad_norm, use_ghost_clipping=True)

    def draw(self, rng: np.random.Generator, rows: int, device: torch.device) -> torch.Tensor:
        """The rows of the next Poisson batch."""
        return poisson_batch(rng, rows, self.plan.sample_rate, device)

    def rows_of(self, param: nn.Parameter, rows: int) -> torch.Tensor:
        """``param`` repeated for every row of the batch, so that its per-row gradients can be seen."""
        if not (self.hooks is not None and torch.is_grad_enabled()):
            return param
        view = param.unsqueeze(0).expand(rows, *param.shape)
        view.register_hook(partial(self._record, id(param)))
        return view

    def _record(self, key: int, grad: torch.Tensor) -> None:
        if self._collect:
            self._row_grads[key] = grad.detach()

    def step(self, row_losses: torch.Tensor | None) -> float | None:
        """One DP-SGD step from the loss of every row of a Poisson batch (None: the batch was empty).

        Returns the batch's mean loss (None for an empty batch).
        """
        self.optimizer.zero_grad(set_to_none=True)
        if row_losses is not None and len(row_losses):
            self._clipped_gradients(row_losses)
        for p in self.params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        self.optimizer.step()
        return float(row_losses.detach().mean()) if row_losses is not None and len(row_losses) else None

    def _clipped_gradients(self, row_losses: torch.Tensor) -> None:
        """Leave the sum of the per-row gradients, each clipped to the norm, in ``p.grad`` (ghost clipping)."""
        self._start_batch()
        self._collect = True
        try:
            row_losses.sum().backward(retain_graph=True)
        finally:
            self._collect = False
        norms = self._row_norms(len(row_losses))
        self.clip_factors = (self.plan.max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
        self.optimizer.original_optimizer.zero_grad(set_to_none=True)
        self.hooks.disable_hooks()
        (row_losses * self.clip_factors.to(row_losses.dtype)).sum().backward()
        self.hooks.enable_hooks()

    def _start_batch(self) -> None:
        """Forget the per-row norms and gradients a previous batch left behind."""
        self._row_grads = {}
        for p in self._container.parameters():
            p._norm_sample = p.grad_sample = None

    def _row_norms(self, rows: int) -> torch.Tensor:
        """Each row's gradient norm over every trained parameter."""
        squares = torch.zeros(rows, dtype=torch.float32, device=self.params[0].device)
        for p in self._container.parameters():
            norm = getattr(p, "_norm_sample", None)
            if norm is not None:
                squares += norm.float() ** 2
        for p in self.loose:
            grad = self._row_grads.get(id(p))
            if grad is None and p.grad is not None:
                raise RuntimeError("A parameter outside Opacus' layers was used without rows_of; "
                                   "its per-row gradients would not be clipped.")
            if grad is not None:
                squares += grad.reshape(rows, -1).float().pow(2).sum(1)
        return squares.sqrt()

    def step_with_samples(self, grad_samples: dict[nn.Parameter, torch.Tensor] | None) -> None:
        """One DP-SGD step from per-row gradients (None: the batch was empty); Opacus clips and adds noise."""
        for p in self.params:
            given = None if grad_samples is None else grad_samples.get(p)
            p.grad_sample = given if given is not None else p.new_zeros((0, *p.shape))
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def finish(self, ledger, steps: int) -> None:
        """Record the steps that ran in the ledger and take Opacus' hooks and attributes off the networks."""
        if steps > 0:
            ledger.add(self.plan.noise_multiplier, self.plan.sample_rate, steps)
        if self.hooks is not None:
            self.hooks.cleanup()
            for module in self._container:
                for name in ("activations", "max_batch_len"):
                    if hasattr(module, name):
                        delattr(module, name)
        for p in self.params:
            for name in ("grad_sample", "summed_grad"):
                if hasattr(p, name):
                    delattr(p, name)


def per_sample_gradients(module: nn.Module, row_loss: Callable[..., torch.Tensor], *rows: torch.Tensor
                         ) -> tuple[dict[nn.Parameter, torch.Tensor], torch.Tensor]:
    """Per-row gradients of ``module``'s parameters (torch.func), for losses Opacus' hooks cannot follow.

    Args:
        module: the network; its parameters are what the gradients are taken of.
        row_loss: ``row_loss(params, *row)`` -> the loss of one row, a scalar; ``params`` is a name ->
            tensor mapping to use with ``torch.func.functional_call``. Its randomness must come in ``rows``.
        rows: batched inputs, one row each along the first dimension.

    Returns:
        Per-row gradients by parameter ([rows, *shape]) and each row's loss.
    """
    from torch.func import grad_and_value, vmap

    named = {name: p.detach() for name, p in module.named_parameters() if p.requires_grad}
    grads, losses = vmap(grad_and_value(row_loss), in_dims=(None, *([0] * len(rows))))(named, *rows)
    by_name = dict(module.named_parameters())
    return {by_name[name]: g for name, g in grads.items()}, losses
