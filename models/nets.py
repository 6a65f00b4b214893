"""Network pieces shared by the neural generators: MLP blocks and span-aware activations and losses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from tabular.encoding import Span


def mlp(sizes: Sequence[int], dropout: float = 0.0, slope: float | None = None) -> nn.Sequential:
    """Linear layers with ReLU (or LeakyReLU with ``slope``) between them, optional dropout."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope) if slope is not None else nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class Residual(nn.Module):
    """Linear + batch norm + ReLU, with the input concatenated to the output (CTGAN's generator block)."""

    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim_in, dim_out)
        self.bn = nn.BatchNorm1d(dim_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


class SpanIndex:
    """Index tensors over the encoded row, so every softmax block is handled in one batched operation.

    The softmax blocks are gathered into a padded [rows, blocks, widest] tensor (padding is -inf), which
    turns per-block softmax, Gumbel-softmax and cross-entropy into a handful of tensor operations.
    """

    def __init__(self, spans: Sequence[Span], device: torch.device) -> None:
        self.spans = list(spans)
        self.dim = spans[-1].stop if spans else 0
        self.linear = torch.tensor([s.start for s in spans if s.activation == "linear"], dtype=torch.long,
                                   device=device)
        self.softmax = [s for s in spans if s.activation == "softmax"]
        widest = max((s.width for s in self.softmax), default=1)
        pad = torch.full((len(self.softmax), widest), self.dim, dtype=torch.long)
        for j, span in enumerate(self.softmax):
            pad[j, : span.width] = torch.arange(span.start, span.stop)
        self.pad = pad.to(device)  # [blocks, widest], self.dim marks padding
        self.valid = (pad < self.dim).to(device)
        self.flat = pad[pad < self.dim].to(device)  # encoded positions of the valid cells, block by block

    def block_of(self, span: Span) -> int:
        """Position of a softmax span among the blocks."""
        return self.softmax.index(span)

    def logits(self, raw: torch.Tensor) -> torch.Tensor:
        """Softmax blocks as a padded [rows, blocks, widest] tensor (-inf where a block is narrower)."""
        padded = torch.cat([raw, raw.new_full((raw.shape[0], 1), float("-inf"))], dim=1)
        return padded[:, self.pad]

    def activate(self, raw: torch.Tensor, tau: float | None = None) -> torch.Tensor:
        """Softmax blocks become probabilities, or Gumbel-softmax samples at temperature ``tau``."""
        if not self.softmax:
            return raw
        logits = self.logits(raw)
        if tau:
            gumbel = -torch.empty_like(logits).exponential_().log()
            logits = (logits + gumbel) / tau
        probs = F.softmax(logits, dim=2)[:, self.valid]
        out = raw.clone()
        out[:, self.flat] = probs
        return out

    def log_probs(self, raw: torch.Tensor) -> torch.Tensor:
        """Log-softmax of every block, padded [rows, blocks, widest]."""
        return F.log_softmax(self.logits(raw), dim=2)

    def codes(self, target: torch.Tensor) -> torch.Tensor:
        """The chosen slot of every block of one-hot rows: [rows, blocks]."""
        return self.logits(torch.where(target > 0.5, 1.0, 0.0)).argmax(dim=2)

    def reconstruction_loss(self, raw: torch.Tensor, target: torch.Tensor, log_sigma: torch.Tensor
                            ) -> torch.Tensor:
        """Gaussian negative log-likelihood for normal scores plus cross-entropy for one-hot blocks."""
        loss = raw.new_zeros(())
        if self.linear.numel():
            mean, truth = raw[:, self.linear], target[:, self.linear]
            ls = log_sigma[self.linear]
            loss = loss + (((truth - mean) ** 2) / (2 * torch.exp(2 * ls)) + ls).sum() / raw.shape[0]
        if self.softmax:
            picked = self.log_probs(raw).gather(2, self.codes(target).unsqueeze(2))
            loss = loss - picked.sum() / raw.shape[0]
        return loss

    def draw(self, raw: torch.Tensor, log_sigma: torch.Tensor | None, generator: torch.Generator) -> np.ndarray:
        """A concrete encoded sample: normal scores with their noise, one category drawn per block."""
        out = raw.detach().cpu().clone()
        if log_sigma is not None and self.linear.numel():
            idx = self.linear.cpu()
            noise = torch.randn(out.shape[0], idx.numel(), generator=generator)
            out[:, idx] += noise * torch.exp(log_sigma.detach().cpu()[idx])
        rows = torch.arange(out.shape[0])
        for span in self.softmax:  # one category per block by Gumbel-max (a plain argmax, no autograd here)
            logits = out[:, span.start: span.stop].float()
            uniform = torch.rand(logits.shape, generator=generator).clamp_(1e-12, 1.0)
            pick = (logits - torch.log(-torch.log(uniform))).argmax(dim=1)
            out[:, span.start: span.stop] = 0.0
            out[rows, span.start + pick] = 1.0
        return out.numpy()
