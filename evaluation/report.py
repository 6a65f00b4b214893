"""The standalone HTML quality and privacy report: one file, charts included, opens offline."""

from __future__ import annotations

import html
import time

import pandas as pd

from evaluation import network, plots
from evaluation.privacy import LEVELS
from evaluation.quality import associations, weakest_pairs
from evaluation.scorecard import Evaluation
from tabular.schema import Kind, TableSchema

WORST_COLUMNS = 6  # column charts shown in the report
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2rem auto;
padding:0 1rem;color:#1f2933}h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
.muted{color:#667}.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:8px;
padding:.8rem 1rem;min-width:180px}.card b{font-size:1.6rem;display:block}table{border-collapse:collapse}
td,th{border-bottom:1px solid #eee;padding:.3rem .8rem;text-align:left}.verdict{padding:.8rem 1rem;
border-radius:8px;color:#fff;font-weight:600}.external{background:#2E7D32}.company{background:#F9A825}
.team{background:#C62828}
"""


def _card(title: str, value: str, hint: str) -> str:
    return f'<div class="card">{html.escape(title)}<b>{html.escape(value)}</b><span class="muted">' \
           f'{html.escape(hint)}</span></div>'


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(k, '')))}</td>" for k, _ in columns) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


class _Figures:
    """Turns figures into HTML; the first one carries plotly.js inline so the file works offline."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, fig) -> str:
        out = fig.to_html(full_html=False, include_plotlyjs=self.first, config={"displaylogo": False})
        self.first = False
        return out


def html_report(evaluation: Evaluation, real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema,
                title: str = "Synthetic data report", subtitle: str = "", privacy: str = "",
                links: list[network.Edge] | None = None) -> str:
    """The whole report as one HTML document.

    Args:
        evaluation: the scores to report.
        real: typed real training rows (a sample is fine) for the charts.
        synthetic: typed synthetic rows (a sample is fine) for the charts.
        schema: column kinds, for the charts.
        title: the heading, e.g. the dataset's name.
        subtitle: one line under the heading, e.g. the generator used.
        privacy: how the generator was protected (``tabular.privacy.describe``), when known.
        links: a Bayesian network's learned links (``edges_``), drawn as a picture; None for other generators.
    """
    q, p, fig = evaluation.quality, evaluation.privacy, _Figures()
    summary = evaluation.summary()
    parts = [f"<h1>{html.escape(title)}</h1><p class='muted'>{html.escape(subtitle)} · generated "
             f"{time.strftime('%Y-%m-%d %H:%M')} by Synthetic Data Studio</p>",
             *([f"<p><b>Privacy.</b> {html.escape(privacy)}</p>"] if privacy else []),
             f"<h2>Quality: {100 * q.quality:.0f} / 100 ({q.band})</h2><p>Fit for {html.escape(q.fit_for)}.</p>",
             fig(plots.quality_gauge(q.quality)), "<div class='cards'>",
             _card("Column shapes", _pct(q.column_shapes), "each column's distribution"),
             _card("Column pair trends", _pct(q.column_pair_trends), "how columns move together"),
             _card("Validity", _pct(summary["validity"]), "known categories and ranges"),
             _card("Detection ROC AUC", "n/a" if evaluation.detection_auc is None else
                   f"{evaluation.detection_auc:.2f}", "0.5 = indistinguishable from real"),
             *_usefulness_cards(evaluation.usefulness), "</div>",
             *([f"<p>{html.escape(evaluation.usefulness.summary)}</p>"] if evaluation.usefulness else [])]
    parts += ["<h2>Column shapes</h2>", fig(plots.column_scores_figure(q.columns))]
    for col in [c["column"] for c in q.columns[:WORST_COLUMNS]]:
        parts.append(fig(plots.column_figure(real[col], synthetic[col], schema.column(col).kind, col)))
    names, real_m, synth_m = associations(real, synthetic, schema)
    if len(names) > 1:
        parts += ["<h2>Column pair trends</h2><p>How strongly columns go together (0 = unrelated, 1 = fully).</p>",
                  fig(plots.association_figure(names, real_m, synth_m)),
                  f"<p>{html.escape(weakest_pairs(q))}</p>"]
    learned = [c.name for c in schema.modelled() if c.kind is not Kind.CONSTANT]  # the columns a network links
    parts += _network_section(links, learned, fig) if links is not None else []
    parts += _privacy_section(p, fig) + _membership_section(evaluation.membership, p is not None, fig)
    if evaluation.validity:
        parts += ["<h2>Validity</h2>", _table(evaluation.validity.columns, [
            ("column", "column"), ("metric", "check"), ("score", "score"), ("missing_real", "missing (real)"),
            ("missing_synthetic", "missing (synthetic)")])]
    notes = evaluation.notes + [f"{evaluation.rows_real:,} real training rows, {evaluation.rows_holdout:,} held-out "
                                f"rows, {evaluation.rows_synthetic:,} synthetic rows."]
    notes += [evaluation.sampling_text] if evaluation.sampling_text else ["Every check looked at every row."]
    parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")


def _usefulness_cards(u) -> list[str]:
    """Both ML scores side by side (never a ratio above 100%), or why there are none."""
    if u is None:
        return [_card("ML usefulness", "n/a", "needs held-out rows and a column to predict")]
    guess = f"{u.guess}: {u.baseline:.2f}" if u.baseline is not None else "unseen real rows"
    return [_card(f"ML: trained on real rows ({u.metric})", f"{u.real_score:.2f}", f"predicting '{u.target}'; {guess}"),
            _card(f"ML: trained on synthetic rows ({u.metric})", f"{u.synthetic_score:.2f}",
                  "says little: the real model is weak" if u.share is None else
                  f"keeps {u.share:.0%} of the real model's score")]


def _privacy_section(p, fig) -> list[str]:
    if p is None:
        return ["<h2>Privacy</h2><p>Not checked: no held-out real rows were available.</p>"]
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in p.reasons)
    return [f"<h2>Privacy</h2><div class='verdict {p.verdict}'>{html.escape(LEVELS[p.verdict])}</div>",
            f"<ul>{reasons}</ul><div class='cards'>",
            _card("Exact copies", _pct(p.exact_copies, 2), f"of synthetic rows (unseen real rows: "
                                                           f"{_pct(p.holdout_copies, 2)})"),
            _card("Closer to training rows", _pct(p.dcr_share, 0), "about 50% is ideal"),
            _card("Distance ratio", f"{p.distance_ratio:.2f}", "1 or more is good"),
            _card("Nearest-neighbour ratio", f"{p.nndr:.2f}", f"unseen real rows: {p.nndr_holdout:.2f}"),
            _card("DCR overfitting protection", _pct(p.dcr_overfitting_protection, 0), "sdmetrics, 100% best"),
            "</div>", fig(plots.distance_figure(p))]


def _membership_section(m, have_holdout: bool, fig) -> list[str]:
    """Could an attacker holding the synthetic data tell who was in the training data?"""
    if not have_holdout:
        return []
    head = "<h3>Could an attacker tell who was in the training data?</h3>"
    if m is None:
        return [head, "<p class='muted'>Not measured: too few held-out rows, or scored by an older version.</p>"]
    return [head, f"<p>{html.escape(m.sentence)}</p><div class='cards'>",
            _card("Attack ROC AUC", f"{m.auc:.2f}", "0.5 = guessing"),
            _card("Found at 1% wrongly accused", _pct(m.tpr_at_1, 0), "guessing finds 1%"),
            _card("Found at 10% wrongly accused", _pct(m.tpr_at_10, 0), "guessing finds 10%"),
            "</div>", f"<p class='muted'>{m.rows:,} training rows and {m.rows:,} unseen real rows, each scored by "
            "how close it sits to the synthetic data; the stronger of two attackers is shown.</p>",
            fig(plots.membership_figure(m))]


def _network_section(links: list[network.Edge], columns: list[str], fig) -> list[str]:
    """The Bayesian network's links: a picture and a sentence per strong link."""
    head = "<h2>How the columns go together</h2>"
    if not links:
        return [head, "<p>The network found no links: every column is drawn on its own.</p>"]
    sentences = "".join(f"<li>{s}</li>" for s in network.link_sentences(links, style="html"))
    return [head, f"<p>{html.escape(network.HOW_TO_READ)}</p>",
            fig(network.network_figure(links, columns)),
            f"<p class='muted'>{html.escape(network.network_caption(links, columns))}</p><ul>{sentences}</ul>",
            "<details><summary>How is the strength of a link measured?</summary>"
            f"<p>{html.escape(network.STRENGTH_EXPLAINED)}</p></details>"]
