"""Pieces of the Evaluate step: the scoring task, the headline, one section per check, and the leaderboard."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from evaluation import plots
from evaluation.features import sample_rows
from evaluation.privacy import LEVELS
from evaluation.quality import BANDS, associations, weakest_pairs
from evaluation.report import html_report
from evaluation.scorecard import Evaluation, evaluate
from evaluation.utility import ml_usefulness, target_candidates
from models.compute import training_threads, worker_thread_limit
from models.registry import card
from tabular.export import file_stem
from ui import state

CHART_ROWS = 5000  # rows per side kept for the charts
MEMBERSHIP_HELP = ("An attacker holding the synthetic data scores equal numbers of training rows and unseen real rows "
                   "by how close each sits to a synthetic row, and tries to tell them apart. ROC AUC 0.5 means "
                   "guessing, 1.0 always right. See the *Privacy* tab.")
VERDICT_ICONS = {"external": ":material/check_circle:", "company": ":material/warning:", "team": ":material/block:"}


def split_for(dataset, trained) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The exact training rows and holdout the model was trained with."""
    return dataset.split(trained.holdout_share, seed=trained.split_seed, schema=trained.model.schema_)


def scoring_work(dataset, trained, target: str | None = None):
    """The worker's body for a BackgroundTask: sample, score, and keep small samples for the charts."""
    def work(progress):
        train, holdout = split_for(dataset, trained)
        progress(0.02, f"Generating {len(train):,} synthetic rows to compare")
        synthetic = trained.model.sample(len(train), seed=0)
        result = evaluate(train, synthetic, trained.model.schema_, holdout, target=target,
                          on_step=lambda done, total, text: progress(0.1 + 0.9 * done / total, text))
        return result, chart_samples(train, synthetic)
    return work


def chart_samples(train: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = min(CHART_ROWS, len(train), len(synthetic))
    return sample_rows(train, n, 0), sample_rows(synthetic, n, 1)


def chart_data(dataset, trained) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chart samples of a model, remade (about a second) when a reopened project has none yet."""
    cache = state.get(state.CHART_DATA) or {}
    if trained.model_id not in cache:
        train, _ = split_for(dataset, trained)
        cache[trained.model_id] = chart_samples(train, trained.model.sample(min(len(train), CHART_ROWS), seed=0))
        state.put(state.CHART_DATA, cache)
    return cache[trained.model_id]


def headline(ev: Evaluation, trained) -> None:
    q, p = ev.quality, ev.privacy
    c1, c2 = st.columns([1, 2])
    with c1:
        st.plotly_chart(plots.quality_gauge(q.quality), key="eval_gauge")
    with c2:
        st.markdown(f"### Quality {100 * q.quality:.0f} / 100: **{q.band}**")
        st.markdown(f"Fit for {q.fit_for}.", help="Bands: " + ", ".join(
            f"{name} from {100 * low:.0f}" for low, name, _ in BANDS) + ". The score is the average of column shapes "
            "and pair trends, as sdmetrics computes it.")
        if p is not None:
            box = {"external": st.success, "company": st.warning, "team": st.error}[p.verdict]
            box(f"**Privacy: {LEVELS[p.verdict]}.** {p.reasons[0]}", icon=VERDICT_ICONS[p.verdict])
        if ev.membership is not None:
            st.markdown(f"**Who was in the training data?** {ev.membership.sentence}", help=MEMBERSHIP_HELP)
        st.caption(":material/shield: " + trained.model.privacy_summary)
        m = st.columns(4)
        m[0].metric("Column shapes", f"{100 * q.column_shapes:.0f}%", help="How closely each column's values match.")
        m[1].metric("Pair trends", f"{100 * q.column_pair_trends:.0f}%", help="How well columns move together.")
        m[2].metric("Detection AUC", "n/a" if ev.detection_auc is None else f"{ev.detection_auc:.2f}",
                    help="How well a classifier tells real from synthetic rows: 0.5 means it cannot.")
        u = ev.usefulness  # the synthetic-trained score as the figure, the real-trained one beside it (fits)
        m[3].metric("ML score" + ("" if u is None else f" (real: {u.real_score:.2f})"),
                    "n/a" if u is None else f"{u.synthetic_score:.2f}", help="How well a model predicts a column "
                    "on unseen real rows when trained on synthetic rows, next to one trained on real rows (1 = "
                    "perfect). See *Detection & ML usefulness*.")
    for note in ev.notes:
        st.caption(note)
    if ev.sampling_text:
        st.caption(ev.sampling_text)
    better = [(other.quality.quality, model_id) for model_id, other in state.evaluations().items()
              if model_id in state.models() and other.quality.quality > q.quality + 0.02]
    if better:
        score, model_id = max(better)
        st.info(f"Your **{card(state.models()[model_id].generator).title}** in this project scored higher "
                f"({100 * score:.0f}/100). Pick it under *Compare generators* to export its data instead.",
                icon=":material/lightbulb:")


def _ml_pair(u) -> str:
    return "n/a" if u is None else f"{u.synthetic_score:.2f} / {u.real_score:.2f}"


def report_button(dataset, trained, ev: Evaluation, key: str) -> None:
    """Download the standalone HTML report (built when clicked)."""
    real, synthetic = chart_data(dataset, trained)  # here: the build below runs outside this session's thread

    def build() -> bytes:
        day = time.strftime("%Y-%m-%d", time.localtime(trained.finished_at))
        subtitle = f"{card(trained.generator).title}, trained {day}"
        if trained.race:  # chosen by the automatic pick: say why
            subtitle += f" · automatic pick: {trained.race['explanation']}"
        return html_report(ev, real, synthetic, trained.model.schema_, f"{dataset.name}: synthetic data report",
                           subtitle, trained.model.privacy_summary, getattr(trained.model, "edges_", None)).encode()
    st.download_button("Download the report (HTML)", build, file_name=f"{file_stem(dataset.name)}_report.html",
                       mime="text/html", key=key, icon=":material/description:", on_click="ignore",
                       help="One file with every chart; opens in any browser, offline, without this app.")


def shapes_section(ev: Evaluation, real: pd.DataFrame, synthetic: pd.DataFrame, schema) -> None:
    st.caption("How closely each column's values match the real ones (100 = identical). Worst columns first.")
    names = [c["column"] for c in ev.quality.columns]
    if not names:
        st.info("No column could be compared.")
        return
    left, right = st.columns([2, 3])
    left.plotly_chart(plots.column_scores_figure(ev.quality.columns), key="eval_shape_scores")
    with right:
        name = st.selectbox("Look at a column (type to search)", names, key="eval_column")
        st.plotly_chart(plots.column_figure(real[name], synthetic[name], schema.column(name).kind, name),
                        key="eval_column_chart")


def trends_section(ev: Evaluation, real: pd.DataFrame, synthetic: pd.DataFrame, schema) -> None:
    names, real_m, synth_m = associations(real, synthetic, schema)
    if len(names) < 2:
        st.info("Pair trends need at least two compared columns.")
        return
    st.caption("How strongly each pair of columns goes together (0 = unrelated, 1 = fully), in the real data, the "
               "synthetic data, and the gap between them. Dark red squares are relationships the generator missed.")
    st.plotly_chart(plots.association_figure(names, real_m, synth_m), key="eval_heatmaps")
    if weakest_pairs(ev.quality):
        st.markdown(weakest_pairs(ev.quality))
    c1, c2 = st.columns(2)
    a = c1.selectbox("First column", names, key="eval_pair_a")
    b = c2.selectbox("Second column", [n for n in names if n != a], key="eval_pair_b")
    st.plotly_chart(plots.pair_figure(real, synthetic, a, b, schema), key="eval_pair_chart")


def usefulness_section(ev: Evaluation, dataset, trained) -> None:
    auc = ev.detection_auc
    if auc is not None:
        hint = "hard" if auc < 0.6 else "fairly easy" if auc < 0.8 else "easy"
        st.markdown(f"**Detection.** A classifier trained to tell real rows from synthetic ones reaches a ROC AUC of "
                    f"**{auc:.2f}** (0.5 = it cannot tell them apart, 1.0 = it always can): telling them apart is "
                    f"{hint}.")
    candidates = target_candidates(trained.model.schema_)
    if ev.usefulness is None or not candidates:
        st.info("ML usefulness needs held-out real rows and a column to predict.")
        return
    target = st.selectbox("Column to predict", candidates, index=candidates.index(ev.usefulness.target)
                          if ev.usefulness.target in candidates else 0, key="eval_target")
    if target != ev.usefulness.target:
        with st.spinner(f"Training models to predict '{target}'…"), worker_thread_limit(training_threads()):
            train, holdout = split_for(dataset, trained)
            synthetic = trained.model.sample(min(len(train), 10_000), seed=0)
            ev.usefulness = ml_usefulness(train, holdout, synthetic, trained.model.schema_, target)
        state.save(lambda ws, _: ws.add_evaluation(trained.model_id, ev))
    u = ev.usefulness
    if u is None:
        st.info(f"'{target}' cannot be scored on the held-out rows.")
        return
    m = st.columns(3)
    m[0].metric("Trained on real rows", f"{u.real_score:.2f}", help=f"{u.metric} on unseen real rows (1 = perfect).")
    m[1].metric("Trained on synthetic rows", f"{u.synthetic_score:.2f}",
                help=f"{u.metric} on the same unseen real rows (1 = perfect).")
    m[2].metric(u.guess.capitalize(), "n/a" if u.baseline is None else f"{u.baseline:.2f}",
                help="What a model that learned nothing scores: the yardstick for the two above.")
    (st.warning if u.share is None else st.markdown)(u.summary)


def privacy_section(ev: Evaluation) -> None:
    p = ev.privacy
    if p is None:
        st.info("Privacy needs held-out real rows, which this evaluation did not have.")
        return
    box = {"external": st.success, "company": st.warning, "team": st.error}[p.verdict]
    box(f"**{LEVELS[p.verdict]}**\n\n" + "\n".join(f"- {r}" for r in p.reasons), icon=VERDICT_ICONS[p.verdict])
    m = st.columns(5)
    m[0].metric("Exact copies", f"{100 * p.exact_copies:.2f}%", help=f"Synthetic rows identical to a training row. "
                f"Unseen real rows match one {100 * p.holdout_copies:.2f}% of the time.")
    m[1].metric("Closer to training rows", f"{100 * p.dcr_share:.0f}%", help="Share of synthetic rows closer to a "
                "training row than to any unseen real row. About 50% is ideal.")
    m[2].metric("Distance ratio", f"{p.distance_ratio:.2f}", help="Typical distance of synthetic rows to the training "
                "rows, over that of unseen real rows. 1 or more is good.")
    m[3].metric("Nearest-neighbour ratio", f"{p.nndr:.2f}", help=f"Closest over second-closest training row (median);"
                f" low values single out one person. Unseen real rows: {p.nndr_holdout:.2f}.")
    m[4].metric("DCR protection", "n/a" if p.dcr_overfitting_protection is None else
                f"{100 * p.dcr_overfitting_protection:.0f}%", help="sdmetrics' DCROverfittingProtection (100% best).")
    st.plotly_chart(plots.distance_figure(p), key="eval_distances")
    membership_section(ev)


def membership_section(ev: Evaluation) -> None:
    """Could an attacker holding the synthetic data tell who was in the training data?"""
    m = ev.membership
    st.markdown("#### Could an attacker tell who was in the training data?")
    if m is None:
        st.caption("Not measured: this evaluation had too few held-out rows, or was scored by an older version "
                   "of the app.")
        return
    (st.markdown if m.verdict == "guessing" else st.warning)(m.sentence)
    left, right = st.columns([2, 3])
    with left:
        st.metric("Attack ROC AUC", f"{m.auc:.2f}", help="0.5 = guessing, 1.0 = always right. " + MEMBERSHIP_HELP)
        st.metric("Found at 1% wrongly accused", f"{m.tpr_at_1:.0%}", help="Share of training rows the attacker finds "
                  "while calling 1 in 100 unseen real rows a training row. Guessing finds 1%.")
        st.metric("Found at 10% wrongly accused", f"{m.tpr_at_10:.0%}",
                  help="The same at 10 in 100. Guessing finds 10%.")
        st.caption(f"{m.rows:,} training rows and {m.rows:,} unseen real rows; the stronger of two attackers is shown.")
    right.plotly_chart(plots.membership_figure(m), key="eval_membership")


def validity_section(ev: Evaluation) -> None:
    v = ev.validity
    if v is None:
        return
    st.markdown(f"**{100 * v.validity:.0f}%** of synthetic values stay within the real ranges and known categories; "
                f"table structure {100 * v.structure:.0f}%.")
    table = pd.DataFrame(v.columns).rename(columns={"column": "Column", "metric": "Check", "score": "Valid share",
                                                    "missing_real": "Missing (real)",
                                                    "missing_synthetic": "Missing (synthetic)"})
    st.dataframe(table, hide_index=True, column_config={
        c: st.column_config.ProgressColumn(c, format="percent", min_value=0, max_value=1)
        for c in ("Valid share", "Missing (real)", "Missing (synthetic)")})


def leaderboard() -> None:
    """Every generator of the project on the same scores; choose which one the Export step uses."""
    rows = []
    for model_id, trained in state.models().items():
        s = state.evaluations()[model_id].summary() if model_id in state.evaluations() else {}
        rows.append({"id": model_id, "Generator": f"{card(trained.generator).title} ({trained.preset})",
                     "Trained": time.strftime("%H:%M", time.localtime(trained.finished_at)),
                     "Quality": s.get("quality"), "Detection AUC": s.get("detection_auc"),
                     "ML synthetic / real": _ml_pair(state.evaluations()[model_id].usefulness)
                     if model_id in state.evaluations() else None, "Closer to training": s.get("dcr_share"),
                     "Membership AUC": s.get("membership_auc"),
                     "Privacy": s.get("privacy_verdict") or "not evaluated yet"})
    table = pd.DataFrame(rows).sort_values("Quality", ascending=False, na_position="last")
    st.dataframe(table.drop(columns="id"), hide_index=True, column_config={
        "Quality": st.column_config.ProgressColumn("Quality", format="percent", min_value=0, max_value=1),
        "Detection AUC": st.column_config.NumberColumn(format="%.2f"),
        "Closer to training": st.column_config.NumberColumn(format="percent"),
        "Membership AUC": st.column_config.NumberColumn(format="%.2f", help="How well an attacker tells training "
                                                        "rows from unseen ones (0.5 = guessing)")})
    ids = list(table["id"])
    current = state.get(state.MODEL)
    choice = st.selectbox("Use this generator for the Evaluate and Export steps", ids,
                          index=ids.index(current.model_id) if current and current.model_id in ids else 0,
                          format_func=lambda i: table.set_index("id").loc[i, "Generator"] + " · trained "
                          + table.set_index("id").loc[i, "Trained"], key="eval_pick_model")
    if current is None or choice != current.model_id:
        state.use_model(state.models()[choice])
        st.rerun()
