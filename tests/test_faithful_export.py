"""Exports of synthetic copies of real tables are faithful: types, formats and ranges of every column kept."""

import io

import pandas as pd
import pytest

from bench.datasets import DATASETS, _raw
from models import registry
from tabular.dataset import Dataset, load_dataset
from tabular.export import table_bytes
from tabular.fidelity_check import export_problems
from tabular.schema import Kind

ROWS = 400
FORMATS = ("CSV", "Parquet", "Excel")


def _iso_z(frame: pd.DataFrame) -> pd.DataFrame:
    """Departure times the way many APIs write them: ISO 8601 in UTC ('2013-05-17T18:00:00Z')."""
    frame = frame.copy()
    frame["time_hour"] = pd.to_datetime(frame["time_hour"]).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return frame


def _real_file(key: str, as_parquet: bool = False) -> Dataset:
    frame = _raw(key).sample(ROWS, random_state=0).reset_index(drop=True)
    frame = _iso_z(frame) if key == "flights" else frame
    buffer = io.BytesIO()
    if as_parquet:
        frame.to_parquet(buffer, index=False)
        return load_dataset(buffer.getvalue(), f"{key}.parquet")
    frame.to_csv(buffer, index=False)
    return load_dataset(buffer.getvalue(), f"{key}.csv")


@pytest.fixture(scope="module", params=list(DATASETS))
def real(request) -> Dataset:
    return _real_file(request.param)


def _sample(dataset: Dataset, generator: str) -> pd.DataFrame:
    settings = {"epochs": 2} if generator != "copula" else {}
    model = registry.create(generator, "fast", **settings).fit(dataset.typed(), dataset.schema, seed=0)
    return model.sample(ROWS, seed=1)


@pytest.mark.parametrize("file_format", FORMATS)
def test_copula_exports_of_real_tables_are_faithful(real, file_format):
    sample = _sample(real, "copula")
    assert export_problems(table_bytes(sample, real.schema, file_format), file_format, real.schema) == []


@pytest.mark.parametrize("key", ["telco", "flights"])
def test_neural_exports_of_real_tables_are_faithful(key):
    dataset = _real_file(key)
    sample = _sample(dataset, "vae")
    for file_format in FORMATS:
        assert export_problems(table_bytes(sample, dataset.schema, file_format), file_format, dataset.schema) == []


def test_parquet_input_exports_keep_its_types():
    dataset = _real_file("hotels", as_parquet=True)
    assert dataset.schema.column("arrival_date").kind is Kind.DATETIME
    sample = _sample(dataset, "copula")
    for file_format in FORMATS:
        assert export_problems(table_bytes(sample, dataset.schema, file_format), file_format, dataset.schema) == []


def test_iso_timestamps_of_a_real_table_are_dates_written_with_z():
    real = _real_file("flights")
    spec = real.schema.column("time_hour")
    assert spec.kind is Kind.DATETIME and spec.format.datetime_format == "%Y-%m-%dT%H:%M:%SZ"
    text = table_bytes(_sample(real, "copula"), real.schema, "CSV").decode()
    column = pd.read_csv(io.StringIO(text))["time_hour"].dropna()
    assert column.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:00:00Z").all()  # whole hours, as in the file


# ----- the check itself catches unfaithful exports ------------------------------------------------------------
@pytest.fixture(scope="module")
def small() -> Dataset:
    rows = "".join(f"{i % 7}.0,{i * 1.25:.2f},{'yes' if i % 3 else 'no'},2024-01-{i % 28 + 1:02d},{'ab'[i % 2]}\n"
                   for i in range(40))
    return load_dataset(("visits,amount,member,day,tier\n" + rows).encode(), "small.csv")


@pytest.mark.parametrize("column,bad,words", [
    ("visits", "2.5", "not valid for a whole number"),
    ("visits", "99.0", "outside the real range"),
    ("visits", "3", "not written with 1 decimals"),
    ("amount", "1.2", "not written with 2 decimals"),
    ("member", "Yes", "not written 'yes' or 'no'"),
    ("day", "0273-47-66", "not valid for a date/time"),
    ("day", "2030-01-01", "dates lie outside the real range"),
    ("tier", "c", "not among the real categories"),
])
def test_check_names_each_kind_of_unfaithful_value(small, column, bad, words):
    from tabular.export import as_written

    text = as_written(small.typed(), small.schema)
    text.loc[0, column] = bad
    problems = export_problems(text.to_csv(index=False).encode(), "CSV", small.schema)
    assert problems and all(p.startswith(f"Column '{column}'") for p in problems) and words in problems[0]


def test_check_names_parquet_columns_stored_as_text(small):
    frame = small.typed().astype({"visits": "string", "member": "string"})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    problems = export_problems(buffer.getvalue(), "Parquet", small.schema)
    assert "Column 'visits' is stored as string, not int64." in problems
    assert any(p.startswith("Column 'day' is stored as timestamp") for p in problems)


def test_check_names_missing_columns(small):
    problems = export_problems(b"visits,amount\n1.0,2.50\n2.0,3.75\n", "CSV", small.schema)
    assert problems[0].startswith("The columns are visits, amount; expected visits, amount, member, day, tier")
