"""Pieces inside the generators: the GAN critic's pairing, the VAE's missing-value mask, token round trips."""

import copy

import numpy as np
import pandas as pd
import torch

from models import registry
from models.compute import seeded_generator
from models.nets import Residual, SpanIndex, linear_of_parts
from models.rbm import _RBMNet
from tabular.encoding import TableEncoder
from tabular.representations import NumbersAndTokens, Tokens


def test_gan_critic_sees_each_real_row_with_its_own_condition(mixed):
    model = registry.create("gan", "fast", epochs=1, batch_size=60)
    seen = []
    original_fit = model._fit

    def spy_fit(data, session):
        original_critic_step = model._critic_step

        def critic_step(real_all, batch, opt_d):
            hook = model.critic_net_.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach()))
            try:
                return original_critic_step(real_all, batch, opt_d)
            finally:
                hook.remove()

        model._critic_step = critic_step
        return original_fit(data, session)

    model._fit = spy_fit
    model.fit(mixed.typed(), mixed.schema)
    real_inputs = seen[1::3]  # per critic step: fake, real, then the penalty's mixture
    dim = model.encoder_.output_dim
    sampler = model.sampler_
    assert real_inputs
    for rows in real_inputs:
        data, cond = rows[:, :dim][:, model.spans_.restore], rows[:, dim:]  # back to the encoder's order
        for row, vector in zip(data, cond):
            slot = int(vector.argmax())
            block = int(np.searchsorted(sampler.offsets, slot, side="right") - 1)
            span = sampler.spans[block]
            assert row[span.start + slot - sampler.offsets[block]] == 1.0  # the row has the asked category


def test_gan_draws_rows_from_an_average_of_its_trained_weights(mixed):
    model = registry.create("gan", "fast", epochs=2, batch_size=60)
    model.fit(mixed.typed(), mixed.schema)
    assert model.learner_net_ is None and set(model._networks()) == {"generator", "critic"}  # file: no learner
    model.learner_net_ = copy.deepcopy(model.generator_net_)
    with torch.no_grad():
        for p in model.generator_net_.parameters():
            p.zero_()
        for p in model.learner_net_.parameters():
            p.fill_(1.0)
    model.learner_net_.blocks[0].bn.num_batches_tracked.fill_(7)
    model._follow(step=0)  # the first steps forget fast: 1/10 of the old average is kept
    weight = model.generator_net_.out.weight
    assert torch.allclose(weight, torch.full_like(weight, 0.9))
    assert int(model.generator_net_.blocks[0].bn.num_batches_tracked) == 7  # counters are copied, not averaged
    model._follow(step=10_000)  # later, ``average`` of it (0.99)
    assert torch.allclose(weight, torch.full_like(weight, 0.9 * 0.99 + 0.01))
    model.config.average = 0.0
    model._follow(step=10_000)
    assert torch.equal(weight, torch.ones_like(weight))


def test_a_layer_on_features_in_parts_equals_the_layer_on_them_side_by_side():
    gen = torch.Generator().manual_seed(0)
    parts = [torch.randn(6, width, generator=gen) for width in (4, 3, 5)]
    block = Residual(12, 7).eval()
    with torch.no_grad():
        whole = block(torch.cat(parts, dim=1))
        extended = block.extend(parts)
        torch.testing.assert_close(torch.cat(extended, dim=1), whole)
        layer = torch.nn.Linear(19, 2)
        torch.testing.assert_close(linear_of_parts(extended, layer.weight, layer.bias), layer(whole))
        assert not torch.allclose(linear_of_parts(extended[::-1], layer.weight, layer.bias), layer(whole))


def test_vae_loss_ignores_the_filler_of_missing_numbers(mixed):
    typed = mixed.typed()
    typed.loc[typed.index[::9], "spend"] = np.nan  # a continuous column with gaps
    encoder = TableEncoder().fit(typed, mixed.schema)
    spans = SpanIndex(encoder.spans_, torch.device("cpu"))
    data = spans.grouped(torch.from_numpy(encoder.transform(typed)))
    spend = next(s for s in encoder.spans_ if s.column == "spend" and s.role == "value")
    assert spend.activation == "linear"
    column = int((spans.order == spend.start).nonzero())  # where the networks see it
    missing = torch.from_numpy(typed["spend"].isna().to_numpy())
    other = data.clone()
    other[missing, column] = 5.0  # a different filler where the number is missing
    raw, log_sigma = torch.zeros_like(data), torch.zeros(data.shape[1])
    losses = [spans.reconstruction_loss(raw, x, *spans.targets(x), log_sigma) for x in (data, other)]
    assert torch.isclose(losses[0], losses[1])
    present = data.clone()
    present[~missing, column] += 1.0  # a change where the number is present does count
    assert not torch.isclose(spans.reconstruction_loss(raw, present, *spans.targets(present), log_sigma), losses[0])


def test_tokens_round_trip_keeps_values_and_spreads_ties(mixed):
    typed = mixed.typed()
    encoder = TableEncoder().fit(typed, mixed.schema)
    tokens = Tokens(bins=8)
    table = tokens.encode(encoder, typed, np.random.default_rng(0))
    layout = tokens.layout(encoder)
    assert table.tokens.shape == (len(typed), len(layout.columns))
    assert (table.tokens < np.array(layout.vocab)).all()
    spend = layout.columns.index("spend")
    counts = np.bincount(table.tokens[:, spend], minlength=8)
    assert counts.min() >= 0.8 * len(typed) / 8  # equal-share bins
    back = tokens.decode(encoder, table, np.random.default_rng(1))
    for name in ("plan", "region", "active"):
        pd.testing.assert_series_equal(back[name].reset_index(drop=True), typed[name].reset_index(drop=True),
                                       check_names=False, check_dtype=False)
    assert (back["visits"].isna() == typed["visits"].isna().to_numpy()).all()
    assert np.allclose(back["spend"].to_numpy(), typed["spend"].to_numpy(), atol=0.011)


def test_numbers_and_tokens_round_trip(mixed):
    typed = mixed.typed()
    encoder = TableEncoder().fit(typed, mixed.schema)
    mixed_rep = NumbersAndTokens()
    table = mixed_rep.encode(encoder, typed, np.random.default_rng(0))
    layout = mixed_rep.layout(encoder)
    assert table.numbers.shape[1] == len(layout.numbers) and table.tokens.shape[1] == len(layout.vocab)
    back = mixed_rep.decode(encoder, table, np.random.default_rng(1))
    assert list(back.columns) == list(encoder.codecs_)
    assert np.allclose(back["spend"].to_numpy(), typed["spend"].to_numpy(), atol=0.011)
    assert (back["visits"].isna() == typed["visits"].isna().to_numpy()).all()
    assert back["plan"].tolist() == typed["plan"].tolist()


def test_grouped_layout_round_trips_and_activates_blocks(mixed):
    encoder = TableEncoder().fit(mixed.typed(), mixed.schema)
    spans = SpanIndex(encoder.spans_, torch.device("cpu"))
    data = torch.from_numpy(encoder.transform(mixed.typed()))
    grouped = spans.grouped(data)
    assert torch.equal(grouped[:, spans.restore], data)
    probs = spans.activate(torch.randn(len(data), data.shape[1]))
    for start, count, width in spans.groups:
        block = probs[:, start: start + count * width].reshape(len(data), count, width)
        assert torch.allclose(block.sum(dim=2), torch.ones(len(data), count))
    drawn = spans.draw(grouped * 20.0, None, torch.Generator().manual_seed(0))  # sharp logits: the data's own slots
    slots = [p for s in spans.blocks for p in range(s.start, s.stop)]
    assert np.array_equal(drawn[:, slots], data.numpy()[:, slots])
    numbers = [s.start for s in encoder.spans_ if s.activation == "linear"]
    assert numbers and np.allclose(drawn[:, numbers], 20.0 * data.numpy()[:, numbers])  # back in their places


def test_one_cycle_schedule_works_for_any_number_of_steps():
    from models.minibatch import one_cycle

    for total in range(1, 60):  # 20 steps once failed: a one-step warm-up divides by zero in PyTorch
        weight = torch.nn.Parameter(torch.zeros(1))
        optim = torch.optim.AdamW([weight], lr=1e-3)
        schedule = one_cycle(optim, 1e-3, total)
        rates = []
        for _ in range(total):
            rates.append(optim.param_groups[0]["lr"])
            optim.step()
            if schedule.last_epoch + 1 < schedule.total_steps:
                schedule.step()
        assert max(rates) <= 1e-3 + 1e-12
        if total >= 3:
            assert max(rates) > 0.9e-3 and rates[-1] < 1e-4  # warms up to the top, then anneals


def test_flow_gives_an_exact_density_that_inverts_and_learns(mixed):
    events = []
    model = registry.create("flow", "fast", epochs=12, batch_size=60, hidden=32, transforms=2)
    typed = mixed.typed()
    model.fit(typed.iloc[60:], mixed.schema, on_progress=events.append, validation=typed.head(60))
    numbers, tokens = model._tensors(model._encode(mixed.typed()))
    with torch.no_grad():
        values = model.values(numbers, tokens, torch.Generator().manual_seed(0))
        noise = model.values_to_noise(values)
        back = model.noise_to_values(noise)  # the sampler's own inverse, not zuko's
    assert torch.allclose(back, values, atol=1e-3)  # forward then inverse gives the rows back
    count = len(model.layout_.numbers)
    assert torch.equal(model.dequantiser_.tokens(back[:, count:]), tokens)  # every category read back as it was
    for row in values[:3]:  # log-density = base density of the noise + log |det Jacobian| of the forward map
        jacobian = torch.autograd.functional.jacobian(lambda v: model.values_to_noise(v.unsqueeze(0))[0], row)
        z = model.values_to_noise(row.unsqueeze(0))[0]
        expected = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum() + torch.linalg.slogdet(jacobian)[1]
        assert torch.isclose(model.log_likelihood(row.unsqueeze(0))[0], expected, atol=1e-3)
    held_out = [e.losses["held-out"] for e in events if "held-out" in e.losses]
    assert len(held_out) == 12 and min(held_out[-3:]) < held_out[0] - 0.3  # it learned rows it never saw


def test_rbm_gibbs_draws_one_token_per_column_from_its_own_softmax_group():
    vocab, cpu = (3, 2, 5, 3), torch.device("cpu")
    net = _RBMNet(vocab, hidden=4, chains=1, device=cpu)
    with torch.no_grad():
        net.weight.normal_(std=1.0, generator=seeded_generator(0, cpu))
        net.visible_bias.copy_(torch.linspace(-1.0, 1.0, sum(vocab)))
    hidden = torch.tensor([[1.0, 0.0, 1.0, 0.0]]).expand(40_000, -1)
    tokens = net.draw_tokens(net.visible_logits(hidden), seeded_generator(1, cpu))
    assert tokens.shape == (40_000, len(vocab)) and ((tokens >= 0) & (tokens < torch.tensor(vocab))).all()
    logits, start = net.visible_logits(hidden[:1])[0].detach(), 0
    for column, size in enumerate(vocab):  # each column follows the softmax of its own units only
        expected = torch.softmax(logits[start:start + size], dim=0)
        seen = torch.bincount(tokens[:, column], minlength=size).float() / len(tokens)
        assert torch.allclose(seen, expected, atol=0.015), (column, seen, expected)
        start += size


def test_untrained_rbm_already_draws_the_column_shares(mixed):
    model = registry.create("rbm", "fast", epochs=1, learning_rate=0.0, burn_in=50)
    model.fit(mixed.typed(), mixed.schema)  # no learning: the starting biases alone
    real = model._encode(mixed.typed()).tokens
    drawn = model._sample(8000, seeded_generator(3, torch.device("cpu"))).tokens
    for column, size in enumerate(model.representation.layout(model.encoder_).vocab):
        real_shares = np.bincount(real[:, column], minlength=size) / len(real)
        drawn_shares = np.bincount(drawn[:, column], minlength=size) / len(drawn)
        assert np.abs(real_shares - drawn_shares).max() < 0.04, (column, real_shares, drawn_shares)


def test_rbm_saved_before_the_pool_still_loads(mixed):
    import io

    from models.base import Generator

    model = registry.create("rbm", "fast", epochs=2, burn_in=5).fit(mixed.typed(), mixed.schema)
    checkpoint = torch.load(io.BytesIO(model.to_bytes()), weights_only=True)
    for net in ("rbm", "average"):
        del checkpoint["networks"][net]["pool"]  # how files stored an RBM before drawn rows started from a pool
    checkpoint["config"].pop("pool_epochs")
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    old = Generator.load(buffer.getvalue())
    chains = checkpoint["networks"]["rbm"]["chains"]
    assert torch.equal(old.net_.pool[:len(chains)], chains) and len(old.sample(50, seed=1)) == 50
