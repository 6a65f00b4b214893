"""Restricted Boltzmann machine over column tokens, trained by persistent contrastive divergence.

Asked values (conditions) are met by clamped Gibbs sampling: the asked columns are only drawn among the
allowed tokens, so the chains sample the model given them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.base import Generator
from models.compute import uniform
from models.conditional import token_within
from models.minibatch import advance, one_cycle
from models.nets import follow
from models.training import TrainingSession
from tabular.representations import Tokens, TokenTable

if TYPE_CHECKING:
    from models.conditional import Evidence


@dataclass
class RBMConfig:
    """Settings of the restricted Boltzmann machine."""

    epochs: int = 80  # passes over the data (a rising held-out pseudo-likelihood may stop it sooner); longer
    # runs sharpen the model until its Gibbs chains mix badly and free rows lose their column shapes
    batch_size: int = 250  # rows per update
    chains: int = 250  # persistent Gibbs chains (the negative phase); sampling starts from their last states
    hidden: int = 256  # binary hidden units: how many patterns across columns it can hold
    bins: int = 20  # quantile bins a number or date is cut into (numbers are only this fine)
    learning_rate: float = 3e-3  # peak Adam step size of the one-cycle schedule on the CD gradient
    weight_decay: float = 1e-2  # AdamW decay of the weights (not the biases), keeps the chains mixing (1e-4 barely acted)
    gibbs_steps: int = 5  # Gibbs steps the persistent chains move per update (PCD-k; 1 mixed too little)
    pool_epochs: int = 30  # drawn rows start from the chains' states at the end of each of the last this many
    # epochs: a whole mode (e.g. no internet service) holds a share of the chains that swings from update to
    # update, and only its average over updates matches the data
    burn_in: int = 200  # Gibbs steps from a persistent chain's state to a drawn row (more: better mixed)
    held_rows: int = 200  # held-out rows whose pseudo-likelihood decides stopping (each costs a free energy per
    # token of the vocabulary: 1,000 rows of a wide table took as long as an epoch)
    averaging: float = 0.995  # sampling uses a running average of the weights (PCD's steps oscillate)
    init_scale: float = 0.01  # standard deviation of the starting weights (small: columns start independent)
    seed: int = 0  # makes fit and sampling reproducible
    threads: int | None = None  # CPU threads while fitting (None: this training's share of the cores)


class _RBMNet(nn.Module):
    """Weights, biases and the Gibbs conditionals; visible units are one softmax group per column."""

    def __init__(self, vocab: Sequence[int], hidden: int, chains: int, device: torch.device, pool: int = 1) -> None:
        super().__init__()
        size, self.columns = int(sum(vocab)), len(vocab)
        self.weight = nn.Parameter(torch.zeros(size, hidden, device=device))
        self.visible_bias = nn.Parameter(torch.zeros(size, device=device))
        self.hidden_bias = nn.Parameter(torch.zeros(hidden, device=device))
        self.register_buffer("shares", torch.full((size,), 1.0, device=device))  # chains start from these
        self.register_buffer("chains", torch.zeros(chains, len(vocab), dtype=torch.long, device=device))
        self.register_buffer("pool", torch.zeros(pool, len(vocab), dtype=torch.long, device=device))  # see _keep
        vocab_t = torch.tensor(list(vocab), dtype=torch.long, device=device)
        self.offsets = torch.cumsum(vocab_t, 0) - vocab_t
        self.groups = []  # columns of one vocabulary size side by side: (columns, flat index [k, size])
        for width in sorted(set(vocab)):
            cols = (vocab_t == width).nonzero().flatten()
            self.groups.append((cols, self.offsets[cols, None] + torch.arange(width, device=device)))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        chains = state_dict.get(prefix + "chains")
        if prefix + "pool" not in state_dict and chains is not None:  # a file from before the pool: its chains
            repeats = -(-len(self.pool) // max(len(chains), 1))
            state_dict[prefix + "pool"] = chains.repeat(repeats, 1)[:len(self.pool)]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def hidden_input(self, tokens: torch.Tensor) -> torch.Tensor:
        """Total input of every hidden unit for rows of tokens [rows, columns]."""
        return F.embedding_bag(tokens + self.offsets, self.weight, mode="sum") + self.hidden_bias

    def free_energy(self, tokens: torch.Tensor) -> torch.Tensor:
        """F(v) = -visible bias of the active units - sum of softplus(hidden input), per row."""
        visible = self.visible_bias[tokens + self.offsets].sum(1)
        return -visible - F.softplus(self.hidden_input(tokens)).sum(1)

    def visible_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden @ self.weight.T + self.visible_bias

    def log_probs(self, logits: torch.Tensor):
        """Per group of columns: (columns, log-probabilities [rows, k, size]) of each column's softmax."""
        return [(cols, torch.log_softmax(logits[:, index], dim=-1)) for cols, index in self.groups]

    def draw_tokens(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One token per column from its softmax group (so exactly one active unit per column); a token of
        probability 0 (a logit of -inf) is never drawn."""
        u = uniform((len(logits), self.columns), generator, logits.device)
        tokens = torch.empty(len(logits), self.columns, dtype=torch.long, device=logits.device)
        for cols, log_p in self.log_probs(logits):
            cdf = log_p.exp().cumsum(-1)
            below = cdf <= u[:, cols, None] * cdf[..., -1:]  # scaled by the total: rounding cannot overshoot
            tokens[:, cols] = below.sum(-1).clamp(max=log_p.shape[-1] - 1)
        return tokens

    def draw_hidden(self, tokens: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        p = torch.sigmoid(self.hidden_input(tokens))
        return (uniform(tuple(p.shape), generator, p.device) < p).float()

    @torch.no_grad()
    def gibbs(self, tokens: torch.Tensor, steps: int, generator: torch.Generator,
              bias: torch.Tensor | None = None) -> torch.Tensor:
        """``steps`` rounds of v -> h -> v; ``bias`` (per visible unit, -inf: never drawn) is added to the
        visible logits, which samples the model reweighted by it (clamped columns)."""
        for _ in range(steps):
            logits = self.visible_logits(self.draw_hidden(tokens, generator))
            tokens = self.draw_tokens(logits if bias is None else logits + bias, generator)
        return tokens

    @torch.no_grad()
    def start(self, rows: int, generator: torch.Generator) -> torch.Tensor:
        """Chains drawn column by column from the column shares (no relationships yet)."""
        return self.draw_tokens(self.shares.log().expand(rows, -1), generator)

    @torch.no_grad()
    def pseudo_likelihood(self, tokens: torch.Tensor, chunk: int = 256) -> float:
        """Mean negative log-probability of each column's token given the row's other tokens: exact for an
        RBM (the free energy of the row with each other token in that column), so no partition function."""
        total = 0.0
        for rows in tokens.split(chunk):
            hidden = self.hidden_input(rows)
            for cols, index in self.groups:
                swapped = hidden[:, None, None] - self.weight[rows[:, cols] + self.offsets[cols]][:, :, None]
                logits = self.visible_bias[index] + F.softplus(swapped + self.weight[index]).sum(-1)
                total -= float(torch.log_softmax(logits, -1).gather(2, rows[:, cols, None]).sum())
        return total / max(tokens.numel(), 1)

    @torch.no_grad()
    def reconstruction(self, tokens: torch.Tensor) -> float:
        """Mean cross-entropy per column of the rows under p(v | mean hidden activity of the rows)."""
        logits = self.visible_logits(torch.sigmoid(self.hidden_input(tokens)))
        total = sum(-log_p.gather(2, tokens[:, cols, None]).sum() for cols, log_p in self.log_probs(logits))
        return float(total) / tokens.numel()


class RBMGenerator(Generator):
    """RBM with softmax visible groups (categories, bins, missing) and binary hidden units, sampled by Gibbs."""

    name = "rbm"
    Config = RBMConfig
    sample_chunk = 10_000  # rows per Gibbs run: bounds the [rows, tokens] logits in memory
    native_conditions = "holds the asked columns fixed while it samples"

    @property
    def representation(self) -> Tokens:  # the number of bins is a setting
        return Tokens(self.config.bins)

    def _build(self, extra: dict) -> None:
        vocab = self.representation.layout(self.encoder_).vocab
        chains = max(1, self.config.chains)
        self.net_ = _RBMNet(vocab, self.config.hidden, chains, self.device_, chains * max(1, self.config.pool_epochs))
        self.average_ = _RBMNet(vocab, self.config.hidden, 1, self.device_).requires_grad_(False)

    def _networks(self) -> dict[str, nn.Module]:
        return {"rbm": self.net_, "average": self.average_}

    def _follow(self, share: float) -> None:
        """Move the averaged weights ``share`` of the way towards the trained ones."""
        follow(self.average_, self.net_, share)

    @torch.no_grad()
    def _init_networks(self) -> None:
        nn.init.normal_(self.net_.weight, std=self.config.init_scale, generator=self.torch_rng_)

    @torch.no_grad()
    def _start_biases(self, tokens: torch.Tensor) -> None:
        """Visible biases at the log column shares, less what the starting weights add through hidden units
        that are on half the time: an untrained RBM already draws each column's shape."""
        counts = torch.bincount((tokens + self.net_.offsets).flatten(), minlength=len(self.net_.shares))
        shares = counts.float() + 0.5  # a token never seen keeps a small chance
        for _, index in self.net_.groups:
            shares[index] /= shares[index].sum(-1, keepdim=True)
        self.net_.shares.copy_(shares)
        self.net_.visible_bias.copy_(shares.log() - 0.5 * self.net_.weight.sum(1))
        self._follow(1.0)

    # ----- training ---------------------------------------------------------------------------------------
    def _fit(self, data: TokenTable, session: TrainingSession) -> None:
        cfg = self.config
        self._build({})
        self._init_networks()
        tokens = torch.from_numpy(data.tokens).to(self.device_)
        self._start_biases(tokens)
        batch = max(1, min(cfg.batch_size, len(tokens)))
        self.net_.chains = self.net_.start(len(self.net_.chains), self.torch_rng_)
        self.net_.pool.copy_(self.net_.chains.repeat(len(self.net_.pool) // len(self.net_.chains), 1))
        net = self.net_
        optim = torch.optim.AdamW([{"params": [net.weight], "weight_decay": cfg.weight_decay},
                                   {"params": [net.visible_bias, net.hidden_bias], "weight_decay": 0.0}],
                                  lr=cfg.learning_rate)
        schedule = one_cycle(optim, cfg.learning_rate, max(cfg.epochs * -(-len(tokens) // batch), 1))
        held_out = self._held_rows(session)
        for epoch in range(session.track({"adamw": optim}, {"one_cycle": schedule}),
                           cfg.epochs + 1):
            losses = self._epoch(tokens, batch, optim, schedule, session)
            self._keep(epoch)
            # held-out pseudo-likelihood (of the averaged weights, which sample) decides: the live quality
            # favours the untrained RBM, whose biases already draw each column's shape, over one learning links
            score = None if held_out is None else self.average_.pseudo_likelihood(held_out)
            if not session.epoch_end(epoch, losses, score):
                break

    @torch.no_grad()
    def _keep(self, epoch: int) -> None:
        """Put the chains' states in this epoch's place of the pool drawn rows start from (a ring of epochs)."""
        chains, pool = self.net_.chains, self.net_.pool
        start = (epoch % (len(pool) // len(chains))) * len(chains)
        pool[start:start + len(chains)] = chains

    def _held_rows(self, session: TrainingSession) -> torch.Tensor | None:
        """A fixed share of the validation rows (the same every epoch, so epochs compare fairly)."""
        if session.held_out is None:
            return None
        rows = session.held_out.tokens
        pick = np.sort(self.rng_.permutation(len(rows))[:max(self.config.held_rows, 1)])
        return torch.from_numpy(rows[pick]).to(self.device_)

    def _epoch(self, tokens: torch.Tensor, batch: int, optim: torch.optim.Optimizer,
               schedule: torch.optim.lr_scheduler.LRScheduler, session: TrainingSession) -> dict[str, float]:
        """One pass of PCD updates; returns the mean free-energy gap (data - chains) and reconstruction."""
        order = torch.from_numpy(self.rng_.permutation(len(tokens))).to(self.device_)
        gap, steps = 0.0, 0
        for start in range(0, len(order), batch):
            gap += self._update(tokens[order[start:start + batch]], optim)
            advance(schedule)
            steps += 1
            session.step += 1
            if session.should_stop():
                break
        probe = tokens[order[:batch]]  # a cheap progress figure: how well the hidden units explain rows
        return {"free_energy_gap": gap / max(steps, 1), "reconstruction": self.net_.reconstruction(probe)}

    def _update(self, rows: torch.Tensor, optim: torch.optim.Optimizer) -> float:
        """One PCD step: the gradient of F(data) - F(chains) is the contrastive-divergence gradient."""
        net = self.net_
        net.chains = net.gibbs(net.chains, self.config.gibbs_steps, self.torch_rng_)
        loss = net.free_energy(rows).mean() - net.free_energy(net.chains).mean()
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        self._follow(1.0 - self.config.averaging)
        return loss.item()

    # ----- sampling ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def _sample(self, n: int, generator: torch.Generator) -> TokenTable:
        """Gibbs chains started from the persistent chains' states of the last epochs (already near the model's
        distribution), each run ``burn_in`` steps on its own; numbers are placed inside their bin on decode."""
        pool = self.net_.pool
        pick = torch.randint(len(pool), (n,), generator=generator, device=generator.device).to(pool.device)
        tokens = self.average_.gibbs(pool[pick], self.config.burn_in, generator)
        return TokenTable(tokens.cpu().numpy(), None)

    @torch.no_grad()
    def _sample_given(self, n: int, generator: torch.Generator, evidence: Evidence) -> TokenTable:
        """Clamped Gibbs sampling: conditioned columns are only ever drawn among their allowed tokens (a
        half-covered bin counting half), so the chains sample the model given the evidence (exact in the
        limit of many steps). They start from persistent chains that meet it where there are any, with
        allowed tokens put in the conditioned columns of the others."""
        given = evidence.tokens(self.representation.layout(self.encoder_))
        bias = torch.zeros(len(self.net_.shares), dtype=torch.float64)
        for j, column in given.items():
            start = int(self.net_.offsets[j])
            bias[start:start + len(column.allowed)] = torch.from_numpy(column.bias)
        bias = bias.float().to(self.device_)
        tokens = self.average_.gibbs(self._clamped_starts(n, generator, bias), self.config.burn_in, generator, bias)
        tokens = tokens.cpu().numpy()
        uniform = torch.rand(tokens.shape, generator=generator, dtype=torch.float64).numpy()
        return TokenTable(tokens, token_within(tokens, given, uniform))

    def _clamped_starts(self, n: int, generator: torch.Generator, bias: torch.Tensor) -> torch.Tensor:
        """Starting rows meeting the evidence: pooled chain states that do (all of them if none does), their
        conditioned columns redrawn among the allowed tokens from the column shares where they do not."""
        net = self.net_
        pool = net.pool
        meets = (bias[pool + net.offsets] > float("-inf")).all(1)
        pool = pool[meets] if meets.any() else pool
        pick = torch.randint(len(pool), (n,), generator=generator, device=generator.device).to(pool.device)
        fresh = net.draw_tokens((net.shares.log() + bias).expand(n, -1), generator)
        starts = pool[pick]
        return torch.where(bias[starts + net.offsets] > float("-inf"), starts, fresh)
