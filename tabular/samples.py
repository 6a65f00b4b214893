"""The sample datasets bundled in assets/samples, so a first-time user can try the app without a file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "samples"


@dataclass(frozen=True)
class Sample:
    """One bundled dataset with where it came from."""

    key: str
    file: str
    title: str
    description: str
    source: str
    licence: str

    @property
    def path(self) -> Path:
        return SAMPLES_DIR / self.file


def samples() -> list[Sample]:
    """All bundled samples, in the order the catalogue lists them."""
    entries = json.loads((SAMPLES_DIR / "catalog.json").read_text(encoding="utf-8"))
    return [Sample(**entry) for entry in entries]


def sample(key: str) -> Sample:
    for item in samples():
        if item.key == key:
            return item
    raise KeyError(f"No sample dataset called {key!r}")
