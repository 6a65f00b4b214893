"""Normalizing flow generator (neural spline flow): an exact, invertible map from the table to Gaussian noise.

Every column becomes one continuous value with a standard normal shape: numbers and dates are their normal
scores (ties spread over their ranks), and a category (or a number's missing-value flag) is dequantised to a
random point inside its slot's slice of [0, 1], the slots in order of frequency, read as a normal score.
A masked autoregressive flow of monotonic rational-quadratic splines (``zuko.flows.NSF``) learns the joint
density of these values by maximum likelihood, so every row gets an exact log-likelihood: the training loss
is the mean negative log-likelihood of the training rows and the held-out line is that of the validation
rows, with their dequantisation noise fixed, which also decides early stopping. Sampling pushes Gaussian
noise through the inverse flow and reads each category back from the slice its value falls in. The noise
of the categories is drawn afresh at every step, so the flow cannot learn the exact points of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import zuko
from torch import nn
from zuko.flows.autoregressive import MaskedAutoregressiveTransform
from zuko.utils import unpack

from models.minibatch import MinibatchGenerator, RowsOf
from tabular.representations import MixedLayout, MixedTable, NumbersAndTokens

EDGE = 1e-6  # dequantised positions stay this far inside (0, 1), so their normal scores stay finite


@dataclass
class FlowConfig:
    """Settings of the normalizing flow."""

    epochs: int = 60  # passes over the data (stops sooner once the held-out likelihood stops improving)
    batch_size: int = 512  # rows per optimiser step
    learning_rate: float = 1e-3  # peak Adam step size of the one-cycle schedule
    weight_decay: float = 1e-5  # L2 penalty on the weights (AdamW)
    transforms: int = 4  # autoregressive spline layers stacked (column order reversed between layers)
    hidden: int = 128  # width of the two hidden layers of each layer's masked network
    bins: int = 8  # spline pieces per value and layer: more can bend the shapes more finely
    seed: int = 0  # makes fit and sampling reproducible
    threads: int | None = None  # CPU threads while fitting (None: this training's share of the cores)


class _Dequantiser(nn.Module):
    """Token columns to and from normal scores: each slot owns a slice of [0, 1] the size of its share."""

    def __init__(self, vocab: tuple[int, ...]) -> None:
        super().__init__()
        widest = max(vocab, default=1)
        self.register_buffer("vocab", torch.tensor(vocab, dtype=torch.long))
        # [columns, widest + 1] slice edges; a column's unused slots are empty slices at its top
        self.register_buffer("edges", torch.ones(len(vocab), widest + 1, dtype=torch.float64))

    @torch.no_grad()
    def fit(self, tokens: torch.Tensor) -> None:
        """Slice sizes from each slot's share of the rows (every slot of a column keeps a sliver)."""
        for j, size in enumerate(self.vocab.tolist()):
            counts = torch.bincount(tokens[:, j], minlength=size).double() + 1e-3
            upper = torch.cumsum(counts / counts.sum(), 0)
            self.edges[j, 0] = 0.0
            self.edges[j, 1:size + 1] = upper / upper[-1]

    def scores(self, tokens: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A random normal score inside each token's slice (float32, [rows, columns])."""
        lower = self.edges.gather(1, tokens.T).T
        upper = self.edges.gather(1, tokens.T + 1).T
        u = lower + (upper - lower) * torch.rand(tokens.shape, generator=generator, device=tokens.device,
                                                 dtype=torch.float64)
        return torch.special.ndtri(u.clamp(EDGE, 1 - EDGE)).float()

    def tokens(self, scores: torch.Tensor) -> torch.Tensor:
        """The slot whose slice each normal score falls in."""
        u = torch.special.ndtr(scores.double())
        inner = self.edges[:, 1:-1].contiguous()  # the slices' upper edges but the last
        slot = torch.searchsorted(inner, u.T.contiguous(), right=True).T
        return torch.minimum(slot, self.vocab - 1)


def _flow(features: int, cfg: FlowConfig) -> nn.Module:
    """The neural spline flow over ``features`` values (fully autoregressive spline layers)."""
    return zuko.flows.NSF(features, transforms=cfg.transforms, bins=cfg.bins,
                          hidden_features=(cfg.hidden, cfg.hidden))


def _invert_layer(layer: nn.Module, y: torch.Tensor) -> torch.Tensor:
    """The inverse of one autoregressive spline layer, a group of values at a time.

    zuko's own inverse reruns the whole network and every value's spline once per value; this reads the same
    weights (``hyper``, ``order``, ``shapes``, ``univariate`` of the pinned zuko) but computes only the
    output rows and splines of the values being solved, several times faster on wide tables. The round-trip
    test in tests/test_model_parts.py checks that it inverts zuko's forward pass.
    """
    if not isinstance(layer, MaskedAutoregressiveTransform) or getattr(layer, "order", None) is None:
        return layer().inv(y)
    *hidden, last = layer.hyper
    weight = (last.mask * last.weight).unflatten(0, (-1, layer.total))  # [values, parameters, width]
    bias = last.bias.unflatten(0, (-1, layer.total))
    x = torch.zeros_like(y)
    for group in torch.unique(layer.order).tolist():  # ascending: each group depends on the earlier ones
        index = (layer.order == group).nonzero().squeeze(1)
        h = x
        for module in hidden:
            h = module(h)
        out = torch.einsum("rw,vpw->rvp", h, weight[index]) + bias[index]
        x[:, index] = layer.univariate(*unpack(out, layer.shapes)).inv(y[:, index])
    return x


class FlowGenerator(MinibatchGenerator):
    """A neural spline flow over normal scores of numbers and dequantised categories."""

    name = "flow"
    Config = FlowConfig
    sample_chunk = 4096  # one network pass per column and layer over these rows: keeps memory flat
    representation = NumbersAndTokens()

    def _build(self, extra: dict) -> None:
        self.layout_: MixedLayout = self.representation.layout(self.encoder_)
        features = len(self.layout_.numbers) + len(self.layout_.vocab)
        self.flow_ = _flow(features, self.config).to(self.device_)
        self.dequantiser_ = _Dequantiser(self.layout_.vocab).to(self.device_)

    def _networks(self) -> dict[str, nn.Module]:
        return {"flow": self.flow_, "dequantiser": self.dequantiser_}

    # ----- training ---------------------------------------------------------------------------------------
    def _tensors(self, data: MixedTable) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.from_numpy(data.numbers).to(self.device_), torch.from_numpy(data.tokens).to(self.device_))

    def _prepare(self, tensors: tuple[torch.Tensor, ...]) -> None:
        self.dequantiser_.fit(tensors[1])

    def values(self, numbers: torch.Tensor, tokens: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The continuous rows the flow models: normal scores of the numbers (a random score where one is
        missing; its flag says so) and dequantised tokens."""
        fill = torch.randn(numbers.shape, generator=generator, device=numbers.device)
        numbers = torch.where(torch.isnan(numbers), fill, numbers)
        return torch.cat([numbers, self.dequantiser_.scores(tokens, generator)], dim=1)

    def log_likelihood(self, values: torch.Tensor) -> torch.Tensor:
        """Exact log-density of each continuous row (base density of its noise plus the log-Jacobian)."""
        with torch.autocast(values.device.type, enabled=False):  # splines need full precision
            return self.flow_().log_prob(values.float())

    def _loss(self, numbers: torch.Tensor, tokens: torch.Tensor, generator: torch.Generator,
              rows_of: RowsOf | None = None) -> torch.Tensor:
        """Mean negative log-likelihood per row of the dequantised rows (in nats)."""
        return -self.log_likelihood(self.values(numbers, tokens, generator)).mean()

    # ----- sampling ---------------------------------------------------------------------------------------
    def noise_to_values(self, noise: torch.Tensor) -> torch.Tensor:
        """The inverse flow: Gaussian noise to continuous rows."""
        values = noise.float()
        with torch.autocast(noise.device.type, enabled=False):
            for layer in reversed(self.flow_.transform.transforms):
                values = _invert_layer(layer, values)
        return values

    def values_to_noise(self, values: torch.Tensor) -> torch.Tensor:
        """The forward flow: continuous rows to the Gaussian noise they come from."""
        with torch.autocast(values.device.type, enabled=False):
            return self.flow_().transform(values.float())

    @torch.no_grad()
    def _sample(self, n: int, generator: torch.Generator) -> MixedTable:
        self._train_mode(False)
        count = len(self.layout_.numbers)
        noise = torch.randn(n, count + len(self.layout_.vocab), generator=generator)
        values = self.noise_to_values(noise.to(self.device_))
        tokens = self.dequantiser_.tokens(values[:, count:])
        return MixedTable(values[:, :count].cpu().numpy().astype(np.float32), tokens.cpu().numpy())
