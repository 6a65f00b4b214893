"""Background tasks: at most N run at once, the rest say they wait, and each runs on its share of threads."""

import threading

import torch
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

from ui.tasks import BackgroundTask, Slots

TIMEOUT = 60


class _Gated:
    """A task body that holds until the gate opens, counting how many bodies run at once."""

    def __init__(self) -> None:
        self.gate, self.changed = threading.Event(), threading.Condition()
        self.started = self.now = self.peak = 0

    def __call__(self, progress):
        with self.changed:
            self.started, self.now = self.started + 1, self.now + 1
            self.peak = max(self.peak, self.now)
            self.changed.notify_all()
        progress(0.5, "working")
        assert self.gate.wait(TIMEOUT)
        with self.changed:
            self.now -= 1
        return "ok"


def test_at_most_two_of_three_tasks_run_and_the_third_says_it_waits():
    slots, body = Slots(2), _Gated()
    tasks = [BackgroundTask(f"Evaluation {i}", body, slots=slots) for i in range(3)]  # submitted at once
    try:
        assert slots.wait_until(lambda s: s.running == 2 and s.waiting == 1, TIMEOUT)
        waiting = [t for t in tasks if t.state == "waiting"]
        assert len(waiting) == 1 and waiting[0].active and waiting[0].fraction == 0.0
        assert waiting[0].text.startswith("Waiting for a free slot: 2 evaluation or export jobs already running")
        with body.changed:
            assert body.changed.wait_for(lambda: body.started == 2, TIMEOUT)
        assert waiting[0].state == "waiting"  # two bodies run, the third has not started
    finally:
        body.gate.set()
    assert all(t.finished.wait(TIMEOUT) for t in tasks)
    assert [t.state for t in tasks] == ["done"] * 3 and [t.result for t in tasks] == ["ok"] * 3
    assert body.peak == 2 and body.started == 3 and slots.running == 0


def test_a_failing_task_frees_its_slot():
    slots = Slots(1)

    def fail(progress):
        raise ValueError("broken")

    first = BackgroundTask("Generation", fail, slots=slots)
    second = BackgroundTask("Generation", lambda progress: "ok", slots=slots)
    assert first.finished.wait(TIMEOUT) and second.finished.wait(TIMEOUT)
    assert first.state == "failed" and "broken" in first.error and second.result == "ok"


def test_task_threads_are_limited_in_the_worker_only():
    main_before = (_openmp_effective_n_threads(), torch.get_num_threads())
    task = BackgroundTask("Evaluation", lambda progress: (_openmp_effective_n_threads(), torch.get_num_threads()),
                          slots=Slots(1), threads=1)
    assert task.finished.wait(TIMEOUT) and task.state == "done"
    assert task.result == (1, 1)  # scikit-learn's OpenMP and PyTorch's, in the worker
    assert (_openmp_effective_n_threads(), torch.get_num_threads()) == main_before  # not process-wide
