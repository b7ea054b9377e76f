"""Located problems in extraction sheets: one line each, `FILE:ROW:COLUMN: what is wrong (got X, expected Y)`."""

from dataclasses import dataclass
import math


@dataclass(frozen=True)
class Problem:
    """A problem at a place in a sheet.

    ``row`` is the spreadsheet row number (header = 1, first data row = 2); ``None`` for a problem with
    the whole file. ``column`` is the column name; ``""`` for a problem with a whole row. The fields that
    do not apply are left out of the line, as compilers do: ``FILE: ...`` or ``FILE:ROW: ...``.
    """

    file: str
    row: int | None
    column: str
    text: str

    def __str__(self):
        if self.row is None:
            return f"{self.file}: {self.text}"
        if not self.column:
            return f"{self.file}:{self.row}: {self.text}"
        return f"{self.file}:{self.row}:{self.column}: {self.text}"

    def sort_key(self):
        return (self.file, -1 if self.row is None else self.row)


def sorted_lines(problems):
    """Problems as lines, sorted by file then row (stable, so checks on one row keep their order)."""
    seen = set()
    lines = []
    for problem in sorted(problems, key=Problem.sort_key):
        line = str(problem)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


def show(value):
    """A value as it should appear after `got` in a message."""
    if value is None:
        return "blank"
    if isinstance(value, float):
        if math.isnan(value):
            return "blank"
        return f"{value:g}"
    if isinstance(value, str):
        return f'"{value}"'
    try:
        import pandas as pd

        if pd.isna(value):
            return "blank"
    except (TypeError, ValueError):
        pass
    return str(value)
