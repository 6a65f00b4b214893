"""Tabular variational autoencoder (TVAE class): compress each row to a code, learn to rebuild it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from models.base import Generator
from models.compute import autocast
from models.nets import MLP, SpanIndex
from models.private_training import PrivateTrainer, private_trainer
from models.training import TrainingSession


@dataclass
class VAEConfig:
    """Settings of the tabular VAE."""

    epochs: int = 150  # passes over the data (early stopping may end sooner)
    batch_size: int = 500  # rows per optimiser step
    learning_rate: float = 1e-3  # Adam step size
    weight_decay: float = 1e-5  # L2 penalty on the weights
    hidden: int = 128  # width of the two hidden layers of encoder and decoder
    latent: int = 128  # size of the code each row is compressed to
    loss_factor: float = 2.0  # weight of reconstruction against the KL term (TVAE's default)
    seed: int = 0  # makes fit and sampling reproducible
    threads: int | None = None  # CPU threads while fitting (None: this training's share of the cores)


class _Encoder(nn.Module):
    def __init__(self, dim: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.body = MLP([dim, hidden, hidden])
        self.head = nn.Linear(hidden, 2 * latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_var = self.head(torch.relu(self.body(x))).chunk(2, dim=1)
        return mu, log_var


class _Decoder(nn.Module):
    def __init__(self, dim: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.body = MLP([latent, hidden, hidden, dim])
        self.log_sigma = nn.Parameter(torch.full((dim,), float(np.log(0.1))))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z)


class TabularVAE(Generator):
    """Encoder and decoder MLPs trained with the evidence lower bound on the shared encoding."""

    name = "vae"
    Config = VAEConfig
    supports_dp = True

    def _build(self, extra: dict) -> None:
        cfg, dim = self.config, int(extra["dim"])
        self.encoder_net_ = _Encoder(dim, cfg.hidden, cfg.latent).to(self.device_)
        self.decoder_net_ = _Decoder(dim, cfg.hidden, cfg.latent).to(self.device_)
        self.spans_ = SpanIndex(self.encoder_.spans_, self.device_)

    def _extra_state(self) -> dict:
        return {"dim": self.encoder_.output_dim}

    def _networks(self) -> dict[str, nn.Module]:
        return {"encoder": self.encoder_net_, "decoder": self.decoder_net_}

    def _fit(self, data: np.ndarray, session: TrainingSession) -> None:
        self._build({"dim": data.shape[1]})
        self._init_networks()
        cfg = self.config
        x_all = self.spans_.grouped(torch.from_numpy(data).to(self.device_))  # blocks of a width side by side
        codes, present = self.spans_.targets(x_all)  # once, not at every step
        params = list(self.encoder_net_.parameters()) + list(self.decoder_net_.parameters())
        optim = torch.optim.Adam(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, fused=True)
        batch = min(cfg.batch_size, len(x_all))
        private = private_trainer(self, [self.encoder_net_, self.decoder_net_], optim, len(x_all), batch, cfg.epochs)
        for epoch in range(session.track({"adam": optim}), cfg.epochs + 1):
            if private is None:
                totals = self._epoch((x_all, codes, present), batch, optim, session)
            else:
                totals = self._private_epoch((x_all, codes, present), private, session)
            if not session.epoch_end(epoch, totals):
                break

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Code mean, code log-variance and the decoder's raw output for rows ``x`` (one random code each)."""
        with autocast(self.device_):  # matrix products in bfloat16 where the hardware is fast at it
            mu, log_var = (part.float() for part in self.encoder_net_(x))
            noise = torch.randn(mu.shape, generator=self.torch_rng_, device=self.device_)
            raw = self.decoder_net_(mu + noise * torch.exp(0.5 * log_var)).float()
        return mu, log_var, raw

    def _epoch(self, tensors: tuple[torch.Tensor, ...], batch: int, optim: torch.optim.Optimizer,
               session: TrainingSession) -> dict[str, float]:
        self.encoder_net_.train(), self.decoder_net_.train()
        order = torch.from_numpy(self.rng_.permutation(len(tensors[0]))).to(self.device_)
        shuffled = [t[order] for t in tensors]  # one gather per epoch; batches are then slices
        sums, steps = {"reconstruction": 0.0, "kl": 0.0}, 0
        for start in range(0, len(order) - batch + 1, batch):
            x, codes, present = (t[start: start + batch] for t in shuffled)
            mu, log_var, raw = self._forward(x)
            rec = self.spans_.reconstruction_loss(raw, x, codes, present, self.decoder_net_.log_sigma)
            kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp()) / len(x)
            loss = self.config.loss_factor * rec + kl
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            self._clamp_scales()
            sums["reconstruction"] += rec.item()
            sums["kl"] += kl.item()
            steps += 1
            session.step += 1
            if session.should_stop():
                break
        return {k: v / max(steps, 1) for k, v in sums.items()}

    def _private_epoch(self, tensors: tuple[torch.Tensor, ...], private: PrivateTrainer,
                       session: TrainingSession) -> dict[str, float]:
        """An epoch of DP-SGD steps on Poisson batches."""
        self.encoder_net_.train(), self.decoder_net_.train()
        sums, steps = {"reconstruction": 0.0, "kl": 0.0}, 0
        for _ in range(private.plan.steps_per_epoch):
            pick = private.draw(self.rng_, len(tensors[0]), self.device_)
            if not len(pick):
                private.step(None)
            else:
                x, codes, present = (t[pick] for t in tensors)
                mu, log_var, raw = self._forward(x)
                log_sigma = private.rows_of(self.decoder_net_.log_sigma, len(x))
                rec = self.spans_.reconstruction_loss(raw, x, codes, present, log_sigma, per_row=True)
                kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=1)
                private.step(self.config.loss_factor * rec + kl)
                sums["reconstruction"] += rec.mean().item()
                sums["kl"] += kl.mean().item()
                steps += 1
            self._clamp_scales()
            session.step += 1
            if session.should_stop():
                break
        return {k: v / max(steps, 1) for k, v in sums.items()}

    @torch.no_grad()
    def _clamp_scales(self) -> None:
        self.decoder_net_.log_sigma.clamp_(np.log(0.01), 0.0)

    @torch.no_grad()
    def _sample(self, n: int, generator: torch.Generator) -> np.ndarray:
        self.decoder_net_.eval()
        z = torch.randn(n, self.config.latent, generator=generator).to(self.device_)
        raw = self.decoder_net_(z)
        return self.spans_.draw(raw, self.decoder_net_.log_sigma, generator)
