"""The automatic pick on the Train step: its settings, the live race (one line per candidate) and the result."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from models import registry
from models.auto import AutoConfig
from models.jobs import TrainedModel, TrainingJob
from models.training import ProgressEvent
from ui import state

RACE_COLOURS = ["#4F46E5", "#F59E0B", "#10B981", "#EF4444", "#0EA5E9", "#A855F7", "#64748B", "#EC4899"]
BUDGET_MINUTES = [1, 2, 3, 5, 10, 15, 30]
CHECK_ROWS = ("Check rows: real rows set aside from training that judge the race. The Evaluate step then scores "
              "the chosen generator on other rows that nothing has seen, so its figure there may differ a little.")


def auto_settings() -> tuple[dict, float]:
    """The race's time budget and, under Advanced, its candidates: (config overrides, budget in seconds)."""
    default = AutoConfig()
    minutes = st.select_slider("Time budget", BUDGET_MINUTES, value=int(default.budget_seconds // 60),
                               key="train_auto_budget", format_func=lambda m: f"{m} min",
                               help="The whole race: every generator it tries, and judging them, within this time.")
    able = [n for n in registry.names() if n != "auto"]
    with st.expander("Advanced settings", icon=":material/tune:"):
        chosen = st.multiselect("Generators to try, in this order", able, default=list(default.candidates),
                                key="train_auto_candidates", format_func=lambda n: registry.card(n).title,
                                help="The quick ones first: the time they leave goes to the slower ones.")
        seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="train_auto_seed", help="Each generator learns with this seed. The race is timed, so a busier "
                                "computer may train them for fewer epochs and pick differently.")
    return {"candidates": tuple(chosen or default.candidates), "seed": int(seed)}, float(minutes * 60)


def planned(job: TrainingJob) -> list[str]:
    return list(job.request.overrides.get("candidates") or AutoConfig().candidates)


def race_figure(events: list[ProgressEvent], candidates: list[str]) -> go.Figure:
    """Live quality of each candidate over the race's time, ending in the score that judged it."""
    fig = go.Figure()
    values = []
    for i, name in enumerate(candidates):
        mine = [e for e in events if e.candidate == name]
        points = [(e.elapsed, e.fidelity) for e in mine if e.fidelity is not None]
        points += [(e.elapsed, e.judged) for e in mine if e.judged is not None]
        if not points:
            continue
        values += [v for _, v in points]
        colour = RACE_COLOURS[i % len(RACE_COLOURS)]
        fig.add_trace(go.Scatter(x=[t for t, _ in points], y=[100 * v for _, v in points], mode="lines+markers",
                                 name=registry.card(name).title, line=dict(color=colour, width=2)))
        for e in mine:
            if e.judged is not None:
                fig.add_trace(go.Scatter(x=[e.elapsed], y=[100 * e.judged], mode="markers+text", showlegend=False,
                                         marker=dict(color=colour, size=14, symbol="star"),
                                         text=[f"{100 * e.judged:.1f}%"], textposition="top center",
                                         hoverinfo="skip"))
    low = max(0.0, min(values, default=0.5) * 100 - 5)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12),
                      xaxis_title="Seconds since the race started", yaxis_title="Quality on check rows (%)",
                      yaxis=dict(range=[low, 100]))
    return fig


def race_table(events: list[ProgressEvent], candidates: list[str]) -> list[dict]:
    """Where each candidate stands: waiting, training (epoch n of m), or its judged quality."""
    rows = []
    for name in candidates:
        mine = [e for e in events if e.candidate == name]
        judged = next((e.judged for e in mine if e.judged is not None), None)
        if judged is not None:
            status = f"{100 * judged:.1f}%"
        elif mine:
            status = f"training: epoch {mine[-1].epoch} of {mine[-1].epochs}"
        else:
            status = "waiting"
        rows.append({"Generator": registry.card(name).title, "Quality on check rows": status})
    return rows


def race_progress(job: TrainingJob, events: list[ProgressEvent]) -> None:
    """The live panel's progress bar, chart and standings for a race."""
    budget = job.request.budget_seconds or AutoConfig().budget_seconds
    candidates = planned(job)
    elapsed = events[-1].elapsed if events else 0.0
    now = events[-1].candidate if events else None
    where = (f"Trying **{registry.card(now).title}** ({candidates.index(now) + 1} of {len(candidates)})"
             if now in candidates else "Preparing the race")
    st.progress(min(elapsed / budget, 1.0), text=f"{where} · {elapsed:.0f} s of the {budget:.0f} s budget")
    st.plotly_chart(race_figure(events, candidates), key="train_race_chart")
    st.dataframe(race_table(events, candidates), hide_index=True)
    st.caption(CHECK_ROWS)


def race_result(result: TrainedModel, events: list[ProgressEvent]) -> None:
    """Why the pick was made, the race, and a way to open any runner-up instead."""
    race = result.race
    st.success(race["explanation"], icon=":material/emoji_events:")
    if race.get("stopped") == "cancelled":
        st.info("The race was cancelled; the best of the generators that had finished is kept.",
                icon=":material/info:")
    candidates = [e["generator"] for e in race["entries"]]
    if events:
        st.plotly_chart(race_figure(events, candidates), key="train_race_final_chart")
    st.caption(CHECK_ROWS)
    st.markdown("**Every generator it tried.** The one in use is marked; open any other instead.")
    current = state.get(state.MODEL)
    for entry in race["entries"]:
        _race_row(entry, current.model_id if current is not None else None)


def _race_row(entry: dict, current: str | None) -> None:
    title = registry.card(entry["generator"]).title
    c1, c2, c3 = st.columns([2, 3, 1.4], vertical_alignment="center")
    c1.markdown(f"**{title}**")
    if entry["score"] is None:
        c2.caption(entry["note"] or "Did not finish.")
        return
    c2.markdown(f"{100 * entry['score']:.1f}% on check rows · trained in {entry['seconds']:.0f} s")
    model = state.models().get(entry["model_id"])
    if entry["model_id"] == current:
        c3.markdown(":material/check_circle: **In use**")
    elif model is not None:
        c3.button("Use this one", key=f"train_race_use_{entry['model_id']}", icon=":material/swap_horiz:",
                  on_click=state.use_model, args=(model,))
