"""Checkpoints taken during a fit resume it exactly: same weights, same rows, as if it had never stopped."""

import io

import pytest
import torch

from models import registry
from models.training import TrainingOptions

RESUMABLE = [name for name in registry.names() if name != "copula"]  # the copula fits in one step


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
    assert resumed.report_.history == whole.report_.history  # the live quality of the first run is kept
    assert resumed.sample(50, seed=1).equals(whole.sample(50, seed=1))


def test_no_checkpoint_without_a_sink_or_for_one_step_fits(mixed):
    states: list[dict] = []
    registry.create("copula").fit(mixed.typed(), mixed.schema, checkpoint=states.append,
                                  options=TrainingOptions(checkpoint_every=0.0))
    assert states == []
