"""Split delimited text into rows: a fast path, and a careful one that repairs stray quotes and ragged rows."""

from __future__ import annotations

import io
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
MISSING_TOKENS = ("", "na", "n/a", "nan", "null", "none", "nil", "-", "--", "?", "#n/a", "missing")
SNIFF_LINES = 200  # lines (and at most SNIFF_CHARS characters) used to pick the delimiter
SNIFF_CHARS = 200_000
SHOWN_LINES = 10  # line numbers listed in a note


def normalize_newlines(text: str) -> str:
    """Make every line end in LF, whatever mix of CRLF, LF and lone CR the file used."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def line_list(numbers: list[int]) -> str:
    """'line 7', 'lines 3, 9 and 12', or the first few and a count of the rest."""
    shown = [f"{n:,}" for n in numbers[:SHOWN_LINES]]
    if len(numbers) == 1:
        return f"line {shown[0]}"
    rest = len(numbers) - len(shown)
    if rest:
        return f"lines {', '.join(shown)} and {rest:,} more"
    return f"lines {', '.join(shown[:-1])} and {shown[-1]}"


def sniff_delimiter(text: str) -> tuple[str, int]:
    """Pick the delimiter that splits the first lines into the most consistent number of fields.

    Returns the delimiter and the table's width: the header's, or the usual row's when wider.
    """
    head = text[:SNIFF_CHARS].split("\n")[:SNIFF_LINES]
    best, best_score, best_width = ",", -1.0, 1
    for delim in DELIMITERS:
        rows = [r for r in parse_rows(head, delim, None)[0] if any(f.strip() for f in r)]
        if not rows:
            continue
        width, count = Counter(len(r) for r in rows).most_common(1)[0]
        score = (count / len(rows)) * (1 if width > 1 else 0) + 0.001 * min(width, 50)
        if score > best_score:
            best, best_score, best_width = delim, score, max(len(rows[0]), width)
    return best, best_width


def split_text(text: str, delimiter: str, width: int, notes: list[str]) -> tuple[pa.Table, list[int]]:
    """All fields as strings in columns c0.. (header row first), and the line each row starts on.

    The line numbers are empty when every row is one line (the fast path found nothing to repair).
    """
    backslash = '\\"' in text
    table = None if backslash else _parse_with_arrow(text.encode("utf-8"), delimiter, width)
    if table is not None and not _has_line_breaks(table):
        return table, []
    rows, starts, literal = parse_rows(text.split("\n"), delimiter, width, backslash)
    if literal:
        notes.append(f"A quote mark (\") on {line_list(literal)} opens a quoted field that is never closed "
                     "properly, so it was kept as an ordinary character; no rows were lost because of it.")
    rows = _fit_width(rows, starts, width, notes)
    columns = list(zip(*rows)) if rows else [()] * width
    return pa.table({f"c{i}": pa.array(columns[i], pa.string()) for i in range(width)}), starts


def _has_line_breaks(table: pa.Table) -> bool:
    """Whether some field spans lines: then the careful parser checks that no quote swallowed rows."""
    return any(pc.any(pc.match_substring(col, "\n")).as_py() for col in table.columns)


def _parse_with_arrow(utf8: bytes, delimiter: str, width: int) -> pa.Table | None:
    """Fast multi-threaded parse; returns None when some rows need the careful parser."""
    names = [f"c{i}" for i in range(width)]
    bad_rows: list[int] = []

    def on_bad_row(row) -> str:
        bad_rows.append(1)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return None if bad_rows else table


def parse_rows(lines: list[str], delim: str, width: int | None, backslash: bool = False
               ) -> tuple[list[list[str]], list[int], list[int]]:
    """Rows of fields, the (1-based) line each starts on, and the lines whose stray quote was kept literally.

    A quoted field may span lines only if it closes properly and its row then has ``width`` fields
    (any number when ``width`` is None); otherwise its opening quote is an ordinary character.
    """
    rows, starts, literal = [], [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if '"' not in line:
            rows.append(line.split(delim))
            starts.append(i + 1)
            i += 1
            continue
        fields, after, sound, _ = _scan(lines, i, delim, width, backslash)
        if not sound:
            fields, after = _literal_line(line, delim, backslash), i + 1
            literal.append(i + 1)
        rows.append(fields)
        starts.append(i + 1)
        i = after
    return rows, starts, literal


def _scan(lines: list[str], i: int, delim: str, width: int | None, backslash: bool
          ) -> tuple[list[str], int, bool, int | None]:
    """Parse the record starting on line ``i``.

    Returns its fields, the index of the line after it, whether it is sound, and where on its last line
    a quoted field that is still open began.
    """
    fields: list[str] = []
    buf: list[str] = []
    quoted, bad_close, open_at, j = False, False, None, i
    while j < len(lines):
        line, k = lines[j], 0
        while k < len(line):
            if quoted:
                k, quoted, closed_badly = _in_quotes(line, k, delim, buf, backslash)
                bad_close = bad_close or closed_badly
                continue
            k, opened = _outside_quotes(line, k, delim, fields, buf)
            if opened:
                quoted, open_at, buf = True, k - 1, []
        j += 1
        if not quoted:
            break
        buf.append("\n")
    fields.append("".join(buf))
    multi_line_ok = not bad_close and (width is None or len(fields) == width)
    return fields, j, not quoted and (j - i == 1 or multi_line_ok), open_at if quoted else None


def _outside_quotes(line: str, k: int, delim: str, fields: list[str], buf: list[str]) -> tuple[int, bool]:
    """Read up to the next delimiter or quote; returns the next position and whether a quoted field opened."""
    stops = [x for x in (line.find(delim, k), line.find('"', k)) if x >= 0]
    stop = min(stops) if stops else len(line)
    buf.append(line[k:stop])
    if stop == len(line):
        return stop, False
    if line[stop] == delim:
        fields.append("".join(buf))
        buf.clear()
        return stop + 1, False
    if not "".join(buf).strip():
        return stop + 1, True
    buf.append('"')
    return stop + 1, False


def _in_quotes(line: str, k: int, delim: str, buf: list[str], backslash: bool) -> tuple[int, bool, bool]:
    """Read inside a quoted field up to its next quote; returns the next position, whether still quoted, and
    whether the field closed with something other than a delimiter after it."""
    stop = line.find('"', k)
    if stop < 0:
        buf.append(line[k:])
        return len(line), True, False
    buf.append(line[k:stop])
    if backslash and stop > k and line[stop - 1] == "\\" and line[stop - 2:stop] != "\\\\":  # \" inside quotes
        buf[-1] = buf[-1][:-1] + '"'
        return stop + 1, True, False
    if line[stop + 1:stop + 2] == '"':
        buf.append('"')
        return stop + 2, True, False
    rest = line[stop + 1:].lstrip(" ")
    return stop + 1, False, bool(rest) and not rest.startswith(delim)


def _literal_line(line: str, delim: str, backslash: bool) -> list[str]:
    """Fields of one line, where a quote that is never closed on it counts as an ordinary character."""
    fields, _, _, open_at = _scan([line], 0, delim, None, backslash)
    if open_at is None:
        return fields
    head = _literal_line(line[:open_at], delim, backslash) if open_at else [""]
    end = line.find(delim, open_at)
    if end < 0:
        return head[:-1] + [head[-1] + line[open_at:]]
    return head[:-1] + [head[-1] + line[open_at:end]] + _literal_line(line[end + 1:], delim, backslash)


def _fit_width(rows: list[list[str]], starts: list[int], width: int, notes: list[str]) -> list[list[str]]:
    """Pad short rows; cut long ones, saying which lines lost fields."""
    cut = [start for row, start in zip(rows, starts) if len(row) > width and any(f.strip() for f in row[width:])]
    if cut:
        rows_word = "rows" if len(cut) > 1 else "row"
        notes.append(f"The {rows_word} on {line_list(cut)} had more fields than the header; "
                     "the extra fields were left out.")
    return [row[:width] if len(row) >= width else row + [""] * (width - len(row)) for row in rows]


def clean_strings(table: pa.Table) -> pa.Table:
    """Trim spaces and turn the usual spellings of 'missing' into real missing values."""
    tokens = pa.array(MISSING_TOKENS)
    columns = []
    for col in table.columns:
        trimmed = pc.utf8_trim_whitespace(col)
        missing = pc.is_in(pc.utf8_lower(trimmed), value_set=tokens)
        columns.append(pc.if_else(missing, pa.scalar(None, pa.string()), trimmed))
    return pa.table(columns, names=table.column_names)


def header_row(first_rows: list[list[object]]) -> int:
    """Where the column names are: past title lines (one value or none) above a row of text names."""
    counts = [sum(v is not None and str(v).strip() != "" for v in row) for row in first_rows]
    if not counts or counts[0] >= 2 or max(counts) < 2:
        return 0
    k = next(i for i, c in enumerate(counts) if c >= 2)
    names = [str(v) for v in first_rows[k] if v is not None and str(v).strip()]
    return k if k <= 10 and not any(_is_number(v) for v in names) else 0


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", "."))
    except ValueError:
        return False
    return True


def values_not_names(header: list[str | None]) -> bool:
    """A first line of numbers only is data, not names (unless the numbers look like years)."""
    present = [h for h in header if h is not None]
    if not present or len(present) < len(header) or not all(_is_number(h) for h in present):
        return False
    return not all(h.isdigit() and 1900 <= int(h) <= 2100 for h in present)
