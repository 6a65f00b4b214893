"""Conditional tables of the Bayesian network: smoothing, private noise, likelihood and drawing tokens."""

from __future__ import annotations

import numpy as np

from models.bn_structure import family_index, mutual_information


def conditional(counts: np.ndarray, smoothing: float) -> np.ndarray:
    """P(child | parents) [configurations, child tokens] from (possibly noisy) counts.

    Each configuration gets ``smoothing`` pseudo-rows spread like the column's own distribution (a
    Dirichlet prior centred on the marginal), so rare or unseen configurations fall back on the marginal and
    no token has probability 0.
    """
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 0.0)
    marginal = counts.sum(0) + 1.0  # one pseudo-row per token keeps the marginal itself positive
    marginal /= marginal.sum()
    smoothed = counts + max(smoothing, 1e-6) * marginal
    return smoothed / smoothed.sum(1, keepdims=True)


def noisy(counts: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """Counts plus Gaussian noise of ``std``, clamped at zero."""
    return np.maximum(counts + rng.normal(0.0, std, counts.shape), 0.0)


def edge_strengths(counts: np.ndarray, parents: list[int], vocab: np.ndarray) -> list[float]:
    """Mutual information (nats) of the child with each parent, from the family's count table."""
    shaped = np.maximum(counts, 0.0).reshape([int(vocab[p]) for p in parents] + [counts.shape[1]])
    out = []
    for axis in range(len(parents)):
        others = tuple(a for a in range(len(parents)) if a != axis)
        out.append(mutual_information(shaped.sum(axis=others) if others else shaped))
    return out


def flat_cumulative(probs: np.ndarray) -> np.ndarray:
    """Cumulative probabilities of every configuration, shifted by its index and laid end to end.

    Configuration ``i`` occupies ``(i, i + 1]``, so one ``searchsorted`` draws every row at once.
    """
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    cum[:, -1] = 1.0
    return (cum + np.arange(len(cum))[:, None]).ravel()


def draw(flat: np.ndarray, index: np.ndarray, size: int, uniform: np.ndarray) -> np.ndarray:
    """The child token of each row, given its configuration ``index`` and a uniform draw in [0, 1)."""
    position = np.searchsorted(flat, index + uniform, side="right") - index * size
    return np.clip(position, 0, size - 1)


class Likelihood:
    """Negative log-likelihood per row of some encoded rows, column by column, under the current tables."""

    def __init__(self, tokens: np.ndarray, vocab: np.ndarray) -> None:
        self.tokens, self.vocab = tokens, vocab
        self.per_column = np.zeros(tokens.shape[1])

    def update(self, column: int, parents: list[int], probs: np.ndarray) -> None:
        index = family_index(self.tokens, parents, self.vocab)
        chosen = probs[index, self.tokens[:, column]]
        self.per_column[column] = -np.log(chosen).mean() if len(chosen) else 0.0

    @property
    def total(self) -> float:
        return float(self.per_column.sum())


def ancestors(columns, parents: list[list[int]]) -> list[int]:
    """The columns and every column they descend from (each parent's parents too), sorted."""
    seen: set[int] = set()
    stack = list(columns)
    while stack:
        column = stack.pop()
        if column not in seen:
            seen.add(column)
            stack.extend(parents[column])
    return sorted(seen)


def joint_table(columns: list[int], tables: list[np.ndarray], parents: list[list[int]], vocab: np.ndarray,
                weights: dict[int, np.ndarray]) -> np.ndarray:
    """P(columns) [vocab of each column], times ``weights`` [tokens] of some of them.

    ``columns`` must hold every parent of each of its columns (as ``ancestors`` gives), so the product of
    their tables is their joint distribution (the columns outside sum out to 1).
    """
    axis = {c: i for i, c in enumerate(columns)}
    joint = np.ones([int(vocab[c]) for c in columns])
    for column in columns:
        family = parents[column] + [column]
        table = tables[column] * weights.get(column, 1.0)  # [parent configurations, tokens]
        shaped = table.reshape([int(vocab[f]) for f in family]).transpose(np.argsort([axis[f] for f in family]))
        shape = [1] * len(columns)
        for f in family:
            shape[axis[f]] = int(vocab[f])
        joint *= shaped.reshape(shape)
    return joint
