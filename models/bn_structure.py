"""Structure search of the Bayesian network: which columns each column is drawn from, and in what order.

Columns are placed one at a time, PrivBayes-style (Zhang et al., 2017). The first is a hub (or, under
differential privacy, a column picked at random); every later step picks the (column, parent) pair with the
best score among the columns not yet placed and those already placed (Prim's algorithm, which builds the
Chow-Liu tree), then adds further parents from the placed columns one at a time while that pays. Parents
always come earlier in the order, so the order is topological and sampling follows it.

A family's score is its log-likelihood gain over no parents, ``G = n * I(X; parents)``, less a BIC penalty
for the table's size. Without privacy the best candidate is taken; under differential privacy it is drawn
by the exponential mechanism (``Selector``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import xlogy

STOP = -1  # a candidate meaning "no (more) parents"


def family_index(tokens: np.ndarray, parents: list[int], vocab: np.ndarray) -> np.ndarray:
    """Row-major index of each row's parent configuration (0 for a column without parents)."""
    index = np.zeros(len(tokens), dtype=np.int64)
    for p in parents:
        index = index * int(vocab[p]) + tokens[:, p]
    return index


def family_counts(tokens: np.ndarray, child: int, parents: list[int], vocab: np.ndarray) -> np.ndarray:
    """Rows per (parent configuration, child token): an int array [configurations, child tokens]."""
    configs = int(np.prod([vocab[p] for p in parents])) if parents else 1
    size = int(vocab[child])
    joint = family_index(tokens, parents, vocab) * size + tokens[:, child]
    return np.bincount(joint, minlength=configs * size).reshape(configs, size)


def g_statistic(counts: np.ndarray) -> float:
    """``n * I(child; parents)`` in nats from a [configurations, child tokens] count table."""
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    if n <= 0:
        return 0.0
    rows, cols = counts.sum(1), counts.sum(0)
    return float(xlogy(counts, counts).sum() + xlogy(n, n) - xlogy(rows, rows).sum() - xlogy(cols, cols).sum())


def mutual_information(counts: np.ndarray) -> float:
    """Mutual information (nats) of a two-way count table."""
    n = float(np.asarray(counts).sum())
    return max(g_statistic(counts) / n, 0.0) if n > 0 else 0.0


def g_sensitivity(rows: int) -> float:
    """How much ``G`` can change when one row is added or removed: at most ln(n + 1) + 1.

    With ``f(c) = c ln c``, ``G = f(n) - sum f(c_x) - sum f(c_pa) + sum f(c_x,pa)``; a row adds one to one count
    of each sum, and ``g(c) = f(c + 1) - f(c)`` grows with ``c`` from 0, so the change is one ``g`` of a count
    at most ``n`` minus another: below ``g(n) <= ln(n + 1) + 1``.
    """
    return math.log(rows + 1) + 1.0


def bic_penalty(child_size: int, configs: int, rows: int, weight: float) -> float:
    """BIC cost (nats) of a table with ``configs`` parent configurations over no parents."""
    return weight * 0.5 * math.log(max(rows, 2)) * (child_size - 1) * (configs - 1)


@dataclass
class Selector:
    """Picks the best-scored candidate: exactly, or with the exponential mechanism under privacy.

    The mechanism draws candidate ``i`` with probability proportional to ``exp(epsilon * s_i / (2 * Δ))``
    (``Δ``: the scores' sensitivity), which is ``epsilon``-DP whatever the number of candidates. For the
    ledger it is counted as ``epsilon**2 / 2``-zCDP (Bun and Steinke 2016, Prop. 3.3: every pure
    ``epsilon``-DP mechanism is), which is exactly the Renyi curve of a Gaussian mechanism with noise
    multiplier ``1 / epsilon``; ``ledger_entry`` gives that entry. (The mechanism is also ``epsilon``-bounded
    range, hence ``epsilon**2 / 8``-zCDP by Cesar and Rogers 2021; the looser bound is kept to be safe.)
    """

    rng: np.random.Generator
    epsilon: float | None = None  # per selection; None: no privacy, take the best
    sensitivity: float = 1.0
    used: int = 0  # private selections made (each costs ``epsilon``)

    def pick(self, scores: np.ndarray) -> int:
        """Index of the chosen candidate."""
        scores = np.asarray(scores, dtype=np.float64)
        if self.epsilon is None or len(scores) == 1:
            return int(np.argmax(scores))
        self.used += 1
        gumbel = self.rng.gumbel(size=len(scores))  # Gumbel-max: an exact draw from the mechanism
        return int(np.argmax(self.epsilon * scores / (2.0 * self.sensitivity) + gumbel))

    def ledger_entry(self) -> tuple[float, float, int] | None:
        """(noise multiplier, sample rate, steps) of the selections made, as Gaussian-mechanism entries."""
        if self.epsilon is None or not self.used:
            return None
        return 1.0 / self.epsilon, 1.0, self.used


@dataclass
class SearchLimits:
    """What a family may be."""

    max_parents: int
    max_cells: int  # child tokens x parent configurations
    penalty: float  # weight of the BIC penalty (0: none)


@dataclass
class StructureSearch:
    """Places one column per ``step``; ``parents`` and ``order`` grow as it goes."""

    tokens: np.ndarray
    vocab: np.ndarray
    limits: SearchLimits
    selector: Selector
    order: list[int] = field(default_factory=list)
    parents: dict[int, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rows, self.columns = self.tokens.shape
        self.pair_scores = self._pair_scores()

    @property
    def done(self) -> bool:
        return len(self.order) == self.columns

    def _fits(self, child: int, parents: list[int]) -> bool:
        cells = int(self.vocab[child]) * int(np.prod([self.vocab[p] for p in parents]))
        return len(parents) <= self.limits.max_parents and cells <= self.limits.max_cells

    def score(self, child: int, parents: list[int]) -> float:
        """Penalised log-likelihood gain of ``child`` given ``parents`` over no parents."""
        if not parents:
            return 0.0
        counts = family_counts(self.tokens, child, parents, self.vocab)
        penalty = bic_penalty(int(self.vocab[child]), counts.shape[0], self.rows, self.limits.penalty)
        return g_statistic(counts) - penalty

    def _pair_scores(self) -> np.ndarray:
        """[child, parent] scores of single parents (-inf where the pair is not allowed)."""
        scores = np.full((self.columns, self.columns), -np.inf)
        if self.limits.max_parents < 1:
            return scores
        for a in range(self.columns):
            for b in range(a + 1, self.columns):
                counts = family_counts(self.tokens, a, [b], self.vocab)
                gain = g_statistic(counts)
                for child, parent in ((a, b), (b, a)):
                    if self._fits(child, [parent]):
                        size = int(self.vocab[child])
                        configs = int(self.vocab[parent])
                        scores[child, parent] = gain - bic_penalty(size, configs, self.rows, self.limits.penalty)
        return scores

    def step(self) -> int:
        """Place one more column with its parents; returns it."""
        if not self.order:
            child = self._first()
            self.parents[child] = []
        else:
            child, parent = self._next_pair()
            self.parents[child] = [] if parent == STOP else [parent]
            if parent != STOP:
                self._grow(child)
        self.order.append(child)
        return child

    def _first(self) -> int:
        """A hub without privacy (the column with the most to explain); a random column under it."""
        if self.selector.epsilon is not None:
            return int(self.selector.rng.integers(self.columns))
        gains = np.where(np.isfinite(self.pair_scores), np.maximum(self.pair_scores, 0.0), 0.0)
        return int(np.argmax(gains.sum(0) + gains.sum(1)))

    def _next_pair(self) -> tuple[int, int]:
        """The (child, parent) pair to place next; parent ``STOP`` places the child alone."""
        placed = np.array(self.order)
        waiting = [c for c in range(self.columns) if c not in self.parents]
        candidates, scores = [], []
        for child in waiting:
            candidates.append((child, STOP))
            scores.append(0.0)
            row = self.pair_scores[child, placed]
            for parent, value in zip(placed.tolist(), row.tolist()):
                if np.isfinite(value):
                    candidates.append((child, parent))
                    scores.append(value)
        if len(candidates) == len(waiting):  # nothing but "alone": no data looked at, nothing spent
            return waiting[0], STOP
        return candidates[self.selector.pick(np.array(scores))]

    def _grow(self, child: int) -> None:
        """Add parents from the placed columns, one at a time, while the best choice beats stopping."""
        chosen = self.parents[child]
        while len(chosen) < self.limits.max_parents:
            options = [p for p in self.order if p not in chosen and self._fits(child, chosen + [p])]
            if not options:
                return
            scores = [self.score(child, chosen)] + [self.score(child, chosen + [p]) for p in options]
            pick = self.selector.pick(np.array(scores))
            if pick == 0:
                return
            chosen.append(options[pick - 1])

    def finish_alone(self) -> None:
        """Place every column not yet placed without parents (after a cancel: costs nothing)."""
        for column in range(self.columns):
            if column not in self.parents:
                self.parents[column] = []
                self.order.append(column)


def extra_selections(vocab: np.ndarray, max_parents: int, max_cells: int) -> int:
    """An upper bound on the parent additions after the first, from the sizes alone (no data)."""
    total = 0
    for child, size in enumerate(vocab.tolist()):
        others = np.sort(np.delete(vocab, child)).tolist()
        for count in range(2, max_parents + 1):
            if len(others) >= count and size * math.prod(others[:count]) <= max_cells:
                total += 1
    return total
