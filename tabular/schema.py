"""Plain dataclasses describing a table: one spec per column (kind, handling, format), saved as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """What a column holds, as the app understood it."""

    NUMBER = "number"
    WHOLE_NUMBER = "whole_number"
    CATEGORY = "category"
    YES_NO = "yes_no"
    DATETIME = "datetime"
    IDENTIFIER = "identifier"
    FREE_TEXT = "free_text"
    CONSTANT = "constant"
    EMAIL = "email"
    PHONE = "phone"
    PERSON_NAME = "person_name"
    ADDRESS = "street_address"
    CREDIT_CARD = "credit_card"
    IBAN = "iban"
    NATIONAL_ID = "national_id"
    IP_ADDRESS = "ip_address"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]

    @property
    def is_personal(self) -> bool:
        return self in PERSONAL_KINDS


class Handling(str, Enum):
    """What the synthetic copy does with a column."""

    SYNTHESIZE = "synthesize"
    DROP = "drop"
    NEW_IDS = "new_ids"
    FAKE = "fake"

    @property
    def label(self) -> str:
        return HANDLING_LABELS[self]


KIND_LABELS = {
    Kind.NUMBER: "Number",
    Kind.WHOLE_NUMBER: "Whole number",
    Kind.CATEGORY: "Category",
    Kind.YES_NO: "Yes/No",
    Kind.DATETIME: "Date/time",
    Kind.IDENTIFIER: "Identifier",
    Kind.FREE_TEXT: "Free text",
    Kind.CONSTANT: "Constant",
    Kind.EMAIL: "Email (personal)",
    Kind.PHONE: "Phone number (personal)",
    Kind.PERSON_NAME: "Person name (personal)",
    Kind.ADDRESS: "Street address (personal)",
    Kind.CREDIT_CARD: "Credit-card number (personal)",
    Kind.IBAN: "IBAN (personal)",
    Kind.NATIONAL_ID: "National ID (personal)",
    Kind.IP_ADDRESS: "IP address (personal)",
}

HANDLING_LABELS = {
    Handling.SYNTHESIZE: "Synthesize",
    Handling.DROP: "Drop",
    Handling.NEW_IDS: "New unique IDs",
    Handling.FAKE: "Fake values",
}

PERSONAL_KINDS = frozenset(
    {
        Kind.EMAIL,
        Kind.PHONE,
        Kind.PERSON_NAME,
        Kind.ADDRESS,
        Kind.CREDIT_CARD,
        Kind.IBAN,
        Kind.NATIONAL_ID,
        Kind.IP_ADDRESS,
    }
)

# Kinds whose values a generator learns from; the others are dropped or regenerated.
MODELLED_KINDS = frozenset(
    {Kind.NUMBER, Kind.WHOLE_NUMBER, Kind.CATEGORY, Kind.YES_NO, Kind.DATETIME, Kind.CONSTANT}
)
NUMERIC_KINDS = (Kind.NUMBER, Kind.WHOLE_NUMBER, Kind.DATETIME)  # kinds compared as numbers (dates as time)


def default_handling(kind: Kind) -> Handling:
    """The safe default: personal data is faked, identifiers renewed, free text left out."""
    if kind in PERSONAL_KINDS:
        return Handling.FAKE
    if kind is Kind.IDENTIFIER:
        return Handling.NEW_IDS
    if kind is Kind.FREE_TEXT:
        return Handling.DROP
    return Handling.SYNTHESIZE


def allowed_handlings(kind: Kind) -> list[Handling]:
    """Handlings that make sense for a kind, the default first."""
    options = [Handling.SYNTHESIZE, Handling.DROP, Handling.NEW_IDS]
    if kind in PERSONAL_KINDS:
        options.append(Handling.FAKE)
    first = default_handling(kind)
    return [first] + [h for h in options if h is not first]


@dataclass
class ColumnFormat:
    """How values were written in the file, so exports can write them back the same way."""

    decimal_sep: str = "."  # "." or ","
    thousands_sep: str = ""  # "", ",", ".", " " or "'"
    decimals: int = 0  # digits after the decimal separator seen in the file
    prefix: str = ""  # currency sign before numbers, e.g. "$"
    suffix: str = ""  # unit after numbers, e.g. "%" or " €"
    datetime_format: str = ""  # strftime pattern, e.g. "%d/%m/%Y" or "%Y-%m-%dT%H:%M:%SZ"
    timezone: str = ""  # zone the (naive, wall-clock) timestamps are in, e.g. "UTC" or "+02:00"; "" for none
    time_unit: str = ""  # unit of timestamps a file stored natively ("s", "ms", "us", "ns"); "" when unknown
    true_label: str = ""  # how "yes" was written, e.g. "Y" or "true"
    false_label: str = ""


@dataclass
class ColumnSpec:
    """Everything the app knows about one column."""

    name: str
    kind: Kind
    handling: Handling
    missing_share: float = 0.0  # share of rows with no value, 0..1
    distinct: int = 0  # number of distinct non-missing values
    format: ColumnFormat = field(default_factory=ColumnFormat)
    categories: list[str] | None = None  # known categories (category / yes-no kinds)
    minimum: float | str | None = None  # smallest value seen (ISO text for dates)
    maximum: float | str | None = None
    reason: str = ""  # why the kind was chosen, in plain words
    invalid_count: int = 0  # values that did not fit the kind and became missing

    @property
    def is_personal(self) -> bool:
        return self.kind.is_personal

    @property
    def is_modelled(self) -> bool:
        """True when a generator learns this column (rather than dropping or faking it)."""
        return self.handling is Handling.SYNTHESIZE

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind"] = self.kind.value
        out["handling"] = self.handling.value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        data = dict(data)
        data["kind"] = Kind(data["kind"])
        data["handling"] = Handling(data["handling"])
        data["format"] = ColumnFormat(**data.get("format", {}))
        return cls(**data)


@dataclass
class TableSchema:
    """The columns of one table, in file order, plus where it came from."""

    columns: list[ColumnSpec]
    n_rows: int = 0
    source: str = ""
    version: int = 1

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def replace(self, spec: ColumnSpec) -> None:
        """Put an updated spec in place of the column with the same name."""
        self.columns = [spec if c.name == spec.name else c for c in self.columns]

    def modelled(self) -> list[ColumnSpec]:
        """Columns a generator has to learn."""
        return [c for c in self.columns if c.is_modelled]

    def to_json(self) -> str:
        payload = {
            "version": self.version,
            "source": self.source,
            "n_rows": self.n_rows,
            "columns": [c.to_dict() for c in self.columns],
        }
        return json.dumps(payload, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> TableSchema:
        data = json.loads(text)
        return cls(
            columns=[ColumnSpec.from_dict(c) for c in data["columns"]],
            n_rows=data.get("n_rows", 0),
            source=data.get("source", ""),
            version=data.get("version", 1),
        )
