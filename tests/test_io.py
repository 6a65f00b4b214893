"""The reader survives the files users really upload, and refuses the rest in plain words."""

import io

import pandas as pd
import pytest

from tabular.errors import DataReadError
from tabular.io import MAX_COLUMNS, read_table


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
    assert any("more fields" in n for n in result.report.notes)


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
