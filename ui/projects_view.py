"""Recent projects on the Data step: reopen or delete what was saved before a refresh or restart."""

from __future__ import annotations

import sqlite3
import time

import streamlit as st

from ui import state
from ui.signin import kept_where


def when(stamp: float) -> str:
    """A moment in plain words: 'just now', '5 min ago', '3 h ago' or a date."""
    minutes = (time.time() - stamp) / 60
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes:.0f} min ago"
    if minutes < 24 * 60:
        return f"{minutes / 60:.0f} h ago"
    return time.strftime("%d %b %Y", time.localtime(stamp))


def _open(project_id: str) -> None:
    try:
        problems = state.open_project(project_id)
    except KeyError:
        state.put(state.NOTICE, "This project could not be opened: it does not exist any more (it may have been "
                                "deleted in another tab) or belongs to someone else.")
        return
    except (OSError, ValueError, sqlite3.Error) as exc:
        state.put(state.NOTICE, f"This project could not be opened ({exc}). It may have been deleted.")
        return
    if problems:
        state.put(state.NOTICE, " ".join(problems))


def _delete(project_id: str) -> None:
    try:
        deleted = state.delete_project(project_id)
    except (OSError, sqlite3.Error) as exc:
        state.put(state.NOTICE, f"This project could not be deleted ({exc}).")
        return
    if not deleted:
        state.put(state.NOTICE, "This project was already deleted (perhaps in another tab).")


def recent_projects(limit: int = 8) -> bool:
    """One row per saved project (other than the open one) with Open and Delete; False when there are none."""
    try:
        saved = state.workspace().recent(limit + 1)
    except (OSError, sqlite3.Error) as exc:
        st.caption(f"Saved projects cannot be read from the project folder ({exc}).")
        return False
    projects = [p for p in saved if p.id != state.get(state.PROJECT)][:limit]
    if not projects:
        return False
    st.markdown("#### :material/history: Recent projects")
    for p in projects:
        c1, c2, c3, c4 = st.columns([4, 4, 1.3, 1.5], vertical_alignment="center")
        c1.markdown(f"**{p.name}**  \n{p.rows:,} rows × {p.columns} columns · changed {when(p.updated)}")
        quality = f", best quality {100 * p.best_quality:.0f}/100" if p.best_quality is not None else ""
        data = "original table kept" if p.data_kept else "original table not kept"
        c2.caption(f"{p.models} trained generator{'s' if p.models != 1 else ''}{quality} · {data}")
        c3.button("Open", key=f"data_open_{p.id}", on_click=_open, args=(p.id,), icon=":material/folder_open:")
        with c4.popover("Delete", icon=":material/delete:"):
            st.write(f"Delete **{p.name}** with its models, scores and exports?")
            st.button("Delete for good", key=f"data_delete_{p.id}", type="primary", on_click=_delete, args=(p.id,))
    return True


def keep_data_choice() -> None:
    """The user's consent to store the original table with the project."""
    def changed() -> None:
        keep, dataset = st.session_state["data_keep"], state.get(state.DATASET)
        state.put(state.KEEP_DATA, keep)
        if dataset is not None:
            state.save(lambda ws, pid: ws.keep_data(pid, dataset) if keep else ws.forget_data(pid))

    st.checkbox(f"Keep a copy of my table on {kept_where()}, so I can reopen the project later",
                value=bool(state.get(state.KEEP_DATA)), key="data_keep", on_change=changed,
                help="Without it, a reopened project has its settings, models and scores but not your rows: you can "
                     "still generate synthetic data, but not evaluate or retrain without loading the table again.")
