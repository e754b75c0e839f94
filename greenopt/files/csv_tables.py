"""CSV files read as located text cells, and cell values parsed with a reason when they fail:
every problem is collected with its file, line and column (:class:`Problems`) instead of stopping
at the first. Records come from :func:`csv_records`, which keeps each record's line (also through
quoted fields spanning lines); surrounding blanks are stripped."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenopt.files.instance_columns import Column


class BadValue(ValueError):
    """A cell or value that cannot be accepted; the message says why."""


# ---- values --------------------------------------------------------------------------------


def parse_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadValue(f"expected a number, got {text!r}") from None
    if math.isnan(value):
        raise BadValue("NaN is not allowed")
    if math.isinf(value):
        raise BadValue(f"expected a finite number, got {text!r}")
    return value


def parse_int(text: str) -> int:
    value = parse_float(text)
    if value != int(value):
        raise BadValue(f"expected an integer, got {text!r}")
    return int(value)


_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def parse_bool(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise BadValue(f"expected a boolean (true/false, yes/no, 1/0), got {text!r}")


def parse_str(text: str) -> str:
    return text


def parse_timestamp(text: str) -> datetime:
    """ISO-8601 timestamp; UTC when it has no offset."""
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise BadValue(f"expected an ISO-8601 timestamp, got {text!r}") from None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def csv_records(text: str) -> list[tuple[int, list[str]]]:
    """(line, stripped cells) of each non-blank CSV record. Without quotes or bare carriage
    returns every record is one line, split directly (several times faster than tracking
    ``csv.reader.line_num``)."""
    if '"' not in text and "\r" not in text.replace("\r\n", ""):
        out = []
        for line, raw in enumerate(text.split("\n"), start=1):
            cells = raw.removesuffix("\r").split(",")
            if len(cells) > 1 or cells[0].strip():
                out.append((line, [cell.strip() for cell in cells]))
        return out
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):
                records.append((line, [cell.strip() for cell in record]))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise csv.Error(f"CSV syntax error on line {reader.line_num}: {exc}") from None
    return records


class Problems:
    """Problems per file, reported in the order of ``files``, then by line."""

    def __init__(self, files: tuple[str, ...]) -> None:
        self._by_file: dict[str, list[tuple[int, str]]] = {f: [] for f in files}

    def file(self, file: str, message: str) -> None:
        self._by_file[file].append((0, f"{file}: {message}"))

    def cell(self, file: str, line: int, column: str | int, message: str) -> None:
        self._by_file[file].append((line, f"{file}:{line}:{column}: {message}"))

    def has(self, file: str) -> bool:
        return bool(self._by_file[file])

    def all(self) -> list[str]:
        """Every problem: file by file, whole-file ones first, then by line (stable)."""
        return [p for f in self._by_file for _, p in sorted(self._by_file[f], key=lambda lp: lp[0])]


# ---- CSV tables ----------------------------------------------------------------------------


@dataclass
class CsvTable:
    """A CSV file as text cells, ``None`` where a row is short of fields; ``lines[i]`` is the line
    on which row ``i`` starts."""

    file: str
    header: list[str]
    lines: list[int] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)

    def column(self, name: str) -> list[str | None]:
        k = self.header.index(name)
        return [row[k] for row in self.rows]


def read_text(folder: Path, file: str, probs: Problems) -> str | None:
    path = folder / file
    if not path.is_file():
        probs.file(file, "missing file")
        return None
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        probs.file(file, f"not UTF-8 text ({err.reason} at byte {err.start})")
    except OSError as err:
        probs.file(file, f"cannot read ({err.strerror})")
    return None


def read_table(folder: Path, file: str, probs: Problems) -> CsvTable | None:
    """Read a CSV file as text; report CSV syntax, header and row-length problems."""
    text = read_text(folder, file, probs)
    if text is None:
        return None
    try:
        records = csv_records(text)
    except csv.Error as err:
        probs.file(file, str(err))
        return None
    if not records:
        probs.file(file, "empty file (no header line)")
        return None
    header_line, header = records[0]
    table = CsvTable(file, [])
    for name in header:
        if name in table.header:
            probs.cell(file, header_line, name, "duplicate column")
        table.header.append(name)
    for line, cells in records[1:]:
        if len(cells) > len(header):
            probs.cell(
                file,
                line,
                len(header) + 1,
                f"{len(cells) - len(header)} field(s) more than the {len(header)} of the header",
            )
        elif len(cells) < len(header):
            probs.cell(
                file,
                line,
                header[len(cells)],
                f"missing field (row has {len(cells)} fields, header has {len(header)})",
            )
        table.lines.append(line)
        table.rows.append(cells + [None] * (len(header) - len(cells)))
    return table


def check_columns(table: CsvTable, columns: tuple[Column, ...], probs: Problems) -> None:
    known = [c.name for c in columns]
    for name in dict.fromkeys(table.header):
        if name not in known:
            probs.cell(table.file, 1, name, f"unknown column (allowed: {', '.join(known)})")
    for col in columns:
        if col.required and col.name not in table.header:
            probs.file(table.file, f"missing required column {col.name!r}")


@dataclass
class Row:
    line: int
    values: dict[str, Any]  # the cells that parsed; defaults for left-out columns


def parse_rows(table: CsvTable, columns: tuple[Column, ...], probs: Problems) -> list[Row]:
    """Parse every known column of every row, reporting each bad cell."""
    check_columns(table, columns, probs)
    rows = []
    index = {c.name: table.header.index(c.name) for c in columns if c.name in table.header}
    for line, cells in zip(table.lines, table.rows, strict=True):
        row = Row(line, {})
        for col in columns:
            if col.name not in table.header:
                if not col.required:
                    row.values[col.name] = col.default
                continue
            text = cells[index[col.name]]
            if text is None:  # short row, already reported
                continue
            if text == "":
                if col.required:
                    probs.cell(table.file, line, col.name, "empty cell in a required column")
                else:
                    row.values[col.name] = col.default
            else:
                try:
                    value = col.parse(text)
                    if col.check is not None and value not in col.check:
                        raise BadValue(f"must be {col.check}, got {text}")
                except BadValue as err:
                    probs.cell(table.file, line, col.name, str(err))
                else:
                    row.values[col.name] = value
        rows.append(row)
    return rows


def check_unique(rows: list[Row], key: str, file: str, probs: Problems) -> dict[str, int]:
    """Report repeated ids; return each id's first line."""
    first: dict[str, int] = {}
    for row in rows:
        ident = row.values.get(key)
        if ident is None:
            continue
        if ident in first:
            probs.cell(
                file,
                row.line,
                key,
                f"duplicate {key} {ident!r} (first on line {first[ident]})",
            )
        else:
            first[ident] = row.line
    return first
