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
    """Precomputed index tensors for the linear and softmax parts of the encoded row."""

    def __init__(self, spans: Sequence[Span], device: torch.device) -> None:
        self.spans = list(spans)
        self.linear = torch.tensor([s.start for s in spans if s.activation == "linear"], dtype=torch.long,
                                   device=device)
        self.softmax = [s for s in spans if s.activation == "softmax"]

    def activate(self, raw: torch.Tensor, tau: float | None = None, hard: bool = False) -> torch.Tensor:
        """Softmax blocks become probabilities (or Gumbel-softmax samples when ``tau`` is set)."""
        parts = []
        for span in self.spans:
            block = raw[:, span.start: span.stop]
            if span.activation == "softmax":
                block = F.gumbel_softmax(block, tau=tau, hard=hard) if tau else F.softmax(block, dim=1)
            parts.append(block)
        return torch.cat(parts, dim=1)

    def reconstruction_loss(self, raw: torch.Tensor, target: torch.Tensor, log_sigma: torch.Tensor
                            ) -> torch.Tensor:
        """Gaussian negative log-likelihood for normal scores plus cross-entropy for one-hot blocks."""
        loss = raw.new_zeros(())
        if self.linear.numel():
            mean, truth = raw[:, self.linear], target[:, self.linear]
            ls = log_sigma[self.linear]
            loss = loss + (((truth - mean) ** 2) / (2 * torch.exp(2 * ls)) + ls).sum() / raw.shape[0]
        for span in self.softmax:
            loss = loss + F.cross_entropy(raw[:, span.start: span.stop],
                                          target[:, span.start: span.stop].argmax(dim=1), reduction="sum"
                                          ) / raw.shape[0]
        return loss

    def draw(self, raw: torch.Tensor, log_sigma: torch.Tensor | None, generator: torch.Generator) -> np.ndarray:
        """A concrete encoded sample: normal scores with their noise, one category drawn per block."""
        out = raw.detach().cpu().double().clone()
        if log_sigma is not None and self.linear.numel():
            idx = self.linear.cpu()
            noise = torch.randn(out.shape[0], idx.numel(), generator=generator, dtype=torch.float64)
            out[:, idx] += noise * torch.exp(log_sigma.detach().cpu().double()[idx])
        for span in self.softmax:
            probs = F.softmax(out[:, span.start: span.stop], dim=1)
            pick = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            out[:, span.start: span.stop] = F.one_hot(pick, span.width).double()
        return out.numpy()
