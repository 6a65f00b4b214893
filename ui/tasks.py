"""Work that takes seconds (scoring, generating rows) runs in a worker thread; a fragment shows its progress."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from models.base import ModelError
from models.compute import TRAINING_SLOTS, training_threads, worker_thread_limit
from tabular.conditions import ConditionError

Progress = Callable[[float, str], None]  # (fraction done 0..1, what is happening now)
TASK_SLOTS = max(1, int(os.environ.get("SDS_MAX_TASKS", str(TRAINING_SLOTS))))  # evaluations/exports at once


class Slots:
    """At most ``size`` tasks run at once; the others wait until one ends."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.running = 0
        self.waiting = 0
        self._changed = threading.Condition()

    def acquire(self, on_wait: Callable[[int], None]) -> None:
        """Take a slot, first calling ``on_wait(tasks running)`` if none is free and waiting for one."""
        with self._changed:
            if self.running >= self.size:
                self.waiting += 1
                on_wait(self.running)
                self._changed.notify_all()
                self._changed.wait_for(lambda: self.running < self.size)
                self.waiting -= 1
            self.running += 1
            self._changed.notify_all()

    def release(self) -> None:
        with self._changed:
            self.running -= 1
            self._changed.notify_all()

    def wait_until(self, condition: Callable[[Slots], bool], timeout: float) -> bool:
        """Block until ``condition(self)`` holds (True) or the timeout passes (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: condition(self), timeout)


SLOTS = Slots(TASK_SLOTS)  # shared by every session of this server


class BackgroundTask:
    """Runs ``work(progress)`` in a daemon thread once a slot is free. The worker never calls ``st.*``.

    Args:
        label: what the task does, for messages ("Evaluation").
        work: the body; it reports progress through the function it is given.
        owner: what the task is for (e.g. a model id).
        slots: the slots it waits for (default: the server's, ``SDS_MAX_TASKS``, as many as trainings).
        threads: OpenMP threads of the worker (default: a training's share, cores // ``SDS_MAX_TRAININGS``).
    """

    def __init__(self, label: str, work: Callable[[Progress], Any], owner: str | None = None,
                 slots: Slots | None = None, threads: int | None = None) -> None:
        self.label, self.owner = label, owner
        self._work, self._slots = work, slots or SLOTS
        self._threads = threads or training_threads()
        self.fraction, self.text = 0.0, "Starting…"
        self.state = "running"  # waiting (for a slot), running, done, failed
        self.result: Any = None
        self.error: str | None = None
        self.started = time.time()
        self.handled = False  # set by the page once it has stored the result (so it does so only once)
        self.finished = threading.Event()
        threading.Thread(target=self._run, daemon=True, name=f"task-{label}").start()

    def _progress(self, fraction: float, text: str) -> None:
        self.fraction, self.text = min(max(fraction, 0.0), 1.0), text

    def _wait(self, running: int) -> None:
        self.state = "waiting"
        self.text = (f"Waiting for a free slot: {running} evaluation or export job{'s' if running != 1 else ''} "
                     f"already running on this server (at most {self._slots.size} at once)")

    def _run(self) -> None:
        self._slots.acquire(self._wait)
        try:
            self.state, self.text, self.started = "running", "Starting…", time.time()
            with worker_thread_limit(self._threads):
                self.result = self._work(self._progress)
            self.state = "done"
        except (ModelError, ConditionError) as exc:  # said for the user already
            self.error, self.state = str(exc), "failed"
        except Exception as exc:  # shown in plain words instead of killing the thread silently
            self.error, self.state = f"{self.label} failed unexpectedly ({type(exc).__name__}: {exc}).", "failed"
        finally:
            self._slots.release()
            self.finished.set()

    @property
    def active(self) -> bool:
        return self.state in ("waiting", "running")


@st.fragment(run_every=0.5)
def progress_panel(task: BackgroundTask) -> None:
    """Redrawn twice a second while the task runs; reruns the page once it ends."""
    if not task.active:
        st.rerun(scope="app")
    elapsed = time.time() - task.started
    st.progress(task.fraction, text=f"{task.text} · {elapsed:.0f} s")
