"""Network pieces shared by the neural generators: initialisation and dropout from a fit's own generator,
MLP and residual blocks, and span-aware activations and losses over the one-hot encoding."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from tabular.encoding import Span


def init_parameters(modules: Iterable[nn.Module], generator: torch.Generator) -> None:
    """Draw every weight again from ``generator``, with PyTorch's default schemes (no global seed needed)."""
    for module in modules:
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                if layer.bias is not None:
                    bound = 1 / math.sqrt(layer.weight.shape[1]) if layer.weight.shape[1] else 0.0
                    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
            elif isinstance(layer, nn.Embedding):
                nn.init.normal_(layer.weight, generator=generator)


def dropout(x: torch.Tensor, p: float, generator: torch.Generator | None, active: bool) -> torch.Tensor:
    """Dropout whose mask comes from ``generator`` (``nn.Dropout`` would draw from the process-wide one)."""
    if not active or p <= 0:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p  # faster than bernoulli_ on a CPU
    return x * keep / (1 - p)


class MLP(nn.Module):
    """Linear layers with ReLU (or LeakyReLU with ``slope``) between them, optional dropout."""

    def __init__(self, sizes: Sequence[int], dropout: float = 0.0, slope: float | None = None) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.p, self.slope = dropout, slope

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.leaky_relu(x, self.slope) if self.slope is not None else F.relu(x)
                x = dropout(x, self.p, generator, self.training)
        return x


class Residual(nn.Module):
    """Linear + batch norm + ReLU, with the input concatenated to the output (CTGAN's generator block)."""

    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim_in, dim_out)
        self.bn = nn.BatchNorm1d(dim_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


class ResidualBlock(nn.Module):
    """x + W2(dropout(act(W1(norm(x))))): the pre-norm feed-forward block of the token models."""

    def __init__(self, width: int, p: float = 0.0, expansion: int = 2) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.up = nn.Linear(width, expansion * width)
        self.down = nn.Linear(expansion * width, width)
        self.p = p

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, active: bool = False
                ) -> torch.Tensor:
        hidden = dropout(F.silu(self.up(self.norm(x))), self.p, generator, active)
        return x + self.down(hidden)


class SpanIndex:
    """Index tensors over the encoded row, so softmax blocks are handled a few tensor operations at a time.

    Blocks of the same width form a group: its positions gather into a [rows, blocks, width] tensor, so
    softmax, Gumbel-softmax and cross-entropy run once per distinct width instead of once per column.
    """

    def __init__(self, spans: Sequence[Span], device: torch.device) -> None:
        self.spans = list(spans)
        self.dim = spans[-1].stop if spans else 0
        self.linear = torch.tensor([s.start for s in spans if s.activation == "linear"], dtype=torch.long,
                                   device=device)
        self.softmax = [s for s in spans if s.activation == "softmax"]
        self.groups: list[tuple[torch.Tensor, torch.Tensor]] = []  # (positions [k, w], block numbers [k])
        for width in sorted({s.width for s in self.softmax}):
            members = [j for j, s in enumerate(self.softmax) if s.width == width]
            positions = torch.tensor([list(range(self.softmax[j].start, self.softmax[j].stop)) for j in members])
            self.groups.append((positions.to(device), torch.tensor(members, device=device)))
        self.missing_of = self._missing_flags(device)
        self.block_starts = torch.tensor([s.start for s in self.softmax], dtype=torch.long, device=device)

    def _missing_flags(self, device: torch.device) -> torch.Tensor:
        """For each linear column, the position of its "missing" slot (-1 when it has none)."""
        flags = {s.column: s.start + 1 for s in self.spans if s.role == "missing"}
        return torch.tensor([flags.get(s.column, -1) for s in self.spans if s.activation == "linear"],
                            dtype=torch.long, device=device)

    def block_of(self, span: Span) -> int:
        """Position of a softmax span among the blocks."""
        return self.softmax.index(span)

    def targets(self, data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Computed once per table: the chosen slot of every block [rows, blocks], and which numbers are
        present [rows, linear columns] (a missing number is not a value to learn)."""
        codes = torch.zeros(len(data), len(self.softmax), dtype=torch.long, device=data.device)
        for positions, members in self.groups:
            codes[:, members] = data[:, positions].argmax(dim=2)
        present = torch.ones(len(data), self.linear.numel(), dtype=torch.bool, device=data.device)
        has_flag = self.missing_of >= 0
        if has_flag.any():
            present[:, has_flag] = data[:, self.missing_of[has_flag]] < 0.5
        return codes, present

    def activate(self, raw: torch.Tensor, tau: float | None = None, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        """Softmax blocks become probabilities, or Gumbel-softmax samples at temperature ``tau``."""
        if not self.softmax:
            return raw
        out = raw.clone()
        for positions, _ in self.groups:
            logits = raw[:, positions]
            if tau:
                uniform = torch.rand(logits.shape, generator=generator, device=logits.device).clamp_(1e-12, 1.0)
                logits = (logits - torch.log(-torch.log(uniform))) / tau
            out[:, positions.reshape(-1)] = F.softmax(logits, dim=2).reshape(len(raw), -1).to(out.dtype)
        return out

    def block_log_prob(self, raw: torch.Tensor, blocks: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
        """Log-probability of slot ``slots[i]`` of block ``blocks[i]`` for every row i."""
        normaliser = raw.new_zeros(len(raw), len(self.softmax))
        for positions, members in self.groups:
            normaliser[:, members] = torch.logsumexp(raw[:, positions], dim=2).to(raw.dtype)
        starts = self.block_starts[blocks]
        rows = torch.arange(len(raw), device=raw.device)
        return raw[rows, starts + slots] - normaliser[rows, blocks]

    def reconstruction_loss(self, raw: torch.Tensor, target: torch.Tensor, codes: torch.Tensor,
                            present: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
        """Gaussian negative log-likelihood of the numbers that are present, plus cross-entropy of the blocks."""
        loss = raw.new_zeros(())
        if self.linear.numel():
            mean, truth = raw[:, self.linear], target[:, self.linear]
            ls = log_sigma[self.linear]
            gaussian = ((truth - mean) ** 2) / (2 * torch.exp(2 * ls)) + ls
            loss = loss + (gaussian * present).sum() / raw.shape[0]
        for positions, members in self.groups:
            logits = raw[:, positions]
            picked = logits.gather(2, codes[:, members].unsqueeze(2)).squeeze(2)
            loss = loss - (picked - torch.logsumexp(logits, dim=2)).sum() / raw.shape[0]
        return loss

    def draw(self, raw: torch.Tensor, log_sigma: torch.Tensor | None, generator: torch.Generator) -> np.ndarray:
        """A concrete encoded sample: normal scores with their noise, one category drawn per block."""
        out = raw.detach().float().cpu().clone()
        if log_sigma is not None and self.linear.numel():
            idx = self.linear.cpu()
            noise = torch.randn(out.shape[0], idx.numel(), generator=generator)
            out[:, idx] += noise * torch.exp(log_sigma.detach().cpu()[idx])
        for positions, _ in self.groups:  # one category per block by Gumbel-max
            positions = positions.cpu()
            logits = out[:, positions]
            uniform = torch.rand(logits.shape, generator=generator).clamp_(1e-12, 1.0)
            pick = (logits - torch.log(-torch.log(uniform))).argmax(dim=2)
            onehot = F.one_hot(pick, positions.shape[1]).to(out.dtype)
            out[:, positions.reshape(-1)] = onehot.reshape(len(out), -1)
        return out.numpy()
