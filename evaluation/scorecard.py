"""One evaluation of a synthetic table: every score the Evaluate step, the report and the CLI show."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import pandas as pd

from evaluation.features import sample_rows
from evaluation.membership import MembershipResult, membership_risk
from evaluation.privacy import LEVELS, PrivacyResult, privacy_scores, verdict
from evaluation.quality import QualityResult, ValidityResult, quality_scores, validity_scores
from evaluation.utility import UsefulnessResult, detection_auc, ml_usefulness, target_candidates
from tabular.schema import TableSchema

StepCallback = Callable[[int, int, str], None]  # (step done, steps in all, what comes next)


@dataclass
class EvaluationSettings:
    """How many rows each check looks at; seeded samples keep a large table within a minute."""

    # Rows per table for quality and validity. sdmetrics bins numbers over each table's whole range, so a sample
    # shifts the bins of long-tailed columns: on 100,000 flights a 50,000-row sample scored 0.0072 below
    # sdmetrics' own report, every row 0.0001 off. Pair counts use 50,000 rows either way, as sdmetrics' do.
    quality_rows: int = 100_000
    detection_rows: int = 5_000  # rows per side for the real-versus-synthetic classifier
    privacy_rows: int = 3_000  # rows per side for distances to the closest record (also capped by the holdout)
    ml_rows: int = 10_000  # training rows for the usefulness test (scored on every holdout row)
    attack_rows: int = 2_000  # training rows and as many unseen rows for the membership test (capped by the holdout)
    attack_synthetic_rows: int = 5_000  # synthetic rows the membership attacker searches
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
    sampling: list[dict] = field(default_factory=list)  # check, rows (per table), of (rows there were)
    membership: MembershipResult | None = None  # None: no holdout, too few rows, or saved before the test existed

    @property
    def sampling_text(self) -> str:
        """Which checks looked at a random sample, in plain words ('' when every check saw every row)."""
        if not self.sampling:
            return ""
        parts = [f"{s['check']} on {s['rows']:,} of {s['of']:,} rows" for s in self.sampling]
        return ("Some checks look at a random sample of rows (the same sample each time), not every row: "
                + "; ".join(parts) + ". Exact copies are counted over every row.")

    def summary(self) -> dict:
        """The headline numbers (the keys `cli.py evaluate --json` prints)."""
        p, u, m = self.privacy, self.usefulness, self.membership
        return {
            "quality": self.quality.quality, "band": self.quality.band,
            "column_shapes": self.quality.column_shapes, "column_pair_trends": self.quality.column_pair_trends,
            "validity": self.validity.score if self.validity else None,
            "detection_auc": self.detection_auc,
            "ml_target": u.target if u else None, "ml_metric": u.metric if u else None,
            "ml_real_score": u.real_score if u else None, "ml_synthetic_score": u.synthetic_score if u else None,
            "ml_trivial_guess": u.baseline if u else None, "ml_real_model_weak": u.real_is_weak if u else None,
            "ml_usefulness": u.share if u else None,
            "exact_copies": p.exact_copies if p else None, "dcr_share": p.dcr_share if p else None,
            "distance_ratio": p.distance_ratio if p else None, "nndr": p.nndr if p else None,
            "dcr_overfitting_protection": p.dcr_overfitting_protection if p else None,
            "privacy_verdict": LEVELS[p.verdict] if p else None,
            "membership_auc": m.auc if m else None, "membership_tpr_at_1pct_fpr": m.tpr_at_1 if m else None,
            "membership_tpr_at_10pct_fpr": m.tpr_at_10 if m else None,
            "membership_verdict": m.sentence if m else None,
            "sampled_checks": "; ".join(f"{s['check']}: {s['rows']} of {s['of']} rows" for s in self.sampling) or None,
        }

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Evaluation:
        """Reads what ``to_dict`` wrote, also from older versions of the app."""
        def build(kind, value):
            return kind(**value) if value is not None else None

        usefulness, membership = data.get("usefulness"), data.get("membership")
        return cls(quality=QualityResult(**data["quality"]), validity=build(ValidityResult, data["validity"]),
                   detection_auc=data["detection_auc"],
                   usefulness=UsefulnessResult.from_dict(usefulness) if usefulness else None,
                   privacy=build(PrivacyResult, data["privacy"]), sampling=data.get("sampling", []),
                   membership=MembershipResult.from_dict(membership) if membership else None,
                   **{k: data[k] for k in ("rows_real", "rows_synthetic", "rows_holdout", "sampled", "seconds",
                                           "notes")})


def _sampling(s: EvaluationSettings, train: pd.DataFrame, synthetic: pd.DataFrame,
              privacy: PrivacyResult | None, membership: MembershipResult | None) -> list[dict]:
    """The checks that looked at fewer rows than the tables have, with how many."""
    of = max(len(train), len(synthetic))
    used = [("quality and validity", min(s.quality_rows, of)),
            ("detection", min(s.detection_rows, len(train), len(synthetic)))]
    if privacy is not None:
        used += [("ML usefulness (training rows)", min(s.ml_rows, of)),
                 ("distances to real rows", privacy.rows_used)]
    if membership is not None:
        used.append(("membership test (per side)", membership.rows))
    return [{"check": check, "rows": int(rows), "of": int(of)} for check, rows in used if rows < of]


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
    steps = 5 if have_holdout else 3
    report = on_step or (lambda *_: None)
    start, notes = time.perf_counter(), []
    real_q, synth_q = sample_rows(train, s.quality_rows, s.seed), sample_rows(synthetic, s.quality_rows, s.seed + 1)
    report(0, steps, f"Comparing column shapes and pair trends ({len(real_q):,} rows)")
    quality = quality_scores(real_q, synth_q, schema)
    report(1, steps, "Checking values are valid")
    validity = validity_scores(real_q, synth_q, schema)
    report(2, steps, "Training a classifier to tell real from synthetic")
    detection = detection_auc(train, synthetic, schema, s.detection_rows, s.seed)
    usefulness = privacy = membership = None
    if have_holdout:
        target = target if target in target_candidates(schema) else next(iter(target_candidates(schema)), None)
        report(3, steps, f"Training models on real and on synthetic rows to predict '{target}'" if target
               else "No column to predict for ML usefulness")
        usefulness = ml_usefulness(train, holdout, synthetic, schema, target, s.ml_rows, s.seed) if target else None
        report(4, steps, "Looking for copied rows, measuring distances to real rows and testing whether an "
               "attacker could tell who was in the training data")
        privacy = privacy_scores(train, holdout, synthetic, schema, s.privacy_rows, s.seed)
        membership = membership_risk(train, holdout, synthetic, schema, s.attack_rows, s.attack_synthetic_rows,
                                     s.seed)
        if membership is not None:  # a clear membership signal lowers the sharing level too
            privacy.verdict, privacy.reasons = verdict(privacy, schema, membership.findings())
    else:
        notes.append("No held-out real rows were given, so privacy distances and ML usefulness were skipped.")
    report(steps, steps, "Done")
    sampling = _sampling(s, train, synthetic, privacy, membership)
    return Evaluation(quality, validity, detection, usefulness, privacy, len(train), len(synthetic),
                      len(holdout) if holdout is not None else 0, bool(sampling), time.perf_counter() - start, notes,
                      sampling, membership)
