"""DP-SGD for the neural generators: Poisson batches, per-row clipping and calibrated Gaussian noise (Opacus).

A private fit trains the networks that see real rows with a ``PrivateTrainer`` instead of plain optimiser
steps. Every step draws a Poisson batch (each row in with probability q, from the fit's NumPy generator),
clips each row's gradient to ``max_grad_norm`` and adds Gaussian noise of ``noise_multiplier x
max_grad_norm`` before the optimiser moves (Opacus' ``DPOptimizer`` family, noise drawn from the fit's
torch generator). The noise is calibrated once, before training, for the planned number of steps
(``plan_for``) with Opacus' Renyi-DP accountant through the fit's ``PrivacyLedger``; ``finish`` records the
steps that really ran, so an early stop spends less.

Per-row clipping without a copy of the gradient per row ("book-keeping" ghost clipping): hooks remember
what each ``Linear``, ``Embedding`` and ``LayerNorm`` layer received, one backward pass gives the gradient
of each layer's output, and the two give every row's gradient norm (Gram products for linear layers,
Opacus' per-layer formulas for the others); the same numbers reweighted by each row's clipping factor give
the clipped sum, all in float32 whatever precision the network ran in. That costs about one plain training
step. A linear layer may run several times in a step, forwards or backwards (``transposed``: the GAN
critic's gradient penalty takes the critic's input gradient by hand, so that it is made of such runs too).
A parameter held directly by a custom module (a "loose" parameter, e.g. the VAE's output scales) has no
layer around it: the model hands it to its loss row by row through ``rows_of``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from models.base import ModelError

HOOKED = (nn.Linear, nn.Embedding, nn.LayerNorm)  # layers whose per-row gradients follow from what they saw


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
        raise ModelError(f"A privacy budget of {model.privacy_.epsilon:g} is too small for {epochs} epochs on "
                         f"{rows} rows. Choose a larger budget or fewer epochs.") from exc
    return PrivatePlan(rate, steps_per_epoch, noise, batch, model.privacy_.max_grad_norm)


def private_trainer(model, modules: Sequence[nn.Module], optimizer: torch.optim.Optimizer, rows: int, batch: int,
                    epochs: int) -> PrivateTrainer | None:
    """A ``PrivateTrainer`` for a fit under differential privacy, None for any other fit.

    The fit template (``Generator.fit``) records the steps it ran in the ledger when the fit ends.
    """
    if not model.privacy_.private:
        return None
    model.dp_trainer_ = PrivateTrainer(modules, optimizer, plan_for(model, rows, batch, epochs), model.torch_rng_)
    return model.dp_trainer_


def poisson_batch(rng: np.random.Generator, rows: int, rate: float, device: torch.device) -> torch.Tensor:
    """Rows of one Poisson batch: each row independently with probability ``rate`` (sorted indices).

    Drawn as a binomial count and then that many distinct rows, which is the same distribution as one
    coin per row without a draw per row.
    """
    count = int(rng.binomial(rows, rate))
    picked = np.sort(rng.choice(rows, size=count, replace=False)) if count else np.zeros(0, dtype=np.int64)
    return torch.from_numpy(picked.astype(np.int64)).to(device)


class PrivateTrainer:
    """DP-SGD steps for some networks and the optimiser of their parameters.

    Args:
        modules: the networks trained on real rows.
        optimizer: the plain optimiser of their parameters (its state is what checkpoints carry).
        plan: from ``plan_for``.
        generator: the fit's torch generator; the noise comes from it, so a seed gives the same model.
    """

    def __init__(self, modules: Sequence[nn.Module], optimizer: torch.optim.Optimizer, plan: PrivatePlan,
                 generator: torch.Generator) -> None:
        from opacus.optimizers import DPOptimizerFastGradientClipping

        self.plan = plan
        self.params = [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
        self.optimizer = DPOptimizerFastGradientClipping(  # adds the noise to gradients clipped here
            optimizer, noise_multiplier=plan.noise_multiplier, max_grad_norm=plan.max_grad_norm,
            expected_batch_size=plan.expected_batch, loss_reduction="mean", generator=generator)
        self.layers, self.loose = split_parameters(modules)
        self._uses: list[_Use] = []
        self._views: list[tuple[nn.Parameter, torch.Tensor]] = []  # loose parameter, its per-row view
        self._handles = [layer.register_forward_hook(self._seen) for layer in self.layers]
        self.clip_factors: torch.Tensor | None = None  # of the last step, for tests and diagnostics

    def _seen(self, layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if layer.training and torch.is_grad_enabled():
            self._uses.append(_Use(layer, False, inputs[0].detach(), output))

    def draw(self, rng: np.random.Generator, rows: int, device: torch.device) -> torch.Tensor:
        """The rows of the next Poisson batch (this starts a step)."""
        self._uses, self._views = [], []
        return poisson_batch(rng, rows, self.plan.sample_rate, device)

    def rows_of(self, param: nn.Parameter, rows: int) -> torch.Tensor:
        """A loose ``param`` repeated for every row of the batch, so that its per-row gradients can be seen."""
        if not (self._handles and torch.is_grad_enabled()):
            return param
        if not any(param is p for p in self.loose):
            raise ValueError("rows_of is for parameters outside the hooked layers; the hooks see the others.")
        view = param.unsqueeze(0).expand(rows, *param.shape)
        self._views.append((param, view))
        return view

    def transposed(self, layer: nn.Linear, rows: torch.Tensor) -> torch.Tensor:
        """``rows @ layer.weight``: a linear layer run backwards (e.g. to take an input gradient by hand)."""
        out = rows @ layer.weight
        self._uses.append(_Use(layer, True, rows.detach(), out))
        return out

    def step(self, row_losses: torch.Tensor | None) -> float | None:
        """One DP-SGD step from the loss of every row of a Poisson batch (None: the batch was empty).

        Returns the batch's mean loss (None for an empty batch).
        """
        self.optimizer.zero_grad(set_to_none=True)
        if row_losses is not None and len(row_losses):
            for p, summed in self._clipped_sum(row_losses).items():
                p.grad = summed
        self._uses, self._views = [], []
        for p in self.params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        self.optimizer.step()  # Opacus: Gaussian noise on the sum, divided by the expected batch; then Adam
        return float(row_losses.detach().mean()) if row_losses is not None and len(row_losses) else None

    def _clipped_sum(self, row_losses: torch.Tensor) -> dict[nn.Parameter, torch.Tensor]:
        """The sum over rows of each row's gradient clipped to ``max_grad_norm``, by parameter.

        One backward pass gives the gradient of every use's output (no parameter gradients); each row's norm
        follows from those and the uses' inputs, and the clipped sums from the same numbers reweighted, in
        float32 whatever precision the pass ran in, so no row's share can exceed the norm.
        """
        outputs = [use.output for use in self._uses] + [view for _, view in self._views]
        grads = torch.autograd.grad(row_losses.sum(), outputs, allow_unused=True)
        by_layer: dict[nn.Module, list[tuple[_Use, torch.Tensor]]] = {}
        for use, g in zip(self._uses, grads):
            if g is not None:
                by_layer.setdefault(use.layer, []).append((use, g.float()))
        loose: dict[nn.Parameter, torch.Tensor] = {}  # a parameter handed over twice: its per-row sum
        for (p, _), g in zip(self._views, grads[len(self._uses):]):
            if g is not None:
                loose[p] = loose[p] + g.float() if p in loose else g.float()
        terms = [_layer_terms(layer, uses) for layer, uses in by_layer.items()]
        terms += [_Loose(p, g) for p, g in loose.items()]
        with torch.autocast(row_losses.device.type, enabled=False):  # float32 even inside a bfloat16 block
            squares = torch.zeros(len(row_losses), dtype=torch.float32, device=row_losses.device)
            for term in terms:
                squares += term.squares()
            self.clip_factors = (self.plan.max_grad_norm / (squares.sqrt() + 1e-6)).clamp(max=1.0)
            out: dict[nn.Parameter, torch.Tensor] = {}
            for term in terms:
                out.update(term.summed(self.clip_factors))
        return out

    def finish(self, ledger, steps: int) -> None:
        """Record the steps that ran in the ledger and take the hooks and Opacus' attributes off the networks."""
        if steps > 0:
            ledger.add(self.plan.noise_multiplier, self.plan.sample_rate, steps)
        for handle in self._handles:
            handle.remove()
        self._handles, self._uses, self._views = [], [], []
        for p in self.params:
            if hasattr(p, "summed_grad"):
                delattr(p, "summed_grad")


def split_parameters(modules: Iterable[nn.Module]) -> tuple[list[nn.Module], list[nn.Parameter]]:
    """The layers whose per-row gradients the hooks see, and the loose parameters (held by another module)."""
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


@dataclass
class _Use:
    """One run of a hooked layer in a step: its input and output (``transposed``: ``input @ weight``)."""

    layer: nn.Module
    transposed: bool
    input: torch.Tensor
    output: torch.Tensor


def _float(x: torch.Tensor) -> torch.Tensor:
    return x.float() if x.is_floating_point() else x


def _scaled(g: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    return g * factors.view(-1, *[1] * (g.dim() - 1))


@dataclass
class _Linear:
    """A linear layer's per-row gradient as a sum of outer products, one per use: ``outer`` x ``inner``."""

    layer: nn.Linear
    outer: torch.Tensor  # [rows, uses, out features]
    inner: torch.Tensor  # [rows, uses, in features]
    bias: torch.Tensor | None  # [rows, out features]: the bias's per-row gradient

    def squares(self) -> torch.Tensor:
        """Squared per-row norms: |sum_k u_k v_k'|^2 = sum_kl (u_k . u_l)(v_k . v_l), no per-row matrix made."""
        if self.outer.shape[1] == 1:
            out = self.outer.pow(2).sum((1, 2)) * self.inner.pow(2).sum((1, 2))
        else:
            gram = torch.einsum("nko,nlo->nkl", self.outer, self.outer)
            out = torch.einsum("nkl,nkl->n", gram, torch.einsum("nki,nli->nkl", self.inner, self.inner))
        return out + (self.bias.pow(2).sum(1) if self.bias is not None else 0.0)

    def summed(self, factors: torch.Tensor) -> dict[nn.Parameter, torch.Tensor]:
        out = {self.layer.weight: torch.einsum("nko,nki->oi", _scaled(self.outer, factors), self.inner)}
        if self.bias is not None:
            out[self.layer.bias] = (self.bias * factors.unsqueeze(1)).sum(0)
        return out


@dataclass
class _Opacus:
    """An embedding or layer norm run once in the step: its norms and sums by Opacus' per-layer formulas."""

    layer: nn.Module
    input: torch.Tensor
    grad: torch.Tensor

    def squares(self) -> torch.Tensor:
        from opacus.grad_sample.embedding_norm_sample import compute_embedding_norm_sample
        from opacus.grad_sample.layer_norm import compute_layer_norm_grad_sample

        if isinstance(self.layer, nn.Embedding):
            norms = compute_embedding_norm_sample(self.layer, [self.input], self.grad).values()
            return sum(n.float() ** 2 for n in norms)
        rows = compute_layer_norm_grad_sample(self.layer, [self.input], self.grad).values()  # [rows, width]: small
        return sum(g.reshape(len(g), -1).pow(2).sum(1) for g in rows)

    def summed(self, factors: torch.Tensor) -> dict[nn.Parameter, torch.Tensor]:
        from opacus.grad_sample.layer_norm import compute_layer_norm_grad_sample

        grad = _scaled(self.grad, factors)
        if isinstance(self.layer, nn.Embedding):
            flat, weight = grad.reshape(-1, self.layer.embedding_dim), self.layer.weight
            return {weight: torch.zeros_like(weight).index_add_(0, self.input.reshape(-1), flat)}
        return {p: g.sum(0) for p, g in compute_layer_norm_grad_sample(self.layer, [self.input], grad).items()}


@dataclass
class _Loose:
    """A parameter outside the hooked layers, seen row by row through ``rows_of``."""

    param: nn.Parameter
    grad: torch.Tensor  # [rows, *shape]

    def squares(self) -> torch.Tensor:
        return self.grad.reshape(len(self.grad), -1).pow(2).sum(1)

    def summed(self, factors: torch.Tensor) -> dict[nn.Parameter, torch.Tensor]:
        return {self.param: torch.einsum("n,n...->...", factors, self.grad)}


def _layer_terms(layer: nn.Module, uses: list[tuple[_Use, torch.Tensor]]) -> _Linear | _Opacus:
    """What a layer's per-row gradient is made of, from its uses in the step and their outputs' gradients."""
    rows = len(uses[0][1])
    if not isinstance(layer, nn.Linear):
        if len(uses) > 1:
            raise RuntimeError(f"A {type(layer).__name__} ran twice in one private step; that is not supported.")
        use, grad = uses[0]
        return _Opacus(layer, _float(use.input), grad)
    outer, inner, bias = [], [], []
    for use, grad in uses:
        x = use.input.float()
        u, v = (x, grad) if use.transposed else (grad, x)
        outer.append(u.reshape(rows, -1, u.shape[-1]))
        inner.append(v.reshape(rows, -1, v.shape[-1]))
        if not use.transposed and layer.bias is not None:
            bias.append(outer[-1].sum(1))
    if len(uses) > 1:
        outer, inner = [torch.cat(outer, 1)], [torch.cat(inner, 1)]
    return _Linear(layer, outer[0], inner[0], sum(bias[1:], bias[0]) if bias else None)
