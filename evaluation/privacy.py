"""Privacy checks: copied rows, distance to the closest real record, and a verdict in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from evaluation.dcr import dcr_overfitting_protection
from evaluation.features import FeatureMap, sample_rows
from evaluation.sdmetrics_bridge import metadata_for, plain_frame
from tabular.matching import copied_rows, row_keys
from tabular.schema import Handling, TableSchema

# Verdict thresholds. dcr_share is the share of synthetic rows closer to a training row than to a holdout
# row: 50% means the generator is no closer to the people it learned from than to people it never saw.
DCR_SHARE_EXTERNAL = 0.55  # up to this, fine to share outside the company
DCR_SHARE_COMPANY = 0.65  # up to this, fine within the company; above it, keep within the team
EXTRA_COPIES_EXTERNAL = 0.001  # copied rows beyond what new real rows would copy by chance (0.1%)
EXTRA_COPIES_COMPANY = 0.02

LEVELS = {
    "external": "Fine to share outside the company",
    "company": "Fine to share across the company",
    "team": "Keep within the team",
}


@dataclass
class PrivacyResult:
    """Privacy scores of one synthetic table against the training rows and the holdout."""

    exact_copies: float  # share of synthetic rows identical to a training row
    holdout_copies: float  # the same for holdout rows: how often new real rows match by chance
    dcr_share: float  # share of synthetic rows closer to training than to holdout rows (0.5 is ideal)
    distance_ratio: float  # median distance synthetic->training over holdout->training (1 ideal, <1 closer)
    nndr: float  # median nearest / second-nearest distance ratio of synthetic rows (low = singled out)
    nndr_holdout: float  # the same for holdout rows, for reference
    dcr_overfitting_protection: float | None  # sdmetrics' score, 0..1 (1 best)
    verdict: str  # a key of LEVELS
    reasons: list[str] = field(default_factory=list)
    distances_synthetic: list[float] = field(default_factory=list)  # sample for the chart
    distances_holdout: list[float] = field(default_factory=list)
    rows_used: int = 0


Parts = tuple[np.ndarray, np.ndarray]  # (numbers, one-hot categories) from FeatureMap.distance_parts


def nearest_two(query: Parts, reference: Parts, chunk: int = 1024) -> np.ndarray:
    """Distances from each query row to its closest and second-closest reference rows.

    The distance is the L1 distance of the numbers plus the count of differing categories, which is the
    number of categories minus a matrix product of the one-hot rows (far faster than an L1 over them).
    """
    ref_num, ref_hot = (torch.from_numpy(part) for part in reference)
    categories = float(query[1][:1].sum()) if len(query[1]) else 0.0
    out = []
    for start in range(0, len(query[0]), chunk):
        d = torch.cdist(torch.from_numpy(query[0][start:start + chunk]), ref_num, p=1)
        d += categories - torch.from_numpy(query[1][start:start + chunk]) @ ref_hot.T
        k = min(2, d.shape[1])
        out.append(torch.topk(d.clamp_min_(0), k, dim=1, largest=False).values.numpy())
    best = np.vstack(out)
    return best if best.shape[1] == 2 else np.hstack([best, best])


def _ratio(d: np.ndarray) -> float:
    return float(np.median(d[:, 0] / np.maximum(d[:, 1], 1e-12)))


def sdmetrics_dcr(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame,
                  schema: TableSchema) -> float | None:
    """sdmetrics' DCROverfittingProtection on the given rows (see ``evaluation.dcr``); None if it has no columns."""
    sdtypes = {name: meta["sdtype"] for name, meta in metadata_for(schema)["columns"].items()}
    try:
        return dcr_overfitting_protection(*(plain_frame(f, schema) for f in (train, synthetic, holdout)), sdtypes)
    except ValueError:  # no comparable column; the other privacy checks still stand
        return None


def privacy_scores(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema,
                   rows: int = 3000, seed: int = 0) -> PrivacyResult:
    """Copies over all rows; distances on samples of ``rows`` rows (train sampled to the holdout's size).

    Needs a non-empty holdout: the distances of unseen real rows are the yardstick.
    """
    train_keys = row_keys(train, schema)
    copies = float(copied_rows(synthetic, train_keys, schema).mean())
    holdout_copies = float(copied_rows(holdout, train_keys, schema).mean())
    n = min(rows, len(holdout), len(synthetic))
    samples = sample_rows(train, n, seed), sample_rows(synthetic, n, seed + 1), sample_rows(holdout, n, seed + 2)
    fmap = FeatureMap(schema).fit(train)
    width = max(len(fmap.columns), 1)
    ref_train, syn, hold = (fmap.distance_parts(frame) for frame in samples)
    syn_train, hold_train = nearest_two(syn, ref_train) / width, nearest_two(hold, ref_train) / width
    ref_hold = nearest_two(syn, hold)[:, 0] / width
    # Ties (e.g. both zero) count half, so identical train/holdout distances give 50%.
    share = float(np.mean((syn_train[:, 0] < ref_hold) + 0.5 * (syn_train[:, 0] == ref_hold)))
    ratio = float(np.median(syn_train[:, 0]) / max(np.median(hold_train[:, 0]), 1e-12))
    result = PrivacyResult(
        exact_copies=copies, holdout_copies=holdout_copies, dcr_share=share, distance_ratio=ratio,
        nndr=_ratio(syn_train), nndr_holdout=_ratio(hold_train),
        dcr_overfitting_protection=sdmetrics_dcr(samples[0], samples[1], samples[2], schema),
        verdict="external", distances_synthetic=syn_train[:500, 0].round(5).tolist(),
        distances_holdout=hold_train[:500, 0].round(5).tolist(), rows_used=n)
    result.verdict, result.reasons = verdict(result, schema)
    return result


def verdict(result: PrivacyResult, schema: TableSchema,
            other_findings: list[tuple[int, str]] | None = None) -> tuple[str, list[str]]:
    """The sharing level and the plain-words reasons that set it.

    Args:
        result: the distance and copy scores.
        schema: column kinds and handling (personal-data columns learned rather than faked count).
        other_findings: further (level, reason) findings from other checks, e.g. the membership test.
    """
    findings: list[tuple[int, str]] = []  # (0 external, 1 company, 2 team), reason
    extra = result.exact_copies - result.holdout_copies
    if extra > EXTRA_COPIES_EXTERNAL:
        findings.append((2 if extra > EXTRA_COPIES_COMPANY else 1,
                         f"{result.exact_copies:.1%} of synthetic rows copy a training row exactly (new real rows "
                         f"match one {result.holdout_copies:.1%} of the time); the export removes them by default."))
    if result.dcr_share > DCR_SHARE_EXTERNAL:
        findings.append((2 if result.dcr_share > DCR_SHARE_COMPANY else 1,
                         f"{result.dcr_share:.0%} of synthetic rows sit closer to the training rows than to unseen "
                         "real rows (50% is ideal): the generator stays close to the people it learned from."))
    kept = [c.name for c in schema.columns if c.is_personal and c.handling is Handling.SYNTHESIZE]
    if kept:
        findings.append((1, f"Personal-data columns are learned rather than faked: {', '.join(kept)}."))
    findings += other_findings or []
    if not findings:
        return "external", ["No copied rows beyond chance, and synthetic rows are no closer to the training "
                            "rows than unseen real rows are."]
    return ["external", "company", "team"][max(f[0] for f in findings)], [f[1] for f in findings]
