"""Privacy settings of a fit, the differential-privacy budget ledger, and what a budget means in words."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, fields
from typing import Any

POOLED_LABEL = "Other"  # what categories seen in fewer than ``min_count`` rows become
DEFAULT_MIN_COUNT = 5  # k: a value must be shared by at least this many rows to be learned as itself
DEFAULT_CLIP_SHARE = 0.005  # numbers are clipped to the 0.5% .. 99.5% range before learning
PREPROCESS_SHARE = 0.1  # under differential privacy, share of epsilon spent on the column statistics
RELEASE_DELTA_SHARE = 0.1  # share of delta for the chance that a one-off category clears its release threshold
EPSILON_CHOICES = (1.0, 3.0, 10.0)  # the budgets offered in the app, strongest first
# Renyi orders searched when converting to (epsilon, delta): Opacus' defaults stop at 63, too low for the
# heavily noised single releases of small budgets (their best order is in the hundreds).
ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)) + [80, 100, 128, 160, 200, 256, 320, 400,
                                                                       512, 640, 800, 1024, 2048, 4096]
# The whole orders among them, for the noise search: a fractional order costs a slow series each (seconds per
# search for DP-SGD at a small budget), and fewer orders only overstate epsilon, so the noise found is safe.
SEARCH_ORDERS = [a for a in ALPHAS if float(a).is_integer()]
# The noise search probes budgets far from the target, where Opacus warns that a smaller order might be tighter.
warnings.filterwarnings("ignore", message="Optimal order is the smallest alpha", category=UserWarning)


@dataclass
class PrivacySettings:
    """How a fit protects the people in the table.

    ``protect`` (on by default) pools rare categories, clips extreme numbers and keeps no exact real value
    in the model file. ``epsilon`` turns on differential privacy for generators that support it.
    """

    protect: bool = True  # rare categories pooled, extremes clipped, quantiles coarsened
    min_count: int = DEFAULT_MIN_COUNT  # categories (and tied numbers) in fewer rows are pooled/averaged
    clip_share: float = DEFAULT_CLIP_SHARE  # share of rows at each end of a number's range clipped inward
    epsilon: float | None = None  # differential-privacy budget; None: no differential privacy
    delta: float | None = None  # chance the guarantee fails; None: 1 / (10 x rows), below 1 / rows
    max_grad_norm: float = 1.0  # DP-SGD: each row's gradient is clipped to this length
    # Under DP the fit draws from a secret seed (never saved), so nobody can recompute the noise and take it
    # off; such fits are not reproducible from their seed. False only where tests need the same fit twice.
    secret_noise: bool = True

    @property
    def private(self) -> bool:
        """Whether differential privacy is on."""
        return self.epsilon is not None

    def delta_for(self, rows: int) -> float:
        """The delta used for a table of ``rows`` rows (always below 1 / rows)."""
        return self.delta if self.delta is not None else 1.0 / (10.0 * max(rows, 1))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PrivacySettings:
        """Settings from ``to_dict`` output; unknown keys (from other versions) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    @classmethod
    def off(cls) -> PrivacySettings:
        """No protections at all: the model may keep rare values and extremes (the user accepted the risk)."""
        return cls(protect=False)


class PrivacyLedger:
    """The differential-privacy spending of one fit, composed with Renyi-DP accounting (Opacus).

    Every release of private information is one Gaussian mechanism entry: its noise multiplier (noise
    standard deviation over the sensitivity), the share of rows it looks at (1 for statistics over the
    whole table, the Poisson sampling rate for DP-SGD steps) and how many times it ran.
    """

    def __init__(self, delta: float, release_share: float = RELEASE_DELTA_SHARE) -> None:
        self.total_delta = delta  # the guarantee's delta: Renyi conversion plus category release
        self.release_delta = release_share * delta  # chance a one-off category clears its release threshold
        self.delta = delta - self.release_delta  # the delta of the Renyi-DP conversion
        self.entries: list[tuple[float, float, int]] = []

    def add(self, noise_multiplier: float, sample_rate: float = 1.0, steps: int = 1) -> None:
        self.entries.append((float(noise_multiplier), float(sample_rate), int(steps)))

    def epsilon(self, extra: list[tuple[float, float, int]] | None = None,
                orders: list[float] | None = None) -> float:
        """Epsilon spent so far (plus ``extra`` entries not yet run), at this ledger's delta.

        ``orders``: the Renyi orders to convert from (default: ``ALPHAS``); fewer orders give an upper bound
        of the default's epsilon, since epsilon is the minimum over the orders.
        """
        entries = self.entries + list(extra or [])
        if not entries:
            return 0.0
        from opacus.accountants import RDPAccountant

        accountant = RDPAccountant()
        accountant.history = [e for e in entries if e[2] > 0]
        return float(accountant.get_epsilon(self.delta, alphas=orders or ALPHAS)) if accountant.history else 0.0

    def noise_for(self, target: float, sample_rate: float = 1.0, steps: int = 1) -> float:
        """The smallest noise multiplier for ``steps`` more releases keeping the total at most ``target``.

        Searched with whole Renyi orders only (``SEARCH_ORDERS``), an upper bound of the full accounting.
        """
        # A subsampled release costs a loop per order and unit of order; its best order is small anyway.
        orders = SEARCH_ORDERS if sample_rate >= 1 else [a for a in SEARCH_ORDERS if a <= 256]

        def spent(noise: float) -> float:
            return self.epsilon([(noise, sample_rate, steps)], orders)

        lo, hi = 0.05, 1.0
        while spent(hi) > target:
            lo, hi = hi, hi * 2
            if hi > 1e5:
                raise ValueError("This privacy budget is too small for the work asked of it.")
        for _ in range(40):
            mid = math.sqrt(lo * hi)
            lo, hi = (mid, hi) if spent(mid) > target else (lo, mid)
            if hi / lo < 1.001:
                break
        return hi

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PrivacyLedger:
        """A ledger from ``state()`` (as saved in a model file)."""
        ledger = cls(float(state["delta"]))
        ledger.entries = [(float(a), float(b), int(c)) for a, b, c in state["entries"]]
        return ledger

    def state(self) -> dict[str, Any]:
        return {"delta": self.total_delta, "entries": [list(e) for e in self.entries], "epsilon": self.epsilon()}


@dataclass(frozen=True)
class Strength:
    """What a privacy budget means for a business user."""

    word: str  # "strong", "moderate" or "weak"
    meaning: str


def strength(epsilon: float) -> Strength:
    """Plain words for an epsilon (the smaller, the stronger the guarantee)."""
    if epsilon <= 1.0:
        return Strength("strong", "Anyone holding the synthetic data learns almost nothing about any one person: "
                                  "the output would look nearly the same if that person had not been in the table. "
                                  "Expect a clear loss of detail.")
    if epsilon <= 5.0:
        return Strength("moderate", "A good balance: one person's presence changes the output only a little, "
                                    "and the main patterns of the table are kept.")
    return Strength("weak", "A formal guarantee, but a loose one: patterns come through well, and an attacker "
                            "could learn somewhat more about individuals than with a smaller budget.")


def describe(settings: PrivacySettings, spent: float | None, delta: float | None) -> str:
    """One plain sentence on how a model was protected (for the Train step, the report and the CLI)."""
    parts = ["Privacy protections were on (rare categories pooled, extremes clipped, no exact real value kept)"
             if settings.protect else "Privacy protections were OFF (rare values and extremes may be kept)"]
    if spent is not None:
        word = strength(settings.epsilon or spent).word
        parts.append(f"differential privacy spent epsilon {spent:.2f} of {settings.epsilon:g} ({word}; "
                     f"delta {delta:.0e})")
    else:
        parts.append("no differential privacy")
    return "; ".join(parts) + "."
