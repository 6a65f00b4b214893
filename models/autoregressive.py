"""Autoregressive generator: each column predicted from the columns already known, in any order.

Columns are read as tokens (categories as their slot, numbers and dates as quantile bins, missing as a
token of its own). One shared network sees the known columns (categories by their token, numbers by
their exact position inside the bin) and predicts every unknown column; it is trained over random
subsets of known columns, which covers every column order, so any columns can later be fixed first.
Sampling fills the columns one at a time in a random order per group of rows (errors do not pile up on
the last columns of one order). Dropout, a one-cycle learning rate and early stopping on the likelihood
of held-out rows keep it from memorising the training rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.compute import autocast
from models.minibatch import MinibatchGenerator, RowsOf
from models.nets import ResidualBlock
from tabular.representations import TokenLayout, Tokens, TokenTable

if TYPE_CHECKING:
    from models.conditional import Evidence, TokenEvidence


@dataclass
class AutoregressiveConfig:
    """Settings of the autoregressive generator."""

    epochs: int = 150  # passes over the data (stops sooner once the held-out likelihood stops improving)
    batch_size: int = 512  # rows per optimiser step
    learning_rate: float = 3e-3  # peak Adam step size of the one-cycle schedule
    weight_decay: float = 1e-5  # L2 penalty on the weights (AdamW)
    width: int = 256  # width of the shared network
    depth: int = 3  # residual blocks in the shared network
    dropout: float = 0.1  # dropout inside the blocks while training, against memorising rows
    bins: int = 32  # quantile bins a number or date is cut into
    order_group: int = 256  # rows that share one random column order when sampling
    seed: int = 0  # makes fit and sampling reproducible
    threads: int | None = None  # CPU threads while fitting (None: this training's share of the cores)


class _AnyOrderNet(nn.Module):
    """Known columns in, logits of every column out (only the unknown ones are used)."""

    def __init__(self, layout: TokenLayout, width: int, depth: int, dropout: float) -> None:
        super().__init__()
        columns, total = len(layout.vocab), sum(layout.vocab)
        self.register_buffer("offsets", torch.from_numpy(layout.offsets))
        self.register_buffer("unknown", total + torch.arange(columns))  # one "not known yet" token per column
        self.register_buffer("number", total + columns + torch.arange(columns))  # "known number" per column
        self.register_buffer("binned", torch.tensor(layout.binned, dtype=torch.bool))
        self.register_buffer("pad", _padded_index(layout.vocab, total))
        self.bins = layout.bins
        self.embed = nn.Embedding(total + 2 * columns, width)
        self.number_scale = nn.Parameter(torch.zeros(columns, width))  # a known number's score times this
        self.blocks = nn.ModuleList(ResidualBlock(width, dropout) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, total)

    def hidden(self, tokens: torch.Tensor, known: torch.Tensor, scores: torch.Tensor,
               generator: torch.Generator | None = None, number_scale: torch.Tensor | None = None) -> torch.Tensor:
        """The shared representation of each row given its known columns.

        ``number_scale`` replaces the parameter of that name, e.g. by one copy per row (differential privacy).
        """
        scale = self.number_scale if number_scale is None else number_scale
        number = known & self.binned & (tokens < self.bins)
        index = torch.where(known, tokens + self.offsets, self.unknown)
        index = torch.where(number, self.number, index)
        x = self.embed(index).sum(1) + (torch.where(number, scores, 0.0).unsqueeze(2) * scale).sum(1)
        for block in self.blocks:
            x = block(x, generator, self.training)
        return self.norm(x)

    def all_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits of every column, padded to [rows, columns, widest] (-inf beyond a column's tokens)."""
        with torch.autocast(hidden.device.type, enabled=False):  # logits in full precision: they set shares
            raw = self.head(hidden.float())
        raw = torch.cat([raw, raw.new_full((raw.shape[0], 1), float("-inf"))], dim=1)
        return raw[:, self.pad]

    def column_logits(self, hidden: torch.Tensor, column: int) -> torch.Tensor:
        start = int(self.offsets[column])
        stop = start + int((self.pad[column] < self.head.out_features).sum())
        with torch.autocast(hidden.device.type, enabled=False):
            return F.linear(hidden.float(), self.head.weight[start:stop], self.head.bias[start:stop])


def _padded_index(vocab: tuple[int, ...], total: int) -> torch.Tensor:
    """[columns, widest] positions of each column's tokens in the flat vocabulary; ``total`` pads."""
    pad = torch.full((len(vocab), max(vocab, default=1)), total, dtype=torch.long)
    start = 0
    for j, size in enumerate(vocab):
        pad[j, :size] = torch.arange(start, start + size)
        start += size
    return pad


def _bin_scores(tokens: torch.Tensor, within: torch.Tensor, bins: int) -> torch.Tensor:
    """Normal scores of binned values at their position inside the bin."""
    u = (tokens.clamp(max=bins - 1).float() + within) / bins
    return torch.special.ndtri(u.clamp(1e-4, 1 - 1e-4))


class AutoregressiveGenerator(MinibatchGenerator):
    """Any-order autoregressive model over column tokens, with numbers placed exactly inside their bin."""

    name = "autoregressive"
    Config = AutoregressiveConfig
    supports_dp = True
    sample_chunk = 4096  # one network pass per column (or step) over these rows: keeps memory flat
    native_conditions = "fixes the asked columns first"

    @property
    def representation(self) -> Tokens:  # the number of bins is a setting
        return Tokens(self.config.bins)

    def _build(self, extra: dict) -> None:
        cfg = self.config
        self.layout_ = self.representation.layout(self.encoder_)
        self.net_ = _AnyOrderNet(self.layout_, cfg.width, cfg.depth, cfg.dropout).to(self.device_)

    def _networks(self) -> dict[str, nn.Module]:
        return {"network": self.net_}

    def _init_networks(self) -> None:
        super()._init_networks()
        nn.init.normal_(self.net_.number_scale, std=0.1, generator=self.torch_rng_)

    # ----- training ---------------------------------------------------------------------------------------
    def _tensors(self, data: TokenTable) -> tuple[torch.Tensor]:
        return (torch.from_numpy(data.tokens).to(self.device_),)

    def _prepare(self, tensors: tuple[torch.Tensor, ...]) -> None:
        """Output biases at each column's token frequencies, so the first steps already give sane shares."""
        tokens = tensors[0]
        self._output_biases([torch.bincount(tokens[:, j], minlength=size).float() + 1.0
                             for j, size in enumerate(self.layout_.vocab)])

    def _prepare_private(self) -> None:
        """The starting biases from the encoder's (private) shares: each slot's share of a category, an equal
        share per quantile bin of a number, and the share missing."""
        counts = []
        for size, codec in zip(self.layout_.vocab, self.encoder_.codecs_.values()):
            if codec.discrete:
                shares = np.asarray(codec.probs, dtype=np.float64)
            else:
                missing = codec.missing_share if codec.has_missing else 0.0
                shares = np.full(self.layout_.bins, (1.0 - missing) / self.layout_.bins)
                shares = np.append(shares, [missing] * (size - self.layout_.bins))
            counts.append(torch.from_numpy(np.clip(shares, 0.0, None) + 1e-3).float())  # no slot at zero
        self._output_biases([c.to(self.device_) for c in counts])

    @torch.no_grad()
    def _output_biases(self, counts: list[torch.Tensor]) -> None:
        for j, size in enumerate(self.layout_.vocab):
            start = int(self.net_.offsets[j])
            self.net_.head.bias[start:start + size] = torch.log(counts[j] / counts[j].sum())
        self.net_.head.weight.mul_(0.1)

    def _loss(self, tokens: torch.Tensor, generator: torch.Generator, rows_of: RowsOf | None = None) -> torch.Tensor:
        """Negative log-likelihood per row, estimated from one random set of known columns per row.

        With ``t`` known columns out of C, every unknown column is predicted and weighted C / (C - t):
        averaged over ``t``, this is the likelihood of a row in a random column order. The mean over rows,
        or each row's loss when ``rows_of`` is given (differential privacy).
        """
        rows, columns = tokens.shape
        device = tokens.device
        known_count = torch.randint(0, columns, (rows, 1), generator=generator, device=device)
        ranks = torch.rand(rows, columns, generator=generator, device=device).argsort(1).argsort(1)
        known = ranks < known_count
        within = torch.rand(rows, columns, generator=generator, device=device)
        scores = _bin_scores(tokens, within, self.layout_.bins)
        scale = None if rows_of is None else rows_of(self.net_.number_scale, rows)
        hidden = self.net_.hidden(tokens, known, scores, generator, scale)
        log_probs = F.log_softmax(self.net_.all_logits(hidden), dim=2)
        nll = -log_probs.gather(2, tokens.unsqueeze(2)).squeeze(2)
        weight = (~known).float() * (columns / (columns - known_count.float()))
        return (nll * weight).sum() / rows if rows_of is None else (nll * weight).sum(1)

    # ----- sampling ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def _sample(self, n: int, generator: torch.Generator) -> TokenTable:
        return self._draw(n, generator, {})

    @torch.no_grad()
    def _sample_given(self, n: int, generator: torch.Generator, evidence: Evidence) -> TokenTable:
        """Rows whose conditioned columns come first in their order: a column with one allowed token is known
        from the start, one with several is drawn first among them (a half-covered bin counting half), and
        its number sits inside the asked part of the bin; the other columns then follow the network's
        distribution given those, as in ``_sample``. Exact (as far as the network is) for fixed values and a
        range on one column; with ranges on several, each is drawn given those before it only."""
        return self._draw(n, generator, evidence.tokens(self.layout_))

    def _draw(self, n: int, generator: torch.Generator, given: dict[int, TokenEvidence]) -> TokenTable:
        """Fill the columns one at a time in a random order per group of rows, conditioned columns first."""
        self.net_.eval()
        columns, bins = len(self.layout_.vocab), self.layout_.bins
        fixed = {j: int(np.flatnonzero(e.allowed)[0]) for j, e in given.items() if e.allowed.sum() == 1}
        group_of_row, orders = self._orders(n, generator, given, fixed)
        tokens = torch.zeros(n, columns, dtype=torch.long)
        known = torch.zeros(n, columns, dtype=torch.bool)
        within = torch.rand(n, columns, generator=generator)
        for column, token in fixed.items():
            self._place(tokens, known, within, torch.arange(n), column, torch.full((n,), token), given)
        scores = _bin_scores(tokens, within, bins)
        for step in range(len(fixed), columns):
            with autocast(self.device_):
                hidden = self.net_.hidden(tokens.to(self.device_), known.to(self.device_), scores.to(self.device_))
            column_of_row = orders[group_of_row, step]
            for column in column_of_row.unique().tolist():
                rows = (column_of_row == column).nonzero().squeeze(1)
                logits = self.net_.column_logits(hidden[rows.to(self.device_)], column).cpu()
                if column in given:
                    logits = logits + torch.from_numpy(given[column].bias).float()
                drawn = torch.multinomial(F.softmax(logits, dim=1), 1, generator=generator).squeeze(1)
                self._place(tokens, known, within, rows, column, drawn, given)
                scores[rows, column] = _bin_scores(tokens[rows, column], within[rows, column], bins)
        binned = torch.tensor(self.layout_.binned).expand(n, columns)
        within = torch.where(binned & (tokens < bins), within, torch.nan)
        return TokenTable(tokens.numpy(), within.numpy())

    def _orders(self, n: int, generator: torch.Generator, given: dict[int, TokenEvidence],
                fixed: dict[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row's group and each group's column order: fixed columns, then other conditioned ones, then the
        rest, each part in random order (consecutive rows share an order)."""
        columns = len(self.layout_.vocab)
        groups = max(1, -(-n // self.config.order_group))
        group_of_row = torch.arange(n) * groups // max(n, 1)
        first = torch.zeros(columns)
        first[list(given)] = 1.0
        first[list(fixed)] = 2.0
        return group_of_row, (torch.rand(groups, columns, generator=generator) - first).argsort(1)

    @staticmethod
    def _place(tokens: torch.Tensor, known: torch.Tensor, within: torch.Tensor, rows: torch.Tensor, column: int,
               drawn: torch.Tensor, given: dict[int, TokenEvidence]) -> None:
        """Record drawn tokens; a conditioned number moves inside the asked part of its bin."""
        tokens[rows, column] = drawn
        known[rows, column] = True
        if column in given:
            inside = given[column].inside(drawn.numpy(), within[rows, column].double().numpy())
            within[rows, column] = torch.from_numpy(inside).float()
