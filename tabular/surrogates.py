"""Stand-ins for columns that must not be learned: fresh unique IDs and realistic fake personal data."""

from __future__ import annotations

import string
from collections import Counter

import numpy as np
import pandas as pd
from faker import Faker

from tabular.schema import ColumnSpec, Handling, Kind, TableSchema

FAKE_POOL = 2000  # distinct fake values drawn per column, then sampled with replacement (Faker is slow)
_FAKERS = {
    Kind.EMAIL: "email",
    Kind.PHONE: "phone_number",
    Kind.PERSON_NAME: "name",
    Kind.ADDRESS: "street_address",
    Kind.CREDIT_CARD: "credit_card_number",
    Kind.IBAN: "iban",
    Kind.NATIONAL_ID: "ssn",
    Kind.IP_ADDRESS: "ipv4",
}


def id_template(values: pd.Series) -> str:
    """The shape of an ID column: '9' for any digit, 'A'/'a' for any upper/lower letter.

    Letters and punctuation every value shares stay as they are (e.g. 'CUST-99999'); digits always
    vary. Only the shape is kept, never a real value.
    """
    text = values.dropna().astype(str)
    if text.empty:
        return "99999999"
    length = Counter(text.str.len()).most_common(1)[0][0]
    same = text[text.str.len() == length].head(2000).tolist()
    template = []
    for chars in zip(*same):
        first = chars[0]
        if all(c.isdigit() for c in chars):  # digits always vary: widens the space of new IDs
            template.append("9")
        elif all(c == first for c in chars) and len(same) > 1:
            template.append("\\" + first if first in "9Aa\\" else first)
        elif all(c.isupper() for c in chars):
            template.append("A")
        elif all(c.islower() for c in chars):
            template.append("a")
        else:
            template.append("A" if sum(c.isalpha() for c in chars) > len(chars) / 2 else "9")
    return "".join(template)


def _fill_template(template: str, n: int, rng: np.random.Generator) -> list[str]:
    pools = {"9": string.digits, "A": string.ascii_uppercase, "a": string.ascii_lowercase}
    parts, literal = [], False
    for ch in template:
        if literal or ch not in pools:
            parts.append(np.full(n, ch, dtype=object))
            literal = False
        elif ch == "\\":
            literal = True
        else:
            parts.append(np.array(list(pools[ch]), dtype=object)[rng.integers(0, len(pools[ch]), n)])
    if not parts:
        return [""] * n
    out = parts[0]
    for part in parts[1:]:
        out = out + part
    return list(out)


def new_ids(template: str, numeric_start: int | None, n: int, rng: np.random.Generator) -> list:
    """``n`` unique IDs shaped like the template (numeric IDs count up from a random start)."""
    if numeric_start is not None:
        return list(range(numeric_start, numeric_start + n))
    seen: set[str] = set()
    out: list[str] = []
    for _ in range(20):  # a few rounds absorb the rare duplicate draws
        for value in _fill_template(template, n - len(out), rng):
            if value not in seen:
                seen.add(value)
                out.append(value)
        if len(out) == n:
            return out
    suffix = 0
    while len(out) < n:  # a template too narrow for n unique values: widen with a counter
        out.append(f"{template.replace(chr(92), '')}-{suffix}")
        suffix += 1
    return out


PHONE_SHAPES = ("(999) 999-9999", "999-999-9999", "+1-999-999-9999", "999.999.9999")
EMAIL_DOMAINS = np.array(["example.com", "example.org", "example.net"], dtype=object)  # reserved, never real


def _name_parts(locale: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import importlib

    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    firsts = dict(getattr(provider, "first_names", {}) or {})
    weights = np.array([float(w) if isinstance(firsts, dict) else 1.0 for w in firsts.values()])
    return (np.array(list(firsts), dtype=object), weights / weights.sum(),
            np.array(list(getattr(provider, "last_names", ["Smith"])), dtype=object))


def _fast_fakes(kind: Kind, n: int, rng: np.random.Generator, locale: str) -> np.ndarray | None:
    """Names, emails and phone numbers drawn straight from Faker's word lists: fast and varied."""
    if kind in (Kind.PERSON_NAME, Kind.EMAIL):
        firsts, weights, lasts = _name_parts(locale)
        first, last = rng.choice(firsts, n, p=weights), rng.choice(lasts, n)
        if kind is Kind.PERSON_NAME:
            return first + " " + last
        digits = np.where(rng.random(n) < 0.5, rng.integers(1, 99, n).astype(str), "")
        local = np.char.lower((first + np.where(rng.random(n) < 0.5, ".", "") + last + digits).astype(str))
        return local.astype(object) + "@" + rng.choice(EMAIL_DOMAINS, n)
    if kind is Kind.PHONE:
        counts = rng.multinomial(n, np.full(len(PHONE_SHAPES), 1 / len(PHONE_SHAPES)))
        numbers = [v for shape, k in zip(PHONE_SHAPES, counts) for v in _fill_template(shape, int(k), rng)]
        return np.array(numbers, dtype=object)[rng.permutation(n)]
    return None


def fake_values(kind: Kind, n: int, seed: int, locale: str = "en_US") -> list[str]:
    """Realistic made-up values of a personal-data kind."""
    fast = _fast_fakes(kind, n, np.random.default_rng(seed), locale)
    if fast is not None:
        return list(fast)
    fake = Faker(locale)
    fake.seed_instance(seed)
    method = getattr(fake, _FAKERS.get(kind, "word"))
    pool = [method() for _ in range(min(n, FAKE_POOL))]
    rng = np.random.default_rng(seed)
    return [pool[i] for i in rng.integers(0, len(pool), n)] if n > len(pool) else pool


def emails_from_names(names: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """Email addresses that match the (fake) names on the same rows, on reserved example domains."""
    n = len(names)
    words = names.fillna("").astype(str).str.casefold().str.replace(r"[^a-z ]", "", regex=True).str.split()
    first, last = words.str[0].fillna("user").to_numpy(object), words.str[-1].fillna("").to_numpy(object)
    sep = rng.choice(np.array([".", "", "_"], dtype=object), n)
    digits = np.where(rng.random(n) < 0.4, rng.integers(1, 99, n).astype(str), "").astype(object)
    return first + np.where(last == first, "", sep + last) + digits + "@" + rng.choice(EMAIL_DOMAINS, n)


class SurrogateMaker:
    """Learns only the shape of ID columns at fit time; makes IDs and fakes at sample time."""

    def __init__(self) -> None:
        self.templates_: dict[str, str] = {}
        self.numeric_: dict[str, int] = {}

    def fit(self, table: pd.DataFrame, schema: TableSchema) -> SurrogateMaker:
        for spec in schema.columns:
            if spec.handling is not Handling.NEW_IDS:
                continue
            values = table[spec.name]
            if pd.api.types.is_numeric_dtype(values):
                self.numeric_[spec.name] = int(10 ** max(len(str(int(values.max() or 0))) - 1, 3))
            else:
                self.templates_[spec.name] = id_template(values)
        return self

    def make(self, spec: ColumnSpec, n: int, rng: np.random.Generator) -> pd.Series:
        """Values for a column handled as new IDs or fake personal data."""
        if spec.handling is Handling.NEW_IDS:
            if spec.name in self.numeric_:
                start = int(rng.integers(self.numeric_[spec.name], self.numeric_[spec.name] * 9))
                return pd.Series(new_ids("", start, n, rng), dtype="Int64")
            values = new_ids(self.templates_.get(spec.name, "AAAA-9999"), None, n, rng)
        else:
            values = fake_values(spec.kind, n, int(rng.integers(2**31)))
        return pd.Series(values, dtype=pd.StringDtype("pyarrow"))

    def fill(self, frame: pd.DataFrame, schema: TableSchema, rng: np.random.Generator) -> None:
        """Make every ID and fake column of ``frame``; fake emails follow a fake name column when there is one."""
        specs = [c for c in schema.columns if c.handling in (Handling.NEW_IDS, Handling.FAKE)]
        for spec in specs:
            values = self.make(spec, len(frame), rng)
            frame[spec.name] = pd.Series(values.to_numpy(), index=frame.index, dtype=values.dtype)
        names = [c.name for c in specs if c.kind is Kind.PERSON_NAME and c.handling is Handling.FAKE]
        for spec in specs:
            if names and spec.kind is Kind.EMAIL and spec.handling is Handling.FAKE:
                frame[spec.name] = pd.Series(emails_from_names(frame[names[0]], rng), index=frame.index,
                                             dtype=pd.StringDtype("pyarrow"))

    def state_dict(self) -> dict:
        return {"templates": dict(self.templates_), "numeric": dict(self.numeric_)}

    def load_state_dict(self, state: dict) -> SurrogateMaker:
        self.templates_, self.numeric_ = dict(state["templates"]), dict(state["numeric"])
        return self
