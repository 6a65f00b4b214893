"""Diffusion generator (TabDDPM class): Gaussian diffusion on numbers, masked diffusion on categories.

Training adds noise to a row at a random strength t in (0, 1): numbers (as normal scores) are blended with
Gaussian noise along a cosine schedule, and each category (and each missing-value flag) is hidden behind
a mask token with probability t. One network learns to undo it: it predicts the noise direction of the
numbers (the "v" target) and the hidden categories. Sampling starts from pure noise, every category
hidden, and walks t from 1 to 0 in a few dozen steps (deterministic DDIM steps for numbers; categories
revealed at the rate they were hidden). A one-cycle learning rate and early stopping on the loss of
held-out rows keep it from memorising the training rows. Conditions are met by inpainting: asked tokens are
shown from the start (or limited to the allowed ones) and the network fills in the rest around them; rows
are steered towards asked numbers by weighting and resampling them as they form (see ``_Inpainting``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.special import ndtr
from torch import nn
from torch.nn import functional as F

from models.compute import autocast
from models.minibatch import MinibatchGenerator, RowsOf
from models.nets import ResidualBlock
from tabular.representations import MixedLayout, MixedTable, NumbersAndTokens

if TYPE_CHECKING:
    from models.conditional import Evidence

T_MIN = 1e-3  # noise strengths are drawn from [T_MIN, 1 - T_MIN]: the schedule's ends are degenerate
SPREAD = 1.0  # DDIM's eta (share of fresh noise) while rows are weighted for a request, so copies part ways
RESAMPLE_AT = 0.5  # weighted rows are resampled when their effective number falls below this share
KNOWN_WIDTH = 0.02  # a number asked to lie in this share of its distribution or less is asked for a value
LAST_RESAMPLE = 0.05  # ... and once more, for the last time, at this strength (enough noise left to part copies)


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
    native_conditions = "fills in around the asked values (inpainting)"

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
    def _sample(self, n: int, generator: torch.Generator) -> MixedTable:
        return self._denoise(n, generator, _Inpainting())

    def _sample_given(self, n: int, generator: torch.Generator, evidence: Evidence) -> MixedTable:
        """Up to ``n`` rows filled in around the asked values (inpainting, see ``_Inpainting``): all of them have
        the asked tokens; rows whose asked numbers ended outside their range (a few) are left out."""
        numbers, tokens = evidence.mixed(self.layout_)
        return self._denoise(n, generator, _Inpainting.build(numbers, tokens, self.layout_, n))

    @torch.no_grad()
    def _denoise(self, n: int, generator: torch.Generator, paint: _Inpainting) -> MixedTable:
        """Walk from pure noise (every token hidden but those a request shows) to rows, in a few dozen steps."""
        self.net_.eval()
        columns = len(self.layout_.vocab)
        numbers = torch.randn(n, len(self.layout_.numbers), generator=generator)
        tokens, masked = paint.start(n, columns)
        grid = torch.linspace(1.0, 0.0, self.config.sampling_steps + 1)
        for now, later in zip(grid[:-1].tolist(), grid[1:].tolist()):
            t = torch.full((n,), max(now, T_MIN), device=self.device_)
            with autocast(self.device_):
                v, logits = self.net_(numbers.to(self.device_), tokens.to(self.device_), masked.to(self.device_), t)
            v, logits = v.float().cpu(), logits.float().cpu()
            order = paint.weigh(numbers, v, logits, masked, now, generator)
            if order is not None:  # rows that fit the request poorly give way to copies of rows that fit it well
                numbers, tokens, masked, v, logits = (x[order] for x in (numbers, tokens, masked, v, logits))
            numbers = self._number_step(numbers, v, now, later, paint, generator)
            if columns:
                tokens, masked = self._token_step(tokens, masked, paint.limit(logits), now, later, generator)
            paint.settle(masked)
        keep = paint.inside(numbers)
        return MixedTable(numbers[keep].numpy(), tokens[keep].numpy())

    @staticmethod
    def _number_step(noisy: torch.Tensor, v: torch.Tensor, now: float, later: float, paint: _Inpainting,
                     generator: torch.Generator) -> torch.Tensor:
        """A DDIM step from strength ``now`` to ``later``: deterministic, or with a share of fresh noise
        (``paint.spread``, DDIM's eta) when rows are weighted, so that copied rows part ways."""
        signal, noise_share = _signal_noise(torch.tensor(now))
        clean = signal * noisy - noise_share * v
        noise = noise_share * noisy + signal * v
        signal_later, noise_later = _signal_noise(torch.tensor(later))
        clean = paint.clamp(clean)
        if not paint.spread:
            return signal_later * clean + noise_later * noise
        fresh = paint.spread * noise_later / noise_share * torch.sqrt((1 - (signal / signal_later) ** 2).clamp(min=0))
        kept = torch.sqrt((noise_later ** 2 - fresh ** 2).clamp(min=0))
        return signal_later * clean + kept * noise + fresh * torch.randn(noisy.shape, generator=generator)

    @staticmethod
    def _token_step(tokens, masked, logits, now: float, later: float, generator):
        """Reveal each hidden token with the chance it was hidden between ``later`` and ``now``."""
        rows, columns, width = logits.shape
        draw = torch.multinomial(F.softmax(logits, dim=2).reshape(-1, width), 1, generator=generator)
        reveal = masked & (torch.rand(rows, columns, generator=generator) < (now - later) / now)
        tokens = torch.where(reveal, draw.reshape(rows, columns), tokens)
        return tokens, masked & ~reveal


@dataclass
class _Inpainting:
    """What a request pins, in the diffusion's terms, and how sampling keeps to it; empty: free sampling (then
    every method leaves the rows as they are and draws nothing).

    Asked tokens are exact: a column allowed one token shows it from the start (masked diffusion fills in the
    rest around it), one allowed several draws among those only. Asked numbers cannot be shown to the network
    clean (it reads every number at the step's noise), and putting them back noised at every step (RePaint)
    or clamping their clean estimate leaves the other columns barely aware of them: tokens shown early, while
    the numbers are mostly noise, follow their overall shares (measured: given amount = 200, the kind that
    goes with such amounts came in 18% of rows, against 65% of the model's own rows near 200). So the rows
    are weighted particles (sequential Monte Carlo, as in the twisted diffusion sampler): each step weighs a
    row by the chance that its clean estimate meets the asked intervals (read with the step's noise as its
    spread) and that its limited token columns take an allowed token; when the weights grow uneven, rows
    that fit poorly give way to copies of rows that fit well, which part ways through fresh noise (DDIM's
    eta, ``SPREAD``). A last resampling at strength ``LAST_RESAMPLE`` ends the weighting; after it a number
    asked for a value is clamped to it (it is then set exactly), and rows whose asked numbers ended outside
    their range are left out.
    """

    intervals: dict[int, tuple[float, float]] = field(default_factory=dict)  # number -> allowed scores
    allowed: dict[int, torch.Tensor] = field(default_factory=dict)  # token column -> bool [widest vocab]
    spread: float = 0.0  # DDIM's eta while rows are weighted
    log_weight: torch.Tensor | None = None  # [rows]; None: rows are not weighted
    twist: torch.Tensor | None = None  # [rows]: log chance of meeting the request, as of the last step
    _numbers_twist: torch.Tensor | None = None
    _token_twist: torch.Tensor | None = None

    @classmethod
    def build(cls, numbers: dict[int, tuple[float, float]], tokens: dict[int, np.ndarray], layout: MixedLayout,
              n: int) -> _Inpainting:
        """Rows are weighted when a number or a token column has several allowed values."""
        width = max(layout.vocab, default=1)
        allowed = {j: torch.from_numpy(np.pad(mask.astype(bool), (0, width - len(mask)))) for j, mask in tokens.items()}
        weighted = bool(numbers) or any(int(mask.sum()) > 1 for mask in allowed.values())
        def zeros():
            return torch.zeros(n, dtype=torch.float64) if weighted else None
        return cls(dict(numbers), allowed, SPREAD if weighted else 0.0, zeros(), zeros())  # log weight, twist

    def start(self, n: int, columns: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens and which are hidden at the start: a column allowed one token shows it from the first step."""
        tokens = torch.zeros(n, columns, dtype=torch.long)
        masked = torch.ones(n, columns, dtype=torch.bool)
        for j, mask in self.allowed.items():
            if int(mask.sum()) == 1:
                tokens[:, j], masked[:, j] = int(mask.nonzero()[0, 0]), False
        return tokens, masked

    def limit(self, logits: torch.Tensor) -> torch.Tensor:
        """Token logits with every token a request rules out at minus infinity."""
        for j, mask in self.allowed.items():
            logits[:, j] = logits[:, j].masked_fill(~mask, float("-inf"))
        return logits

    def clamp(self, numbers: torch.Tensor) -> torch.Tensor:
        """Clean estimates of numbers asked for a value (a narrow interval) kept in it, once rows are no longer
        weighted (the value is then set exactly; any row near it may take it)."""
        if self.log_weight is not None:
            return numbers
        for j, (low, high) in self.intervals.items():
            if ndtr(high) - ndtr(low) <= KNOWN_WIDTH:
                numbers[:, j] = numbers[:, j].clamp(low, high)
        return numbers

    def inside(self, numbers: torch.Tensor) -> torch.Tensor:
        """Which rows have every asked number in its interval (the rows returned)."""
        ok = torch.ones(len(numbers), dtype=torch.bool)
        for j, (low, high) in self.intervals.items():
            ok &= (numbers[:, j] >= low) & (numbers[:, j] <= high)
        return ok

    def weigh(self, numbers, v, logits, masked, now: float, generator: torch.Generator) -> torch.Tensor | None:
        """Update the rows' weights from the network's view at strength ``now``; the order of rows to go on
        with (copies included) when the weights have grown uneven, else None."""
        if self.log_weight is None:
            return None
        signal, noise_share = _signal_noise(torch.tensor(now))
        clean = (signal * numbers - noise_share * v).double()
        twist = torch.zeros(len(numbers), dtype=torch.float64)
        for j, (low, high) in self.intervals.items():
            twist += _log_mass((low - clean[:, j]) / noise_share, (high - clean[:, j]) / noise_share)
        self._numbers_twist, self._token_twist = twist, self._allowed_mass(logits)
        self.log_weight = self.log_weight + twist + (self._token_twist * masked).sum(1) - self.twist
        last = now <= LAST_RESAMPLE
        order = self._resample(generator, force=last)
        if last:  # copies made later would come out (nearly) the same row: from here on, asked numbers are clamped
            self.log_weight = None
        return order

    def settle(self, masked: torch.Tensor) -> None:
        """The rows' twist after the step's tokens are shown (a shown limited token no longer counts: its
        chance of being allowed was paid by drawing it among the allowed ones only)."""
        if self.log_weight is not None:
            self.twist = self._numbers_twist + (self._token_twist * masked).sum(1)

    def _allowed_mass(self, logits: torch.Tensor) -> torch.Tensor:
        """Log chance of an allowed token in each column allowed several [rows, columns] (0 elsewhere)."""
        out = torch.zeros(logits.shape[:2], dtype=torch.float64)
        for j, mask in self.allowed.items():
            if int(mask.sum()) > 1:
                out[:, j] = torch.logsumexp(F.log_softmax(logits[:, j].double(), dim=1)[:, mask], dim=1)
        return out

    def _resample(self, generator: torch.Generator, force: bool) -> torch.Tensor | None:
        """Systematic resampling once the effective number of rows falls below ``RESAMPLE_AT`` of them."""
        weights = torch.softmax(self.log_weight, dim=0)
        rows = len(weights)
        if not force and 1 / (weights ** 2).sum() >= RESAMPLE_AT * rows:
            return None
        marks = (torch.rand(1, generator=generator, dtype=torch.float64) + torch.arange(rows)) / rows
        order = torch.searchsorted(torch.cumsum(weights, 0), marks).clamp(max=rows - 1)
        self.log_weight, self.twist = torch.zeros_like(self.log_weight), self.twist[order]
        self._numbers_twist, self._token_twist = self._numbers_twist[order], self._token_twist[order]
        return order


def _log_mass(low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """log(Phi(high) - Phi(low)) for standardised bounds, read on the side where it does not round away."""
    upper = low > 0
    a, b = torch.where(upper, -high, low), torch.where(upper, -low, high)
    log_b = torch.special.log_ndtr(b)
    return log_b + torch.log1p(-torch.exp(torch.special.log_ndtr(a) - log_b).clamp(max=1 - 1e-12))
