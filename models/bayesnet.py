"""Bayesian network generator: each column drawn from a table given a few parent columns; the fast DP path.

Columns are read as tokens (categories as their slot, numbers and dates as quantile bins, missing as a
token). A greedy search (``models.bn_structure``) places the columns one at a time, each with up to
``max_parents`` parents among the columns placed before it, and each column gets a smoothed table of
P(column | parents). Sampling fills the columns in that order, all rows at once per column; numbers and
dates are then drawn inside their bin by the representation's decoding. Asked values (conditions) are
evidence: rows are exact draws from the network given them (``_sample_given``).

Under differential privacy it follows PrivBayes (Zhang et al., 2017): parents are chosen with the
exponential mechanism, and every table is released as noisy counts (Gaussian mechanism: one row adds one
to one cell of every table, so all tables together have L2 sensitivity sqrt(columns)), clamped at zero
and normalised. Fewer bins, fewer parents and a cap on table size (a table is only used when its average
count per cell is at least ``dp_usefulness`` times the noise) keep the tables readable through the noise.
The row count is treated as public, as the ledger's delta already is.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from models.base import Generator, ModelError
from models.bn_structure import (
    SearchLimits,
    Selector,
    StructureSearch,
    extra_selections,
    family_counts,
    family_index,
    g_sensitivity,
)
from models.bn_tables import (
    Likelihood,
    ancestors,
    conditional,
    draw,
    edge_strengths,
    flat_cumulative,
    joint_table,
    noisy,
)
from models.conditional import token_within
from models.training import TrainingSession
from tabular.representations import Tokens, TokenTable

if TYPE_CHECKING:
    from models.conditional import Evidence, TokenEvidence

BUDGET_MARGIN = 0.999  # share of the remaining privacy (as zCDP) planned for, against rounding
EXACT_CELLS = 1 << 20  # conditional sampling draws the asked columns' ancestors jointly up to this many cells


@dataclass
class BayesNetConfig:
    """Settings of the Bayesian network."""

    bins: int = 20  # quantile bins a number or date is cut into
    max_parents: int = 2  # columns each column is drawn from, at most
    max_cells: int = 20_000  # largest table: column tokens x parent combinations
    penalty: float = 0.5  # weight of the BIC penalty on table size (1: BIC; lower: more and bigger tables)
    smoothing: float = 1.0  # pseudo-rows per parent combination, spread like the column's own shares
    dp_bins: int = 8  # bins under differential privacy (fewer: more rows per cell against the noise)
    dp_max_parents: int = 2  # parents at most under differential privacy
    dp_usefulness: float = 4.0  # under DP a table needs this many times the noise in rows per cell
    dp_selection_share: float = 0.3  # share of the privacy budget for choosing parents (the rest: tables)
    seed: int = 0  # makes fit and sampling reproducible
    epochs: int = 1  # not a setting: it learns in one pass, one progress step per column
    threads: int | None = None  # CPU threads while fitting (None: this training's share of the cores)


@dataclass
class _PrivatePlan:
    """How a private fit spends what is left of the budget."""

    selection_epsilon: float  # of each exponential-mechanism selection
    max_cells: int  # tables larger than this drown in the noise


class BayesNetGenerator(Generator):
    """Greedy Bayesian network over column tokens, with PrivBayes-style differential privacy."""

    name = "bayesnet"
    Config = BayesNetConfig
    supports_dp = True
    native_conditions = "uses the asked values as evidence"

    @property
    def representation(self) -> Tokens:  # fewer bins under differential privacy
        privacy = getattr(self, "privacy_", None)
        return Tokens(self.config.dp_bins if privacy is not None and privacy.private else self.config.bins)

    def _planned_epochs(self) -> int:
        """One step per column, and under privacy one more for releasing the tables."""
        return len(self.encoder_.codecs_) + int(self.privacy_.private)

    def _networks(self) -> dict[str, torch.nn.Module]:
        return {}  # the tables are saved as plain tensors in ``_extra_state``

    # ----- fitting ----------------------------------------------------------------------------------------
    def _fit(self, data: TokenTable, session: TrainingSession) -> None:
        tokens, private = data.tokens, self.privacy_.private
        self.vocab_ = np.array(self.representation.layout(self.encoder_).vocab, dtype=np.int64)
        plan = self._private_plan(len(tokens)) if private else None
        search = StructureSearch(tokens, self.vocab_, self._limits(plan), self._selector(plan, len(tokens)))
        self.order_ = search.order  # grows with the search: the model samples at every step
        self._start_tables(tokens)
        fitted = Likelihood(tokens, self.vocab_)
        held = Likelihood(session.held_out.tokens, self.vocab_) if session.held_out is not None else None
        self._refresh([fitted, held], range(len(self.vocab_)))
        going = True
        while going and not search.done:
            child = search.step()
            if not private:
                parents = search.parents[child]
                self._set_table(child, parents, family_counts(tokens, child, parents, self.vocab_))
                self._refresh([fitted, held], [child])
            losses = {} if private else {"training": fitted.total}
            going = session.epoch_end(len(search.order), losses, held.total if held else None)
        search.finish_alone()
        self.order_ = list(search.order)
        if private:
            self._release_tables(tokens, search)
            self._refresh([held], range(len(self.vocab_)))
            if going:
                session.epoch_end(len(self.vocab_) + 1, {}, held.total if held else None)

    def _limits(self, plan: _PrivatePlan | None) -> SearchLimits:
        cfg = self.config
        if plan is None:
            return SearchLimits(cfg.max_parents, cfg.max_cells, cfg.penalty)
        return SearchLimits(cfg.dp_max_parents, plan.max_cells, cfg.penalty)

    def _selector(self, plan: _PrivatePlan | None, rows: int) -> Selector:
        if plan is None:
            return Selector(self.rng_)
        return Selector(self.rng_, plan.selection_epsilon, g_sensitivity(rows))

    def _private_plan(self, rows: int) -> _PrivatePlan:
        """Split what the encoder left of the budget between choosing parents and the tables.

        Every release is a Gaussian-mechanism entry in the ledger, so their zCDP parameters add up: the
        ``rho`` of one release that would spend the rest is shared out. The table noise planned here is an
        upper bound (selections not made leave their share to the tables), so the size cap is safe.
        """
        cfg, columns = self.config, len(self.vocab_)
        rho = BUDGET_MARGIN / (2 * self._remaining_noise() ** 2)
        table_std = math.sqrt(columns / (2 * (1 - cfg.dp_selection_share) * rho))
        max_cells = min(cfg.max_cells, int(rows / (cfg.dp_usefulness * table_std)))
        selections = columns - 1 + extra_selections(self.vocab_, cfg.dp_max_parents, max_cells)
        epsilon = math.sqrt(2 * cfg.dp_selection_share * rho / max(selections, 1))
        return _PrivatePlan(epsilon, max_cells)

    def _remaining_noise(self) -> float:
        """The noise multiplier of one Gaussian release spending exactly what is left of the budget."""
        try:
            return self.ledger_.noise_for(self.privacy_.epsilon, 1.0, 1)
        except ValueError as exc:
            raise ModelError(f"A privacy budget of epsilon = {self.privacy_.epsilon:g} is too small for this "
                             "table once its column statistics are protected. Choose a larger epsilon.") from exc

    # ----- tables -----------------------------------------------------------------------------------------
    def _start_tables(self, tokens: np.ndarray) -> None:
        """Tables without parents to start from: each column's own shares (uniform under privacy: free)."""
        self.tables_, self.edges_, self._flat = [], [], {}
        self.parents_: list[list[int]] = [[] for _ in self.vocab_]
        for column, size in enumerate(self.vocab_.tolist()):
            private = self.privacy_.private
            counts = np.zeros((1, size)) if private else family_counts(tokens, column, [], self.vocab_)
            self.tables_.append(conditional(counts, self.config.smoothing))

    def _set_table(self, child: int, parents: list[int], counts: np.ndarray) -> None:
        """The child's parents and table from (possibly noisy) counts, and its edges with their strengths."""
        self.parents_[child] = list(parents)
        self.tables_[child] = conditional(counts, self.config.smoothing)
        self._flat.pop(child, None)
        names = self.encoder_.columns
        strengths = edge_strengths(counts, parents, self.vocab_)
        self.edges_ = [e for e in self.edges_ if e[1] != names[child]]
        self.edges_ += [(names[p], names[child], s) for p, s in zip(parents, strengths)]

    def _release_tables(self, tokens: np.ndarray, search: StructureSearch) -> None:
        """Record the selections, then release every table at once with what is left of the budget."""
        entry = search.selector.ledger_entry()
        if entry is not None:
            self.ledger_.add(*entry)
        multiplier = self._remaining_noise()
        self.ledger_.add(multiplier, 1.0, 1)
        if self.ledger_.epsilon() > self.privacy_.epsilon * (1 + 1e-6):  # noise_for guarantees it; checked
            raise ModelError("The privacy budget would be exceeded, so the tables were not released.")
        std = multiplier * math.sqrt(len(self.vocab_))  # L2 sensitivity of all tables together: sqrt(columns)
        for child in range(len(self.vocab_)):
            parents = search.parents[child]
            self._set_table(child, parents, noisy(family_counts(tokens, child, parents, self.vocab_), std,
                                                  self.rng_))

    def _refresh(self, trackers: list[Likelihood | None], columns) -> None:
        """Recompute the likelihood of the given columns under their current tables."""
        for tracker in trackers:
            for column in columns if tracker is not None else ():
                tracker.update(column, self.parents_[column], self.tables_[column])

    # ----- sampling, saving -------------------------------------------------------------------------------
    def _sample(self, n: int, generator: torch.Generator) -> TokenTable:
        tokens, uniform = self._blank(n, generator)
        self._forward(tokens, uniform, {})
        return TokenTable(tokens, None)

    def _sample_given(self, n: int, generator: torch.Generator, evidence: Evidence) -> TokenTable:
        """Exact draws from the network given the evidence (a half-covered bin counting half).

        The asked columns and their ancestors are drawn from their joint distribution given the evidence
        when that table is small (at most ``EXACT_CELLS`` cells), the other columns then in the network's
        order: every row meets the request. Otherwise by likelihood weighting with rejection: columns drawn
        in order, a conditioned one only among its allowed tokens (its probabilities times each bin's share
        of the asked range, renormalised); a row's weight is the product over conditioned columns of the
        probability its parents gave the allowed tokens, and it is kept with probability weight / largest
        possible weight (the product of each conditioned column's largest allowed probability over its
        parent configurations), so the kept rows are draws from the conditional distribution. Only kept
        rows are returned (the caller draws again).
        """
        given = evidence.tokens(self.representation.layout(self.encoder_))
        tokens, uniform = self._blank(n, generator)
        extra = torch.rand(n, 1 + len(self.vocab_), generator=generator, dtype=torch.float64).numpy()
        closed = ancestors(given, self.parents_)
        if math.prod(int(self.vocab_[c]) for c in closed) <= EXACT_CELLS:
            tokens[:, closed] = self._posterior(closed, given, extra[:, 0])
            self._forward(tokens, uniform, {}, skip=set(closed))
            keep = np.ones(n, dtype=bool)
        else:
            weight, largest = self._forward(tokens, uniform, given)
            keep = extra[:, 0] * largest < weight
        return TokenTable(tokens[keep], token_within(tokens[keep], given, extra[keep, 1:]))

    def _blank(self, n: int, generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Rows of tokens to fill, and one uniform draw per cell."""
        columns = len(self.vocab_)
        uniform = torch.rand(n, columns, generator=generator, dtype=torch.float64).numpy()
        return np.zeros((n, columns), dtype=np.int64), uniform

    def _forward(self, tokens: np.ndarray, uniform: np.ndarray, given: dict[int, TokenEvidence],
                 skip: Collection[int] = ()) -> tuple[np.ndarray, float]:
        """Fill the columns (but ``skip``) in the network's order, conditioned ones among their allowed tokens;
        returns each row's likelihood weight and the largest weight a row can get."""
        weight, largest = np.ones(len(tokens)), 1.0
        placed = set(self.order_)
        for column in self.order_ + [c for c in range(len(self.vocab_)) if c not in placed]:
            if column in skip:
                continue
            index = family_index(tokens, self.parents_[column], self.vocab_)
            flat = self._cumulative(column)
            if column in given:
                allowed = self.tables_[column] * np.exp(given[column].bias)  # [parent configurations, tokens]
                mass = allowed.sum(1)
                weight, largest = weight * mass[index], largest * float(mass.max())
                flat = flat_cumulative(allowed)
            tokens[:, column] = draw(flat, index, int(self.vocab_[column]), uniform[:, column])
        return weight, largest

    def _posterior(self, closed: list[int], given: dict[int, TokenEvidence], uniform: np.ndarray) -> np.ndarray:
        """Tokens [rows, closed] drawn from the joint of ``closed`` (columns with all their ancestors) given
        the evidence."""
        weights = {c: np.exp(evidence.bias) for c, evidence in given.items()}
        joint = joint_table(closed, self.tables_, self.parents_, self.vocab_, weights)
        cumulative = np.cumsum(joint.ravel())
        cell = np.searchsorted(cumulative, uniform * cumulative[-1], side="right")
        return np.column_stack(np.unravel_index(np.minimum(cell, cumulative.size - 1), joint.shape))

    def _cumulative(self, column: int) -> np.ndarray:
        if column not in self._flat:
            self._flat[column] = flat_cumulative(self.tables_[column])
        return self._flat[column]

    @property
    def structure(self) -> dict[str, list[str]]:
        """Each column's parents by name, in the order columns are drawn."""
        names = self.encoder_.columns
        return {names[c]: [names[p] for p in self.parents_[c]] for c in self.order_}

    def _extra_state(self) -> dict:
        return {"order": list(self.order_), "parents": [list(p) for p in self.parents_],
                "tables": [torch.from_numpy(t) for t in self.tables_],
                "edges": [[p, c, float(s)] for p, c, s in self.edges_]}

    def _build(self, extra: dict) -> None:
        self.vocab_ = np.array(self.representation.layout(self.encoder_).vocab, dtype=np.int64)
        self.order_ = [int(c) for c in extra["order"]]
        self.parents_ = [[int(p) for p in ps] for ps in extra["parents"]]
        self.tables_ = [t.numpy().astype(np.float64) for t in extra["tables"]]
        self.edges_ = [(str(p), str(c), float(s)) for p, c, s in extra["edges"]]
        self._flat = {}
        if len(self.tables_) != len(self.vocab_) or sorted(self.order_) != list(range(len(self.vocab_))):
            raise ValueError("the network does not match the encoder")
