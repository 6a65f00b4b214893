"""The training engine: early stopping keeps the best, budget and NaN stop cleanly, the queue caps runs."""

import math
import threading

import pytest

from models import registry
from models.jobs import TrainingJob, TrainingQueue, TrainingRequest, split_rows
from models.training import ProgressEvent, TrainingOptions, TrainingSession, TrainingStopped
from models.vae import TabularVAE


def test_early_stopping_restores_best(mixed):
    data = mixed.typed()
    model = registry.create("vae", "fast", epochs=40, batch_size=60)
    # no later score can beat the first by 0.5; stopping is allowed from epoch 4 (10% of 40)
    options = TrainingOptions(eval_every=1, patience=2, min_delta=0.5, min_share=0.1)
    model.fit(data, mixed.schema, validation=data.head(80), options=options)
    report = model.report_
    assert report.stop_reason == "early_stop" and report.epochs_run == 4 and report.best_epoch == 1
    assert len(report.history) == 4


@pytest.mark.parametrize("caller, own, stops_after", [(2, 4, 5), (6, 4, 7)])
def test_gan_waits_its_own_patience(mixed, caller, own, stops_after):
    """A GAN's live quality swings, so it waits its own number of checks for a gain, or the caller's if more."""
    data = mixed.typed()
    model = registry.create("gan", "fast", epochs=40, batch_size=60, patience=own)
    options = TrainingOptions(eval_every=1, patience=caller, min_delta=0.5, min_share=0.1)
    model.fit(data, mixed.schema, validation=data.head(80), options=options)
    report = model.report_
    assert report.stop_reason == "early_stop" and report.best_epoch == 1 and report.epochs_run == stops_after


def test_time_budget_stops_and_keeps_model(mixed):
    model = registry.create("gan", "fast", epochs=100_000, batch_size=60)
    model.fit(mixed.typed(), mixed.schema, options=TrainingOptions(budget_seconds=1.0))
    assert model.report_.stop_reason == "budget" and model.report_.seconds < 10
    assert len(model.sample(20)) == 20


class _Exploding(TabularVAE):
    """A VAE whose loss turns NaN at a chosen epoch."""

    blow_up_at = 3

    def _epoch(self, *args):
        losses = super()._epoch(*args)
        self.epochs_seen = getattr(self, "epochs_seen", 0) + 1
        if self.epochs_seen == 2:
            self.good = {k: v.clone() for k, v in self.decoder_net_.state_dict().items()}
        if self.epochs_seen >= self.blow_up_at:
            for p in self.decoder_net_.parameters():
                p.data.fill_(math.nan)
            losses["reconstruction"] = math.nan
        return losses


def test_nan_loss_stops_with_last_good_state(mixed):
    model = _Exploding(epochs=20, batch_size=60)
    events = []
    model.fit(mixed.typed(), mixed.schema, on_progress=events.append)
    assert model.report_.stop_reason == "unstable" and "unstable" in model.report_.message
    restored = model.decoder_net_.state_dict()
    assert all((restored[k] == v).all() for k, v in model.good.items())
    assert model.sample(20)["plan"].notna().all()
    assert "unstable" in events[-1].message


def test_nan_in_first_epoch_is_a_plain_error(mixed):
    model = _Exploding(epochs=20, batch_size=60)
    model.blow_up_at = 1
    with pytest.raises(TrainingStopped, match="lower learning rate"):
        model.fit(mixed.typed(), mixed.schema)


def test_queue_runs_one_at_a_time_and_cancel_frees_the_slot(mixed):
    queue = TrainingQueue(limit=1)
    started = threading.Event()

    def request():
        return TrainingRequest("vae", "fast", {"epochs": 100_000, "batch_size": 60})

    first = TrainingJob(request(), split_rows(mixed), mixed.schema)
    first._record = lambda event: started.set()
    second = TrainingJob(TrainingRequest("copula"), split_rows(mixed), mixed.schema)
    queue.submit(first)
    assert started.wait(30)
    queue.submit(second)
    assert first.state == "running" and second.state == "queued" and queue.position(second) == 0
    first.cancel()
    assert second.finished.wait(60)
    assert first.state == "cancelled" and second.state == "done" and second.result is not None


def test_failed_job_reports_plain_error(mixed):
    rows = split_rows(mixed)
    rows.fit = rows.fit.head(3)
    job = TrainingJob(TrainingRequest("copula"), rows, mixed.schema)
    job.run()
    assert job.state == "failed" and "at least 10 rows" in job.error


def test_abandoned_job_is_paused(mixed, monkeypatch):
    from models import jobs

    alive = {"value": True}
    job = TrainingJob(TrainingRequest("vae", "fast", {"epochs": 10}), split_rows(mixed), mixed.schema,
                      owner_alive=lambda: alive["value"])
    job.check_owner(now=100.0)
    assert not job.control.cancelled
    alive["value"] = False
    job.check_owner(now=200.0)  # gone, but not for long yet
    assert not job.control.cancelled
    job.check_owner(now=200.0 + jobs.ABANDON_AFTER)
    assert job.control.cancelled and job.paused  # stopped to free the slot, resumable from its checkpoint


class _Stub:
    """Just enough of a generator for a TrainingSession: one network whose weight records the epoch."""

    def __init__(self):
        import torch

        self.net = torch.nn.Linear(1, 1)

    def _networks(self):
        return {"net": self.net}


def _run_session(losses, **options):
    import torch

    stub = _Stub()
    session = TrainingSession(stub, len(losses), None, None, None, TrainingOptions(**options))
    for epoch, loss in enumerate(losses, start=1):
        with torch.no_grad():
            stub.net.weight.fill_(epoch)
        if not session.epoch_end(epoch, {"training": 1.0}, held_out=loss):
            break
    report = session.finish()
    return report, int(stub.net.weight.item())


def test_held_out_loss_rising_stops_and_restores_the_best():
    losses = [10, 9, 8, 7.5] + [8.0 + 0.1 * i for i in range(20)]  # memorising from epoch 5 on
    report, kept = _run_session(losses, loss_patience=3, loss_tolerance=0.01)
    assert report.stop_reason == "early_stop" and "memorise" in report.message
    assert kept == 4 and report.best_epoch == 4 and report.epochs_run == 7


def test_noisy_flat_held_out_loss_keeps_the_settled_last_weights():
    losses = [10, 9, 8, 7.50, 7.55, 7.52, 7.56, 7.53]  # within 1% of the best: noise, not memorising
    report, kept = _run_session(losses, loss_patience=3, loss_tolerance=0.01)
    assert report.stop_reason == "finished" and kept == 8 and report.best_epoch == 8


def test_chart_shows_the_first_epoch_and_the_held_out_line():
    from ui.training_view import training_figure

    first = [ProgressEvent(1, 40, 10, {"training": 2.0, "held-out": 2.1}, 0.5, 20.0)]
    fig = training_figure(first)
    names = [trace.name for trace in fig.data]
    assert names[:2] == ["training loss", "held-out loss"]
    assert all("markers" in trace.mode for trace in fig.data[:2])  # a single point is drawn, not an empty chart
    later = first + [ProgressEvent(e, 40, 10 * e, {"training": 1.0, "held-out": 1.2}, e, 20.0) for e in (2, 3)]
    assert training_figure(later).data[0].mode == "lines"
