"""Recognise personal data in a column: emails, phones, names, addresses, cards, IBANs, IDs, IPs."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

import pandas as pd

from tabular.schema import Kind

MATCH_SHARE = 0.8  # share of values that must look right without a telling column name
HINTED_SHARE = 0.5  # ... and with one
NAME_SHARE = (0.6, 0.3)  # names: share with a known first name, without / with a telling column name

_EMAIL = r"^[\w.+'-]+@[\w-]+(\.[\w-]+)+$"
_IBAN = r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$"
_SSN = r"^\d{3}-\d{2}-\d{4}$"
_NINO = r"^[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]$"
_PHONE = r"^\+?[\d\s().\-/]{7,22}(\s?(x|ext\.?)\s?\d{1,6})?$"
_NAME = r"^[^\W\d_][\w'.-]*( [^\W\d_][\w'.-]*){0,3}$"
_STREET_WORDS = (
    "street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|drive|dr|way|court|ct|place|pl|square|sq|"
    "terrace|parkway|pkwy|highway|hwy|circle|cir|trail|trl|crescent|close|row|alley|suite|apt|unit"
)
_ADDRESS_EN = rf"(?i)^\d+[a-z]?,? [\w .'-]+\b({_STREET_WORDS})\b"
_ADDRESS_NUMBERED = r"^\d{1,5}[A-Za-z]? ([A-Z][a-z]+\.? ?){1,4}(,? ?(Apt|Suite|Unit|#)\.? ?\w+)?$"
_ADDRESS_EU = r"(?i)^[\w .'-]*(stra(ss|ß)e|str\.|weg|gasse|platz|allee|rue|avenue|via|calle|plaza|laan|straat)\b.*\d"

_HINTS = {
    Kind.EMAIL: {"email", "mail", "e-mail"},
    Kind.PHONE: {"phone", "telephone", "tel", "mobile", "cell", "fax", "telefon"},
    Kind.PERSON_NAME: {"name", "firstname", "lastname", "surname", "fullname", "forename", "first", "last",
                       "contact", "person", "agent", "employee", "customer"},
    Kind.ADDRESS: {"address", "street", "addr", "adresse", "strasse"},
    Kind.CREDIT_CARD: {"card", "cc", "pan", "creditcard"},
    Kind.IBAN: {"iban"},
    Kind.NATIONAL_ID: {"ssn", "nin", "nino", "bsn", "sin", "personnummer", "passport", "nationalid", "taxid",
                       "socialsecurity", "national"},
    Kind.IP_ADDRESS: {"ip", "ipaddress", "ipv4", "ipv6"},
}


def name_tokens(column_name: str) -> set[str]:
    """Lower-case words of a column name, split on punctuation and camelCase, plus joined pairs."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", column_name)
    words = [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]
    return set(words) | {a + b for a, b in zip(words, words[1:])}


def detect_personal(sample: pd.Series, column_name: str) -> tuple[Kind, str] | None:
    """Return the personal-data kind of a text column and a plain reason, or None.

    Args:
        sample: non-missing values of the column as text (a few thousand at most).
        column_name: the column's header, used as a hint.
    """
    values = sample.dropna().astype(str).str.strip()
    if len(values) == 0:
        return None
    tokens = name_tokens(column_name)
    for kind, check, thresholds in _CHECKS:
        hinted = bool(tokens & _HINTS[kind])
        share = check(values, hinted)
        if share >= thresholds[hinted]:
            why = f"{share:.0%} of values look like {kind.label.split(' (')[0].lower()}s"
            return kind, why + (" and the column name suggests it" if hinted else "")
    return None


def _share(values: pd.Series, pattern: str) -> float:
    return float(values.str.match(pattern).mean())


def _email(values: pd.Series, hinted: bool) -> float:
    return _share(values, _EMAIL)


def _iban(values: pd.Series, hinted: bool) -> float:
    compact = values.str.replace(" ", "", regex=False).str.upper()
    return float(compact.map(lambda v: bool(re.match(_IBAN, v)) and _iban_ok(v)).mean())


def _iban_ok(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def _card(values: pd.Series, hinted: bool) -> float:
    digits = values.str.replace(r"[ -]", "", regex=True)
    shaped = digits.str.fullmatch(r"\d{13,19}") & values.str.fullmatch(r"[\d -]+")
    return float((shaped & digits.map(_luhn_ok)).mean())


def _luhn_ok(number: str) -> bool:
    if not (number.isascii() and number.isdigit()):  # '¹' is a digit to str.isdigit, not to int()
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _ip(values: pd.Series, hinted: bool) -> float:
    def ok(v: str) -> bool:
        try:
            ipaddress.ip_address(v)
            return True
        except ValueError:
            return False

    return float(values.str.contains(r"[.:]", regex=True).mean() and values.map(ok).mean())


def _national_id(values: pd.Series, hinted: bool) -> float:
    share = max(_share(values, _SSN), _share(values.str.upper(), _NINO))
    if hinted:
        share = max(share, float(values.str.fullmatch(r"[A-Za-z0-9 -]{6,20}").mean()
                                 * values.str.contains(r"\d", regex=True).mean()))
    return share


def _phone(values: pd.Series, hinted: bool) -> float:
    n_digits = values.str.replace(r"(x|ext\.?)\s?\d+$", "", regex=True).str.count(r"\d")
    shaped = values.str.match(_PHONE)
    if hinted:
        return float((shaped & (n_digits >= 7)).mean())
    styled = values.str.contains(r"^\+|[\s().-]", regex=True)
    return float((shaped & styled & (n_digits >= 9) & (n_digits <= 15)).mean())


def _address(values: pd.Series, hinted: bool) -> float:
    share = max(_share(values, _ADDRESS_EN), _share(values, _ADDRESS_EU), _share(values, _ADDRESS_NUMBERED))
    if hinted:
        share = max(share, float((values.str.contains(r"\d", regex=True)
                                  & values.str.contains(r"[A-Za-z]{3,}", regex=True)).mean()))
    return share


def _person_name(values: pd.Series, hinted: bool) -> float:
    if values.nunique() < 10:
        return 0.0
    words = values.str.replace("_", " ", regex=False).str.replace(",", " ", regex=False).str.strip()
    shaped = words.str.match(_NAME)
    known = first_names()
    has_first = words.str.lower().str.split().map(lambda ws: any(w in known for w in ws[:3]))
    return float((shaped & has_first).mean())


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Common first names in several languages, from Faker's locale data (shipped, not downloaded)."""
    import importlib

    names: set[str] = set()
    for locale in ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_PT", "pl_PL", "sv_SE"):
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ImportError:
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            pool = getattr(provider, attr, ())
            names.update(str(n).lower() for n in pool)
    return frozenset(n for n in names if len(n) > 2)



_DEFAULT = (MATCH_SHARE, HINTED_SHARE)
_CHECKS = (
    (Kind.EMAIL, _email, _DEFAULT),
    (Kind.IBAN, _iban, _DEFAULT),
    (Kind.CREDIT_CARD, _card, _DEFAULT),
    (Kind.IP_ADDRESS, _ip, _DEFAULT),
    (Kind.NATIONAL_ID, _national_id, _DEFAULT),
    (Kind.PHONE, _phone, _DEFAULT),
    (Kind.ADDRESS, _address, (0.6, 0.5)),
    (Kind.PERSON_NAME, _person_name, NAME_SHARE),
)
