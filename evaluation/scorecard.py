"""One evaluation of a synthetic table: every score the Evaluate step, the report and the CLI show."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import pandas as pd

from evaluation.features import sample_rows
from evaluation.privacy import LEVELS, SDMETRICS_DCR_ROWS, PrivacyResult, privacy_scores
from evaluation.quality import QualityResult, ValidityResult, quality_scores, validity_scores
from evaluation.utility import UsefulnessResult, detection_auc, ml_usefulness, target_candidates
from tabular.schema import TableSchema

StepCallback = Callable[[int, int, str], None]  # (step done, steps in all, what comes next)


@dataclass
class EvaluationSettings:
    """How much data each check looks at; samples keep a 50,000-row table within seconds."""

    quality_rows: int = 100_000  # rows per side for sdmetrics' reports (fast; small samples skew rare categories)
    detection_rows: int = 5_000  # rows per side for the real-versus-synthetic classifier
    privacy_rows: int = 3_000  # rows per side for distances to the closest record
    ml_rows: int = 10_000  # training rows for the usefulness test
    seed: int = 0


@dataclass
class Evaluation:
    """All scores of one synthetic table. Plain data: it is saved as JSON in the project workspace."""

    quality: QualityResult
    validity: ValidityResult | None
    detection_auc: float | None
    usefulness: UsefulnessResult | None
    privacy: PrivacyResult | None
    rows_real: int
    rows_synthetic: int
    rows_holdout: int
    sampled: bool  # True when some check looked at a sample rather than every row
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """The headline numbers (the keys `cli.py evaluate --json` prints)."""
        p = self.privacy
        return {
            "quality": self.quality.quality, "band": self.quality.band,
            "column_shapes": self.quality.column_shapes, "column_pair_trends": self.quality.column_pair_trends,
            "validity": self.validity.score if self.validity else None,
            "detection_auc": self.detection_auc,
            "ml_usefulness": self.usefulness.ratio if self.usefulness else None,
            "ml_target": self.usefulness.target if self.usefulness else None,
            "exact_copies": p.exact_copies if p else None, "dcr_share": p.dcr_share if p else None,
            "distance_ratio": p.distance_ratio if p else None, "nndr": p.nndr if p else None,
            "dcr_overfitting_protection": p.dcr_overfitting_protection if p else None,
            "privacy_verdict": LEVELS[p.verdict] if p else None,
        }

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Evaluation:
        def build(kind, value):
            return kind(**value) if value is not None else None

        return cls(quality=QualityResult(**data["quality"]), validity=build(ValidityResult, data["validity"]),
                   detection_auc=data["detection_auc"], usefulness=build(UsefulnessResult, data["usefulness"]),
                   privacy=build(PrivacyResult, data["privacy"]),
                   **{k: data[k] for k in ("rows_real", "rows_synthetic", "rows_holdout", "sampled", "seconds",
                                           "notes")})



def _sampled_checks(s: EvaluationSettings, rows: int, privacy: PrivacyResult | None) -> list[str]:
    """Which checks looked at a sample rather than every row, in plain words."""
    caps = [(s.quality_rows, "quality and validity"), (s.detection_rows, "detection")]
    if privacy is not None:
        caps += [(s.ml_rows, "ML usefulness"), (privacy.rows_used, "distances to real rows"),
                 (min(SDMETRICS_DCR_ROWS, privacy.rows_used), "sdmetrics' DCR check")]
    return [f"{cap:,} rows for {what}" for cap, what in caps if rows > cap]


def evaluate(train: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema,
             holdout: pd.DataFrame | None = None, target: str | None = None,
             settings: EvaluationSettings | None = None, on_step: StepCallback | None = None) -> Evaluation:
    """Score a synthetic table against the rows its generator learned from (and the holdout, when given).

    Args:
        train: the typed real rows the generator was fitted on.
        synthetic: typed synthetic rows (as ``Generator.sample`` returns them).
        schema: column kinds and handling; only synthesized columns sdmetrics understands are scored.
        holdout: typed real rows never used to fit; needed for privacy distances and ML usefulness.
        target: the column the ML usefulness test predicts (default: the first candidate).
        settings: sample sizes and seed.
        on_step: called before each check with (steps done, steps in all, what is being checked).
    """
    s = settings or EvaluationSettings()
    have_holdout = holdout is not None and len(holdout) >= 10
    steps = ["quality", "validity", "detection"] + (["usefulness", "privacy"] if have_holdout else [])
    report = on_step or (lambda *_: None)
    start, notes = time.perf_counter(), []
    real_q, synth_q = sample_rows(train, s.quality_rows, s.seed), sample_rows(synthetic, s.quality_rows, s.seed + 1)
    report(0, len(steps), "Comparing column shapes and pair trends")
    quality = quality_scores(real_q, synth_q, schema)
    report(1, len(steps), "Checking values are valid")
    validity = validity_scores(real_q, synth_q, schema)
    report(2, len(steps), "Training a classifier to tell real from synthetic")
    detection = detection_auc(train, synthetic, schema, s.detection_rows, s.seed)
    usefulness = privacy = None
    if have_holdout:
        report(3, len(steps), "Testing ML usefulness on the held-out rows")
        candidates = target_candidates(schema)
        target = target if target in candidates else (candidates[0] if candidates else None)
        usefulness = ml_usefulness(train, holdout, synthetic, schema, target, s.ml_rows, s.seed) if target else None
        report(4, len(steps), "Measuring distances to real rows")
        privacy = privacy_scores(train, holdout, synthetic, schema, s.privacy_rows, s.seed)
    else:
        notes.append("No held-out real rows were given, so privacy distances and ML usefulness were skipped.")
    report(len(steps), len(steps), "Done")
    sampled = _sampled_checks(s, max(len(train), len(synthetic)), privacy)
    if sampled:
        notes.append("Some checks use a random sample: " + ", ".join(sampled) + ".")
    return Evaluation(quality, validity, detection, usefulness, privacy, len(train), len(synthetic),
                      len(holdout) if holdout is not None else 0, bool(sampled), time.perf_counter() - start, notes)
