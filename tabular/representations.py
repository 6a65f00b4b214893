"""The forms in which generators read the one shared encoding: one-hot rows, normal scores, tokens, or both.

Every generator names one representation object; the base class encodes the table with it before a fit
and decodes samples with it afterwards, so a model never looks at column kinds itself. All of them read
the same fitted ``TableEncoder`` (its codecs hold the categories and quantiles), so decoding always gives
valid values whatever the representation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from tabular.encoding import EPS, TableEncoder

DEFAULT_BINS = 32  # quantile bins of a number or date read as tokens


class Representation(ABC):
    """How a generator sees a table: ``encode`` before fitting, ``decode`` of what it samples."""

    @abstractmethod
    def encode(self, encoder: TableEncoder, frame: pd.DataFrame, rng: np.random.Generator) -> Any:
        """The modelled columns of ``frame`` in this representation."""

    @abstractmethod
    def decode(self, encoder: TableEncoder, data: Any, rng: np.random.Generator) -> pd.DataFrame:
        """Typed columns from what a generator produced in this representation."""


class OneHot(Representation):
    """One float row per record: normal scores for numbers, one-hot blocks for categories (see ``Span``)."""

    def encode(self, encoder, frame, rng) -> np.ndarray:
        return encoder.transform(frame)

    def decode(self, encoder, data, rng) -> pd.DataFrame:
        return encoder.inverse_transform(data, rng)


class NormalScores(Representation):
    """One normal score per column (and per missing flag), for copula-style models."""

    def encode(self, encoder, frame, rng) -> np.ndarray:
        return encoder.normal_scores(frame, rng)

    def decode(self, encoder, data, rng) -> pd.DataFrame:
        return encoder.from_normal_scores(data, rng)


@dataclass(frozen=True)
class TokenLayout:
    """What the token columns are: one per modelled column, in encoder order."""

    columns: tuple[str, ...]
    vocab: tuple[int, ...]  # tokens per column; a binned column's last token means "missing" when it has one
    binned: tuple[bool, ...]  # True for numbers and dates cut into quantile bins
    bins: int

    @property
    def offsets(self) -> np.ndarray:
        """Where each column's tokens start in one flat vocabulary."""
        return np.concatenate([[0], np.cumsum(self.vocab)[:-1]]).astype(np.int64)


@dataclass
class TokenTable:
    """Rows as tokens, with where each binned value sits inside its bin (0..1; NaN: draw it when decoding)."""

    tokens: np.ndarray  # int64 [rows, columns]
    within: np.ndarray | None = None  # float [rows, columns]


class Tokens(Representation):
    """Categories as their slot; numbers and dates as the quantile bin of their rank, missing as a token.

    A value's rank is spread over its ties, so every bin holds the same share of rows; decoding draws a
    position inside the bin and reads the column's quantile function there, which gives back the column's
    own distribution.
    """

    def __init__(self, bins: int = DEFAULT_BINS) -> None:
        self.bins = bins

    def layout(self, encoder: TableEncoder) -> TokenLayout:
        vocab, binned = [], []
        for codec in encoder.codecs_.values():
            vocab.append(len(codec.slots) if codec.discrete else self.bins + int(codec.has_missing))
            binned.append(not codec.discrete)
        return TokenLayout(tuple(encoder.codecs_), tuple(vocab), tuple(binned), self.bins)

    def encode(self, encoder, frame, rng) -> TokenTable:
        columns, within = [], []
        for name, codec in encoder.codecs_.items():
            if codec.discrete:
                columns.append(codec.codes(frame[name]))
                within.append(np.full(len(frame), np.nan))
                continue
            position = codec.to_uniform(frame[name], rng) * self.bins
            missing = np.isnan(position)
            if not codec.has_missing:  # too few missing to learn (private statistics): the median, as one-hot does
                position, missing = np.where(missing, self.bins / 2, position), np.zeros_like(missing)
            token = np.minimum(np.nan_to_num(position), self.bins - 1).astype(np.int64)
            columns.append(np.where(missing, self.bins, token))
            within.append(np.where(missing, np.nan, np.nan_to_num(position) - token))
        shape = (len(frame), len(columns))
        tokens = np.column_stack(columns) if columns else np.zeros(shape, dtype=np.int64)
        return TokenTable(tokens.astype(np.int64), np.column_stack(within) if within else np.zeros(shape))

    def decode(self, encoder, data: TokenTable, rng) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        for j, (name, codec) in enumerate(encoder.codecs_.items()):
            token = data.tokens[:, j]
            if codec.discrete:
                out[name] = codec.decode_codes(token, rng)
                continue
            inside = data.within[:, j] if data.within is not None else np.full(len(token), np.nan)
            inside = np.where(np.isnan(inside), rng.uniform(size=len(token)), inside)
            u = (np.minimum(token, self.bins - 1) + inside) / self.bins
            out[name] = codec.from_uniform(u).mask(token >= self.bins)
        return pd.DataFrame(out)


def bin_scores(tokens: np.ndarray, within: np.ndarray, bins: int) -> np.ndarray:
    """Normal scores of binned values at their position inside the bin (a smooth input for networks)."""
    u = np.clip((np.minimum(tokens, bins - 1) + np.nan_to_num(within, nan=0.5)) / bins, EPS, 1 - EPS)
    return ndtri(u)


@dataclass(frozen=True)
class MixedLayout:
    """Numbers and dates as normal scores; categories and missing flags as tokens."""

    numbers: tuple[str, ...]
    tokens: tuple[tuple[str, str], ...]  # (column, "value" or "missing")
    vocab: tuple[int, ...]


@dataclass
class MixedTable:
    """Normal scores [rows, numbers] (NaN where missing) and tokens [rows, token columns]."""

    numbers: np.ndarray
    tokens: np.ndarray


class NumbersAndTokens(Representation):
    """For models that treat numbers and categories differently (e.g. diffusion: Gaussian and masking)."""

    def layout(self, encoder: TableEncoder) -> MixedLayout:
        numbers, tokens, vocab = [], [], []
        for name, codec in encoder.codecs_.items():
            if codec.discrete:
                tokens.append((name, "value"))
                vocab.append(len(codec.slots))
                continue
            numbers.append(name)
            if codec.has_missing:
                tokens.append((name, "missing"))
                vocab.append(2)
        return MixedLayout(tuple(numbers), tuple(tokens), tuple(vocab))

    def encode(self, encoder, frame, rng) -> MixedTable:
        layout = self.layout(encoder)
        scores = [ndtri(encoder.codecs_[name].to_uniform(frame[name], rng)) for name in layout.numbers]
        tokens = [encoder.codecs_[name].codes(frame[name]) if role == "value"
                  else frame[name].isna().to_numpy().astype(np.int64) for name, role in layout.tokens]
        n = len(frame)
        return MixedTable(np.column_stack(scores).astype(np.float32) if scores else np.zeros((n, 0), np.float32),
                          np.column_stack(tokens).astype(np.int64) if tokens else np.zeros((n, 0), np.int64))

    def decode(self, encoder, data: MixedTable, rng) -> pd.DataFrame:
        layout = self.layout(encoder)
        out: dict[str, pd.Series] = {}
        for j, name in enumerate(layout.numbers):
            out[name] = encoder.codecs_[name].from_uniform(ndtr(data.numbers[:, j].astype(np.float64)))
        for j, (name, role) in enumerate(layout.tokens):
            if role == "value":
                out[name] = encoder.codecs_[name].decode_codes(data.tokens[:, j], rng)
            else:
                out[name] = out[name].mask(data.tokens[:, j] == 1)
        return pd.DataFrame({name: out[name] for name in encoder.codecs_})
