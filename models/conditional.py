"""Conditional sampling: a request checked against what a model learned, the model's native way, then a check.

``Evidence`` turns a ``tabular.conditions.Conditions`` into what the encoder's codecs allow: for a column
of categories, the slots that may be drawn; for a number or date, the range of positions (0..1) in its
distribution. It refuses, in plain words, values the model never saw and ranges outside what it knows,
saying what the closest possible request is. Each generator reads the evidence in its own representation
(``tokens``, ``mixed``, ``normal_intervals``, ``fixed_slots``) in ``_sample_given``; those without a native
way draw freely. ``sample_conditioned`` then keeps only rows meeting every condition and draws again, a
bounded number of times, so every returned row meets the request; a mix is met exactly by drawing each
value's share as a fixed-value request.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from tabular.conditions import ConditionError, Conditions, bounds, check_request, show
from tabular.encoding import EPS, ContinuousCodec, DiscreteCodec, TableEncoder
from tabular.privacy import POOLED_LABEL
from tabular.representations import MixedLayout, TokenLayout
from tabular.schema import Kind

if TYPE_CHECKING:
    from models.base import Generator

FIXED_WIDTH = 0.01  # a fixed number is drawn near its position (this share of the distribution), then set exactly
MAX_DRAW_FACTOR = 50  # rows drawn at most per row asked for, before a request is called too rare
MIN_DRAWS = 20_000  # ... but at least this many
TOP_SHARE = 0.01  # a range beyond what a model knows is offered the top (or bottom) 1% of rows instead


@dataclass(frozen=True)
class TokenEvidence:
    """What one token column may be: ``allowed`` tokens, drawn with extra log-weight ``log_weight``, and for a
    binned number where inside its bin (``low``..``high``, shares of the bin) the value may sit."""

    allowed: np.ndarray  # bool [vocab]
    log_weight: np.ndarray  # float [vocab]: log of the share of each token's bin inside the range (0 for categories)
    low: np.ndarray  # float [vocab]
    high: np.ndarray  # float [vocab]

    @property
    def bias(self) -> np.ndarray:
        """What to add to a column's logits (or log-probabilities): ``log_weight`` where allowed, else -inf."""
        return np.where(self.allowed, self.log_weight, -np.inf)

    def inside(self, tokens: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """Where in its bin each value sits: ``uniform`` (0..1) spread over the asked part of the token's bin."""
        return self.low[tokens] + uniform * (self.high[tokens] - self.low[tokens])


def token_within(tokens: np.ndarray, given: dict[int, TokenEvidence], uniform: np.ndarray) -> np.ndarray:
    """``TokenTable.within`` for rows meeting ``given``: conditioned columns inside the asked part of their bin,
    NaN elsewhere (drawn anywhere in the bin when decoding)."""
    within = np.full(tokens.shape, np.nan)
    for j, evidence in given.items():
        within[:, j] = evidence.inside(tokens[:, j], uniform[:, j])
    return within


class Evidence:
    """A request in the encoder's terms: allowed slots per category column, allowed positions per number."""

    def __init__(self, encoder: TableEncoder, slots: dict[str, np.ndarray],
                 positions: dict[str, tuple[float, float]], fixed: dict[str, Any]) -> None:
        self.encoder = encoder
        self.slots = slots  # column -> bool [slots]: which slots may be drawn
        self.positions = positions  # column -> (low, high) positions in (0, 1)
        self.fixed = fixed  # column -> the exact value each row gets

    def __bool__(self) -> bool:
        return bool(self.slots) or bool(self.positions)

    # ----- in each representation -------------------------------------------------------------------------
    def tokens(self, layout: TokenLayout) -> dict[int, TokenEvidence]:
        """Per token column (index in the layout) with a condition: allowed tokens and in-bin limits."""
        out = {}
        for j, (name, size) in enumerate(zip(layout.columns, layout.vocab)):
            if name in self.slots:
                allowed = self.slots[name]
                out[j] = TokenEvidence(allowed, np.zeros(size), np.zeros(size), np.ones(size))
            elif name in self.positions:
                lo, hi = (p * layout.bins for p in self.positions[name])
                start = np.arange(size, dtype=float)
                low, high = np.clip(lo - start, 0, 1), np.clip(hi - start, 0, 1)
                share = np.where(start < layout.bins, high - low, 0.0)
                out[j] = TokenEvidence(share > 0, np.log(np.maximum(share, 1e-300)), low, high)
        return out

    def mixed(self, layout: MixedLayout) -> tuple[dict[int, tuple[float, float]], dict[int, np.ndarray]]:
        """Normal-score intervals per number (index in ``layout.numbers``) and allowed tokens per token column."""
        numbers = {j: self.score_interval(name) for j, name in enumerate(layout.numbers) if name in self.positions}
        tokens = {}
        for j, (name, role) in enumerate(layout.tokens):
            if role == "value" and name in self.slots:
                tokens[j] = self.slots[name]
            elif role == "missing" and name in self.positions:
                tokens[j] = np.array([True, False])  # a number with a condition is never missing
        return numbers, tokens

    def normal_intervals(self) -> dict[int, list[tuple[float, float]]]:
        """Per normal-score dimension (index in ``encoder.spans_``) the intervals of scores it may take."""
        out = {}
        for j, span in enumerate(self.encoder.spans_):
            codec = self.encoder.codecs_[span.column]
            if codec.discrete and span.column in self.slots:
                edges = codec.normal_edges()
                out[j] = [(float(edges[s]), float(edges[s + 1])) for s in np.flatnonzero(self.slots[span.column])]
            elif span.role == "value" and span.column in self.positions:
                out[j] = [self.score_interval(span.column)]
            elif span.role == "missing" and span.column in self.positions:
                out[j] = [(float(ndtri(np.clip(codec.missing_share, EPS, 1 - EPS))), math.inf)]
        return out

    def admits(self, frame: pd.DataFrame) -> np.ndarray:
        """Which decoded rows the model drew inside the evidence: an allowed slot for each category column (a
        rare value counts as its "other" slot), a value inside the allowed positions for each number."""
        ok = np.ones(len(frame), dtype=bool)
        for column, allowed in self.slots.items():
            ok &= allowed[self.encoder.codecs_[column].codes(frame[column])]
        for column, (lo, hi) in self.positions.items():
            low, high = self.encoder.codecs_[column].from_uniform(np.array([lo, hi])).tolist()
            values = frame[column]
            ok &= (values.ge(low) & values.le(high)).fillna(False).to_numpy(dtype=bool)
        return ok

    def fixed_slots(self) -> dict[str, int]:
        """Category columns whose condition allows exactly one slot, and that slot."""
        return {name: int(np.flatnonzero(mask)[0]) for name, mask in self.slots.items() if mask.sum() == 1}

    def score_interval(self, column: str) -> tuple[float, float]:
        lo, hi = self.positions[column]
        return float(ndtri(max(lo, EPS))), float(ndtri(min(hi, 1 - EPS)))

    # ----- building -------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, model: Generator, conditions: Conditions) -> Evidence:
        """The evidence for ``conditions`` (row conditions only), or a ``ConditionError`` saying what would work."""
        encoder, slots, positions, fixed = model.encoder_, {}, {}, {}
        protected = bool(model.privacy_.protect or model.privacy_.private)
        for column in dict.fromkeys(c.column for c in conditions.where):
            mine = [c for c in conditions.where if c.column == column]
            value = conditions.value_of(column)  # "x >= 5 and x <= 5" too: written exactly like "x = 5"
            if column in model.constants_:
                _check_constant(column, model.constants_[column], mine)
                continue
            codec = encoder.codecs_.get(column)
            if codec is None:
                raise ConditionError(f"This model did not learn column '{column}', so rows cannot be asked to "
                                     "have a value there.")
            if value is not None:
                fixed[column] = value
            if codec.discrete:
                slots[column] = _allowed_slots(codec, conditions, column, protected)
            else:
                positions[column] = _allowed_positions(codec, conditions, column)
        return cls(encoder, slots, positions, fixed)


def _check_constant(column: str, constant: str | None, mine: list) -> None:
    for c in mine:
        if not c.fixed or str(c.value) != str(constant):
            raise ConditionError(f"'{column}' holds one value only ({constant}), so {c.words()} cannot be met.")


def _slot_values(codec: DiscreteCodec) -> list[Any]:
    """Each slot's value typed like the column (None for the "other" and "missing" slots)."""
    typed = codec.decode_codes(np.arange(len(codec.values)), np.random.default_rng(0)).tolist()
    return typed + [None] * (len(codec.slots) - len(codec.values))


def _allowed_slots(codec: DiscreteCodec, conditions: Conditions, column: str, protected: bool) -> np.ndarray:
    mine = Conditions(tuple(c for c in conditions.where if c.column == column))
    values = _slot_values(codec)
    allowed = np.zeros(len(codec.slots), dtype=bool)
    frame = pd.DataFrame({column: pd.Series(values[: len(codec.values)], dtype=object)})
    allowed[: len(codec.values)] = mine.met(frame) if len(codec.values) else []
    if "__other__" in codec.slots and codec.rare:
        rare = codec.typed(pd.Series(codec.rare, dtype=object))
        if mine.met(pd.DataFrame({column: rare})).any():
            allowed[codec.slots.index("__other__")] = True
    if not allowed.any():
        raise ConditionError(_unseen_category(codec, mine, column, protected))
    return allowed


def _unseen_category(codec: DiscreteCodec, mine: Conditions, column: str, protected: bool) -> str:
    """Why no category meets the request, with the closest values the model can write."""
    known = list(codec.values) + list(codec.rare)  # the pooled label too: it may be what was typed
    shown = [show(v) for v in _slot_values(codec)[: len(codec.values)] if v is not None] + codec.rare
    fixed = next((c for c in mine.where if c.fixed), None)
    if fixed is not None and codec.spec.kind is Kind.CATEGORY:
        close = difflib.get_close_matches(str(fixed.value), known, n=3, cutoff=0.5)
        close = close or [v for v in known if v.lower() == str(fixed.value).lower()]
        pooled = codec.pooled is not None and codec.pooled in codec.values
        rare_note = (f" Values seen in only a few rows are not kept, to protect the people in them (they are "
                     f"written as {POOLED_LABEL}).") if protected and pooled else ""
        hint = f" Did you mean {' or '.join(repr(v) for v in close)}?" if close else (
            f" It can write: {', '.join(shown[:12])}{', ...' if len(shown) > 12 else ''}.")
        return f"'{fixed.value}' never appears in '{column}' as this model learned it.{hint}{rare_note}"
    return (f"No value of '{column}' the model learned meets {mine.words()}. It can write: "
            f"{', '.join(shown[:12])}{', ...' if len(shown) > 12 else ''}.")


def _allowed_positions(codec: ContinuousCodec, conditions: Conditions, column: str) -> tuple[float, float]:
    """The positions (0..1) of the column's distribution that meet its conditions."""
    low, high = bounds(conditions, column)
    kind_series = (lambda v: pd.Series([v], dtype="datetime64[ns]") if codec.spec.kind is Kind.DATETIME
                   else pd.Series([float(v)]))
    first, last = codec.from_uniform(np.array([0.0, 1.0])).tolist()
    span = f"from {show(_scalar(first))} to {show(_scalar(last))}"
    if low is not None and high is not None and low[0] == high[0]:  # a fixed value: near its position
        value = low[0]
        if _scalar(value) < _scalar(first) or _scalar(value) > _scalar(last):
            raise ConditionError(f"No '{column}' of {show(value)} was seen: the values this model knows run {span}.")
        lo, hi = codec.positions(kind_series(value))
        middle = (lo[0] + hi[0]) / 2
        return max(min(lo[0], middle - FIXED_WIDTH / 2), 0.0), min(max(hi[0], middle + FIXED_WIDTH / 2), 1.0)
    lo_pos, hi_pos = 0.0, 1.0
    if low is not None:
        lo, hi = codec.positions(kind_series(low[0]))
        lo_pos = float(hi[0] if not low[1] else lo[0])
    if high is not None:
        lo, hi = codec.positions(kind_series(high[0]))
        hi_pos = float(lo[0] if not high[1] else hi[0])
    if hi_pos - lo_pos <= 1e-9:
        raise ConditionError(_out_of_range(codec, column, low, high, span))
    return lo_pos, hi_pos


def _out_of_range(codec: ContinuousCodec, column: str, low, high, span: str) -> str:
    asked = " and ".join(filter(None, [
        f"{'≥' if low[1] else '>'} {show(low[0])}" if low else "",
        f"{'≤' if high[1] else '<'} {show(high[0])}" if high else ""]))
    message = f"Too few rows have '{column}' {asked} for the model to write them: the values it knows run {span}."
    if low is not None and high is None:
        edge = _scalar(codec.from_uniform(np.array([1 - TOP_SHARE])).iloc[0])
        return message + f" The closest request it can meet is {column} ≥ {show(edge)} (the top 1% of rows)."
    if high is not None and low is None:
        edge = _scalar(codec.from_uniform(np.array([TOP_SHARE])).iloc[0])
        return message + f" The closest request it can meet is {column} ≤ {show(edge)} (the bottom 1% of rows)."
    return message


def _scalar(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value)
    return float(value) if value is not None and not isinstance(value, str) else value


# ----- drawing ------------------------------------------------------------------------------------------------
def sample_conditioned(model: Generator, n: int, conditions: Conditions, seed: int | None = None) -> pd.DataFrame:
    """``n`` rows (model columns, typed) meeting every condition, with a mix met exactly; else ``ConditionError``."""
    check_request(conditions)
    rng = np.random.default_rng(seed)
    parts = [(part, Evidence.build(model, part), count) for part, count in conditions.parts(n)]  # all checked
    frames = [_draw(model, count, part, evidence, rng) for part, evidence, count in parts if count]  # first
    if not frames:
        return model._decode_sample(0, 0)
    frame = pd.concat(frames, ignore_index=True)
    return frame if len(frames) == 1 else frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def _draw(model: Generator, n: int, conditions: Conditions, evidence: Evidence,
          rng: np.random.Generator) -> pd.DataFrame:
    """Draw in rounds, keeping rows that meet the conditions, until ``n`` are made or the draws run out."""
    conditions = Conditions(tuple(c for c in conditions.where if c.column not in model.constants_))  # written later
    kept, have, tried = [], 0, 0
    limit = max(MAX_DRAW_FACTOR * n, MIN_DRAWS)
    rate = 1.0
    while have < n and tried < limit:
        ask = int(min(max((n - have) / max(rate, 1e-3) * 1.1, 64), limit - tried, 10 * model.sample_chunk))
        frame = model._decode_sample(ask, int(rng.integers(2**62)), evidence)
        admitted = evidence.admits(frame)  # drawn in the asked slots and ranges, before fixed values are written
        for column, value in evidence.fixed.items():
            frame[column] = _column_of(value, len(frame), frame[column].dtype)
        ok = admitted & conditions.met(frame)
        tried += ask
        have += int(ok.sum())
        kept.append(frame[ok])
        rate = max(have / tried, 1 / limit)
    if have < n:
        raise ConditionError(_too_rare(model, n, have, tried, conditions))
    out = pd.concat(kept, ignore_index=True).iloc[:n]
    return out.reset_index(drop=True)


def _column_of(value: Any, n: int, dtype) -> pd.Series:
    try:
        return pd.Series([value] * n, dtype=dtype)
    except (TypeError, ValueError):
        return pd.Series([value] * n)


def _too_rare(model: Generator, n: int, have: int, tried: int, conditions: Conditions) -> str:
    from models.registry import card

    title = card(model.picked.name).title
    native = [card(name).title for name in native_generators()]
    how = "" if model.picked.native_conditions else (
        f" Generators that meet conditions directly ({', '.join(native)}) find rare cases far more easily.")
    if have == 0:
        return (f"The {title} did not write a single row with {conditions.words()} in {tried:,} tries: this case is "
                f"too rare for it. Widen the condition, or fix fewer columns." + how)
    return (f"Only about 1 in {tried // have:,} rows the {title} writes has {conditions.words()}, so {n:,} such rows "
            f"could not be made (it made {have:,} in {tried:,} tries). Ask for fewer rows or widen the condition." + how)


def pickable(codec: DiscreteCodec, rare: bool = False) -> list[str]:
    """The values of a category column a request can name, as stored text, most common first: the kept values
    (not the pooled "Other" of protections), and with ``rare`` the rare ones drawn through the "other" slot."""
    return [v for v in codec.values if v != POOLED_LABEL or codec.pooled is None] + (list(codec.rare) if rare else [])


def column_values(model: Generator, column: str) -> list[str]:
    """The values of a column of categories the model can write, as text, most common first (for equal shares)."""
    codec = model.picked.encoder_.codecs_.get(column)
    if codec is None or not codec.discrete or not pickable(codec):
        raise ConditionError(f"'{column}' is not a column of categories this model learned, so it cannot be "
                             "balanced.")
    return pickable(codec)


def native_generators() -> list[str]:
    """Names of the registered generators that meet conditions in their own way."""
    from models.registry import generator_class, names

    return [name for name in names() if generator_class(name).native_conditions]
