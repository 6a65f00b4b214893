"""Random tables through read -> profile -> fit -> sample -> export -> read back: a faithful table or a plain error."""

import csv
import io

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models import registry
from models.base import ModelError
from tabular.dataset import load_dataset
from tabular.errors import DataReadError
from tabular.export import table_bytes
from tabular.fidelity_check import export_problems

SAMPLE_ROWS = 30
YES_NO = [("yes", "no"), ("Y", "N"), ("true", "false"), ("True", "False"), ("1", "0"), ("ja", "nein"),
          ("oui", "non"), ("on", "off"), ("1.0", "0.0"), ("T", "F")]
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+02:00", "%d/%m/%Y", "%m/%d/%Y %H:%M",
                "%Y-%m-%d %H:%M:%S", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S.%fZ"]
WORDS = ["red", "blue", "grün", "東京", "café", "a b", "x,y", 'say "hi"', "Ünïcödé", "🙂"]


def _blanks(draw, values: list, share: float) -> list:
    """Some values left empty (missing), always the same ones for the same draw."""
    holes = draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    return [None if hole and share > 0 else v for v, hole in zip(values, holes)] if share else values


@st.composite
def column(draw, n: int) -> list:
    """One column of ``n`` values written as text: a mix of the shapes users' files have."""
    shape = draw(st.sampled_from(["int", "float", "comma", "yes_no", "zero_one", "date", "category", "id",
                                  "email", "text", "constant", "empty"]))
    ints = st.integers(-1000, 10**6)
    if shape == "int":
        values = [f"{v}.0" if draw(st.booleans()) else str(v) for v in draw(st.lists(ints, min_size=n, max_size=n))]
    elif shape in ("float", "comma"):
        places = draw(st.integers(1, 3))
        floats = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n))
        values = [f"{v:.{places}f}".replace(".", "," if shape == "comma" else ".") for v in floats]
    elif shape == "yes_no":
        yes, no = draw(st.sampled_from(YES_NO))
        values = [yes if b else no for b in draw(st.lists(st.booleans(), min_size=n, max_size=n))]
    elif shape == "zero_one":
        values = draw(st.lists(st.sampled_from(["0", "1", "0.0", "1.0", "-0"]), min_size=n, max_size=n))
    elif shape == "date":
        pattern = draw(st.sampled_from(DATE_FORMATS))
        seconds = draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n))
        values = [(pd.Timestamp("1995-01-01") + pd.Timedelta(seconds=s)).strftime(pattern) for s in seconds]
    elif shape == "category":
        values = draw(st.lists(st.sampled_from(WORDS[: draw(st.integers(2, len(WORDS)))]), min_size=n, max_size=n))
    elif shape == "id":
        values = [f"ID-{i:05d}" for i in draw(st.permutations(range(1000, 1000 + n)))]
    elif shape == "email":
        values = [f"person{i}@example.com" for i in range(n)]
    elif shape == "text":
        letters = st.characters(blacklist_categories=("Cc", "Cs"))  # control bytes: the reader's binary check
        values = draw(st.lists(st.text(letters, min_size=1, max_size=12), min_size=n, max_size=n))
    elif shape == "constant":
        values = [draw(st.sampled_from(WORDS + ["7"]))] * n
    else:
        values = [None] * n
    return _blanks(draw, values, draw(st.sampled_from([0.0, 0.0, 0.2])))


@st.composite
def table(draw) -> tuple[bytes, str]:
    """A random table as the bytes of a CSV file (comma or semicolon), or sometimes of a Parquet file."""
    n = draw(st.integers(2, 60))
    width = draw(st.integers(1, 6))
    columns = {f"c{i}_{draw(st.sampled_from(['', 'id', 'name', 'date', 'ö']))}": draw(column(n))
               for i in range(width)}
    delimiter = draw(st.sampled_from([",", ";"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")  # quotes line breaks in values
    writer.writerow(columns)
    writer.writerows(zip(*[["" if v is None else v for v in values] for values in columns.values()]))
    content = buffer.getvalue().encode()
    if draw(st.booleans()) and draw(st.booleans()):  # about a quarter: the same table as pandas stores it
        try:
            frame = pd.read_csv(io.BytesIO(content), sep=delimiter)
        except (ValueError, pd.errors.ParserError):
            return content, "fuzz.csv"
        parquet = io.BytesIO()
        frame.to_parquet(parquet, index=False)
        return parquet.getvalue(), "fuzz.parquet"
    return content, "fuzz.csv"


def _plain(message: str) -> bool:
    """A message for a user: a sentence or two, no traceback or code."""
    return 10 < len(message) < 500 and "Traceback" not in message and "Error" not in message.split(" ")[0]


@example((b'"name;code"\n' + b'"item;1"\n' * 12 + b'"item;2"\n' * 12, "fuzz.csv"))  # re-read as two columns
@example((b"c0_,c1_\r\n" + b"0,0\r\n" * 40 + b'0,"0\r0"\r\n1,0\r\n', "fuzz.csv"))  # unquoted carriage return
@example((("code,n\r\n" + "".join(f"x{i},{i}\r\n" for i in range(30)) + "\u00b9,7\r\n").encode(), "fuzz.csv"))  # '¹'
@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(table())
def test_any_table_ends_in_a_faithful_export_or_a_plain_error(case):
    content, name = case
    try:
        dataset = load_dataset(content, name)
        model = registry.create("copula").fit(dataset.typed(), dataset.schema, seed=0)
        sample = model.sample(SAMPLE_ROWS, seed=1)
    except (DataReadError, ModelError) as exc:
        assert _plain(str(exc)), str(exc)
        return
    for file_format in ("CSV", "Parquet"):
        exported = table_bytes(sample, dataset.schema, file_format)
        assert export_problems(exported, file_format, dataset.schema) == [], file_format
