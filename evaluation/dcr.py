"""sdmetrics' DCROverfittingProtection with distances computed on blocks of rows, not a pandas cross join."""

# sdmetrics (0.32) builds every (synthetic row, reference row) pair as a pandas frame: 5.8 s for 500 rows of the
# 51 scored loans columns. The rules are kept: per column, numbers and dates count min(|a - b| / range, 1) (range
# of the reference table; 0 or 1 when the range is 0), categories count 1 when they differ, a value missing on
# one side counts 1 and on both sides 0; a row's distance is the mean over columns, its DCR the smallest
# distance to any reference row. tests/test_evaluation.py checks the score equals sdmetrics'.

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from evaluation.pair_trends import CONTINUOUS, joint_codes, sdmetrics_numbers

DISCRETE = ("categorical", "boolean")  # the kinds of column the distance counts as categories


def _column(data: pd.Series, reference: pd.Series, sdtype: str) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(data values, reference values, reference range or None for categories) of one column."""
    if sdtype in CONTINUOUS:
        x, r = sdmetrics_numbers(data, sdtype), sdmetrics_numbers(reference, sdtype)
        return x, r, float(np.nanmax(r) - np.nanmin(r)) if np.isfinite(r).any() else np.nan
    x, r = joint_codes(data, reference)
    return x.astype("float64"), r.astype("float64"), None


def _column_distance(x: torch.Tensor, r: torch.Tensor, span: float | None) -> torch.Tensor:
    """One column's contribution for every (data row, reference row) pair."""
    if span is None:
        return (x[:, None] != r[None, :]).double()
    diff = (x[:, None] - r[None, :]).abs()
    part = (diff > 0).double() if span == 0 else torch.clamp(diff / span, max=1.0)
    x_nan, r_nan = torch.isnan(x)[:, None], torch.isnan(r)[None, :]
    return torch.where(x_nan ^ r_nan, 1.0, torch.where(x_nan & r_nan, 0.0, part))


def closest_distances(data: pd.DataFrame, reference: pd.DataFrame, sdtypes: dict[str, str],
                      chunk: int = 512) -> np.ndarray:
    """Each data row's distance to its closest reference row, as sdmetrics' ``calculate_dcr`` gives it."""
    columns = [(name, t) for name, t in sdtypes.items() if t in CONTINUOUS + DISCRETE]
    if not columns:
        raise ValueError("There are no overlapping statistical columns to measure.")
    prepared = [_column(data[name], reference[name], t) for name, t in columns]
    out = []
    for start in range(0, len(data), chunk):
        total = torch.zeros(min(chunk, len(data) - start), len(reference), dtype=torch.float64)
        for x, r, span in prepared:  # in column order, as sdmetrics sums them
            total += _column_distance(torch.from_numpy(x[start:start + chunk]), torch.from_numpy(r), span)
        out.append((total / len(columns)).min(dim=1).values.numpy())
    return np.concatenate(out) if out else np.zeros(0)


def dcr_overfitting_protection(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame,
                               sdtypes: dict[str, str]) -> float:
    """sdmetrics' DCROverfittingProtection score (0..1, 1 best) of plain frames, without subsampling.

    Twice the share of synthetic rows that are not strictly closer to a training row than to a holdout
    row, capped at 1.
    """
    to_train = closest_distances(synthetic, train, sdtypes)
    to_holdout = closest_distances(synthetic, holdout, sdtypes)
    closer = float(np.mean(to_train < to_holdout)) if len(to_train) else 0.0
    return min((1.0 - closer) * 2, 1.0)
