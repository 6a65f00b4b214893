"""Quality and validity scores from sdmetrics' reports, with bands and column associations in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.features import as_labels, as_numbers
from evaluation.sdmetrics_bridge import plain_frame, quality_report, run_report, scored_columns, single_table_reports
from tabular.schema import NUMERIC_KINDS, TableSchema

# (lowest score, band, what data in the band is fit for)
BANDS = [
    (0.90, "Excellent", "analysis, dashboards and training ML models, and as a stand-in for the real table"),
    (0.80, "Good", "most analysis, software testing and ML prototyping; check key figures against the real data"),
    (0.70, "Fair", "demos, software testing and training people, not for conclusions about the business"),
    (0.00, "Poor", "checking file formats only; try another generator or train longer"),
]
ASSOCIATION_BINS = 10  # numbers and dates are cut into this many quantile bins for association strength


def band(score: float) -> tuple[str, str]:
    """The band name and what data in it is fit for."""
    for low, name, fit_for in BANDS:
        if score >= low:
            return name, fit_for
    return BANDS[-1][1], BANDS[-1][2]


@dataclass
class QualityResult:
    """sdmetrics' QualityReport, flattened to plain data."""

    quality: float
    column_shapes: float
    column_pair_trends: float
    columns: list[dict] = field(default_factory=list)  # column, metric, score; worst first
    pairs: list[dict] = field(default_factory=list)  # column_1, column_2, metric, score, real, synthetic

    @property
    def band(self) -> str:
        return band(self.quality)[0]

    @property
    def fit_for(self) -> str:
        return band(self.quality)[1]


def quality_scores(real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema) -> QualityResult:
    """Overall quality, per-column shape scores and per-pair trend scores as sdmetrics' QualityReport gives them.

    The pair trends are computed by ``evaluation.pair_trends`` (sdmetrics' rules, all pairs at once).
    """
    scores = quality_report(real, synthetic, schema)
    report = scores["report"]
    shapes = report.get_details("Column Shapes")
    columns = [{"column": r.Column, "metric": r.Metric, "score": _num(r.Score)} for r in shapes.itertuples()]
    trends = report.get_details("Column Pair Trends")
    pairs = [{"column_1": r[0], "column_2": r[1], "metric": r[2], "score": _num(r[3]),
              "real": _num(r[4]) if len(r) > 4 else None, "synthetic": _num(r[5]) if len(r) > 5 else None}
             for r in trends.itertuples(index=False)]
    return QualityResult(
        quality=_num(scores["quality"]) or 0.0, column_shapes=_num(scores["column_shapes"]) or 0.0,
        column_pair_trends=_num(scores["column_pair_trends"]) or 0.0,
        columns=sorted(columns, key=lambda c: (c["score"] is not None, c["score"] or 0)), pairs=pairs)


def weakest_pairs(result: QualityResult, k: int = 5) -> str:
    """The k column pairs sdmetrics scored lowest, as one plain sentence ('' when there are none)."""
    pairs = sorted((p for p in result.pairs if p["score"] is not None), key=lambda p: p["score"])[:k]
    if not pairs:
        return ""
    return ("Relationships reproduced least well (sdmetrics pair score, 100 = identical): "
            + ", ".join(f"{p['column_1']} × {p['column_2']} ({100 * p['score']:.0f})" for p in pairs) + ".")


def _num(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(value) else value


@dataclass
class ValidityResult:
    """sdmetrics' DiagnosticReport: are values in known ranges and categories, and is the table shaped right."""

    score: float
    validity: float
    structure: float
    columns: list[dict] = field(default_factory=list)  # column, metric, score, real missing, synthetic missing


def validity_scores(real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema) -> ValidityResult:
    """sdmetrics' DiagnosticReport with each column's missing share, real and synthetic."""
    report = single_table_reports()[1]()
    run_report(report, real, synthetic, schema)
    real_plain, synth_plain = plain_frame(real, schema), plain_frame(synthetic, schema)
    props = report.get_properties().set_index("Property")["Score"]
    details = report.get_details("Data Validity")
    columns = [{"column": r.Column, "metric": r.Metric, "score": _num(r.Score),
                "missing_real": float(real_plain[r.Column].isna().mean()),
                "missing_synthetic": float(synth_plain[r.Column].isna().mean())} for r in details.itertuples()]
    return ValidityResult(score=float(report.get_score()), validity=float(props.get("Data Validity", np.nan)),
                          structure=float(props.get("Data Structure", np.nan)), columns=columns)


def _binned(values: pd.Series, kind, edges: np.ndarray) -> np.ndarray:
    """Bin numbers at the given edges; missing values get a bin of their own."""
    x = as_numbers(values, kind)
    return np.where(np.isnan(x), len(edges) + 1, np.searchsorted(edges, x, side="right"))


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    if min(table.shape) < 2:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / table.sum() / (min(table.shape) - 1)))


def associations(real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema,
                 columns: list[str] | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """How strongly each pair of columns goes together (Cramér's V on binned values, 0..1), real and synthetic.

    Numbers and dates are binned at the real data's quantiles, so both tables are cut the same way.
    """
    names = columns or scored_columns(schema)
    codes = {"real": {}, "synthetic": {}}
    for name in names:
        kind = schema.column(name).kind
        if kind in NUMERIC_KINDS:
            x = as_numbers(real[name], kind)
            cuts = np.linspace(0, 1, ASSOCIATION_BINS + 1)[1:-1]
            edges = np.unique(np.nanquantile(x, cuts)) if np.isfinite(x).any() else np.array([])
            codes["real"][name] = _binned(real[name], kind, edges)
            codes["synthetic"][name] = _binned(synthetic[name], kind, edges)
        else:
            both = pd.concat([as_labels(real[name]), as_labels(synthetic[name])], ignore_index=True)
            joint = pd.factorize(both)[0]
            codes["real"][name], codes["synthetic"][name] = joint[:len(real)], joint[len(real):]
    out = []
    for side in ("real", "synthetic"):
        m = np.eye(len(names))
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                m[i, j] = m[j, i] = _cramers_v(codes[side][names[i]], codes[side][names[j]])
        out.append(m)
    return names, out[0], out[1]
