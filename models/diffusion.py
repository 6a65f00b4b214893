"""Diffusion generator (TabDDPM class): Gaussian diffusion on numbers, masked diffusion on categories.

Training adds noise to a row at a random strength t in (0, 1): numbers (as normal scores) are blended with
Gaussian noise along a cosine schedule, and each category (and each missing-value flag) is hidden behind
a mask token with probability t. One network learns to undo it: it predicts the noise direction of the
numbers (the "v" target) and the hidden categories. Sampling starts from pure noise, every category
hidden, and walks t from 1 to 0 in a few dozen steps (deterministic DDIM steps for numbers; categories
revealed at the rate they were hidden). A one-cycle learning rate and early stopping on the loss of
held-out rows keep it from memorising the training rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.compute import autocast
from models.minibatch import MinibatchGenerator, RowsOf
from models.nets import ResidualBlock
from tabular.representations import MixedLayout, MixedTable, NumbersAndTokens

T_MIN = 1e-3  # noise strengths are drawn from [T_MIN, 1 - T_MIN]: the schedule's ends are degenerate


@dataclass
class DiffusionConfig:
    """Settings of the diffusion generator."""

    epochs: int = 200  # passes over the data (stops sooner once the held-out loss stops improving)
    batch_size: int = 512  # rows per optimiser step
    learning_rate: float = 2e-3  # peak Adam step size of the one-cycle schedule
    weight_decay: float = 1e-5  # L2 penalty on the weights (AdamW)
    width: int = 256  # width of the denoising network
    depth: int = 3  # residual blocks in the denoising network
    dropout: float = 0.1  # dropout inside the blocks while training, against memorising rows
    sampling_steps: int = 50  # denoising steps per sample: fewer is faster, more is finer
    seed: int = 0  # makes fit and sampling reproducible
    threads: int | None = None  # CPU threads while fitting (None: this training's share of the cores)


def _signal_noise(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine schedule: how much of the data and of the noise a number keeps at strength t."""
    return torch.cos(t * math.pi / 2), torch.sin(t * math.pi / 2)


class _Denoiser(nn.Module):
    """Noisy numbers, partly masked tokens and the noise strength in; v for numbers and token logits out."""

    def __init__(self, layout: MixedLayout, width: int, depth: int, dropout: float) -> None:
        super().__init__()
        total, columns = sum(layout.vocab), len(layout.vocab)
        self.numbers = len(layout.numbers)
        offsets = np.concatenate([[0], np.cumsum(layout.vocab)[:-1]]).astype(np.int64) if columns else []
        self.register_buffer("offsets", torch.tensor(offsets, dtype=torch.long))
        self.register_buffer("masked_token", total + torch.arange(columns))  # one mask token per column
        pad = torch.full((columns, max(layout.vocab, default=1)), total, dtype=torch.long)
        for j, size in enumerate(layout.vocab):
            pad[j, :size] = int(offsets[j]) + torch.arange(size)
        self.register_buffer("pad", pad)
        self.embed = nn.Embedding(total + columns + 1, width)
        self.number_in = nn.Linear(max(self.numbers, 1), width)
        self.time = nn.Sequential(nn.Linear(64, width), nn.SiLU(), nn.Linear(width, width))
        self.blocks = nn.ModuleList(ResidualBlock(width, dropout) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, self.numbers + total)

    def forward(self, numbers: torch.Tensor, tokens: torch.Tensor, masked: torch.Tensor, t: torch.Tensor,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        freqs = torch.exp(-math.log(1000.0) * torch.arange(32, device=t.device) / 32)
        angles = 1000.0 * t.unsqueeze(1) * freqs
        x = self.time(torch.cat([angles.sin(), angles.cos()], dim=1))
        if self.numbers:
            x = x + self.number_in(numbers)
        if tokens.shape[1]:
            x = x + self.embed(torch.where(masked, self.masked_token, tokens + self.offsets)).sum(1)
        for block in self.blocks:
            x = block(x, generator, self.training)
        with torch.autocast(x.device.type, enabled=False):  # outputs in full precision: they set shares
            out = self.head(self.norm(x).float())
        raw = out[:, self.numbers:]
        raw = torch.cat([raw, raw.new_full((raw.shape[0], 1), float("-inf"))], dim=1)
        return out[:, :self.numbers], raw[:, self.pad]


class DiffusionGenerator(MinibatchGenerator):
    """Mixed Gaussian and masked diffusion over the shared encoding (TabDDPM / TabDiff family)."""

    name = "diffusion"
    Config = DiffusionConfig
    loss_name = "denoising"
    supports_dp = True
    sample_chunk = 4096  # one network pass per column (or step) over these rows: keeps memory flat
    representation = NumbersAndTokens()

    def _build(self, extra: dict) -> None:
        cfg = self.config
        self.layout_ = self.representation.layout(self.encoder_)
        self.net_ = _Denoiser(self.layout_, cfg.width, cfg.depth, cfg.dropout).to(self.device_)

    def _networks(self) -> dict[str, nn.Module]:
        return {"network": self.net_}

    # ----- training ---------------------------------------------------------------------------------------
    def _tensors(self, data: MixedTable) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.from_numpy(data.numbers).to(self.device_), torch.from_numpy(data.tokens).to(self.device_))

    def _loss(self, numbers: torch.Tensor, tokens: torch.Tensor, generator: torch.Generator,
              rows_of: RowsOf | None = None) -> torch.Tensor:
        """Denoising loss per row: squared error of v on the numbers present, cross-entropy of hidden tokens.

        The mean over rows, or each row's loss when ``rows_of`` is given (differential privacy).
        """
        rows, device = len(numbers), numbers.device
        t = T_MIN + (1 - 2 * T_MIN) * torch.rand(rows, generator=generator, device=device)
        signal, noise_share = _signal_noise(t)
        present = ~torch.isnan(numbers)
        clean = torch.nan_to_num(numbers)
        noise = torch.randn(clean.shape, generator=generator, device=device)
        noisy = signal.unsqueeze(1) * clean + noise_share.unsqueeze(1) * noise
        masked = torch.rand(tokens.shape, generator=generator, device=device) < t.unsqueeze(1)
        v, logits = self.net_(noisy, tokens, masked, t, generator)
        target = signal.unsqueeze(1) * noise - noise_share.unsqueeze(1) * clean
        reduce = (lambda x: x.sum()) if rows_of is None else (lambda x: x.sum(1))
        loss = reduce(((v.float() - target) ** 2) * present)
        if tokens.shape[1]:
            nll = -F.log_softmax(logits, dim=2).gather(2, tokens.unsqueeze(2)).squeeze(2)
            loss = loss + reduce(nll * masked)
        return loss / rows if rows_of is None else loss

    # ----- sampling ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def _sample(self, n: int, generator: torch.Generator) -> MixedTable:
        self.net_.eval()
        columns = len(self.layout_.vocab)
        numbers = torch.randn(n, len(self.layout_.numbers), generator=generator)
        tokens = torch.zeros(n, columns, dtype=torch.long)
        masked = torch.ones(n, columns, dtype=torch.bool)
        grid = torch.linspace(1.0, 0.0, self.config.sampling_steps + 1)
        for now, later in zip(grid[:-1].tolist(), grid[1:].tolist()):
            t = torch.full((n,), max(now, T_MIN), device=self.device_)
            with autocast(self.device_):
                v, logits = self.net_(numbers.to(self.device_), tokens.to(self.device_), masked.to(self.device_), t)
            numbers = self._number_step(numbers, v.float().cpu(), now, later)
            if columns:
                tokens, masked = self._token_step(tokens, masked, logits.float().cpu(), now, later, generator)
        return MixedTable(numbers.numpy(), tokens.numpy())

    @staticmethod
    def _number_step(noisy: torch.Tensor, v: torch.Tensor, now: float, later: float) -> torch.Tensor:
        """A deterministic (DDIM) step from strength ``now`` to ``later``."""
        signal, noise_share = _signal_noise(torch.tensor(now))
        clean = signal * noisy - noise_share * v
        noise = noise_share * noisy + signal * v
        signal, noise_share = _signal_noise(torch.tensor(later))
        return signal * clean + noise_share * noise

    @staticmethod
    def _token_step(tokens, masked, logits, now: float, later: float, generator):
        """Reveal each hidden token with the chance it was hidden between ``later`` and ``now``."""
        rows, columns, width = logits.shape
        draw = torch.multinomial(F.softmax(logits, dim=2).reshape(-1, width), 1, generator=generator)
        reveal = masked & (torch.rand(rows, columns, generator=generator) < (now - later) / now)
        tokens = torch.where(reveal, draw.reshape(rows, columns), tokens)
        return tokens, masked & ~reveal
