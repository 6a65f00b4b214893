"""Stable generator names, their classes, presets and plain-language cards for business users."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from models.auto import AutoGenerator
from models.autoregressive import AutoregressiveGenerator
from models.base import Generator
from models.bayesnet import BayesNetGenerator
from models.copula import GaussianCopula
from models.diffusion import DiffusionGenerator
from models.flow import FlowGenerator
from models.gan import ConditionalGAN
from models.rbm import RBMGenerator
from models.vae import TabularVAE

MEASURED = Path(__file__).resolve().parent.parent / "assets" / "pick.json"  # written by bench/family.py
PRIVATE_PICK = "bayesnet"  # kept the most detail under differential privacy in bench/privacy.py
PRESETS = ("fast", "balanced", "best")
PRESET_LABELS = {"fast": "Fast", "balanced": "Balanced", "best": "Best quality"}


@dataclass(frozen=True)
class Card:
    """What a business user needs to know to pick a generator."""

    title: str
    good_at: str
    speed: str  # "Seconds", "A minute or two", ...
    quality: str
    analogy: str
    presets: dict[str, dict] = field(default_factory=dict)  # preset -> config overrides


@dataclass(frozen=True)
class Entry:
    cls: type[Generator]
    card: Card


REGISTRY: dict[str, Entry] = {
    "auto": Entry(AutoGenerator, Card(
        title="Automatic pick",
        good_at="Not knowing which to choose: it tries several generators within the time you give it "
                "(3 minutes unless you say otherwise) and keeps the one whose rows match unseen real rows best.",
        speed="The time budget you set; the race is drawn live, one line per generator",
        quality="As good as the best generator it had time to try; the others stay available to open.",
        analogy="Like holding auditions: every candidate performs for the same judges, and the best gets the part.",
        presets={"fast": {"preset": "fast"}, "balanced": {"preset": "balanced"}, "best": {"preset": "best"}},
    )),
    "autoregressive": Entry(AutoregressiveGenerator, Card(
        title="Autoregressive",
        good_at="Close copies of the real patterns, including rare combinations, without copying real rows.",
        speed="About a minute for 5,000 rows; writes rows more slowly than the others",
        quality="Among the best here; the held-out line on the chart shows it is not memorising.",
        analogy="Like filling in a form one box at a time, each answer guided by the boxes already filled in.",
        presets={"fast": {"epochs": 40}, "balanced": {"epochs": 150}, "best": {"epochs": 300}},
    )),
    "diffusion": Entry(DiffusionGenerator, Card(
        title="Diffusion",
        good_at="Wide tables with many numbers that move together; the closest match on most tables.",
        speed="About a minute for 5,000 rows",
        quality="Among the best here; slower to write rows than the copula or the VAE.",
        analogy="Like restoring a photo buried in static: it learns to remove noise, then starts from noise.",
        presets={"fast": {"epochs": 60}, "balanced": {"epochs": 200}, "best": {"epochs": 400}},
    )),
    "copula": Entry(GaussianCopula, Card(
        title="Gaussian copula",
        good_at="Tables of numbers and categories with simple relationships; a quick first version.",
        speed="Seconds",
        quality="Good column shapes; links that differ between groups of rows (e.g. churners and the rest) "
                "come out roughly; misses finer non-linear patterns.",
        analogy="Like describing a crowd by each person's height and weight, plus how the two go together "
                "in each of a few groups.",
        presets={"fast": {}, "balanced": {}, "best": {"components": 12}},
    )),
    "bayesnet": Entry(BayesNetGenerator, Card(
        title="Bayesian network",
        good_at="A quick, readable model: it shows which columns go together, and it is the fast option "
                "with differential privacy (a formal privacy guarantee).",
        speed="Seconds",
        quality="Keeps the main links between columns; numbers are only as fine as their ranges (bins), "
                "and links among three or more columns at once are simplified.",
        analogy="Like a family tree of the columns: each column is filled in from a few columns it depends on.",
        presets={"fast": {"bins": 16, "max_parents": 1}, "balanced": {"bins": 20, "max_parents": 3, "penalty": 0.1},
                 "best": {"bins": 32, "max_parents": 3, "penalty": 0.25}},
    )),
    "vae": Entry(TabularVAE, Card(
        title="Variational autoencoder (TVAE)",
        good_at="Mixed tables with many categories and skewed numbers; strong all-rounder.",
        speed="Under a minute on a laptop for 5,000 rows",
        quality="Usually the best balance of quality and speed.",
        analogy="Like learning to summarise each row in a few notes, then writing new rows from new notes.",
        presets={"fast": {"epochs": 30}, "balanced": {"epochs": 150}, "best": {"epochs": 400}},
    )),
    "gan": Entry(ConditionalGAN, Card(
        title="Conditional GAN (CTGAN)",
        good_at="Imbalanced categories and rare cases that other methods smooth away.",
        speed="Under a minute for 5,000 rows (13-32 seconds on the benchmark tables, Balanced preset)",
        quality="Can capture rich patterns; needs more training and is less predictable.",
        analogy="A forger and an inspector training each other until the forgeries pass inspection.",
        presets={"fast": {"epochs": 20}, "balanced": {"epochs": 150}, "best": {"epochs": 400}},
    )),
    "flow": Entry(FlowGenerator, Card(
        title="Normalizing flow",
        good_at="Tables where numbers, dates and categories move together; it scores how likely every row is, "
                "so the held-out line on the chart shows honestly how well it knows rows it never saw.",
        speed="About a minute or a minute and a half for 5,000 rows; writes rows more slowly than the copula "
              "or the VAE (about 15 seconds for 5,000 rows of a wide table)",
        quality="Between the VAE and the best here: above the copula and the VAE on the two tables tried, "
                "below the autoregressive and diffusion generators; rare categories and exact links between "
                "categories come out blurrier, since it sees categories as ranges of numbers.",
        analogy="Like a stretchable map that bends a simple cloud of random points into the shape of the real "
                "rows, and can be walked back exactly to tell how likely any row is.",
        presets={"fast": {"epochs": 20}, "balanced": {"epochs": 60}, "best": {"epochs": 150}},
    )),
    "rbm": Entry(RBMGenerator, Card(
        title="Restricted Boltzmann machine (RBM)",
        good_at="Tables of categories and a few numbers where the common combinations matter most.",
        speed="Under a minute for 5,000 rows of about 20 columns; longer for wide tables, and writing rows "
              "takes a while because each row is reshuffled many times",
        quality="Good column shapes and the main links between columns, close to the Bayesian network on a "
                "telecom table; rare combinations are smoothed away, numbers are only as fine as their ranges "
                "(bins); the held-out line (how well it predicts each column of unseen rows from the others) "
                "decides when training has learned enough.",
        analogy="Like a panel of hidden judges who each watch a few columns: a row is reshuffled again and "
                "again until the judges agree it looks like a real one.",
        presets={"fast": {"epochs": 40}, "balanced": {"epochs": 80}, "best": {"epochs": 300, "burn_in": 500}},
    )),
}


def names() -> list[str]:
    return list(REGISTRY)


def recommended(rows: int, columns: int) -> str:
    """The generator suggested for a new table: the automatic pick, which races the generators that did best
    in the benchmark (bench/family.py) within a time budget and keeps the best on the user's own table, so
    no size rule is needed. The arguments are here for when a size calls for something else.
    """
    return "auto"


def measured(path: Path | None = None) -> dict[str, dict]:
    """The benchmark's figures per generator name (quality, attack AUC, fit seconds; see bench/family.py);
    empty when nothing was measured."""
    return {g["generator"]: g for g in _pick_file(path).get("generators", [])}


def measured_with(path: Path | None = None) -> str:
    """The command that measured those figures ('' when nothing was measured)."""
    return _pick_file(path).get("command", "")


def _pick_file(path: Path | None) -> dict:
    try:
        return json.loads((path or MEASURED).read_text())
    except (OSError, ValueError):
        return {}


def card(name: str) -> Card:
    return _entry(name).card


def generator_class(name: str) -> type[Generator]:
    return _entry(name).cls


def create(name: str, preset: str = "balanced", **overrides) -> Generator:
    """A new, untrained generator with a preset's settings plus any overrides (None means 'keep')."""
    entry = _entry(name)
    if preset not in PRESETS:
        raise ValueError(f"Unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    settings = dict(entry.card.presets.get(preset, {}))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return entry.cls(**settings)


def _entry(name: str) -> Entry:
    if name not in REGISTRY:
        raise KeyError(f"No generator called {name!r}; choose one of {', '.join(REGISTRY)}.")
    return REGISTRY[name]
