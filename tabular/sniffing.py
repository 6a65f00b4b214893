"""Tell what a file really is from its bytes: unpack archives, refuse non-tables, and decode text."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import re
import tarfile
import zipfile
from pathlib import Path

from tabular.errors import DataReadError
from tabular.text_reader import line_list

TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ".dat", ".xlsx", ".xlsm", ".parquet", ".pq"}
SUPPORTED = "Supported formats are CSV/TSV text, Excel (.xlsx) and Parquet."
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# (magic bytes, what the file is) for files that are certainly not a table
NOT_TABLES = (
    (b"%PDF", "a PDF document"), (b"\x89PNG", "an image (PNG)"), (b"\xff\xd8\xff", "an image (JPEG)"),
    (b"GIF8", "an image (GIF)"), (b"BM", "an image (BMP)"), (b"II*\x00", "an image (TIFF)"),
    (b"MM\x00*", "an image (TIFF)"), (b"SQLite format 3\x00", "a SQLite database"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"Rar!", "a RAR archive"), (b"{\\rtf", "an RTF document"),
)
COMPRESSED = ((b"\x1f\x8b", "gzip", gzip.decompress), (b"BZh", "bzip2", bz2.decompress),
              (b"\xfd7zXZ\x00", "xz", lzma.decompress))
UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "utf-16-le": "UTF-16",
                  "utf-16-be": "UTF-16", "utf-32": "UTF-32", "cp1252": "Windows-1252", "latin-1": "Latin-1",
                  "mixed": "mixed UTF-8 and Windows-1252"}


def unpack(data: bytes, file_name: str, max_bytes: int) -> tuple[bytes, str, str]:
    """Take a table out of a zip, tar, gzip, bzip2 or xz wrapper; returns (bytes, name, note or '')."""
    for magic, kind, decompress in COMPRESSED:
        if data.startswith(magic):
            try:
                inner = decompress(data)
            except Exception as exc:  # each module raises its own error types for damaged data
                raise DataReadError(f"The file is {kind}-compressed but damaged, so it cannot be unpacked.",
                                    f"{type(exc).__name__}: {exc}") from exc
            _check_size(len(inner), max_bytes)
            name = Path(file_name).stem if Path(file_name).suffix else file_name
            return inner, name, f"Unpacked the {kind}-compressed file."
    if data[:4] == b"PK\x03\x04" and not _is_workbook(data):
        return _from_zip(data, file_name, max_bytes)
    if len(data) > 262 and data[257:262] == b"ustar":
        return _from_tar(data, file_name, max_bytes)
    return data, file_name, ""


def _check_size(size: int, limit: int) -> None:
    if size > limit:
        raise DataReadError(f"Unpacked, the file is {size / 1e6:.0f} MB, over the {limit / 1e6:.0f} MB limit. "
                            "Try a smaller extract, or save it as Parquet, which is much smaller.")


def _is_workbook(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return True  # damaged: let the Excel reader say so
    return "[Content_Types].xml" in names or "xl/workbook.xml" in names


def _pick_member(names: list[str], kind: str) -> str:
    """The one table in an archive, or a plain refusal naming what is inside."""
    files = [n for n in names if not n.endswith("/") and "__MACOSX" not in n and not Path(n).name.startswith(".")]
    tables = [n for n in files if Path(n).suffix.lower() in TABLE_SUFFIXES]
    if len(tables) == 1:
        return tables[0]
    shown = ", ".join(Path(n).name for n in (tables or files)[:5]) + (", …" if len(tables or files) > 5 else "")
    what = f"{len(tables)} tables" if tables else (f"no table ({shown})" if files else "nothing")
    raise DataReadError(f"This is a {kind} archive holding {what}, not a single table. "
                        "Please extract the table you want and upload that file.",
                        f"Archive contents: {shown}" if files else "")


def _from_zip(data: bytes, file_name: str, max_bytes: int) -> tuple[bytes, str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = _pick_member(archive.namelist(), "zip")
            _check_size(archive.getinfo(member).file_size, max_bytes)
            inner = archive.read(member)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
        raise DataReadError("This is a zip archive that cannot be opened (damaged or password-protected). "
                            "Please extract the table and upload that file.", str(exc)) from exc
    return inner, Path(member).name, f"Read {Path(member).name} from inside the zip archive."


def _from_tar(data: bytes, file_name: str, max_bytes: int) -> tuple[bytes, str, str]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            members = {m.name: m for m in archive.getmembers() if m.isfile()}
            name = _pick_member(list(members), "tar")
            _check_size(members[name].size, max_bytes)
            inner = archive.extractfile(members[name]).read()
    except tarfile.TarError as exc:
        raise DataReadError("This is a tar archive that cannot be opened. "
                            "Please extract the table and upload that file.", str(exc)) from exc
    return inner, Path(name).name, f"Read {Path(name).name} from inside the tar archive."


def refuse_non_table(data: bytes) -> None:
    """Refuse, in plain words, files whose first bytes show they are documents, images or databases."""
    for magic, what in NOT_TABLES:
        if data.startswith(magic) and (magic != b"BM" or _control_share(data[:512]) > 0.05):
            raise DataReadError(f"This is {what}, not a table. Please save the table as CSV, Excel (.xlsx) or "
                                "Parquet and upload that file.", SUPPORTED)
    if data.startswith(OLE_MAGIC):
        raise DataReadError("This is an old-style Excel file (.xls) or another old Office document. Please open "
                            "it in Excel and save it as .xlsx or CSV.")


def refuse_markup_or_json(text: str) -> None:
    """Refuse text that is JSON, HTML or XML rather than a table of rows."""
    start = text[:4096].lstrip("\ufeff \t\r\n")
    lower = start[:200].lower()
    if lower.startswith(("<!doctype html", "<html")) or (lower.startswith("<") and "<table" in text[:4096].lower()):
        raise DataReadError("This looks like a web page (HTML), not a table. If it holds a table, open it in "
                            "Excel and save it as .xlsx or CSV, then upload that file.", SUPPORTED)
    if lower.startswith("<") and text.rstrip().endswith(">"):
        raise DataReadError("This looks like an XML file, not a table. Save it as CSV or Excel (.xlsx) from the "
                            "program that made it, then upload that file.", SUPPORTED)
    if start[:1] in ("{", "[") and _is_json(text):
        raise DataReadError("This looks like a JSON file, not a table. Save it as CSV (or Excel) and upload "
                            "that file instead.", SUPPORTED)


def _is_json(text: str) -> bool:
    """Whole-text JSON, or JSON Lines (each line an object or list)."""
    first = text.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    for candidate in (first, text.lstrip("\ufeff")):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, (dict, list)):
            return True
    return False


def decode(data: bytes) -> tuple[str, str, list[str]]:
    """Turn bytes into text in the encodings users' files really come in; returns (text, encoding, notes)."""
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return data.decode("utf-32", errors="replace"), "utf-32", []
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _checked(data, "utf-16")
    wide = _utf16_without_bom(data[:4096])
    if wide:
        return _checked(data, wide)
    notes = []
    nuls = data.count(b"\x00")
    if nuls > max(16, len(data) // 100):
        raise DataReadError("This does not look like a table: the file holds binary data, not text.", SUPPORTED)
    if nuls:
        data = data.replace(b"\x00", b"")
        notes.append(f"Removed {nuls:,} invisible NUL character{'s' if nuls > 1 else ''} (zero bytes), "
                     "which usually come from a faulty export.")
    if _control_share(data[:65536]) > 0.05:
        raise DataReadError("This does not look like a table: the file holds binary data, not text.", SUPPORTED)
    if data.startswith(b"\xef\xbb\xbf"):
        text, encoding, more = _checked(data[3:], "utf-8")
        return text, "utf-8-sig", notes + more
    text, encoding, more = _eight_bit(data)
    return text, encoding, notes + more


def _checked(data: bytes, encoding: str) -> tuple[str, str, list[str]]:
    """Decode, replacing (and counting) the bytes that do not fit."""
    try:
        return data.decode(encoding), encoding, []
    except UnicodeDecodeError:
        text = data.decode(encoding, errors="replace")
        bad = text.count("\ufffd")
        were = "were" if bad > 1 else "was"
        return text, encoding, [(f"{bad:,} character{'s' if bad > 1 else ''} could not be read and {were} "
                                 "replaced by \ufffd.")]


def _utf16_without_bom(head: bytes) -> str:
    """'utf-16-le' or 'utf-16-be' when every other byte is zero, as in UTF-16 text of Latin letters."""
    if len(head) < 8 or b"\x00" not in head:
        return ""
    even, odd = head[0::2], head[1::2]
    zero_even, zero_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zero_odd > 0.3 and zero_even < 0.05:
        return "utf-16-le"
    if zero_even > 0.3 and zero_odd < 0.05:
        return "utf-16-be"
    return ""


def _eight_bit(data: bytes) -> tuple[str, str, list[str]]:
    """UTF-8, else Windows-1252 (or Latin-1); a mix of UTF-8 and Windows-1252 lines is decoded line by line."""
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    if not UTF8_SEQUENCE.search(data):  # no UTF-8 letter anywhere: one legacy encoding, decoded at once
        return _legacy(data)
    texts, legacy, utf8_seen = [], [], False
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        try:
            texts.append(line.decode("utf-8"))
            utf8_seen = utf8_seen or not line.isascii()
        except UnicodeDecodeError:
            texts.append(line.decode("cp1252") if _fits_cp1252(line) else line.decode("latin-1"))
            legacy.append(number)
    if not utf8_seen:
        return _legacy(data)
    were = "were" if len(legacy) > 1 else "was"
    note = (f"The file mixes text encodings: {line_list(legacy)} {were} not UTF-8 and read as Windows-1252 "
            "(the rest as UTF-8). Check their accented letters.")
    return "".join(texts), "mixed", [note]


def _legacy(data: bytes) -> tuple[str, str, list[str]]:
    encoding = "cp1252" if _fits_cp1252(data) else "latin-1"
    return data.decode(encoding), encoding, [f"Read the text as {ENCODING_NAMES[encoding]} (it is not UTF-8)."]


def _fits_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _control_share(head: bytes) -> float:
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return controls / max(len(head), 1)
