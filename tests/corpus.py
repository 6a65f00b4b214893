"""Odd files users upload, built at test time, each with what reading it must give (a table or a plain refusal)."""

from __future__ import annotations

import datetime
import decimal
import gzip
import io
import json
import random
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@dataclass
class Case:
    """One odd file and what reading it must give.

    ``values`` spot-checks cells as {column: {row: value}} (None: missing); ``dtypes`` maps columns to
    'text', 'float', 'int', 'datetime' or 'bool'; ``error`` is plain words the refusal must contain.
    """

    name: str
    category: str
    build: Callable[[], bytes]
    shape: tuple[int, int] | None = None
    values: dict[str, dict[int, object]] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    note: str = ""  # words one of the report's notes must contain
    error: str = ""
    known_issue: str = ""  # a failure owned by another module, expected until that fix is merged


def _text(text: str, encoding: str = "utf-8") -> Callable[[], bytes]:
    return lambda: text.encode(encoding)


def _raw(data: bytes) -> Callable[[], bytes]:
    return lambda: data


PEOPLE = "name,city,age\nJosé,Zürich,31\nFrançoise,Köln,45\nÅsa,Malmö,28\n"
PEOPLE_VALUES = {"name": {0: "José", 2: "Åsa"}, "city": {1: "Köln"}, "age": {2: "28"}}


def _grid(rows: int = 30, cols: int = 4, sep: str = ",", end: str = "\n") -> str:
    lines = [sep.join(f"c{j}" for j in range(cols))] + [sep.join(str(i * cols + j) for j in range(cols))
                                                         for i in range(rows)]
    return end.join(lines) + end


def _mixed_endings() -> bytes:
    rng = random.Random(1)
    return "".join(line + rng.choice(["\r\n", "\n", "\r"]) for line in _grid(500, 20).split("\n")[:-1]).encode()


def encoding_cases() -> list[Case]:
    mixed = ("name,city\nJosé,Zürich\n".encode() + "René,Besançon\n".encode("cp1252") + "Zoë,Köln\n".encode())
    return [
        Case("utf8", "encoding", _text(PEOPLE), (3, 3), PEOPLE_VALUES),
        Case("utf8_bom", "encoding", _text(PEOPLE, "utf-8-sig"), (3, 3), PEOPLE_VALUES),
        Case("utf16_le_bom", "encoding", _raw(b"\xff\xfe" + PEOPLE.encode("utf-16-le")), (3, 3), PEOPLE_VALUES),
        Case("utf16_be_bom", "encoding", _raw(b"\xfe\xff" + PEOPLE.encode("utf-16-be")), (3, 3), PEOPLE_VALUES),
        Case("utf16_le_no_bom", "encoding", _text(PEOPLE, "utf-16-le"), (3, 3), PEOPLE_VALUES),
        Case("utf16_be_no_bom", "encoding", _text(PEOPLE, "utf-16-be"), (3, 3), PEOPLE_VALUES),
        Case("cp1252", "encoding", _text("item,price\nCafé “special”,3€\nTea,2€\n", "cp1252"), (2, 2),
             {"item": {0: "Café “special”"}, "price": {0: "3€"}}, note="Windows-1252"),
        Case("latin1", "encoding", _text(PEOPLE, "latin-1"), (3, 3), PEOPLE_VALUES, note="not UTF-8"),
        Case("mixed_utf8_cp1252", "encoding", _raw(mixed), (3, 2),
             {"name": {0: "José", 1: "René", 2: "Zoë"}, "city": {1: "Besançon"}}, note="mixes text encodings"),
        Case("invalid_bytes_bom", "encoding", _raw(b"\xef\xbb\xbfa,b\nx\xff,1\ny,2\n"), (2, 2),
             {"a": {0: "x\ufffd", 1: "y"}}, note="could not be read"),
        Case("stray_nul", "encoding", _raw(b"a,b\n1,2\n3,\x004\n5,6\n"), (3, 2), {"b": {1: "4"}}, note="NUL"),
        Case("binary_noise", "encoding", _raw(bytes(range(256)) * 40), error="binary data"),
    ]


def delimiter_cases() -> list[Case]:
    return [
        Case("comma", "delimiter", _text(_grid()), (30, 4), {"c3": {29: "119"}}),
        Case("semicolon", "delimiter", _text(_grid(sep=";")), (30, 4), {"c1": {0: "1"}}),
        Case("tab", "delimiter", _text(_grid(sep="\t")), (30, 4), {"c2": {5: "22"}}),
        Case("pipe", "delimiter", _text(_grid(sep="|")), (30, 4), {"c0": {29: "116"}}),
        Case("delimiter_in_quotes", "delimiter", _text('id,name,n\n1,"Smith, Jo",3\n2,"Lee, Al",4\n'), (2, 3),
             {"name": {0: "Smith, Jo"}, "n": {1: "4"}}),
        Case("decimal_comma", "delimiter", _text("item;price;qty\na;1,5;2\nb;2,25;3\nc;10,75;1\n"), (3, 3),
             {"price": {0: "1,5", 2: "10,75"}}),
        Case("spaces_around", "delimiter", _text("a , b\n  x , 1 \n y,2\n"), (2, 2), {"a": {0: "x"}, "b": {0: "1"}}),
    ]


def line_ending_cases() -> list[Case]:
    return [
        Case("lf", "line endings", _text(_grid()), (30, 4), {"c3": {29: "119"}}),
        Case("crlf", "line endings", _text(_grid(end="\r\n")), (30, 4), {"c3": {29: "119"}}),
        Case("cr", "line endings", _text(_grid(end="\r")), (30, 4), {"c3": {29: "119"}}),
        Case("mixed_endings", "line endings", _mixed_endings, (500, 20), {"c0": {0: "0"}, "c19": {499: "9999"}}),
        Case("no_final_newline", "line endings", _text(_grid()[:-1]), (30, 4), {"c3": {29: "119"}}),
    ]


def _stray_quote() -> bytes:
    lines = ["id,name,score"] + [f"{i},name{i},{i * 2}" for i in range(300)]
    lines[101] = '100,"abc,200'
    lines[147] = '146,"Smith, Jo",292'
    return ("\n".join(lines) + "\n").encode()


def quote_cases() -> list[Case]:
    return [
        Case("backslash_quotes", "quotes", _text('id,said\n1,"she said \\"hi\\", then left"\n2,"plain"\n'), (2, 2),
             {"said": {0: 'she said "hi", then left'}}),
        Case("doubled_quotes", "quotes", _text('id,said\n1,"say ""hi"""\n2,x\n'), (2, 2), {"said": {0: 'say "hi"'}}),
        Case("unbalanced_quote", "quotes", _stray_quote, (300, 3),
             {"name": {100: '"abc', 146: "Smith, Jo", 299: "name299"}, "score": {100: "200"}}, note="line 102"),
        Case("newline_in_quotes", "quotes", _text('id,comment\n1,"first\nsecond"\n2,"x, y"\n'), (2, 2),
             {"comment": {0: "first\nsecond", 1: "x, y"}}),
        Case("quoted_missing", "quotes", _text('a,b\n"",1\n"NA",2\nz,3\n'), (3, 2), {"a": {0: None, 1: None, 2: "z"}}),
    ]


def header_cases() -> list[Case]:
    return [
        Case("no_header", "header", _text("1,2.5,3\n4,5.5,6\n7,8.5,9\n"), (3, 3), {"column_2": {0: "2.5"}},
             note="not column names"),
        Case("duplicate_names", "header", _text("x,x,y\n1,2,3\n4,5,6\n"), (2, 3), {"x_2": {0: "2"}},
             note="unique name"),
        Case("blank_names", "header", _text("a,,c\n1,2,3\n4,5,6\n"), (2, 3), {"column_2": {1: "5"}}),
        Case("title_above_header", "header", _text("Sales report 2024\n\nregion,amount\nnorth,10\nsouth,20\n"),
             (2, 2), {"region": {0: "north"}, "amount": {1: "20"}}, note="line 3"),
        Case("trailing_blanks", "header", _text("a,b,,\n1,2,,\n3,4,,\n,,,\n\n"), (2, 2), {"b": {1: "4"}},
             note="empty column"),
        Case("ragged_rows", "header", _text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n"), (3, 3), {"c": {1: None, 2: "8"}},
             note="line 4"),
        Case("only_header", "header", _text("a,b\n"), error="no rows"),
        Case("one_row", "header", _text("a,b\n1,2\n"), error="only 1 row"),
        Case("one_column", "header", _text("value\n" + "".join(f"{i}\n" for i in range(20))), (20, 1),
             {"value": {19: "19"}}),
    ]


def _workbook(fill: Callable[[openpyxl.Workbook], None]) -> Callable[[], bytes]:
    def build() -> bytes:
        book = openpyxl.Workbook()
        fill(book)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    return build


def _sheets(book: openpyxl.Workbook) -> None:
    book.active.title = "Sales"
    for row in (["when", "qty", "paid"], [datetime.datetime(2024, 1, 5), 3, True], [datetime.datetime(2024, 2, 6), 4,
                                                                                      False]):
        book.active.append(row)
    book.create_sheet("Other").append(["x", "y"])


def _empty_first(book: openpyxl.Workbook) -> None:
    book.active.title = "Cover"
    sheet = book.create_sheet("Data")
    for row in (["a", "b"], [1, "x"], [2, "y"]):
        sheet.append(row)


def _merged_title(book: openpyxl.Workbook) -> None:
    sheet = book.active
    sheet["A1"] = "Quarterly figures"
    sheet.merge_cells("A1:C1")
    for row in (["region", "q1", "q2"], ["north", 1.5, 2], ["south", 3, 4.25]):
        sheet.append(row)


def _two_row_header(book: openpyxl.Workbook) -> None:
    sheet = book.active
    for row in (["region", "Sales", None, "note"], [None, "q1", "q2", None], ["north", 1.5, 2, "ok"],
                ["south", 3, 4.25, None]):
        sheet.append(row)
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("A1:A2")


def _formulas(book: openpyxl.Workbook) -> None:
    sheet = book.active
    sheet.append(["a", "b", "total"])
    for i in range(2, 6):
        sheet.append([i, i * 10, f"=A{i}+B{i}"])


def _times(book: openpyxl.Workbook) -> None:
    sheet = book.active
    sheet.append(["shift", "starts"])
    for i, hour in enumerate((6, 14, 22)):
        sheet.append([f"s{i}", datetime.time(hour, 30)])


def excel_cases() -> list[Case]:
    return [
        Case("xlsx_sheets", "excel", _workbook(_sheets), (2, 3),
             {"qty": {1: 4}, "when": {0: pd.Timestamp("2024-01-05")}, "paid": {1: False}},
             {"when": "datetime", "qty": "int", "paid": "bool"}, note="2 sheets"),
        Case("xlsx_empty_first_sheet", "excel", _workbook(_empty_first), (2, 2), {"b": {1: "y"}},
             note="first one with data"),
        Case("xlsx_merged_title", "excel", _workbook(_merged_title), (2, 3), {"region": {1: "south"}, "q2": {1: 4.25}},
             {"q1": "float"}, note="row 2"),
        Case("xlsx_two_row_header", "excel", _workbook(_two_row_header), (2, 4),
             {"region": {1: "south"}, "Sales q1": {0: 1.5}, "Sales q2": {1: 4.25}, "note": {0: "ok", 1: None}},
             {"Sales q1": "float", "Sales q2": "float"}, note="Sales q1"),
        Case("xlsx_formulas", "excel", _workbook(_formulas), (4, 3), {"a": {0: 2}, "total": {0: None}},
             note="formulas whose results were not saved"),
        Case("xlsx_times", "excel", _workbook(_times), (3, 2), {"starts": {0: "06:30:00", 2: "22:30:00"}}),
    ]


def _parquet(table: pa.Table | Callable[[], pa.Table]) -> Callable[[], bytes]:
    def build() -> bytes:
        buffer = io.BytesIO()
        pq.write_table(table() if callable(table) else table, buffer)
        return buffer.getvalue()
    return build


STAMPS = [1_700_000_000, 1_710_000_000, 1_720_000_000]  # 2023-11-14 22:13:20 UTC, ...


def _stamps(unit: str, tz: str | None = None) -> pa.Table:
    per = {"s": 1, "ms": 10 ** 3, "us": 10 ** 6, "ns": 10 ** 9}[unit]
    return pa.table({"when": pa.array([s * per for s in STAMPS], pa.timestamp(unit, tz=tz)), "n": [1, 2, 3]})


def parquet_cases() -> list[Case]:
    first = pd.Timestamp("2023-11-14 22:13:20")
    days = [datetime.date(2024, 3, d) for d in (1, 2, 3)]
    cases = [Case(f"parquet_ts_{u}", "parquet", _parquet(_stamps(u)), (3, 2), {"when": {0: first}},
                  {"when": "datetime"}) for u in ("s", "ms", "us", "ns")]
    return cases + [
        Case("parquet_ts_tz", "parquet", _parquet(_stamps("ms", "Europe/Berlin")), (3, 2),
             {"when": {0: pd.Timestamp("2023-11-14 23:13:20", tz="Europe/Berlin")}}, {"when": "datetime"},
             note="time zone"),
        Case("parquet_date32", "parquet", _parquet(pa.table({"d": pa.array(days, pa.date32()), "n": [1, 2, 3]})),
             (3, 2), {"d": {2: pd.Timestamp("2024-03-03")}}, {"d": "datetime"}),
        Case("parquet_date64", "parquet", _parquet(pa.table({"d": pa.array(days, pa.date64()), "n": [1, 2, 3]})),
             (3, 2), {"d": {0: pd.Timestamp("2024-03-01")}}, {"d": "datetime"}),
        Case("parquet_time", "parquet", _parquet(pa.table({"t": pa.array(
            [datetime.time(9, 30), None, datetime.time(17, 0, 5)], pa.time64("us")), "n": [1, 2, 3]})), (3, 2),
             {"t": {0: "09:30:00", 1: None, 2: "17:00:05"}}),
        Case("parquet_decimal", "parquet", _parquet(pa.table({"x": pa.array(
            [decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")], pa.decimal128(9, 2)), "n": [1, 2, 3]})),
             (3, 2), {"x": {0: 1.25, 1: None, 2: -3.5}}, {"x": "float"}),
        Case("parquet_dictionary", "parquet", _parquet(pa.table({"c": pa.array(["a", "b", "a"]).dictionary_encode(),
                                                                 "n": [1, 2, 3]})), (3, 2), {"c": {2: "a"}},
             {"c": "text"}),
        Case("parquet_bool_nulls", "parquet", _parquet(pa.table({"b": [True, None, False], "n": [1, 2, 3]})), (3, 2),
             {"b": {0: True, 1: None, 2: False}}, {"b": "bool"}),
        Case("parquet_uint64_huge", "parquet", _parquet(pa.table({"id": pa.array([2 ** 64 - 1, 2 ** 63, 7],
                                                                                 pa.uint64()), "n": [1, 2, 3]})),
             (3, 2), {"id": {0: "18446744073709551615", 1: "9223372036854775808", 2: "7"}}, {"id": "text"},
             note="16 or more digits"),
        Case("parquet_large_string", "parquet", _parquet(pa.table({"s": pa.array(["x", " y ", None],
                                                                                 pa.large_string()), "n": [1, 2, 3]})),
             (3, 2), {"s": {1: "y", 2: None}}, {"s": "text"}),
        Case("parquet_int_nulls", "parquet", _parquet(pa.table({"i": pa.array([1, None, 3], pa.int32()),
                                                                "n": [1, 2, 3]})), (3, 2), {"i": {0: 1, 1: None}}),
        Case("parquet_list_struct", "parquet", _parquet(pa.table({
            "tags": pa.array([[1, None], [], None]), "info": pa.array([{"a": 1, "b": None}, None, {"a": None,
                                                                                               "b": "z"}]),
            "n": [1, 2, 3]})), (3, 3),
             {"tags": {0: "[1, null]", 1: "[]", 2: None}, "info": {0: '{"a": 1, "b": null}', 1: None}},
             note="kept as text"),
        Case("parquet_map", "parquet", _parquet(pa.table({"m": pa.array([[("k", 1)], None, [("j", 2)]],
                                                                        pa.map_(pa.string(), pa.int64())),
                                                          "n": [1, 2, 3]})), (3, 2), {"m": {0: '{"k": 1}'}},
             note="key-value pairs"),
        Case("parquet_pandas_index", "parquet", _parquet(lambda: pa.Table.from_pandas(
            pd.DataFrame({"v": [1.5, 2.5]}, index=pd.Index(["a", "b"], name="key")))), (2, 2),
             {"key": {1: "b"}, "v": {0: 1.5}}),
        Case("parquet_duration", "parquet", _parquet(pa.table({"d": pa.array([1500, 3000], pa.duration("ms")),
                                                               "n": [1, 2]})), (2, 2), {"d": {0: 1.5, 1: 3.0}},
             note="seconds"),
    ]


def _big_cell() -> bytes:
    return ('id,text\n1,"' + "word " * 200_000 + '"\n2,short\n3,x\n').encode()


def huge_cases() -> list[Case]:
    huge = "id,amount\n" + "".join(f"{2 ** 63 + i * 7919},{i}.5\n" for i in range(20))
    return [
        Case("one_megabyte_cell", "huge", _big_cell, (3, 2), {"text": {2: "x"}, "id": {1: "2"}}),
        Case("float_extremes", "huge", _text("x,y\n1e308,-1e308\n2.5e-308,0.5\n3,4\n"), (3, 2),
             {"x": {0: "1e308"}, "y": {0: "-1e308"}}),
        Case("whole_1e308", "huge", _text("x,y\n1e308,1\n0,2\n3,3\n"), (3, 2), {"x": {0: "1e308"}}),
        Case("ints_over_2_63", "huge", _text(huge), (20, 2), {"id": {0: str(2 ** 63), 19: str(2 ** 63 + 19 * 7919)}},
             note="16 or more digits"),
        Case("too_many_columns", "huge", _text(",".join(f"c{i}" for i in range(1005)) + "\n"
                                               + ",".join("1" for _ in range(1005)) + "\n"), error="columns"),
    ]


def _zip(members: dict[str, bytes]) -> Callable[[], bytes]:
    def build() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in members.items():
                archive.writestr(name, content)
        return buffer.getvalue()
    return build


def _tar(members: dict[str, bytes], compress: bool = False) -> Callable[[], bytes]:
    def build() -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for name, content in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
        return gzip.compress(buffer.getvalue()) if compress else buffer.getvalue()
    return build


SMALL = b"a,b\n1,x\n2,y\n3,z\n"


def archive_cases() -> list[Case]:
    table_values = {"b": {2: "z"}}
    return [
        Case("zip_one_csv", "archive", _zip({"export/data.csv": SMALL}), (3, 2), table_values, note="zip archive"),
        Case("zip_one_parquet", "archive", _zip({"t.parquet": _parquet(pa.table({"a": [1, 2], "b": ["x", "y"]}))()}),
             (2, 2), {"b": {1: "y"}}, note="t.parquet"),
        Case("zip_two_files", "archive", _zip({"a.csv": SMALL, "b.csv": SMALL}), error="extract the table"),
        Case("zip_no_table", "archive", _zip({"readme.md": b"# hi\n"}), error="zip archive holding no table"),
        Case("gzip_csv", "archive", lambda: gzip.compress(SMALL), (3, 2), table_values, note="gzip"),
        Case("tar_csv", "archive", _tar({"data.csv": SMALL}), (3, 2), table_values, note="tar archive"),
        Case("tar_gz_csv", "archive", _tar({"data.csv": SMALL}, compress=True), (3, 2), table_values,
             note="tar archive"),
    ]


def _xlsx_bytes() -> bytes:
    return _workbook(_empty_first)()


def wrong_extension_cases() -> list[Case]:
    return [
        Case("csv_named_xlsx", "wrong extension", _raw(SMALL), (3, 2), {"b": {0: "x"}}, note="named like an Excel"),
        Case("csv_named_parquet", "wrong extension", _raw(SMALL), (3, 2), {"a": {2: "3"}}, note="named like a Parquet"),
        Case("parquet_named_csv", "wrong extension", _parquet(pa.table({"a": [1, 2], "b": ["x", "y"]})), (2, 2),
             {"a": {1: 2}}, {"a": "int"}),
        Case("xlsx_named_csv", "wrong extension", _xlsx_bytes, (2, 2), {"b": {0: "x"}}),
        Case("json_named_csv", "wrong extension", _text(json.dumps([{"a": 1}, {"a": 2}])), error="JSON file"),
        Case("jsonl_named_csv", "wrong extension", _text('{"a": 1}\n{"a": 2}\n'), error="JSON file"),
        Case("html_named_csv", "wrong extension", _text("<html><body><table><tr><td>1</td></tr></table></body></html>"),
             error="web page (HTML)"),
        Case("xml_named_csv", "wrong extension", _text('<?xml version="1.0"?>\n<rows><r a="1"/></rows>\n'),
             error="XML file"),
        Case("pdf_named_csv", "wrong extension", _raw(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
             error="PDF document"),
        Case("png_named_csv", "wrong extension", _raw(b"\x89PNG\r\n\x1a\n" + bytes(100)), error="image (PNG)"),
        Case("jpeg_named_csv", "wrong extension", _raw(b"\xff\xd8\xff\xe0" + bytes(100)), error="image (JPEG)"),
        Case("xls_named_xlsx", "wrong extension", _raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200)),
             error="old-style Excel"),
        Case("text_named_xlsx", "wrong extension", _raw(b"just some words"), error="named like an Excel file"),
        Case("empty_file", "wrong extension", _raw(b""), error="empty"),
        Case("blank_file", "wrong extension", _raw(b" \n\n\t\n"), error="empty"),
    ]


FILE_NAMES = {"csv_named_xlsx": "data.xlsx", "csv_named_parquet": "data.parquet", "xls_named_xlsx": "old.xlsx",
              "text_named_xlsx": "book.xlsx", "zip_one_csv": "upload.zip", "gzip_csv": "data.csv.gz",
              "tar_gz_csv": "data.tar.gz", "tar_csv": "data.tar", "tab": "data.tsv"}


def file_name(case: Case) -> str:
    """What the file is called: by its category's usual suffix unless the case is about a wrong one."""
    if case.name in FILE_NAMES:
        return FILE_NAMES[case.name]
    suffix = {"excel": ".xlsx", "parquet": ".parquet", "archive": ".zip"}.get(case.category, ".csv")
    return case.name + suffix


def all_cases() -> list[Case]:
    """Every case, in category order."""
    return (encoding_cases() + delimiter_cases() + line_ending_cases() + quote_cases() + header_cases()
            + excel_cases() + parquet_cases() + huge_cases() + archive_cases() + wrong_extension_cases())
