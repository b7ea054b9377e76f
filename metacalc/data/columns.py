"""From text cells to typed columns: the header checked against the schema, each cell parsed by its column type.

A cell that does not parse is reported and left blank, so that the rules after this step see every other
value. Frames are indexed by spreadsheet row number, so that every later rule locates its problems on the row
the reviewer sees.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from metacalc.data.column_rules import range_text
from metacalc.data.problems import Collector, show
from metacalc.data.reader import Table
from metacalc.data.schema import ColumnSpec, TableSpec
from metacalc.data.sheets import closest

if TYPE_CHECKING:
    import pandas as pd

CROSS_TABLE_NOTE = "metacalc computes it"
_WHITESPACE = re.compile(r"\s+")


def empty_frame(spec: TableSpec) -> pd.DataFrame:
    """The table with its input columns and no row (an absent optional table)."""
    import pandas as pd

    return pd.DataFrame({c.name: pd.Series([], dtype=c.pandas_dtype) for c in spec.input_columns},
                        index=pd.Index([], dtype="int64"))


def typed_frame(table: Table, spec: TableSpec, out: Collector) -> pd.DataFrame:
    """Header checks, then text cells to typed columns; cells that do not parse are reported and left blank."""
    import pandas as pd

    positions = _header_positions(table, spec, out)
    index = pd.Index(table.row_numbers, dtype="int64")
    data = {}
    for column in spec.input_columns:
        position = positions.get(column.name)
        cells = [row[position] for row in table.rows] if position is not None else None
        text = pd.Series(cells, index=index, dtype="str")
        data[column.name] = _convert(text, column, table.file, out)
    return pd.DataFrame(data, index=index)


def _header_positions(table: Table, spec: TableSpec, out: Collector) -> dict[str, int]:
    """Column name -> position in the file, for the schema's input columns; header problems are reported."""
    positions: dict[str, int] = {}
    valid_names = [c.name for c in spec.input_columns]
    for i, name in enumerate(table.header):
        if not name:
            if any(row[i] is not None for row in table.rows):
                out.add(table.file, 1, "", f"unnamed column (got values in column {i + 1}, expected a column name "
                                           "in row 1)")
            continue
        if name in positions:
            out.add(table.file, 1, name, f"column appears twice (got it in columns {positions[name] + 1} and "
                                         f"{i + 1}, expected each column once)")
            continue
        if name not in spec.by_name:
            out.add(table.file, 1, name, f"unknown column (got {show(name)}, expected a column of {spec.name}"
                                         f"{closest(name, valid_names)})")
            continue
        if spec.by_name[name].derived:
            out.add(table.file, 1, name, f"derived column typed in (got a {name} column, expected none: "
                                         f"{CROSS_TABLE_NOTE} from the extracted facts)")
            continue
        positions[name] = i
    for column in spec.input_columns:
        if column.required and column.name not in positions:
            out.add(table.file, 1, column.name, f"required column missing (got no {column.name} in row 1, expected a "
                                                f"{column.name} column)")
    return positions


def _convert(text: pd.Series, column: ColumnSpec, file: str, out: Collector) -> pd.Series:
    import numpy as np
    import pandas as pd

    if column.type == "text":
        return text
    if column.type == "enum":
        # A category column holds a handful of distinct values: each is normalised once (pandas' .str methods
        # would run the regex on every cell).
        distinct = {value: _WHITESPACE.sub(" ", value).lower() for value in set(text.dropna().tolist())}
        return pd.Series([distinct.get(value) if type(value) is str else value for value in text.tolist()],
                         index=text.index, dtype=text.dtype)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = text.notna() & numbers.isna()
    for row in text.index[bad]:
        out.add(file, int(row), column.name, _not_a_number(text[row], column))
    # Numbers no column can hold: infinite ("inf", "1e400"), or whole numbers beyond those a float holds exactly
    # (2^53, 16 digits; 1e20 in a year once overflowed the integer column). The column's range, when it has one,
    # is checked with the other rules.
    limit = 2.0 ** 53 if column.type == "integer" else np.inf
    beyond = numbers.notna() & ~(numbers.abs() < limit)
    for row in text.index[beyond]:
        out.add(file, int(row), column.name, f"out of range (got {show(text[row])}, expected {_bounds(column)})")
    numbers = numbers.where(~(bad | beyond))
    if column.type == "integer":
        fractional = numbers.notna() & (numbers % 1 != 0)
        for row in numbers.index[fractional]:
            out.add(file, int(row), column.name, f"not a whole number (got {show(text[row])}, expected "
                                                 f"{column.expected})")
        return numbers.where(~fractional).round().astype("Int64")
    return numbers.astype("float64")


# A date or a time as the reader writes an Excel date, time or duration cell (ISO 8601; "1 day, 2:00:00"), or as
# typed: "2011-05-01", "10:30".
_DATE_OR_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                           r"|(-?\d+ days?, )?\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")


def _not_a_number(text: str, column: ColumnSpec) -> str:
    if _DATE_OR_TIME.fullmatch(text):
        # Excel shows a number typed into a cell formatted as a date as that date (2011 becomes 1905-07-03).
        return (f"a date or time where a number is expected (got {show(text)}, expected {column.expected}: type "
                "the number itself; in Excel, format the cell as a number, not a date or time, and check its value)")
    return f"not a number (got {show(text)}, expected {column.expected})"


def _bounds(column: ColumnSpec) -> str:
    if column.min is not None or column.max is not None:
        return range_text(column)
    return "a whole number of at most 15 digits" if column.type == "integer" else "a finite number"
