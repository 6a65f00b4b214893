"""Conditional tabular GAN (CTGAN class): conditional vector with training-by-sampling, PacGAN, WGAN-GP."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.base import Generator
from models.compute import autocast, uniform
from models.nets import MLP, Residual, SpanIndex, follow, linear_of_parts
from models.private_training import PrivateTrainer, private_trainer
from models.training import TrainingOptions, TrainingSession
from tabular.encoding import Span, TableEncoder

if TYPE_CHECKING:
    from models.conditional import Evidence

DRAW_PIECE = 8192  # rows per network pass when drawing: its layers' outputs stay in the CPU's cache (400,000 rows
# on 2 cores: 0.54 s in pieces of 8,192 against 1.6 s in pieces of 50,000)


@dataclass
class GANConfig:
    """Settings of the conditional GAN."""

    epochs: int = 150  # passes over the data (early stopping may end sooner)
    batch_size: int = 500  # rows per step; must be a multiple of ``pac``
    learning_rate: float = 2e-4  # Adam step size of the generator and the critic (CTGAN's default)
    weight_decay: float = 1e-6  # L2 penalty on the generator's weights
    noise_dim: int = 128  # size of the random input of the generator
    hidden: int = 256  # width of the generator's residual blocks and the critic's layers
    pac: int = 10  # rows judged together by the critic (PacGAN), against mode collapse
    gradient_penalty: float = 10.0  # weight of the WGAN-GP penalty
    keep_share: float = 0.15  # asked categories whose shares in the training data multiply to at least this are
    # drawn freely and kept (the model's own conditional, truer than the condition vector, at about 1/share
    # network passes per row; telco's churners at 0.26: 2.3x the time of free rows, insurance's 0.20: 2.4x, a
    # 0.165 category 2.4-4x); rarer ones are asked of the generator by its condition vector (fast, but the other
    # columns follow the category only loosely)
    patience: int = 10  # live-quality checks in a row without a gain before stopping early (5 for other models):
    # the last weights' checks swung by a few points while still improving (telco: stopped at epoch 90, then rose
    # 0.866 -> 0.892 by 140); the average below swings less, and small gains still come late (insurance: best at
    # epoch 50 of 100); never fewer than the caller's own ``TrainingOptions.patience``
    average: float = 0.99  # rows come from a moving average of the trained generator's weights, keeping this
    # much of the average per step (0: the last weights): a GAN's weights circle around a good point and their
    # average sits nearer it (telco column shapes 0.906 -> 0.966, and a live-quality line without swings)
    seed: int = 0  # makes fit and sampling reproducible
    threads: int | None = None  # CPU threads while fitting (None: this training's share of the cores)


class ConditionSampler:
    """Training-by-sampling, vectorised: pick a discrete column, a category by log-frequency, a real row."""

    def __init__(self, data: np.ndarray, spans: list[Span], rng: np.random.Generator) -> None:
        self._layout(spans)
        self.rng = rng
        self.n_rows = len(data)
        if not self.spans:
            return
        widest = max(s.width for s in self.spans)
        self.log_probs = np.zeros((len(self.spans), widest))
        self.probs = np.zeros((len(self.spans), widest))
        self.starts = np.zeros((len(self.spans), widest), dtype=np.int64)
        self.counts = np.zeros((len(self.spans), widest), dtype=np.int64)
        orders = []
        for j, span in enumerate(self.spans):
            codes = data[:, span.start: span.stop].argmax(axis=1)
            counts = np.bincount(codes, minlength=span.width)
            self.counts[j, : span.width] = counts
            self.starts[j, : span.width] = len(data) * j + np.concatenate([[0], np.cumsum(counts)[:-1]])
            self.log_probs[j, : span.width] = np.log1p(counts) / np.log1p(counts).sum()
            self.probs[j, : span.width] = counts / counts.sum()
            orders.append(np.argsort(codes, kind="stable"))
        self.order = np.concatenate(orders)

    def _layout(self, spans: list[Span]) -> None:
        """The conditioned blocks (categories, not missing flags) and where each sits in the vector."""
        self.spans = [s for s in spans if s.activation == "softmax" and s.role == "value"]
        self.width = sum(s.width for s in self.spans)
        self.offsets = np.cumsum([0] + [s.width for s in self.spans])[:-1]

    def _pick(self, table: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        cols = rng.integers(0, len(self.spans), n)
        cum = np.cumsum(table[cols], axis=1)
        cats = (rng.random((n, 1)) > cum).sum(axis=1)
        cats = np.minimum(cats, np.array([self.spans[c].width - 1 for c in cols], dtype=np.int64))  # ints for 0 rows
        return cols, cats

    def _vector(self, cols: np.ndarray, cats: np.ndarray) -> np.ndarray:
        cond = np.zeros((len(cols), self.width), dtype=np.float32)
        cond[np.arange(len(cols)), self.offsets[cols] + cats] = 1.0
        return cond

    def for_training(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Condition vectors, chosen columns and categories, and real rows matching them."""
        cols, cats = self._pick(self.log_probs, n, self.rng)
        pos = self.starts[cols, cats] + (self.rng.random(n) * self.counts[cols, cats]).astype(np.int64)
        return self._vector(cols, cats), cols, cats, self.order[pos]

    def for_sampling(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Condition vectors drawn with the data's own category frequencies."""
        if not self.spans:
            return np.zeros((n, 0), dtype=np.float32)
        return self._vector(*self._pick(self.probs, n, rng))


class SharedConditions(ConditionSampler):
    """Conditions for the generator under differential privacy: category shares from the encoder's private
    statistics (never counted from the rows), with CTGAN's log-frequency rebalancing."""

    def __init__(self, spans: list[Span], encoder: TableEncoder, rows: int, rng: np.random.Generator) -> None:
        self._layout(spans)
        self.rng, self.n_rows = rng, rows
        widest = max((s.width for s in self.spans), default=0)
        self.probs = np.zeros((len(self.spans), widest))
        self.log_probs = np.zeros((len(self.spans), widest))
        for j, span in enumerate(self.spans):
            shares = np.clip(np.asarray(encoder.codecs_[span.column].probs, dtype=np.float64), 0.0, None)
            shares = shares / shares.sum() if shares.sum() > 0 else np.full(span.width, 1.0 / span.width)
            self.probs[j, : span.width] = shares
            self.log_probs[j, : span.width] = np.log1p(shares * rows) / np.log1p(shares * rows).sum()

    def for_training(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, None]:
        """Condition vectors, chosen columns and categories for the generator (no real rows)."""
        cols, cats = self._pick(self.log_probs, n, self.rng)
        return self._vector(cols, cats), cols, cats, None

    def own(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Condition vectors of real rows: one conditioned column each, at random, set to the row's category.

        Args:
            codes: the rows' category slots, [rows, conditioned columns].
            rng: the fit's generator.
        """
        if not self.spans:
            return np.zeros((len(codes), 0), dtype=np.float32)
        cols = rng.integers(0, len(self.spans), len(codes))
        return self._vector(cols, codes[np.arange(len(codes)), cols])


class _Generator(nn.Module):
    def __init__(self, noise: int, cond: int, hidden: int, dim: int) -> None:
        super().__init__()
        start = noise + cond
        self.blocks = nn.Sequential(Residual(start, hidden), Residual(start + hidden, hidden))
        self.out = nn.Linear(start + 2 * hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(x))

    def features(self, noise: torch.Tensor, cond: torch.Tensor) -> list[torch.Tensor]:
        """What ``out`` reads, left in parts (newest block's first) rather than copied side by side."""
        parts = [noise, cond] if cond.shape[1] else [noise]
        for block in self.blocks:
            parts = block.extend(parts)
        return parts


class _Critic(nn.Module):
    def __init__(self, dim: int, hidden: int, pac: int) -> None:
        super().__init__()
        self.pac = pac
        self.net = MLP([dim * pac, hidden, hidden, 1], dropout=0.5, slope=0.2)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None,
                masks: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x.reshape(-1, x.shape[1] * self.pac), generator, masks)


class ConditionalGAN(Generator):
    """A generator that learns to fool a critic, conditioned on one category at a time."""

    name = "gan"
    Config = GANConfig
    supports_dp = True
    native_conditions = "keeps rows that draw the category, or asks for a rare one (condition vector)"

    def _build(self, extra: dict) -> None:
        cfg, dim, cond = self.config, int(extra["dim"]), int(extra["cond"])
        self.pac_ = int(extra.get("pac", cfg.pac))  # 1 under differential privacy: one row per critic input
        self.generator_net_ = _Generator(cfg.noise_dim, cond, cfg.hidden, dim).to(self.device_)  # draws rows
        self.learner_net_: _Generator | None = None  # the generator being trained, only during a fit
        self.critic_net_ = _Critic(dim + cond, cfg.hidden, self.pac_).to(self.device_)
        self.spans_ = SpanIndex(self.encoder_.spans_, self.device_)
        self.condition_probs_ = extra.get("probs")
        conditioned = _LoadedConditions(self.encoder_.spans_, None).spans
        self.block_index_ = np.array([self.spans_.block_of(s) for s in conditioned], dtype=np.int64)

    def _options(self, options: TrainingOptions) -> TrainingOptions:
        return dataclasses.replace(options, patience=max(options.patience, self.config.patience))

    def _extra_state(self) -> dict:
        return {"dim": self.encoder_.output_dim, "cond": self.sampler_.width, "pac": self.pac_,
                "probs": torch.tensor(self.sampler_.probs if self.sampler_.spans else np.zeros((0, 0)))}

    def _networks(self) -> dict[str, nn.Module]:
        nets = {"generator": self.generator_net_, "critic": self.critic_net_}
        return nets if self.learner_net_ is None else {**nets, "learner": self.learner_net_}

    def _fit(self, data: np.ndarray, session: TrainingSession) -> None:
        cfg, private, codes = self.config, self.privacy_.private, None
        if private:  # each real row's category in every conditioned column, for conditions of its own
            self.sampler_ = SharedConditions(self.encoder_.spans_, self.encoder_, len(data), self.rng_)
            codes = np.column_stack([data[:, s.start:s.stop].argmax(1) for s in self.sampler_.spans]
                                    or [np.zeros(len(data), dtype=np.int64)])
        else:
            self.sampler_ = ConditionSampler(data, self.encoder_.spans_, self.rng_)
        self._build({"dim": data.shape[1], "cond": self.sampler_.width, "pac": 1 if private else cfg.pac})
        self._init_networks()
        self.learner_net_ = copy.deepcopy(self.generator_net_)  # trained; generator_net_ follows its average
        self.generator_net_.requires_grad_(False).eval()
        batch = max(self.pac_, min(cfg.batch_size, len(data)) // self.pac_ * self.pac_)
        real_all = self.spans_.grouped(torch.from_numpy(data).to(self.device_))  # the networks' column order
        opt_g = torch.optim.Adam(self.learner_net_.parameters(), lr=cfg.learning_rate, betas=(0.5, 0.9),
                                 weight_decay=cfg.weight_decay, fused=True)
        opt_d = torch.optim.Adam(self.critic_net_.parameters(), lr=cfg.learning_rate, betas=(0.5, 0.9), fused=True)
        dp = private_trainer(self, [self.critic_net_], opt_d, len(data), batch, cfg.epochs)
        steps = dp.plan.steps_per_epoch if dp is not None else max(len(data) // batch, 1)
        for epoch in range(session.track({"generator": opt_g, "critic": opt_d}), cfg.epochs + 1):
            losses = self._epoch(real_all, batch, steps, opt_g, opt_d, session, dp, codes)
            if not session.epoch_end(epoch, losses):
                break
        self.learner_net_ = None  # the fit's end keeps the best average (and critic); the model file needs no more

    def _follow(self, step: int) -> None:
        """Move the drawing generator's weights and batch-norm statistics toward the trained one's. The average
        forgets fast over the first steps, so that a short fit is not held near the starting weights."""
        keep = min(self.config.average, (1 + step) / (10 + step))
        follow(self.generator_net_, self.learner_net_, 1 - keep, buffers=True)

    def _raw(self, cond: torch.Tensor, generator: torch.Generator, net: _Generator) -> torch.Tensor:
        """The output of ``net`` before activation, for one condition vector per row."""
        return net.out(self._hidden(self._noise(len(cond), generator), cond, net))

    def _noise(self, n: int, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(n, self.config.noise_dim, generator=generator, device=generator.device)
        return noise.to(self.device_)

    def _hidden(self, noise: torch.Tensor, cond: torch.Tensor, net: _Generator) -> torch.Tensor:
        """The last features of ``net`` (its output is one linear layer of them), for one condition per row;
        in bfloat16 where the hardware is fast at it, as in training, and handed on as float32."""
        with autocast(self.device_):
            return net.blocks(torch.cat([noise, cond], dim=1) if cond.shape[1] else noise).float()

    def _pieces(self, cond: torch.Tensor, generator: torch.Generator) -> Iterator[list[torch.Tensor]]:
        """The drawing generator's last features in parts (``_Generator.features``), ``DRAW_PIECE`` rows at a
        time (the noise drawn at once): the blocks as in training, then float32 for the output layer (bfloat16
        would round its numbers to 3 digits)."""
        net, noise = self.generator_net_.eval(), self._noise(len(cond), generator)
        for start in range(0, max(len(cond), 1), DRAW_PIECE):  # one empty piece for no rows
            with autocast(self.device_):
                parts = net.features(noise[start:start + DRAW_PIECE], cond[start:start + DRAW_PIECE])
            yield [part.float() for part in parts]

    def _linear(self, parts: list[torch.Tensor], rows: slice = slice(None)) -> torch.Tensor:
        """The drawing generator's output layer (``rows`` of it) on features in parts."""
        out = self.generator_net_.out
        return linear_of_parts(parts, out.weight[rows], out.bias[rows])

    def _fake(self, cond: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        raw = self._raw(cond, generator, self.learner_net_)
        return raw, self.spans_.activate(raw, tau=0.2, generator=generator)

    def _epoch(self, real_all, batch, steps, opt_g, opt_d, session, private: PrivateTrainer | None = None,
               codes: np.ndarray | None = None) -> dict[str, float]:
        self.learner_net_.train(), self.critic_net_.train()
        sums = {"generator": 0.0, "critic": 0.0}
        for _ in range(steps):
            with autocast(self.device_):  # matrix products in bfloat16 where the hardware is fast at it
                if private is None:
                    sums["critic"] += self._critic_step(real_all, batch, opt_d)
                else:
                    sums["critic"] += self._private_critic_step(real_all, codes, private)
                sums["generator"] += self._generator_step(batch, opt_g)
            self._follow(session.step)
            session.step += 1
            if session.should_stop():
                break
        return {k: v / steps for k, v in sums.items()}

    def _batch_conditions(self, batch: int):
        if not self.sampler_.spans:
            empty = torch.zeros(batch, 0, device=self.device_)
            rows = torch.from_numpy(self.rng_.integers(0, self.sampler_.n_rows, batch))
            return empty, None, None, rows
        cond, cols, cats, rows = self.sampler_.for_training(batch)  # no rows under differential privacy
        return torch.from_numpy(cond).to(self.device_), cols, cats, None if rows is None else torch.from_numpy(rows)

    def _critic_step(self, real_all, batch, opt_d) -> float:
        cond, _, _, rows = self._batch_conditions(batch)
        real = real_all[rows.to(self.device_)]  # each real row was drawn for its condition: they stay paired
        _, fake = self._fake(cond, self.torch_rng_)
        real_in = torch.cat([real, cond], dim=1)
        fake_in = torch.cat([fake.detach(), cond], dim=1)
        g = self.torch_rng_
        loss = self.critic_net_(fake_in, g).mean() - self.critic_net_(real_in, g).mean()
        loss = loss + self._gradient_penalty(real_in, fake_in)
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
        return loss.item()

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        pac = self.config.pac
        alpha = torch.rand(real.shape[0] // pac, 1, 1, device=self.device_, generator=self.torch_rng_)
        alpha = alpha.repeat(1, pac, real.shape[1]).reshape(-1, real.shape[1])
        mixed = alpha * real + (1 - alpha) * fake
        mixed.requires_grad_(True)
        critic = self.critic_net_(mixed, self.torch_rng_)
        grads = torch.autograd.grad(critic.sum(), mixed, create_graph=True)[0]
        norms = grads.reshape(-1, pac * real.shape[1]).norm(2, dim=1)
        return self.config.gradient_penalty * ((norms - 1) ** 2).mean()

    def _private_critic_step(self, real_all: torch.Tensor, codes: np.ndarray, private: PrivateTrainer) -> float:
        """A DP-SGD step of the critic on a Poisson batch (WGAN-GP loss, one real row per critic input).

        Each real row is conditioned on its own category and paired with a fake row of that condition from
        the generator in eval mode, so no row's loss depends on another row (batch norm would mix them).
        """
        pick = private.draw(self.rng_, len(real_all), self.device_)
        if not len(pick):
            private.step(None)
            return 0.0
        cond = torch.from_numpy(self.sampler_.own(codes[pick.cpu().numpy()], self.rng_)).to(self.device_)
        with torch.no_grad():
            self.learner_net_.eval()
            _, fake = self._fake(cond, self.torch_rng_)
            self.learner_net_.train()
        real_in, fake_in = torch.cat([real_all[pick], cond], dim=1), torch.cat([fake.float(), cond], dim=1)
        masks = [self.critic_net_.net.dropout_masks(len(pick), self.torch_rng_, self.device_) for _ in range(3)]
        alpha = torch.rand(len(pick), 1, generator=self.torch_rng_, device=self.device_)
        scores = self.critic_net_(fake_in, masks=masks[0]) - self.critic_net_(real_in, masks=masks[1])
        slope = self._critic_slope(alpha * real_in + (1 - alpha) * fake_in, masks[2], private)
        penalty = (torch.sqrt((slope ** 2).sum(1) + 1e-12) - 1) ** 2
        return private.step(scores.squeeze(1) + self.config.gradient_penalty * penalty)

    def _critic_slope(self, x: torch.Tensor, masks: torch.Tensor, private: PrivateTrainer) -> torch.Tensor:
        """The critic's gradient with respect to its input rows (pac 1), worked out layer by layer as plain
        computations (the weights run backwards through ``private.transposed``), so that DP-SGD sees every
        use of a weight and clips each row's gradient of the penalty too."""
        net, gates = self.critic_net_.net, []
        for i, layer in enumerate(net.layers[:-1]):
            hidden = layer(x)
            gates.append(torch.where(hidden > 0, 1.0, net.slope) * masks[:, i])
            x = F.leaky_relu(hidden, net.slope) * masks[:, i]
        grad = private.transposed(net.layers[-1], x.new_ones(len(x), 1))
        for layer, gate in zip(reversed(net.layers[:-1]), reversed(gates)):
            grad = private.transposed(layer, grad * gate)
        return grad

    def _generator_step(self, batch, opt_g) -> float:
        cond, cols, cats, _ = self._batch_conditions(batch)
        raw, fake = self._fake(cond, self.torch_rng_)
        loss = -self.critic_net_(torch.cat([fake, cond], dim=1), self.torch_rng_).mean()
        if cols is not None:
            loss = loss + self._condition_loss(raw, cols, cats)
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        return loss.item()

    def _condition_loss(self, raw: torch.Tensor, cols: np.ndarray, cats: np.ndarray) -> torch.Tensor:
        """Cross-entropy making the generated row carry the category it was asked for."""
        blocks = torch.from_numpy(self.block_index_[cols]).to(self.device_)
        picked = self.spans_.block_log_prob(raw, blocks, torch.from_numpy(cats).to(self.device_))
        return -picked.mean()

    @torch.no_grad()
    def _sample(self, n: int, generator: torch.Generator) -> np.ndarray:
        return self._draw(self._conditions().for_sampling(n, _numpy_rng(generator)), generator)

    @torch.no_grad()
    def _sample_given(self, n: int, generator: torch.Generator, evidence: Evidence) -> np.ndarray:
        """Rows with the requested categories of columns the generator is conditioned on. When rows draw the asked
        categories together often enough (their shares' product at least ``keep_share``), free rows that draw
        them (``_kept``): the model's own conditional. Else every row's condition vector selects the rarest:
        CTGAN's training-by-sampling pairs it with real rows of the category, but the critic judges packs of
        rows with mixed conditions, so the other columns follow it only loosely (telco churners, seed 0:
        conditional shapes 0.90 against 0.95 drawn and kept).
        The caller keeps rows that meet the request. Ranges and other columns get nothing native."""
        sampler = self._conditions()
        columns = {span.column: j for j, span in enumerate(sampler.spans)}
        asked = [(sampler.probs[columns[c], slot], columns[c], slot)
                 for c, slot in evidence.fixed_slots().items() if c in columns]
        if not asked:
            return self._sample(n, generator)
        _, column, slot = min(asked)
        if np.prod([share for share, _, _ in asked]) >= self.config.keep_share:  # rows must draw all of them
            return self._kept(n, generator, [(j, slot) for _, j, slot in asked])
        return self._draw(sampler._vector(np.full(n, column), np.full(n, slot)), generator)

    def _kept(self, n: int, generator: torch.Generator, asked: list[tuple[int, int]]) -> np.ndarray:
        """Of ``n`` free rows, those that draw every asked (conditioned column, slot): the asked categories are
        drawn first from the generator's output and only rows that drew them are drawn in full (the blocks are
        independent given the output, so this is the model's own conditional). A dropped row costs the
        network's hidden layers and the asked blocks' share of its output layer, and no decoding."""
        rng = _numpy_rng(generator)
        sampler = self._conditions()
        cond = torch.from_numpy(sampler.for_sampling(n, rng)).to(self.device_)
        kept = []
        for parts in self._pieces(cond, generator):
            keep = torch.ones(len(parts[0]), dtype=torch.bool)
            for j, slot in asked:
                chance = torch.softmax(self._linear(parts, self._block_rows(int(self.block_index_[j]))), dim=1)
                keep &= uniform((len(keep),), generator, chance.device) < chance[:, slot].cpu()
            kept.append(self._linear([part[keep.to(part.device)] for part in parts]))
        rows = self.spans_.draw(torch.cat(kept), None, generator)
        for j, slot in asked:
            span = sampler.spans[j]
            rows[:, span.start:span.stop] = 0.0
            rows[:, span.start + slot] = 1.0
        return rows

    def _block_rows(self, block: int) -> slice:
        """The rows of the generator's output layer that make one softmax block."""
        start = int(self.spans_.block_start[block])
        return slice(start, start + self.spans_.blocks[block].width)

    def _draw(self, cond: np.ndarray, generator: torch.Generator) -> np.ndarray:
        """One row per condition vector, categories drawn from the generator's output."""
        pieces = self._pieces(torch.from_numpy(cond).to(self.device_), generator)
        return self.spans_.draw(torch.cat([self._linear(parts) for parts in pieces]), None, generator)

    def _conditions(self) -> ConditionSampler:
        """The conditions seen in training (rebuilt from the checkpoint for a loaded model)."""
        if not hasattr(self, "sampler_"):
            self.sampler_ = _LoadedConditions(self.encoder_.spans_, self.condition_probs_)
        return self.sampler_


def _numpy_rng(generator: torch.Generator) -> np.random.Generator:
    """A numpy generator seeded from a sampling call's torch generator (condition vectors are drawn in numpy)."""
    return np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))


class _LoadedConditions(ConditionSampler):
    """The sampling half of ``ConditionSampler``, rebuilt from a checkpoint (no training data needed)."""

    def __init__(self, spans: list[Span], probs: torch.Tensor | None) -> None:
        self._layout(spans)
        self.probs = probs.numpy() if probs is not None and probs.numel() else np.zeros((0, 0))
        self.rng = np.random.default_rng(0)
