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

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None,
                masks: torch.Tensor | None = None) -> torch.Tensor:
        """``masks``: the dropout of the hidden layers given as [rows, layers - 1, width] factors (0 or
        1 / (1 - p), see ``dropout_masks``) instead of drawn from ``generator``."""
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.leaky_relu(x, self.slope) if self.slope is not None else F.relu(x)
                x = dropout(x, self.p, generator, self.training) if masks is None else x * masks[:, i]
        return x

    def dropout_masks(self, rows: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
        """Dropout factors for ``rows`` rows, [rows, layers - 1, width] (hidden layers of equal width)."""
        width = self.layers[0].out_features
        keep = torch.rand(rows, len(self.layers) - 1, width, generator=generator, device=device) >= self.p
        return keep / (1 - self.p)


@torch.no_grad()
def follow(average: nn.Module, trained: nn.Module, share: float, buffers: bool = False) -> None:
    """Move ``average``'s weights ``share`` of the way towards ``trained``'s (a moving average of a training),
    and with ``buffers`` its batch-norm statistics too (counters are copied)."""
    for mean, now in zip(average.parameters(), trained.parameters()):
        mean.lerp_(now, share)
    for mean, now in zip(average.buffers(), trained.buffers()) if buffers else ():
        mean.lerp_(now, share) if mean.is_floating_point() else mean.copy_(now)


class Residual(nn.Module):
    """Linear + batch norm + ReLU, with the input concatenated to the output (CTGAN's generator block)."""

    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim_in, dim_out)
        self.bn = nn.BatchNorm1d(dim_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)

    def extend(self, parts: list[torch.Tensor]) -> list[torch.Tensor]:
        """``forward`` of the parts' concatenation, left in parts (the new features first)."""
        return [F.relu(self.bn(linear_of_parts(parts, self.fc.weight, self.fc.bias))), *parts]


def linear_of_parts(parts: Sequence[torch.Tensor], weight: torch.Tensor, bias: torch.Tensor | None = None
                    ) -> torch.Tensor:
    """``F.linear`` of the parts concatenated side by side, as one product per part: copying wide rows together
    can cost more than the products (the GAN drawing 100,000 rows on 2 cores: 0.53 -> 0.40 s)."""
    out, start = None, 0
    for part in parts:
        piece = weight[:, start:start + part.shape[1]]
        start += part.shape[1]
        out = F.linear(part, piece, bias) if out is None else torch.addmm(out, part, piece.t())
    return out


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
    """The one-hot encoding rearranged so that softmax blocks of one width sit side by side.

    Networks work in this grouped order: the normal scores first, then the blocks of each width one after
    another. A group of ``k`` blocks of width ``w`` is one contiguous slice, viewed as [rows, k, w], so
    softmax, Gumbel-softmax and cross-entropy are one operation per distinct width, with no gathering.
    ``grouped`` rearranges encoded rows once; ``draw`` gives samples back in the encoder's order. Blocks
    are numbered in the grouped order (see ``block_of``).
    """

    def __init__(self, spans: Sequence[Span], device: torch.device) -> None:
        self.spans = list(spans)
        linear = [s for s in spans if s.activation == "linear"]
        self.n_linear = len(linear)
        order = [s.start for s in linear]  # encoder positions, in the grouped order
        self.blocks: list[Span] = []
        self.groups: list[tuple[int, int, int]] = []  # (start in grouped order, blocks, width)
        self._block_starts: list[torch.Tensor] = []  # per group: each block's first slot, encoder's order
        block_start: list[int] = []  # each block's first slot, grouped order
        for width in sorted({s.width for s in spans if s.activation == "softmax"}):
            members = [s for s in spans if s.activation == "softmax" and s.width == width]
            self.groups.append((len(order), len(members), width))
            self._block_starts.append(torch.tensor([s.start for s in members]))
            block_start.extend(len(order) + j * width for j in range(len(members)))
            self.blocks.extend(members)
            order.extend(p for s in members for p in range(s.start, s.stop))
        self.order = torch.tensor(order, dtype=torch.long, device=device)
        self.restore = torch.argsort(self.order).cpu()  # columns of grouped rows back in the encoder's order
        self.width = len(order)
        self._numbers_at = self.order[:self.n_linear].cpu()  # where the numbers go back in the encoder's order
        self.block_start = torch.tensor(block_start, dtype=torch.long, device=device)
        grouped_at = {p: i for i, p in enumerate(order)}
        flags = {s.column: grouped_at[s.start + 1] for s in self.blocks if s.role == "missing"}
        self.missing_of = torch.tensor([flags.get(s.column, -1) for s in linear], dtype=torch.long, device=device)

    def grouped(self, data: torch.Tensor) -> torch.Tensor:
        """Encoded rows in the grouped order."""
        return data[:, self.order]

    def block_of(self, span: Span) -> int:
        """Number of a softmax span among the blocks (grouped order)."""
        return self.blocks.index(span)

    def _view(self, x: torch.Tensor, group: int) -> torch.Tensor:
        start, count, width = self.groups[group]
        return x[:, start: start + count * width].reshape(len(x), count, width)

    def targets(self, data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Computed once per table from grouped rows: the chosen slot of every block [rows, blocks], and
        which numbers are present [rows, numbers] (a missing number is not a value to learn)."""
        codes = [self._view(data, g).argmax(dim=2) for g in range(len(self.groups))]
        codes = torch.cat(codes, dim=1) if codes else data.new_zeros((len(data), 0), dtype=torch.long)
        present = torch.ones(len(data), self.n_linear, dtype=torch.bool, device=data.device)
        has_flag = self.missing_of >= 0
        if has_flag.any():
            present[:, has_flag] = data[:, self.missing_of[has_flag]] < 0.5
        return codes, present

    def activate(self, raw: torch.Tensor, tau: float | None = None, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        """Softmax blocks become probabilities, or Gumbel-softmax samples at temperature ``tau``."""
        pieces = [raw[:, :self.n_linear]]
        for g in range(len(self.groups)):
            logits = self._view(raw, g)
            if tau:
                uniform = torch.rand(logits.shape, generator=generator, device=logits.device).clamp_(1e-12, 1.0)
                logits = (logits - torch.log(-torch.log(uniform))) / tau
            pieces.append(F.softmax(logits, dim=2).reshape(len(raw), -1).to(raw.dtype))
        return torch.cat(pieces, dim=1)

    def block_log_prob(self, raw: torch.Tensor, blocks: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
        """Log-probability of slot ``slots[i]`` of block ``blocks[i]`` for every row i."""
        normaliser = torch.cat([torch.logsumexp(self._view(raw, g).float(), dim=2) for g in range(len(self.groups))],
                               dim=1)
        picked = raw.gather(1, (self.block_start[blocks] + slots).unsqueeze(1)).squeeze(1).float()
        return picked - normaliser.gather(1, blocks.unsqueeze(1)).squeeze(1)

    def reconstruction_loss(self, raw: torch.Tensor, target: torch.Tensor, codes: torch.Tensor,
                            present: torch.Tensor, log_sigma: torch.Tensor, per_row: bool = False) -> torch.Tensor:
        """Gaussian negative log-likelihood of the numbers that are present, plus cross-entropy of the blocks.

        The mean over rows, or with ``per_row`` each row's loss (``log_sigma`` may then be one per row).
        """
        loss = raw.new_zeros((len(raw),) if per_row else ())
        reduce = (lambda t: t.sum(1)) if per_row else (lambda t: t.sum() / raw.shape[0])
        if self.n_linear:
            mean, truth, ls = raw[:, :self.n_linear], target[:, :self.n_linear], log_sigma[..., :self.n_linear]
            gaussian = ((truth - mean) ** 2) / (2 * torch.exp(2 * ls)) + ls
            loss = loss + reduce(gaussian * present)
        first = 0
        for g, (_, count, _) in enumerate(self.groups):
            logits = self._view(raw, g)
            picked = logits.gather(2, codes[:, first: first + count].unsqueeze(2)).squeeze(2)
            loss = loss - reduce(picked - torch.logsumexp(logits, dim=2))
            first += count
        return loss

    def draw(self, raw: torch.Tensor, log_sigma: torch.Tensor | None, generator: torch.Generator) -> np.ndarray:
        """A concrete sample in the encoder's order: numbers with their noise, one category drawn per block."""
        raw = raw.detach().float().cpu()
        out = torch.zeros(len(raw), self.width)
        numbers = raw[:, :self.n_linear].clone()
        if log_sigma is not None and self.n_linear:
            noise = torch.randn(numbers.shape, generator=generator)
            numbers += noise * torch.exp(log_sigma.detach().float().cpu()[:self.n_linear])
        out[:, self._numbers_at] = numbers
        for g in range(len(self.groups)):  # one category per block by Gumbel-max, written as a one-hot slot
            logits = self._view(raw, g)
            uniform = torch.rand(logits.shape, generator=generator).clamp_(1e-12, 1.0)
            pick = (logits - torch.log(-torch.log(uniform))).argmax(dim=2)
            out.scatter_(1, self._block_starts[g] + pick, 1.0)
        return out.numpy()
