"""Work that takes seconds (scoring, generating rows) runs in a worker thread; a fragment shows its progress."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from models.base import ModelError

Progress = Callable[[float, str], None]  # (fraction done 0..1, what is happening now)


class BackgroundTask:
    """Runs ``work(progress)`` in a daemon thread. The worker never calls ``st.*``; pages poll this object."""

    def __init__(self, label: str, work: Callable[[Progress], Any], owner: str | None = None) -> None:
        self.label, self.owner = label, owner  # owner: what the task is for (e.g. a model id)
        self._work = work
        self.fraction, self.text = 0.0, "Starting…"
        self.state = "running"  # running, done, failed
        self.result: Any = None
        self.error: str | None = None
        self.started = time.time()
        self.handled = False  # set by the page once it has stored the result (so it does so only once)
        self.finished = threading.Event()
        threading.Thread(target=self._run, daemon=True, name=f"task-{label}").start()

    def _progress(self, fraction: float, text: str) -> None:
        self.fraction, self.text = min(max(fraction, 0.0), 1.0), text

    def _run(self) -> None:
        try:
            self.result = self._work(self._progress)
            self.state = "done"
        except ModelError as exc:
            self.error, self.state = str(exc), "failed"
        except Exception as exc:  # shown in plain words instead of killing the thread silently
            self.error, self.state = f"{self.label} failed unexpectedly ({type(exc).__name__}: {exc}).", "failed"
        finally:
            self.finished.set()

    @property
    def active(self) -> bool:
        return self.state == "running"


@st.fragment(run_every=0.5)
def progress_panel(task: BackgroundTask) -> None:
    """Redrawn twice a second while the task runs; reruns the page once it ends."""
    if not task.active:
        st.rerun(scope="app")
    elapsed = time.time() - task.started
    st.progress(task.fraction, text=f"{task.text} · {elapsed:.0f} s")
