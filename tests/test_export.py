"""Export: files round-trip in the original formats; synthesis drops copies and never reuses real values."""

import pandas as pd
import pytest

from models import registry
from models.synthesis import synthesize
from tabular.dataset import load_dataset, load_like
from tabular.export import as_written, file_stem, table_bytes
from tabular.schema import Handling, Kind

EURO = ("id;name;amount;visits;day;member\n" + "".join(
    f"A-{i:04d};Person {i};{i * 3.25:.2f};{i % 9};{(i % 27) + 1:02d}/03/2024;{'ja' if i % 3 else 'nein'}\n"
    .replace(".", ",") for i in range(40))).encode()


@pytest.fixture(scope="module")
def fitted(mixed):
    train, _ = mixed.split(0.2, seed=0)
    return registry.create("copula").fit(train, mixed.schema, seed=0)


@pytest.mark.parametrize("file_format", ["CSV", "TSV", "Parquet", "Excel"])
def test_formats_round_trip_typed_values(mixed, file_format):
    frame = mixed.typed()
    content = table_bytes(frame, mixed.schema, file_format)
    name = {"CSV": "t.csv", "TSV": "t.tsv", "Parquet": "t.parquet", "Excel": "t.xlsx"}[file_format]
    back = load_like(content, mixed.schema, name)
    assert list(back.columns) == list(frame.columns)
    for spec in mixed.schema.columns:
        if spec.kind in (Kind.NUMBER, Kind.WHOLE_NUMBER, Kind.DATETIME, Kind.YES_NO, Kind.CATEGORY):
            pd.testing.assert_series_equal(back[spec.name].reset_index(drop=True),
                                           frame[spec.name].reset_index(drop=True), check_dtype=False,
                                           check_names=False)


def test_csv_keeps_the_original_spelling_of_values():
    dataset = load_dataset(EURO, "euro.csv")
    text = table_bytes(dataset.typed().head(3), dataset.schema, "CSV").decode()
    lines = text.splitlines()
    assert lines[0] == "id;name;amount;visits;day;member"  # semicolons because decimals use commas
    assert lines[2] == "A-0001;Person 1;3,25;1;02/03/2024;ja"  # dates, decimals, whole numbers, yes/no as read


def test_file_stem():
    assert file_stem("Telecom customers") == "telecom_customers"
    assert file_stem("  ../x?") == "x" and file_stem("???") == "table"


def test_synthesis_is_reproducible_and_keeps_original_columns(mixed, fitted):
    a = synthesize(fitted, 300, seed=5, real=mixed.typed())
    b = synthesize(fitted, 300, seed=5, real=mixed.typed())
    pd.testing.assert_frame_equal(a.frame, b.frame)
    kept = [c.name for c in mixed.schema.columns if c.handling is not Handling.DROP]
    assert list(a.frame.columns) == kept and len(a.frame) == 300


def test_ids_are_new_unique_and_fakes_never_real(mixed, fitted):
    real = mixed.typed()
    result = synthesize(fitted, 2000, seed=1, real=real)
    ids, emails = result.frame["customer_id"], result.frame["email"]
    assert ids.is_unique and not ids.isin(real["customer_id"]).any()
    assert not emails.str.casefold().isin(real["email"].str.casefold()).any()


def test_surrogates_that_equal_real_values_are_drawn_again(mixed, fitted, monkeypatch):
    real = mixed.typed()
    original = fitted.surrogates_.make
    calls = []

    def make(spec, n, rng):  # the first draws of the email column copy real emails
        calls.append(spec.name)
        if spec.name == "email" and calls.count("email") <= 2:  # inside sample(), then the final fill
            return pd.Series(real["email"].iloc[:n].tolist() + [None] * max(0, n - len(real)), dtype="string")
        return original(spec, n, rng)

    monkeypatch.setattr(fitted.surrogates_, "make", make)
    result = synthesize(fitted, 100, seed=2, real=real)
    assert result.values_replaced >= 100
    assert not result.frame["email"].isin(real["email"]).any()


def test_rows_copying_real_rows_are_removed_and_replaced():
    rows = "colour,size\n" + "".join(f"{c},{s}\n" for c in ("red", "blue") for s in ("S", "M") for _ in range(15))
    dataset = load_dataset(rows.encode(), "tiny.csv")
    model = registry.create("copula").fit(dataset.typed(), dataset.schema, seed=0)
    kept = synthesize(model, 50, seed=0, real=dataset.typed(), drop_copies=False)
    assert len(kept.frame) == 50 and kept.copies_removed == 0
    dropped = synthesize(model, 50, seed=0, real=dataset.typed())
    # every combination exists in the real table, so nothing can be made without copying
    assert dropped.copies_removed > 0 and len(dropped.frame) == 0 and "few possible combinations" in dropped.notes[0]


def test_copies_removed_keep_the_requested_row_count(mixed, fitted):
    import numpy as np

    first_draw = fitted.sample(500, seed=int(np.random.default_rng(3).integers(2**31)))  # what synthesize draws first
    result = synthesize(fitted, 500, seed=3, real=pd.concat([mixed.typed(), first_draw.head(200)]))
    assert result.copies_removed == 200 and len(result.frame) == 500  # replaced by fresh draws


def test_load_like_explains_missing_columns(mixed):
    from tabular.errors import DataReadError

    with pytest.raises(DataReadError, match="lacks columns of the real table: plan"):
        load_like(b"spend,visits\n1,2\n3,4\n", mixed.schema, "x.csv")


def test_typed_as_reads_columns_as_a_model_learned_them():
    from tabular.schema import TableSchema

    dataset = load_dataset(EURO, "euro.csv")
    learned = TableSchema.from_json(dataset.schema.to_json())  # the schema a model was trained with
    before = dataset.typed()
    dataset.set_kind("amount", Kind.CATEGORY)  # changed on the Data step afterwards
    assert dataset.typed()["amount"].dtype != before["amount"].dtype
    pd.testing.assert_frame_equal(dataset.typed_as(learned), before)
    train, _ = dataset.split(0.25, seed=1, schema=learned)
    assert train["amount"].dtype == before["amount"].dtype


# ----- the user's reports (issue 9): each type comes back as it went in --------------------------------------
def _fit_and_sample(content: bytes, name: str, rows: int = 300):
    dataset = load_dataset(content, name)
    model = registry.create("copula").fit(dataset.typed(), dataset.schema, seed=0)
    return dataset, model.sample(rows, seed=1)


def _csv_rows(n: int = 60, seed: int = 0) -> bytes:
    import numpy as np

    rng = np.random.default_rng(seed)
    flags = (["0", "1", "0.0", "1", "-0", "1.0", "0"] * n)[:n]
    stamps = pd.Timestamp("2017-03-27 16:20:19") + pd.to_timedelta(np.sort(rng.integers(0, 9e6, n)), "s")
    visits = [("" if rng.random() < 0.2 else f"{float(rng.integers(0, 40)):.1f}") for _ in range(n)]
    rows = [f"{f},{t:%Y-%m-%dT%H:%M:%SZ},{v},{'true' if rng.random() < 0.5 else 'false'},{t:%Y-%m-%d},"
            f"{rng.choice(['red', 'blue'])}" for f, t, v in zip(flags, stamps, visits)]
    return ("flag,created,visits,paid,day,colour\n" + "\n".join(rows) + "\n").encode()


def test_zero_one_in_several_spellings_is_yes_no_with_every_value_kept():
    dataset = load_dataset(_csv_rows(), "flags.csv")
    spec = dataset.schema.column("flag")
    assert spec.kind is Kind.YES_NO and spec.invalid_count == 0
    raw = dataset.raw["flag"].astype(str)
    expected = raw.map(lambda v: float(v) == 1.0)
    assert dataset.typed()["flag"].tolist() == expected.tolist()  # no value lost to 'missing'
    assert (spec.format.true_label, spec.format.false_label) == ("1", "0")  # the most common spelling of each
    text = table_bytes(dataset.typed(), dataset.schema, "CSV").decode().splitlines()
    assert {line.split(",")[0] for line in text[1:]} == {"0", "1"}


def test_unique_iso_timestamps_are_dates_and_generated_ones_are_valid_and_in_range():
    dataset, sample = _fit_and_sample(_csv_rows(), "stamps.csv")
    spec = dataset.schema.column("created")
    assert spec.kind is Kind.DATETIME and spec.handling is Handling.SYNTHESIZE
    assert spec.format.datetime_format == "%Y-%m-%dT%H:%M:%SZ" and spec.format.timezone == "UTC"
    written = as_written(sample, dataset.schema)["created"].dropna()
    assert written.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").all()
    parsed = pd.to_datetime(written, format="%Y-%m-%dT%H:%M:%SZ")  # raises on '0273-47-66T66:57:77Z'
    assert parsed.min() >= pd.Timestamp(spec.minimum) and parsed.max() <= pd.Timestamp(spec.maximum)


@pytest.mark.parametrize("values,pattern,zone", [
    (["2017-03-27T16:20:19+02:00", "2017-04-01T08:00:00+02:00"], "%Y-%m-%dT%H:%M:%S+02:00", "+02:00"),
    (["2017-03-27 16:20:19.250Z", "2017-04-01 08:00:00.500Z"], "%Y-%m-%d %H:%M:%S.%fZ", "UTC"),
    (["2017-03-27T16:20:19+02:00", "2017-04-01T08:00:00-05:00"], "%Y-%m-%dT%H:%M:%S%z", "UTC"),
])
def test_timestamps_with_zones_keep_their_zone(values, pattern, zone):
    from tabular.infer import infer_column

    spec = infer_column(pd.Series(values * 15, dtype="string[pyarrow]"), "when")
    assert (spec.kind, spec.format.datetime_format, spec.format.timezone) == (Kind.DATETIME, pattern, zone)
    assert spec.invalid_count == 0


def test_whole_numbers_written_with_point_zero_stay_whole():
    dataset, sample = _fit_and_sample(_csv_rows(), "visits.csv")
    spec = dataset.schema.column("visits")
    assert spec.kind is Kind.WHOLE_NUMBER and spec.format.decimals == 1
    values = sample["visits"].dropna().astype(float)
    assert (values == values.round()).all() and values.between(spec.minimum, spec.maximum).all()
    written = as_written(sample, dataset.schema)["visits"].dropna()
    assert written.str.fullmatch(r"\d+\.0").all()  # written the way the file wrote them


def test_parquet_keeps_types():
    import io

    import pyarrow.parquet as pq

    dataset, sample = _fit_and_sample(_csv_rows(), "types.csv")
    types = {f.name: str(f.type) for f in pq.read_schema(io.BytesIO(table_bytes(sample, dataset.schema, "Parquet")))}
    assert types == {"flag": "int64", "created": "timestamp[ns, tz=UTC]", "visits": "int64", "paid": "bool",
                     "day": "date32[day]", "colour": "string"}
    back = pd.read_parquet(io.BytesIO(table_bytes(sample, dataset.schema, "Parquet")))
    assert str(back["visits"].dtype) == "Int64" and back["visits"].isna().any()  # nullable ints keep the gaps
    assert back["created"].dt.tz_localize(None).tolist() == sample["created"].tolist()


def test_parquet_input_keeps_time_unit_and_zone():
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    stamps = pd.date_range("2021-03-01 08:30", periods=40, freq="7h", tz="Europe/Berlin")
    table = pa.table({"at": pa.array(stamps, type=pa.timestamp("ms", tz="Europe/Berlin")),
                      "ok": pa.array([True, False] * 20), "n": pa.array([1.0, None, 3.0, 4.0] * 10)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    dataset, sample = _fit_and_sample(buffer.getvalue(), "in.parquet")
    assert dataset.typed()["at"].tolist() == stamps.tz_localize(None).tolist()  # wall-clock time in Berlin
    types = {f.name: str(f.type) for f in pq.read_schema(io.BytesIO(table_bytes(sample, dataset.schema, "Parquet")))}
    assert types == {"at": "timestamp[ms, tz=Europe/Berlin]", "ok": "bool", "n": "int64"}


def test_csv_quotes_values_holding_another_separator():
    content = ('"name;code"\n' + "".join(f'"item;{i % 4}"\n' for i in range(30))).encode()
    dataset = load_dataset(content, "one.csv")
    assert dataset.schema.names == ["name;code"]
    again = load_dataset(table_bytes(dataset.typed(), dataset.schema, "CSV"), "again.csv")
    assert again.schema.names == ["name;code"] and again.raw["name;code"].tolist() == dataset.raw["name;code"].tolist()


def test_csv_quotes_values_holding_a_carriage_return():
    content = b"flag,note\r\n" + b"0,a\r\n" * 20 + b'1,"a\rb"\r\n' + b"0,b\r\n" * 10
    dataset = load_dataset(content, "cr.csv")
    again = load_dataset(table_bytes(dataset.typed(), dataset.schema, "CSV"), "again.csv")
    assert again.schema.names == ["flag", "note"] and again.raw["note"].tolist() == dataset.raw["note"].tolist()
