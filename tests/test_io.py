"""The reader survives the files users really upload, and refuses the rest in plain words."""

import datetime
import decimal
import gzip
import io
import json
import random
import zipfile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tabular.dataset import load_dataset
from tabular.errors import DataReadError
from tabular.io import MAX_COLUMNS, read_table
from tabular.schema import Kind


def read(text_or_bytes, name="data.csv"):
    data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
    return read_table(data, name)


def test_plain_csv_keeps_values_as_text():
    result = read("a,b\n1,x\n2,y\n")
    assert list(result.frame.columns) == ["a", "b"]
    assert result.frame["a"].tolist() == ["1", "2"]
    assert result.report.delimiter == "comma"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
def test_encodings(encoding):
    text = "name,city\nJosé,Zürich\nFrançoise,Köln\n"
    result = read(text.encode(encoding))
    assert list(result.frame.columns) == ["name", "city"]  # no BOM glued to the first name
    assert result.frame["name"].tolist() == ["José", "Françoise"]
    assert result.frame["city"].tolist() == ["Zürich", "Köln"]


def test_cp1252_only_characters():
    result = read("item,price\nCafé “special”,3€\nTea,2€\n".encode("cp1252"))
    assert result.frame["item"].iloc[0] == "Café “special”"
    assert "Windows-1252" in " ".join(result.report.notes)


@pytest.mark.parametrize("delimiter,name", [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_delimiters(delimiter, name):
    rows = [["id", "label", "amount"], ["1", "a b", "3"], ["2", "c", "4"], ["3", "d", "5"]]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    result = read(text)
    assert result.report.delimiter == name
    assert result.frame.shape == (3, 3)
    assert result.frame["label"].tolist() == ["a b", "c", "d"]


def test_quoted_fields_with_newlines_and_delimiters():
    text = 'id,comment\n1,"first line\nsecond line"\n2,"has, a comma"\n3,"say ""hi"""\n'
    frame = read(text).frame
    assert frame["comment"].tolist() == ["first line\nsecond line", "has, a comma", 'say "hi"']


def test_blank_and_duplicated_headers_get_unique_names():
    result = read("name,,name,amount\na,1,b,2\nc,3,d,4\n")
    assert list(result.frame.columns) == ["name", "column_2", "name_2", "amount"]
    assert any("unique name" in n for n in result.report.notes)


def test_trailing_empty_rows_and_columns_are_dropped():
    text = "a,b,,\n1,2,,\n3,4,,\n,,,\n,,,\n\n"
    result = read(text)
    assert list(result.frame.columns) == ["a", "b"]
    assert len(result.frame) == 2
    notes = " ".join(result.report.notes)
    assert "empty columns" in notes and "empty rows" in notes


def test_spaces_trimmed_and_missing_tokens_become_missing():
    frame = read("a , b\n  x  , NA\n y ,n/a\nz,  \nw,-\n").frame
    assert list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == ["x", "y", "z", "w"]
    assert frame["b"].isna().all()


def test_all_empty_named_column_is_kept():
    frame = read("a,empty\n1,\n2,\n").frame
    assert "empty" in frame.columns and frame["empty"].isna().all()


def test_ragged_rows_are_padded_or_cut():
    result = read("a,b,c\n1,2,3\n4,5\n6,7,8,9\n")
    frame = result.frame
    assert frame.shape == (3, 3)
    assert pd.isna(frame["c"].iloc[1])
    assert frame["a"].tolist() == ["1", "4", "6"] and frame["c"].iloc[2] == "8"
    assert any("more fields" in n and "line 4" in n for n in result.report.notes)


def test_excel_keeps_native_types(tmp_path):
    source = pd.DataFrame({"when": pd.to_datetime(["2024-01-05", "2024-02-06"]), "qty": [3, 4],
                           "name": [" a ", "b"]})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        source.to_excel(writer, index=False, sheet_name="Sales")
        source.to_excel(writer, index=False, sheet_name="Other")
    result = read(buffer.getvalue(), "sales.xlsx")
    assert result.report.file_format == "Excel"
    assert pd.api.types.is_datetime64_any_dtype(result.frame["when"])
    assert result.frame["qty"].tolist() == [3, 4]
    assert result.frame["name"].tolist() == ["a", "b"]
    assert any("2 sheets" in n for n in result.report.notes)


def test_parquet_round_trip():
    source = pd.DataFrame({"x": [1.5, 2.5, None], "y": ["a", "b", "c"]})
    buffer = io.BytesIO()
    source.to_parquet(buffer)
    result = read(buffer.getvalue(), "t.parquet")
    assert result.report.file_format == "Parquet"
    assert result.frame["x"].iloc[:2].tolist() == [1.5, 2.5]
    assert result.frame["y"].tolist() == ["a", "b", "c"]


def test_format_detected_from_content_not_name():
    buffer = io.BytesIO()
    pd.DataFrame({"x": [1, 2]}).to_parquet(buffer)
    assert read(buffer.getvalue(), "renamed.csv").report.file_format == "Parquet"


@pytest.mark.parametrize("content,name,phrase", [
    (b"", "empty.csv", "empty"),
    (b"   \n\n", "blank.csv", "empty"),
    (b"a,b\n", "header_only.csv", "no rows"),
    (b"a,b\n1,2\n", "one_row.csv", "only 1 row"),
    (bytes(range(256)) * 50, "garbage.csv", "binary"),
    (b"not a workbook", "fake.xlsx", "not a valid .xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", "old-style Excel"),
    (b"not parquet", "fake.parquet", "not a valid Parquet"),
])
def test_unreadable_files_get_plain_messages(content, name, phrase):
    with pytest.raises(DataReadError) as info:
        read(content, name)
    assert phrase in info.value.message


def test_too_large_file_refused():
    with pytest.raises(DataReadError, match="over the"):
        read_table(b"a,b\n1,2\n3,4\n", "big.csv", max_bytes=5)


def test_too_many_columns_refused():
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 5))
    row = ",".join("1" for _ in range(MAX_COLUMNS + 5))
    with pytest.raises(DataReadError, match="columns"):
        read(f"{header}\n{row}\n{row}\n")


def test_reads_from_path(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n1\t2\n3\t4\n", encoding="utf-8")
    result = read_table(path)
    assert result.report.file_name == "t.tsv" and result.frame.shape == (2, 2)


def test_mixed_line_endings_read_every_row():
    rng = random.Random(0)
    lines = [",".join(f"h{j}" for j in range(20))] + [",".join(str(i * 20 + j) for j in range(20)) for i in range(500)]
    text = "".join(line + rng.choice(["\r\n", "\n", "\r"]) for line in lines)
    frame = read(text).frame
    assert frame.shape == (500, 20)
    assert frame["h0"].iloc[0] == "0" and frame["h19"].iloc[-1] == str(499 * 20 + 19)
    assert frame["h7"].tolist() == [str(i * 20 + 7) for i in range(500)]


def _rows_with_stray_quote(stray_at: int, legit_quote_after: int | None) -> str:
    lines = ["id,name,score"] + [f"{i},name{i},{i * 2}" for i in range(300)]
    lines[stray_at + 1] = f'{stray_at},"abc,{stray_at * 2}'
    if legit_quote_after is not None:
        row = stray_at + legit_quote_after
        lines[row + 1] = f'{row},"Smith, Jo",{row * 2}'
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("legit_quote_after", [None, 46])
def test_unbalanced_quote_keeps_every_row_and_says_where(legit_quote_after):
    result = read(_rows_with_stray_quote(100, legit_quote_after))
    frame = result.frame
    assert frame.shape == (300, 3)
    assert frame["id"].tolist() == [str(i) for i in range(300)]
    assert frame["name"].iloc[100] == '"abc' and frame["score"].iloc[100] == "200"
    if legit_quote_after:
        assert frame["name"].iloc[146] == "Smith, Jo" and frame["score"].iloc[146] == "292"
    notes = " ".join(result.report.notes)
    assert "line 102" in notes and "quote" in notes


def test_quoted_line_breaks_still_read_when_sound():
    text = 'id,comment,n\n1,"two\nlines, with comma",5\n2,plain,6\n'
    frame = read(text).frame
    assert frame["comment"].tolist() == ["two\nlines, with comma", "plain"] and frame["n"].tolist() == ["5", "6"]


def test_backslash_escaped_quotes():
    frame = read('id,said\n1,"she said \\"hi\\", then left"\n2,"plain"\n').frame
    assert frame["said"].tolist() == ['she said "hi", then left', "plain"]


def test_title_lines_above_the_header_are_skipped():
    result = read("Sales report 2024,,\n\nregion,amount,units\nnorth,10,1\nsouth,20,2\n")
    assert list(result.frame.columns) == ["region", "amount", "units"]
    assert result.frame["amount"].tolist() == ["10", "20"]
    assert any("line 3" in n and "title" in n for n in result.report.notes)


def test_header_with_one_name_is_not_taken_for_a_title():
    frame = read("id,\n1,2\n3,4\n").frame
    assert list(frame.columns) == ["id", "column_2"] and frame["id"].tolist() == ["1", "3"]


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("tz", [None, "UTC", "America/New_York"])
def test_parquet_timestamps_of_any_unit_keep_their_dates(unit, tz):
    per_second = {"s": 1, "ms": 10 ** 3, "us": 10 ** 6, "ns": 10 ** 9}[unit]
    seconds = [1_700_000_000, 1_710_000_000, 1_720_000_000]
    table = pa.table({"when": pa.array([s * per_second for s in seconds], pa.timestamp(unit, tz=tz)),
                      "n": [1, 2, 3]})
    dataset = load_dataset(_parquet(table), "t.parquet")
    typed = dataset.typed()["when"]
    assert str(typed.dtype) == "datetime64[ns]"  # what the encoders assume
    expected = pd.to_datetime(seconds, unit="s", utc=True)
    expected = expected.tz_convert(tz).tz_localize(None) if tz else expected.tz_localize(None)
    assert typed.tolist() == list(expected)
    assert typed.iloc[0].year == 2023
    assert (tz is not None) == any("time zone" in n for n in dataset.report.notes)


def test_parquet_column_types_come_out_usable():
    days = [datetime.date(2024, 1, d) for d in (1, 2, 3)]
    table = pa.table({
        "d32": pa.array(days, pa.date32()), "d64": pa.array(days, pa.date64()),
        "tod": pa.array([datetime.time(9, 30), datetime.time(10, 0, 5), None], pa.time64("us")),
        "dec": pa.array([decimal.Decimal("1.25"), decimal.Decimal("2.50"), None], pa.decimal128(10, 2)),
        "dict": pa.array(["a", "b", "a"]).dictionary_encode(), "flag": pa.array([True, None, False]),
        "u64": pa.array([1, 2, 3], pa.uint64()), "big_text": pa.array(["x", " y ", "NA"], pa.large_string()),
    })
    frame = read(_parquet(table), "t.parquet").frame
    assert frame["d32"].tolist() == frame["d64"].tolist() == [pd.Timestamp(d) for d in days]
    assert frame["tod"].tolist()[:2] == ["09:30:00", "10:00:05"] and pd.isna(frame["tod"].iloc[2])
    assert frame["dec"].tolist()[:2] == [1.25, 2.5] and frame["dec"].dtype == "float64"
    assert frame["dict"].tolist() == ["a", "b", "a"]
    assert str(frame["flag"].dtype) == "boolean" and frame["flag"].tolist()[::2] == [True, False]
    assert frame["u64"].dtype == "int64" and frame["u64"].tolist() == [1, 2, 3]
    assert frame["big_text"].tolist()[:2] == ["x", "y"] and pd.isna(frame["big_text"].iloc[2])


def test_parquet_lists_structs_and_maps_become_text_with_a_note():
    table = pa.table({
        "tags": pa.array([[1, 2], [], None]), "info": pa.array([{"a": 1, "b": "x"}, {"a": None, "b": "y"}, None]),
        "attrs": pa.array([[("k", 1)], [], None], pa.map_(pa.string(), pa.int64())), "n": [1, 2, 3],
    })
    dataset = load_dataset(_parquet(table), "nested.parquet")
    frame = dataset.raw
    assert frame.shape == (3, 4)
    assert frame["tags"].tolist()[:2] == ["[1, 2]", "[]"] and pd.isna(frame["tags"].iloc[2])
    assert frame["info"].tolist()[:2] == ['{"a": 1, "b": "x"}', '{"a": null, "b": "y"}']
    assert frame["attrs"].iloc[0] == '{"k": 1}'
    assert sum("kept as text" in n for n in dataset.report.notes) == 3


def test_whole_numbers_beyond_64_bits_are_kept_exactly():
    ids = [2 ** 64 - 10 + i for i in range(5)] + [2 ** 63 + 1]
    csv_text = "id,v\n" + "".join(f"{x},{i}\n" for i, x in enumerate(ids))
    parquet = _parquet(pa.table({"id": pa.array(ids, pa.uint64()), "v": list(range(6))}))
    for data, name in ((csv_text.encode(), "big.csv"), (parquet, "big.parquet")):
        dataset = load_dataset(data, name)
        assert dataset.typed()["id"].tolist() == [str(x) for x in ids]  # exact; never wrapped to negatives
        assert dataset.schema.column("id").kind is Kind.IDENTIFIER
        assert any("16 or more digits" in n for n in dataset.report.notes)


def test_card_numbers_are_personal_data_not_plain_long_ids():
    from faker import Faker

    fake = Faker()
    fake.seed_instance(3)
    cards = [fake.credit_card_number("visa16") for _ in range(30)]
    dataset = load_dataset(("card,v\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cards))).encode(), "c.csv")
    assert dataset.schema.column("card").is_personal  # the long-number rule comes after personal data


@pytest.mark.parametrize("content,phrase", [
    (json.dumps([{"a": 1, "b": 2}] * 3).encode(), "JSON file"),
    (b'{"a": 1, "b": 2}\n{"a": 3, "b": 4}\n', "JSON file"),
    (b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>", "web page (HTML)"),
    (b'<?xml version="1.0"?>\n<rows><row a="1"/></rows>\n', "XML file"),
    (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n" * 5, "PDF document"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "image (PNG)"),
])
def test_non_tables_named_csv_are_refused_in_plain_words(content, phrase):
    with pytest.raises(DataReadError) as info:
        read(content, "data.csv")
    assert phrase in info.value.message and "not a table" in info.value.message


def test_table_starting_with_a_bracket_is_still_a_table():
    frame = read("[id],[name]\n1,a\n2,b\n").frame
    assert list(frame.columns) == ["[id]", "[name]"] and frame["[name]"].tolist() == ["a", "b"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(encoding):
    frame = read("name,city\nJosé,Zürich\nFrançoise,Köln\n".encode(encoding)).frame
    assert frame["name"].tolist() == ["José", "Françoise"] and frame["city"].tolist() == ["Zürich", "Köln"]


def test_a_stray_nul_byte_is_dropped_with_a_note():
    result = read(b"a,b\n1,2\n3,\x004\n5,6\n")
    assert result.frame["b"].tolist() == ["2", "4", "6"]
    assert any("NUL" in n for n in result.report.notes)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_zip_with_one_table_is_read_with_a_note():
    result = read(_zip({"folder/inner.csv": b"a,b\n1,2\n3,4\n"}), "upload.zip")
    assert result.frame["b"].tolist() == ["2", "4"]
    assert any("inner.csv" in n and "zip" in n for n in result.report.notes)


@pytest.mark.parametrize("name", ["two.zip", "two.xlsx", "two.csv"])
def test_zip_with_several_files_is_not_called_excel(name):
    with pytest.raises(DataReadError) as info:
        read(_zip({"a.csv": b"a\n1\n2\n", "b.csv": b"b\n1\n2\n"}), name)
    assert "zip archive" in info.value.message and "extract" in info.value.message
    assert "Excel" not in info.value.message


def test_gzip_of_a_csv_is_read():
    result = read(gzip.compress(b"a;b\n1;x\n2;y\n"), "t.csv.gz")
    assert result.frame["b"].tolist() == ["x", "y"] and result.report.delimiter == "semicolon"


def test_a_one_megabyte_cell_is_read_whole():
    big = "word " * 200_000
    frame = read(f'id,text\n1,"{big}"\n2,short\n').frame
    assert len(frame) == 2 and frame["text"].iloc[0] == big.strip()


def test_a_first_line_of_numbers_is_data_not_names():
    result = read("1,2.5,3\n4,5.5,6\n")
    assert result.frame.shape == (2, 3) and list(result.frame.columns) == ["column_1", "column_2", "column_3"]
    assert result.frame["column_2"].tolist() == ["2.5", "5.5"]
    assert any("not column names" in n for n in result.report.notes)
    assert list(read("name,2021,2022\na,1,2\nb,3,4\n").frame.columns) == ["name", "2021", "2022"]


def test_csv_named_like_excel_is_read_as_csv_with_a_note():
    result = read("a,b\n1,2\n3,4\n", "report.xlsx")
    assert result.frame["b"].tolist() == ["2", "4"] and result.report.file_format == "CSV"
    assert any("named like an Excel file" in n for n in result.report.notes)
