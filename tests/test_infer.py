"""Each column kind is recognised on realistic examples, and not on look-alikes."""

import numpy as np
import pandas as pd
import pytest
from faker import Faker

from tabular.infer import infer_column, infer_schema, to_typed
from tabular.io import read_table
from tabular.schema import Handling, Kind, TableSchema

N = 300
rng = np.random.default_rng(0)
fake = Faker("en_US")
Faker.seed(0)


def kind_of(values, name="col", european=False):
    series = pd.Series(values, dtype="string[pyarrow]") if isinstance(values[0], str) else pd.Series(values)
    return infer_column(series, name, european=european).kind


def texts(fn, n=N):
    return [fn() for _ in range(n)]


@pytest.mark.parametrize("values,name,kind", [
    ([f"{x:.2f}" for x in rng.normal(50, 10, N)], "price", Kind.NUMBER),
    ([str(x) for x in rng.integers(0, 90, N)], "age", Kind.WHOLE_NUMBER),
    (["Basic", "Premium", "Gold"] * 100, "plan", Kind.CATEGORY),
    (["yes", "no", "Yes"] * 100, "active", Kind.YES_NO),
    (["Y", "N"] * 150, "flag", Kind.YES_NO),
    (["1", "0"] * 150, "churned", Kind.YES_NO),
    ([d.strftime("%Y-%m-%d") for d in pd.date_range("2020-01-01", periods=N)], "day", Kind.DATETIME),
    ([d.strftime("%d/%m/%Y %H:%M") for d in pd.date_range("2020-01-13", periods=N, freq="37h")], "ts",
     Kind.DATETIME),
    ([str(i) for i in range(1000, 1000 + N)], "order_id", Kind.IDENTIFIER),
    ([f"CUST-{i:06d}" for i in rng.permutation(N)], "customer", Kind.IDENTIFIER),
    (["00123", "04567", "01234"] * 100, "zip", Kind.CATEGORY),
    (["same"] * N, "c", Kind.CONSTANT),
    (texts(lambda: fake.paragraph(nb_sentences=2)), "comment", Kind.FREE_TEXT),
])
def test_basic_kinds(values, name, kind):
    assert kind_of(values, name) is kind


@pytest.mark.parametrize("make,name,kind", [
    (fake.email, "contact", Kind.EMAIL),
    (fake.phone_number, "phone", Kind.PHONE),
    (lambda: fake.numerify("+44 20 #### ####"), "x", Kind.PHONE),
    (fake.name, "customer_name", Kind.PERSON_NAME),
    (fake.name, "who", Kind.PERSON_NAME),
    (fake.street_address, "address", Kind.ADDRESS),
    (fake.street_address, "location", Kind.ADDRESS),
    (fake.credit_card_number, "x", Kind.CREDIT_CARD),
    (fake.iban, "account", Kind.IBAN),
    (fake.ssn, "x", Kind.NATIONAL_ID),
    (fake.ipv4, "client", Kind.IP_ADDRESS),
    (fake.ipv6, "client", Kind.IP_ADDRESS),
])
def test_personal_data_detected(make, name, kind):
    values = texts(make)
    assert kind_of(values, name) is kind


@pytest.mark.parametrize("values,name", [
    ([f"{x:.2f}" for x in rng.normal(50, 10, N)], "phone_bill"),  # numbers, not phones
    (texts(fake.company), "employer"),  # companies are not people
    (texts(fake.city), "city"),
    (texts(lambda: fake.random_element(["Red", "Green", "Blue", "Black"])), "name"),  # too few to be names
    ([str(x) for x in rng.integers(10**15, 10**16, N)], "amount"),  # 16 digits fail the Luhn check mostly
    ([d.strftime("%Y-%m-%d") for d in pd.date_range("2020-01-01", periods=N)], "phone_date"),
])
def test_personal_data_not_detected_on_lookalikes(values, name):
    assert not kind_of(values, name).is_personal


def test_decimal_comma_and_thousands():
    values = ["1.234,50", "12,25", "3.000,00", "7,5"] * 20
    spec = infer_column(pd.Series(values, dtype="string[pyarrow]"), "amount")
    assert spec.kind is Kind.NUMBER
    assert (spec.format.decimal_sep, spec.format.thousands_sep, spec.format.decimals) == (",", ".", 2)
    assert spec.maximum == 3000.0 and spec.minimum == 7.5


def test_us_thousands_and_currency():
    values = ["$1,234.50", "$12.25", "$3,000.00", "-$7.50"] * 20
    spec = infer_column(pd.Series(values, dtype="string[pyarrow]"), "revenue")
    assert spec.kind is Kind.NUMBER and spec.format.prefix == "$" and spec.format.thousands_sep == ","
    assert spec.minimum == -7.5 and spec.maximum == 3000.0


def test_semicolon_file_prefers_decimal_comma():
    values = ["1,500", "2,250", "3,125"] * 20  # ambiguous on its own
    assert infer_column(pd.Series(values, dtype="string[pyarrow]"), "x", european=True).format.decimal_sep == ","
    assert infer_column(pd.Series(values, dtype="string[pyarrow]"), "x").format.thousands_sep == ","


def test_mixed_column_counts_values_that_do_not_fit():
    values = [str(i % 50) for i in range(200)] + ["unknown"] * 3
    spec = infer_column(pd.Series(values, dtype="string[pyarrow]"), "score")
    assert spec.kind is Kind.WHOLE_NUMBER and spec.invalid_count == 3
    assert spec.missing_share == pytest.approx(3 / 203)


def test_mostly_text_column_stays_category():
    values = ["1", "2", "n/d", "x", "y", "z"] * 30
    assert kind_of(values, "code") is Kind.CATEGORY


def test_default_handling_is_safe():
    frame = pd.DataFrame({"email": texts(fake.email), "id": [f"A{i:05d}" for i in range(N)],
                          "note": texts(lambda: fake.paragraph(3)), "age": [str(i % 80) for i in range(N)]},
                         dtype="string[pyarrow]")
    schema = infer_schema(frame)
    assert schema.column("email").handling is Handling.FAKE
    assert schema.column("id").handling is Handling.NEW_IDS
    assert schema.column("note").handling is Handling.DROP
    assert schema.column("age").handling is Handling.SYNTHESIZE


def test_schema_json_round_trip_and_typed_frame():
    text = "when;amount;ok;tier\n05.01.2024;1.234,5;ja;A\n06.01.2024;2,25;nein;B\n07.01.2024;3;ja;A\n"
    read = read_table(text.encode(), "t.csv")
    schema = infer_schema(read.frame, european=True)
    again = TableSchema.from_json(schema.to_json())
    assert again == schema
    typed = to_typed(read.frame, again)
    assert typed["when"].iloc[0] == pd.Timestamp("2024-01-05")
    assert typed["amount"].tolist() == [1234.5, 2.25, 3.0]
    assert typed["ok"].tolist() == [True, False, True]
    assert again.column("ok").format.true_label == "ja"
