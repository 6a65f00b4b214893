"""Classifier-based checks: can a model tell real from synthetic, and does synthetic data train useful models."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import f1_score, r2_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from evaluation.features import NUMERIC_KINDS, FeatureMap, as_labels, as_numbers, sample_rows
from tabular.schema import Kind, TableSchema

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


@dataclass
class UsefulnessResult:
    """Train-on-synthetic versus train-on-real, both tested on the real holdout."""

    target: str
    task: str  # "classification" (macro F1) or "regression" (R squared)
    metric: str
    real_score: float  # trained on real training rows
    synthetic_score: float  # trained on synthetic rows
    ratio: float  # synthetic / real, capped to 0..1.5

    @property
    def summary(self) -> str:
        return (f"A model predicting '{self.target}' trained on synthetic data scores {self.synthetic_score:.2f} "
                f"({self.metric}) on unseen real rows, against {self.real_score:.2f} when trained on real data.")


MAX_CLASSES = 20  # categories with more levels are not offered as targets (cost grows with each class)


def target_candidates(schema: TableSchema) -> list[str]:
    """Columns a model could predict: yes/no first, then categories with few levels, then numbers (table order)."""
    order = {Kind.YES_NO: 0, Kind.CATEGORY: 1, Kind.NUMBER: 2, Kind.WHOLE_NUMBER: 2, Kind.DATETIME: 3}
    cols = [c for c in schema.modelled()
            if c.kind in order and (c.kind is not Kind.CATEGORY or 2 <= c.distinct <= MAX_CLASSES)]
    return [c.name for c in sorted(cols, key=lambda c: order[c.kind])]


def ml_usefulness(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema,
                  target: str, rows: int = 10_000, seed: int = 0) -> UsefulnessResult | None:
    """TSTR against TRTR on the holdout; None when the holdout cannot score the target."""
    kind = schema.column(target).kind
    task = "regression" if kind in NUMERIC_KINDS else "classification"
    features = [c for c in FeatureMap(schema).columns if c != target]
    if not features or len(holdout) < 10:
        return None
    fmap = FeatureMap(schema, features).fit(train)
    test_x = fmap.for_trees(holdout)
    test_y = _target(holdout[target], kind)
    keep = ~pd.isna(test_y)
    if keep.sum() < 10:
        return None
    scores = []
    for frame in (sample_rows(train, rows, seed), sample_rows(synthetic, rows, seed)):
        y = _target(frame[target], kind)
        present = ~pd.isna(y)
        scores.append(_fit_score(fmap.for_trees(frame)[present], y[present], test_x[keep], test_y[keep], task))
    real, synth = scores
    ratio = float(np.clip(synth / real, 0, 1.5)) if real > 1e-9 else float(synth >= real)
    metric = "R²" if task == "regression" else "F1"
    return UsefulnessResult(target, task, metric, real, synth, ratio)


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
