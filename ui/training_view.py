"""Widgets of the Train step: generator cards, the live training panel and its chart."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from evaluation.membership import GUESSING_AUC, SLIGHT_AUC
from models import jobs, registry
from models.jobs import TrainingJob
from models.training import ProgressEvent
from tabular.parsing import duration, plural
from ui import state, training_control
from ui.projects_view import when
from ui.race_view import race_progress, race_result
from workspace.trainings import TrainingRecord

LOSS_COLOURS = ["#4F46E5", "#F59E0B", "#10B981", "#EF4444"]
FIDELITY_COLOUR = "#059669"


CARDS_PER_ROW = 3


def _card_text(name: str) -> None:
    card = registry.card(name)
    st.caption(card.analogy)
    st.markdown(f"**Good at:** {card.good_at}  \n**Speed:** {card.speed}  \n**Quality:** {card.quality}")


def chosen_card(name: str, suggested: str) -> None:
    """The chosen generator in plain words, and why it is suggested when it is."""
    with st.container(border=True):
        st.markdown(f"**{registry.card(name).title}**")
        _card_text(name)
        if name == suggested:
            st.markdown(":material/recommend: Suggested: you need not know which generator suits your table. It "
                        "tries the quick ones first, then the strongest of our benchmark, and keeps the one that "
                        "matches real rows set aside from your table best. Pick one yourself when you know "
                        "what you want.")


def generator_cards() -> None:
    """One card per generator, in plain words, a few per row."""
    names = registry.names()
    for start in range(0, len(names), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW)
        for column, name in zip(columns, names[start:start + CARDS_PER_ROW]):
            with column.container(border=True, height="stretch"):
                st.markdown(f"**{registry.card(name).title}**")
                _card_text(name)


def pick_table() -> None:
    """'Which should I pick?': each generator's measured quality, privacy and speed, from the benchmark."""
    figures = registry.measured()
    rows = [_pick_row(name, figures[name]) for name in registry.names() if name in figures]
    if not rows:
        st.caption("No benchmark figures ship with this copy of the app; see the cards below.")
        return
    st.dataframe(rows, hide_index=True, column_config={
        "Quality": st.column_config.ProgressColumn(
            "Quality", min_value=0, max_value=100, format="%.1f%%",
            help="How closely its rows match real rows it never saw (median over the benchmark tables)."),
        "Worst table": st.column_config.NumberColumn(format="%.1f%%"),
    })
    tables = max(f.get("datasets", 0) for f in figures.values())
    st.caption(f"Measured on {plural(tables, 'real table')} (5,000 training rows each) on a 2-core laptop-class machine, "
               "scored against rows the generator never saw. Privacy: how well an attacker tells who was in the "
               "data from the synthetic rows (0.50 is pure guessing). Figures: `bench/family.py`, README.")


def _pick_row(name: str, figure: dict) -> dict:
    auc = figure.get("membership_auc_worst")
    privacy = "not measured" if auc is None else (
        f"{auc:.2f}: like guessing" if auc <= GUESSING_AUC else
        f"{auc:.2f}: slightly better than guessing" if auc <= SLIGHT_AUC else f"{auc:.2f}: attacker can often tell")
    return {"Generator": registry.card(name).title, "Quality": 100 * figure["quality_median"],
            "Worst table": 100 * figure["quality_min"], "Privacy (attack, worst table)": privacy,
            "Training time": _duration(seconds) if (seconds := figure["fit_seconds_median"]) >= 1 else "under a second",
            "Good at": registry.card(name).good_at}


def advanced_settings(choice: str, preset: str) -> tuple[dict, float]:
    """The Advanced expander of one generator: (config overrides with the seed, time budget in seconds or 0)."""
    defaults = registry.create(choice, preset).config
    with st.expander("Advanced settings", icon=":material/tune:"):
        suffix = f"{choice}_{preset}"
        neural = hasattr(defaults, "batch_size")
        c1, c2, c3 = st.columns(3)
        epochs = c1.number_input("Epochs", 1, 5000, defaults.epochs, key=f"train_epochs_{suffix}",
                                 disabled=not neural,
                                 help="Passes over the data. Training may stop sooner when quality stops improving.")
        batch = c2.number_input("Batch size", 10, 10_000, getattr(defaults, "batch_size", 500), step=10,
                                key=f"train_batch_{suffix}", disabled=not neural)
        rate = c3.number_input("Learning rate", 1e-6, 1.0, float(getattr(defaults, "learning_rate", 1e-3)),
                               format="%.5f", key=f"train_lr_{suffix}", disabled=not neural)
        budget = c1.number_input("Time budget (seconds, 0 = none)", 0, 86_400, 0, key="train_budget")
        seed = c2.number_input("Seed", 0, 2**31 - 1, 0, key="train_seed", help="Same seed, same result.")
    overrides = {"epochs": int(epochs), "batch_size": int(batch), "learning_rate": float(rate)} if neural else {}
    return {**overrides, "seed": int(seed)}, float(budget)


def _duration(seconds: float | None) -> str:
    return "…" if seconds is None else duration(seconds)


def training_figure(events: list[ProgressEvent]) -> go.Figure:
    """Losses per epoch (left axis) and live quality in % (right axis)."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    epochs = [e for e in events if e.losses]
    keys = list(epochs[0].losses) if epochs else []
    mode = "lines" if len(epochs) > 2 else "lines+markers"  # one epoch is a point: a line alone would not show
    for i, key in enumerate(keys):
        fig.add_trace(go.Scatter(x=[e.epoch for e in epochs], y=[e.losses.get(key) for e in epochs],
                                 name=f"{key} loss", mode=mode,
                                 line=dict(color=LOSS_COLOURS[i % len(LOSS_COLOURS)], width=2)), secondary_y=False)
    scored = [e for e in events if e.fidelity is not None]
    fig.add_trace(go.Scatter(x=[e.epoch for e in scored], y=[100 * e.fidelity for e in scored],
                             name="live quality (%)", mode="lines+markers",
                             line=dict(color=FIDELITY_COLOUR, width=3, dash="dot")), secondary_y=True)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12),
                      xaxis_title="Epoch", hovermode="x unified")
    fig.update_yaxes(title_text="Loss (lower is better)", secondary_y=False)
    if epochs and epochs[-1].epoch <= 10:
        fig.update_xaxes(dtick=1)  # whole epochs only, not 1.2, 1.4, ...
    fig.update_layout(yaxis2=dict(title_text="Quality (%)", range=[0, 100], tickmode="linear", tick0=0, dtick=20,
                                  showgrid=False))
    return fig


def progress_line(job: TrainingJob, events: list[ProgressEvent]) -> None:
    last = next((e for e in reversed(events) if e.losses), None)
    if last is None:
        st.progress(0.0, text="Preparing the data…")
        return
    fraction = min(last.epoch / max(last.epochs, 1), 1.0)
    quality = f" · live quality {100 * last.best_fidelity:.0f}%" if last.best_fidelity is not None else ""
    st.progress(fraction, text=f"Epoch {last.epoch} of {last.epochs} · {_duration(last.elapsed)} elapsed · "
                               f"about {_duration(last.eta)} left{quality}")


@st.fragment(run_every=1.0)
def live_panel() -> None:
    """Redrawn every second while a training runs; hands the result over when it ends."""
    job: TrainingJob | None = state.get(state.TRAIN_JOB)
    if job is None:
        return
    if not job.active:
        st.rerun(scope="app")  # app.py collects the result and the page shows it
    title = registry.card(job.request.generator).title
    if job.state == "queued":
        ahead, busy = jobs.QUEUE.position(job) or 0, jobs.QUEUE.running()
        waiting = f" and {ahead} more waiting before yours" if ahead else ""
        st.info(f"Waiting for a free training slot: this server runs {jobs.QUEUE.limit} at once, {busy} are "
                f"running now{waiting}. Yours starts as soon as a slot frees up.", icon=":material/hourglass_top:")
    else:
        if job.request.generator == "auto":
            st.markdown("**Racing generators…** You can switch to other steps or refresh the page; the race goes "
                        "on. If this tab is closed for a minute, the race stops and keeps the generators that had "
                        "finished.")
        else:
            st.markdown(f"**Training {title}…** You can switch to other steps or refresh the page; training goes "
                        "on. If this tab is closed it pauses after a minute, and you can resume it from the project.")
    events = job.events()
    if job.request.generator == "auto":
        race_progress(job, events)
        return
    if job.resumed:
        first = next((e.epoch for e in reversed(job.events()[:job.resumed_from]) if e.losses), 0)
        st.caption(f":material/resume: Resumed after an interruption; epochs 1 to {first} were done before it.")
    progress_line(job, events)
    st.plotly_chart(training_figure(events), key="train_live_chart")
    held_out_caption(events)


def result_panel(job: TrainingJob) -> None:
    """What happened, with the final chart."""
    title = registry.card(job.request.generator).title
    if job.result is not None and job.result.race:
        race_result(job.result, job.events())
        return
    if job.state == "failed":
        st.error(job.error or "Training failed.", icon=":material/error:")
    elif job.state == "cancelled" and job.result is None:
        st.warning("Training was cancelled before it had learned anything.", icon=":material/stop_circle:")
    else:
        report = job.result.report
        if report.best_held_out is not None:
            kept = ("It ended doing as well as ever on rows it never learned, so it keeps its final state."
                    if report.best_epoch == report.epochs_run else
                    f"It keeps the state of epoch {report.best_epoch}, where it did best on rows it never learned.")
            live = f" Live quality: **{100 * report.best_fidelity:.0f}%**." if report.best_fidelity is not None else ""
            quality = f" {kept}{live}"
        elif report.best_fidelity is not None:
            quality = f" Live quality: **{100 * report.best_fidelity:.0f}%** (best at epoch {report.best_epoch})."
        else:
            quality = ""
        took = _duration(report.seconds) if report.seconds >= 0.5 else "under a second"
        st.success(f"**{title}** trained in {took} over {report.epochs_run} "
                   f"epoch{'s' if report.epochs_run != 1 else ''}.{quality}", icon=":material/check_circle:")
        if report.message and report.stop_reason != "finished":
            st.info(report.message, icon=":material/info:")
    events = job.events()
    if any(e.losses for e in events):
        st.plotly_chart(training_figure(events), key="train_final_chart")
        held_out_caption(events)


def held_out_caption(events: list[ProgressEvent]) -> None:
    """What the held-out line means, for generators that draw one."""
    if any("held-out" in e.losses for e in events):
        st.caption("Held-out loss: how surprised the generator is by real rows it never learned (lower is better; "
                   "for the normalizing flow it is how unlikely it finds those rows). "
                   "If it climbs while the training loss keeps falling, the generator is starting to memorise "
                   "its training rows: training then stops and keeps its best state.")


def interrupted_panel(records: list[TrainingRecord]) -> None:
    """Trainings that stopped before they ended (app restarted, tab closed): resume, start again or dismiss."""
    for record in records:
        title = registry.card(record.request["generator"]).title
        if record.checkpoint is not None and record.epoch:
            where = f" at epoch {record.epoch}" + (f" of {record.epochs}" if record.epochs else "")
            saved = "Its progress was saved, so it can go on from there."
        else:
            where, saved = "", "It had not saved any progress yet, so it can only start again."
        with st.container(border=True):
            st.warning(f"**A training of {title} was interrupted{where}** ({when(record.updated)}). "
                       f"{record.message} {saved}", icon=":material/pause_circle:")
            c1, c2, c3, _ = st.columns([1.2, 1.3, 1, 3])
            if record.checkpoint is not None and record.epoch:
                c1.button("Resume", key=f"train_resume_{record.id}", type="primary", icon=":material/play_arrow:",
                          on_click=training_control.resume, args=(record,))
            c2.button("Start again", key=f"train_restart_{record.id}", icon=":material/restart_alt:",
                      on_click=training_control.start_again, args=(record,))
            c3.button("Dismiss", key=f"train_dismiss_{record.id}", icon=":material/close:",
                      on_click=training_control.dismiss, args=(record,))
