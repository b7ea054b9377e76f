"""Located problems in extraction sheets: one line each, `FILE:ROW:COLUMN: what is wrong (got X, expected Y)`."""

from __future__ import annotations

from dataclasses import dataclass, field

from metacalc.data.cells import is_blank
from metacalc.errors import one_line

SHOWN_LENGTH = 200  # characters of a value a message repeats
PER_COLUMN = 20  # problems listed of each column of a file; the others are counted


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

    def __str__(self) -> str:
        if self.row is None:
            line = f"{self.file}: {self.text}"
        elif not self.column:
            line = f"{self.file}:{self.row}: {self.text}"
        else:
            line = f"{self.file}:{self.row}:{self.column}: {self.text}"
        return one_line(line)  # whatever a cell or a column name holds

    def sort_key(self) -> tuple[str, int]:
        return (self.file, -1 if self.row is None else self.row)


@dataclass
class Collector:
    """Problems and warnings found so far, and which cells already have a problem (each reported once)."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    cells: set[tuple[str, int, str]] = field(default_factory=set)

    def add(self, file: str, row: int | None, column: str, text: str) -> None:
        self.problems.append(Problem(file, row, column, text))
        if row is not None and column:
            self.cells.add((file, row, column))

    def warn(self, file: str, row: int | None, column: str, text: str) -> None:
        self.warnings.append(Problem(file, row, column, text))

    def has(self, file: str, row: int, column: str) -> bool:
        return (file, row, column) in self.cells

    def has_file(self, file: str) -> bool:
        """Whether any problem is already reported in ``file`` (its table cannot vouch for what refers to it)."""
        return any(problem.file == file for problem in self.problems)


def sorted_lines(problems: list[Problem], per_column: int | None = PER_COLUMN) -> list[str]:
    """Problems as lines, each once, sorted by file then row (stable, so checks on one row keep their order).

    Of each column of a file, the first ``per_column`` problems (None: all); after a file's lines, one line for
    each column with more: "... and K more problems in column C of FILE". A sheet wrong on every row then gives
    a screen of examples, not a line a cell (480,000 bad rows once printed 248 MB).
    """
    unique = sorted(dict.fromkeys(problems), key=Problem.sort_key)
    lines: list[str] = []
    shown: dict[tuple[str, str], int] = {}
    hidden: dict[str, int] = {}  # column of the current file -> problems not shown, in the order first met
    current = None
    for problem in unique:
        if problem.file != current:
            lines.extend(_more(current, hidden))
            current, hidden = problem.file, {}
        key = (problem.file, problem.column)
        if per_column is None or shown.get(key, 0) < per_column:
            shown[key] = shown.get(key, 0) + 1
            lines.append(str(problem))
        else:
            hidden[problem.column] = hidden.get(problem.column, 0) + 1
    lines.extend(_more(current, hidden))
    return lines


def _more(file: str | None, hidden: dict[str, int]) -> list[str]:
    where = {column: f"column {column}" if column else "whole rows" for column in hidden}
    return [one_line(f"... and {count:,} more problem{'s' if count > 1 else ''} in {where[column]} of {file}")
            for column, count in hidden.items()]


def show(value: object) -> str:
    """A value as it should appear after `got` in a message."""
    if is_blank(value) and not isinstance(value, str):
        return "blank"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        if len(value) > SHOWN_LENGTH:  # a whole paragraph (or a cell that swallowed a file) is not repeated
            return f'"{value[:SHOWN_LENGTH]}..." ({len(value):,} characters)'
        return f'"{value}"'
    return str(value)
