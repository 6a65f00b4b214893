"""Plotly figures comparing real and synthetic data, shared by the Evaluate step and the HTML report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from evaluation.features import as_labels
from evaluation.membership import ATTACKERS, MembershipResult
from evaluation.privacy import PrivacyResult
from evaluation.quality import BANDS
from tabular.schema import NUMERIC_KINDS, Kind, TableSchema

REAL, SYNTHETIC = "#4C78A8", "#F58518"  # one colour per side in every chart
BAND_COLOURS = {"Excellent": "#2E7D32", "Good": "#7CB342", "Fair": "#F9A825", "Poor": "#C62828"}
TOP_CATEGORIES = 20  # bars shown per category column; the rest are summed as "other"


def _layout(fig: go.Figure, height: int = 320, **extra) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=1.12),
                      **extra)
    return fig


def quality_gauge(score: float) -> go.Figure:
    """The headline quality score on a 0-100 dial coloured by band."""
    steps = [dict(range=[100 * low, 100 * high], color=BAND_COLOURS[name])
             for (low, name, _), high in zip(BANDS, [1.0] + [b[0] for b in BANDS[:-1]])]
    fig = go.Figure(go.Indicator(mode="gauge+number", value=round(100 * score, 1),
                                 gauge=dict(axis=dict(range=[0, 100]), bar=dict(color="#263238", thickness=0.25),
                                            steps=steps)))
    fig = _layout(fig, height=230)
    fig.update_layout(margin=dict(l=30, r=30, t=30, b=10))
    return fig


def column_scores_figure(columns: list[dict]) -> go.Figure:
    """One bar per column: how closely the synthetic column's distribution matches the real one."""
    rows = [c for c in columns if c["score"] is not None]
    fig = go.Figure(go.Bar(x=[100 * c["score"] for c in rows], y=[c["column"] for c in rows], orientation="h",
                           marker_color=[_score_colour(c["score"]) for c in rows],
                           hovertemplate="%{y}: %{x:.1f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(range=[0, 100], title="shape score (100 = identical)")
    return _layout(fig, height=max(240, 22 * len(rows) + 80))


def _score_colour(score: float) -> str:
    for low, name, _ in BANDS:
        if score >= low:
            return BAND_COLOURS[name]
    return BAND_COLOURS["Poor"]


def column_figure(real: pd.Series, synthetic: pd.Series, kind: Kind, name: str,
                  labels: tuple[str, str] = ("real", "synthetic")) -> go.Figure:
    """Real and synthetic distributions of one column, overlaid as shares (``labels`` names the two)."""
    fig = go.Figure()
    if kind in NUMERIC_KINDS:
        both = pd.concat([real.dropna(), synthetic.dropna()])
        if kind is not Kind.DATETIME:
            both = pd.to_numeric(both, errors="coerce").dropna()
        bins = dict(start=both.min(), end=both.max(), size=(both.max() - both.min()) / 40) if kind is not \
            Kind.DATETIME and len(both) and both.max() > both.min() else None
        for values, label, colour in ((real, labels[0], REAL), (synthetic, labels[1], SYNTHETIC)):
            fig.add_trace(go.Histogram(x=values.dropna(), name=label, histnorm="probability", opacity=0.6,
                                       marker_color=colour, xbins=bins))
        fig.update_layout(barmode="overlay")
    else:
        real_share = as_labels(real).value_counts(normalize=True)
        synth_share = as_labels(synthetic).value_counts(normalize=True)
        order = list(real_share.index[:TOP_CATEGORIES])
        for share, label, colour in ((real_share, labels[0], REAL), (synth_share, labels[1], SYNTHETIC)):
            fig.add_trace(go.Bar(x=order, y=[share.get(k, 0.0) for k in order], name=label, marker_color=colour))
        fig.update_layout(barmode="group")
    fig.update_yaxes(title="share of rows", tickformat=".0%")
    return _layout(fig, title=dict(text=name, x=0))


def association_figure(names: list[str], real: np.ndarray, synthetic: np.ndarray) -> go.Figure:
    """Three heatmaps: how strongly columns go together in the real data, the synthetic data, and the gap."""
    fig = make_subplots(1, 3, subplot_titles=("real", "synthetic", "difference"), horizontal_spacing=0.04,
                        shared_yaxes=True)
    for i, (matrix, scale) in enumerate(((real, "Blues"), (synthetic, "Blues"), (np.abs(real - synthetic), "Reds"))):
        fig.add_trace(go.Heatmap(z=np.round(matrix, 3), x=names, y=names, zmin=0, zmax=1, colorscale=scale,
                                 showscale=i == 2, hovertemplate="%{y} × %{x}: %{z:.2f}<extra></extra>"), 1, i + 1)
    fig.update_yaxes(autorange="reversed")
    side = max(360, 18 * len(names) + 160)
    return _layout(fig, height=side)


def pair_figure(real: pd.DataFrame, synthetic: pd.DataFrame, a: str, b: str, schema: TableSchema,
                points: int = 2000) -> go.Figure:
    """Two columns against each other, real beside synthetic (a sample of points for number pairs)."""
    fig = make_subplots(1, 2, subplot_titles=("real", "synthetic"), shared_yaxes=True, shared_xaxes=True)
    numeric = [schema.column(c).kind in NUMERIC_KINDS for c in (a, b)]
    for i, (frame, colour) in enumerate(((real, REAL), (synthetic, SYNTHETIC))):
        part = frame[[a, b]].sample(min(points, len(frame)), random_state=0) if all(numeric) else frame[[a, b]]
        if all(numeric):
            trace = go.Scattergl(x=part[a], y=part[b], mode="markers", marker=dict(color=colour, size=4, opacity=0.4),
                                 showlegend=False)
        else:
            x = part[a] if numeric[0] else as_labels(part[a])
            y = part[b] if numeric[1] else as_labels(part[b])
            trace = go.Histogram2d(x=x, y=y, colorscale="Blues" if i == 0 else "Oranges", showscale=False,
                                   histnorm="probability")
        fig.add_trace(trace, 1, i + 1)
    fig.update_xaxes(title=a)
    fig.update_yaxes(title=b, col=1)
    return _layout(fig, height=380)


def distance_figure(privacy: PrivacyResult) -> go.Figure:
    """How far synthetic rows and unseen real rows sit from their closest training row."""
    fig = go.Figure()
    for values, label, colour in ((privacy.distances_holdout, "unseen real rows", REAL),
                                  (privacy.distances_synthetic, "synthetic rows", SYNTHETIC)):
        fig.add_trace(go.Histogram(x=values, name=label, histnorm="probability", opacity=0.6, marker_color=colour,
                                   nbinsx=40))
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title="distance to the closest training row (0 = identical)")
    fig.update_yaxes(title="share of rows", tickformat=".0%")
    return _layout(fig)


def membership_figure(membership: MembershipResult) -> go.Figure:
    """The membership attacker's ROC curve: training rows found against unseen rows wrongly accused."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="guessing",
                             line=dict(color="#9E9E9E", dash="dash")))
    fig.add_trace(go.Scatter(x=membership.roc_fpr, y=membership.roc_tpr, mode="lines", name="attacker",
                             line=dict(color=SYNTHETIC), hovertemplate="wrongly accused %{x:.0%}: found %{y:.0%}"
                             "<extra></extra>"))
    fig.update_xaxes(title="unseen real rows wrongly called training rows", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title="training rows found", tickformat=".0%", range=[0, 1])
    return _layout(fig, height=300, title=dict(text=f"Attacker using the {ATTACKERS[membership.attacker]}", x=0,
                                               font=dict(size=13)))
