"""Classifier-based checks: can a model tell real from synthetic, and does synthetic data train useful models."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import f1_score, r2_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from evaluation.features import FeatureMap, as_labels, as_numbers, sample_rows
from tabular.schema import NUMERIC_KINDS, Kind, TableSchema

TREE_SETTINGS = dict(max_iter=100, learning_rate=0.1, categorical_features="from_dtype", random_state=0)



def detection_auc(real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema, rows: int = 5000,
                  seed: int = 0, folds: int = 3) -> float:
    """Cross-validated ROC AUC of a boosted-tree classifier telling real rows from synthetic (0.5 is ideal)."""
    n = min(rows, len(real), len(synthetic))
    real, synthetic = sample_rows(real, n, seed), sample_rows(synthetic, n, seed + 1)
    fmap = FeatureMap(schema).fit(real)
    x = pd.concat([fmap.for_trees(real), fmap.for_trees(synthetic)], ignore_index=True)
    y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    scores = np.zeros(len(y))
    splits = StratifiedKFold(n_splits=min(folds, n) if n >= 2 else 2, shuffle=True, random_state=seed)
    for fit_idx, test_idx in splits.split(x, y):
        model = HistGradientBoostingClassifier(**TREE_SETTINGS).fit(x.iloc[fit_idx], y[fit_idx])
        scores[test_idx] = model.predict_proba(x.iloc[test_idx])[:, 1]
    return float(roc_auc_score(y, scores))


WEAK_SKILL = 0.1  # the real model closes less than this share of the gap from the trivial guess to perfect


@dataclass
class UsefulnessResult:
    """Train-on-synthetic and train-on-real, both scored on the real holdout, next to the trivial guess."""

    target: str
    task: str  # "classification" (macro F1) or "regression" (R squared)
    metric: str
    real_score: float  # trained on real training rows
    synthetic_score: float  # trained on synthetic rows
    baseline: float | None = None  # always guessing the most common class (or the mean); None: not measured

    @property
    def real_is_weak(self) -> bool:
        """Whether the model trained on real rows is hardly better than the trivial guess."""
        baseline = self.baseline if self.baseline is not None else (0.0 if self.task == "regression" else None)
        if baseline is None:
            return False
        return self.real_score - baseline < WEAK_SKILL * (1.0 - baseline)

    @property
    def share(self) -> float | None:
        """The synthetic-trained score as a share of the real-trained one, at most 1; None when that says little."""
        if self.real_is_weak or self.real_score <= 1e-9:
            return None
        return float(np.clip(self.synthetic_score / self.real_score, 0.0, 1.0))

    @property
    def guess(self) -> str:
        return "always guessing the average" if self.task == "regression" else "always guessing the most common value"

    @property
    def summary(self) -> str:
        scores = (f"A model predicting '{self.target}' scores {self.real_score:.2f} ({self.metric}, 1 = perfect) on "
                  f"unseen real rows when trained on real rows, and {self.synthetic_score:.2f} when trained on "
                  "synthetic rows")
        baseline = f"; {self.guess} scores {self.baseline:.2f}" if self.baseline is not None else ""
        if self.share is None:  # the real model is weak (or scores nothing at all)
            return (f"'{self.target}' cannot be predicted well even from the real data, so this comparison says little "
                    f"about the synthetic data (pick another column to predict). {scores}{baseline}.")
        return f"{scores}{baseline}: the synthetic data keeps {self.share:.0%} of what the real data achieves."

    @classmethod
    def from_dict(cls, data: dict) -> UsefulnessResult:
        """Also reads evaluations saved before the baseline was measured (they stored a capped ratio instead)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


MAX_CLASSES = 20  # categories with more levels are not offered as targets (cost grows with each class)


def target_candidates(schema: TableSchema) -> list[str]:
    """Columns a model could predict: yes/no first, then categories with few levels, then numbers (table order)."""
    order = {Kind.YES_NO: 0, Kind.CATEGORY: 1, Kind.NUMBER: 2, Kind.WHOLE_NUMBER: 2, Kind.DATETIME: 3}
    cols = [c for c in schema.modelled()
            if c.kind in order and (c.kind is not Kind.CATEGORY or 2 <= c.distinct <= MAX_CLASSES)]
    return [c.name for c in sorted(cols, key=lambda c: order[c.kind])]


def ml_usefulness(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema,
                  target: str, rows: int = 10_000, seed: int = 0) -> UsefulnessResult | None:
    """TSTR against TRTR on the holdout, with the trivial guess's score; None when the holdout cannot score it."""
    kind = schema.column(target).kind
    task = "regression" if kind in NUMERIC_KINDS else "classification"
    features = [c for c in FeatureMap(schema).columns if c != target]
    if not features or len(holdout) < 10:
        return None
    fmap = FeatureMap(schema, features).fit(train)
    test_y = _target(holdout[target], kind)
    keep = ~pd.isna(test_y)
    if keep.sum() < 10:
        return None
    test_x, test_y = fmap.for_trees(holdout)[keep], test_y[keep]
    scores = []
    for frame in (sample_rows(train, rows, seed), sample_rows(synthetic, rows, seed)):
        y = _target(frame[target], kind)
        present = ~pd.isna(y)
        scores.append(_fit_score(fmap.for_trees(frame)[present], y[present], test_x, test_y, task))
    baseline = _baseline(_target(train[target], kind), test_y, task)
    metric = "R²" if task == "regression" else "F1"
    return UsefulnessResult(target, task, metric, scores[0], scores[1], baseline)


def _baseline(train_y: np.ndarray, test_y: np.ndarray, task: str) -> float:
    """The holdout score of the trivial guess: the training mean, or the most common training class."""
    train_y = train_y[~pd.isna(train_y)]
    if task == "regression":
        guess = np.full(len(test_y), float(np.mean(train_y.astype(float))) if len(train_y) else 0.0)
        return max(float(r2_score(test_y.astype(float), guess)), 0.0)
    common = pd.Series(train_y.astype(str)).mode()
    guess = np.full(len(test_y), common.iloc[0] if len(common) else "")
    return float(f1_score(test_y.astype(str), guess, average="macro"))


def _target(values: pd.Series, kind: Kind) -> np.ndarray:
    if kind in NUMERIC_KINDS:
        return as_numbers(values, kind)
    labels = as_labels(values).to_numpy(dtype=object)
    return np.where(labels == "__missing__", None, labels)


def _fit_score(x: pd.DataFrame, y: np.ndarray, test_x: pd.DataFrame, test_y: np.ndarray, task: str) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "regression":
            model = HistGradientBoostingRegressor(**TREE_SETTINGS).fit(x, y.astype(float))
            return max(float(r2_score(test_y.astype(float), model.predict(test_x))), 0.0)
        if len(set(y)) < 2:  # every synthetic row has one class: the model can only guess that class
            return float(f1_score(test_y.astype(str), np.full(len(test_y), str(y[0]) if len(y) else ""),
                                  average="macro"))
        model = HistGradientBoostingClassifier(**TREE_SETTINGS).fit(x, y.astype(str))
        return float(f1_score(test_y.astype(str), model.predict(test_x), average="macro"))
