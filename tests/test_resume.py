"""Checkpoints taken during a fit resume it exactly: same weights, same rows, as if it had never stopped."""

import io

import pytest
import torch

from models import registry
from models.training import TrainingOptions, TrainingStopped

# copula and bayesnet fit in seconds; an automatic pick starts its race again (see models.auto)
RESUMABLE = [name for name in registry.names() if name not in ("copula", "bayesnet", "auto")]


def _round_trip(state: dict) -> dict:
    """Through bytes, as a checkpoint file is written and read back (tensors and plain data only)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)


@pytest.mark.parametrize("name", RESUMABLE)
def test_resumed_fit_equals_uninterrupted(mixed, name):
    table, validation = mixed.typed().iloc[:200], mixed.typed().iloc[200:]
    options = TrainingOptions(checkpoint_every=0.0, eval_every=2)
    states: list[dict] = []
    whole = registry.create(name, "fast", epochs=5, batch_size=50)
    whole.fit(table, mixed.schema, validation=validation, options=options, seed=4, checkpoint=states.append)
    assert [s["epoch"] for s in states] == [1, 2, 3, 4]  # none after the last epoch: the model is done then

    resumed = registry.create(name, "fast", epochs=5, batch_size=50)
    events = []
    resumed.fit(table, mixed.schema, validation=validation, options=options, seed=4,
                resume=_round_trip(states[1]), on_progress=events.append)
    assert [e.epoch for e in events if e.losses] == [3, 4, 5]  # only the epochs still to run
    assert resumed.report_.epochs_run == whole.report_.epochs_run == 5
    kept = states[1]["report"]["history"]  # the live quality measured before the checkpoint is kept
    assert resumed.report_.history[:len(kept)] == whole.report_.history[:len(kept)] == kept
    assert resumed.sample(50, seed=1).equals(whole.sample(50, seed=1))


def test_a_checkpoint_missing_a_network_says_so_in_plain_words(mixed):
    table = mixed.typed()
    options = TrainingOptions(checkpoint_every=0.0)
    states: list[dict] = []
    registry.create("gan", "fast", epochs=2, batch_size=60).fit(table, mixed.schema, options=options,
                                                                   checkpoint=states.append)
    old = _round_trip(states[0])
    del old["networks"]["learner"]  # as a GAN paused before it trained a separate learner wrote it
    with pytest.raises(TrainingStopped, match="earlier version"):
        registry.create("gan", "fast", epochs=2, batch_size=60).fit(table, mixed.schema, options=options,
                                                                       resume=old)


def test_no_checkpoint_without_a_sink_or_for_one_step_fits(mixed):
    states: list[dict] = []
    registry.create("copula").fit(mixed.typed(), mixed.schema, checkpoint=states.append,
                                  options=TrainingOptions(checkpoint_every=0.0))
    assert states == []


class _Store:
    """Records what a job tells its store; ``checkpointed`` is set once a checkpoint arrives."""

    def __init__(self):
        import threading

        self.calls, self.states, self.checkpointed = [], [], threading.Event()

    def started(self, job):
        self.calls.append("started")

    def checkpoint(self, job, state):
        self.states.append({"format": 1, "session": _round_trip(state),
                            "events": [vars(e).copy() for e in job.events()]})
        self.checkpointed.set()

    def finished(self, job, outcome):
        self.calls.append(outcome)


def test_job_paused_when_its_owner_leaves_resumes_to_the_end(mixed, monkeypatch):
    from models import jobs
    from models.jobs import TrainingJob, TrainingRequest, split_rows

    monkeypatch.setattr(jobs, "CHECKPOINT_EVERY", 0.0)
    request = TrainingRequest("vae", "fast", {"epochs": 100_000, "batch_size": 50})
    alive, store = {"value": True}, _Store()
    job = TrainingJob(request, split_rows(mixed), mixed.schema, owner_alive=lambda: alive["value"], store=store)
    worker = __import__("threading").Thread(target=job.run)
    worker.start()
    assert store.checkpointed.wait(60)
    alive["value"] = False
    job.check_owner(now=1.0)
    job.check_owner(now=1.0 + jobs.ABANDON_AFTER)
    worker.join(60)
    assert job.state == "paused" and job.result is None and store.calls == ["started", "paused"]
    last = store.states[-1]
    done_before = last["session"]["epoch"]
    assert 1 <= done_before < 100_000 and len(last["events"]) >= done_before

    again = TrainingJob(request, split_rows(mixed), mixed.schema, store=_Store(), resume=last, job_id=job.job_id)
    assert again.resumed and [e.epoch for e in again.events()][:done_before] == list(range(1, done_before + 1))
    again.request = TrainingRequest("vae", "fast", {"epochs": done_before + 3, "batch_size": 50})  # finish soon
    again.run()
    assert again.state == "done" and again.result.report.epochs_run == done_before + 3
    assert [e.epoch for e in again.events() if e.losses][done_before:] == [done_before + 1, done_before + 2,
                                                                          done_before + 3]
