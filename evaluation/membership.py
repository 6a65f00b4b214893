"""Membership inference: could someone holding the synthetic data tell who was in the training data?"""

# The attack: take as many training rows (members) as unseen real rows (non-members), score each by how close
# it sits to the synthetic data, and measure with a ROC AUC how well that score tells the two apart (0.5 =
# guessing). Two attackers, the stronger one reported:
# - closest: the distance to the closest synthetic row (closer = more likely a member);
# - ratio: that distance divided by the distance to the closest other unseen real row, in the spirit of
#   DOMIAS (synthetic density over real density): it discounts rows that are close to everything because they
#   sit in a crowded part of the table. An unseen row is never its own neighbour (the second closest is used).
# Distances are the privacy checks' own (evaluation.privacy.nearest_two on evaluation.features.FeatureMap).

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from evaluation.features import FeatureMap, sample_rows
from evaluation.privacy import nearest_two
from tabular.schema import TableSchema

GUESSING_AUC = 0.55  # up to this, the attacker is as good as guessing
SLIGHT_AUC = 0.60  # up to this, slightly better than guessing; above it, the attacker can often tell
MIN_ROWS = 10  # fewer rows per side than this and the test is not run
ROUGH_ROWS = 200  # fewer rows per side than this and the result is called rough
RATIO_FLOOR = 1e-6  # keeps the ratio finite for exact matches (a distance of 0)
CHART_POINTS = 51

ATTACKERS = {
    "closest": "distance to the closest synthetic row",
    "ratio": "distance to the closest synthetic row compared with the closest unseen real row",
}
VERDICTS = {
    "guessing": "An attacker could not tell who was in the training data (as good as guessing).",
    "slight": "An attacker could tell who was in the training data slightly better than guessing.",
    "often": "An attacker could often tell who was in the training data: the generator may be memorising the "
             "people it learned from. Try fewer epochs or a faster preset, then check again.",
}


@dataclass
class MembershipResult:
    """How well the stronger attacker tells training rows from unseen real rows using the synthetic data."""

    auc: float  # ROC AUC of the stronger attacker (0.5 = guessing, 1 = always right)
    attacker: str  # a key of ATTACKERS
    tpr_at_1: float  # share of training rows found while wrongly accusing 1% of unseen rows
    tpr_at_10: float  # the same at 10%
    rows: int  # training rows and unseen rows, each (equal numbers)
    verdict: str  # a key of VERDICTS
    aucs: dict[str, float] = field(default_factory=dict)  # every attacker's AUC
    roc_fpr: list[float] = field(default_factory=list)  # the stronger attacker's ROC curve, for a chart
    roc_tpr: list[float] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        """The verdict in plain words, with the numbers behind it."""
        rough = f" Measured on only {self.rows:,} rows per side, so this is rough." if self.rows < ROUGH_ROWS else ""
        return (f"{VERDICTS[self.verdict]} ROC AUC {self.auc:.2f} (0.5 is guessing); wrongly accusing 1 unseen "
                f"row in 100, the attacker finds {self.tpr_at_1:.0%} of the training rows.{rough}")

    def findings(self) -> list[tuple[int, str]]:
        """(sharing level 0-2, reason) for the privacy verdict: 1 when slightly better than guessing, 2 when often."""
        if self.verdict == "guessing":
            return []
        how = ("can tell training rows from unseen real rows slightly better than guessing" if self.verdict == "slight"
               else "can often tell training rows from unseen real rows")
        return [(1 if self.verdict == "slight" else 2,
                 f"An attacker holding the synthetic data {how} (ROC AUC {self.auc:.2f}; 0.5 is guessing).")]

    @classmethod
    def from_dict(cls, data: dict) -> MembershipResult:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def verdict(auc: float, rows: int) -> str:
    """The verdict key: by the AUC, and above guessing only when the AUC is clearly beyond chance for ``rows``."""
    chance = math.sqrt((2 * rows + 1) / (12 * rows * rows))  # the AUC's spread under pure guessing
    if auc <= GUESSING_AUC or auc - 0.5 <= 2 * chance:
        return "guessing"
    return "slight" if auc <= SLIGHT_AUC else "often"


def attack_scores(members: pd.DataFrame, others: pd.DataFrame, synthetic: pd.DataFrame,
                  fmap: FeatureMap) -> dict[str, np.ndarray]:
    """Each attacker's score for every candidate (members first, then the unseen rows); higher = member."""
    n, width = len(members), max(len(fmap.columns), 1)
    candidates = fmap.distance_parts(pd.concat([members, others], ignore_index=True))
    reference = tuple(part[n:] for part in candidates)
    to_synthetic = nearest_two(candidates, fmap.distance_parts(synthetic))[:, 0] / width
    to_real = nearest_two(candidates, reference) / width
    to_real = np.r_[to_real[:n, 0], to_real[n:, 1]]  # an unseen row's closest other unseen row, not itself
    return {"closest": -to_synthetic,
            "ratio": -(to_synthetic + RATIO_FLOOR) / (to_real + RATIO_FLOOR)}


def _tpr_at(fpr: np.ndarray, tpr: np.ndarray, rate: float) -> float:
    return float(tpr[fpr <= rate + 1e-12].max())


def membership_risk(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema,
                    rows: int = 2000, synthetic_rows: int = 5000, seed: int = 0) -> MembershipResult | None:
    """Run both attackers on equal samples of training and unseen rows; None when there are too few rows.

    Args:
        train: typed real rows the generator learned from (the members).
        holdout: typed real rows it never saw (the non-members); its size bounds the samples.
        synthetic: typed synthetic rows, what the attacker holds.
        schema: the column kinds; the scored columns are compared.
        rows: at most this many members and as many non-members.
        synthetic_rows: at most this many synthetic rows are searched for the closest one.
        seed: makes the samples reproducible.
    """
    n = min(rows, len(train), len(holdout))
    fmap = FeatureMap(schema).fit(train)
    if n < MIN_ROWS or not len(synthetic) or not fmap.columns:
        return None
    members, others = sample_rows(train, n, seed + 10), sample_rows(holdout, n, seed + 11)
    scores = attack_scores(members, others, sample_rows(synthetic, synthetic_rows, seed + 12), fmap)
    labels = np.r_[np.ones(n), np.zeros(n)]
    aucs = {name: float(roc_auc_score(labels, score)) for name, score in scores.items()}
    best = max(aucs, key=aucs.get)
    fpr, tpr, _ = roc_curve(labels, scores[best])
    grid = np.linspace(0.0, 1.0, CHART_POINTS)
    return MembershipResult(auc=aucs[best], attacker=best, tpr_at_1=_tpr_at(fpr, tpr, 0.01),
                            tpr_at_10=_tpr_at(fpr, tpr, 0.10), rows=n, verdict=verdict(aucs[best], n),
                            aucs=aucs, roc_fpr=grid.round(4).tolist(),
                            roc_tpr=np.interp(grid, fpr, tpr).round(4).tolist())
