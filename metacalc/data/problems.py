"""Located problems in extraction sheets: one line each, `FILE:ROW:COLUMN: what is wrong (got X, expected Y)`."""

from __future__ import annotations

from dataclasses import dataclass, field

from metacalc.data.cells import is_blank
from metacalc.errors import one_line

SHOWN_LENGTH = 200  # characters of a value a message repeats


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


def sorted_lines(problems: list[Problem]) -> list[str]:
    """Problems as lines, sorted by file then row (stable, so checks on one row keep their order)."""
    seen = set()
    lines = []
    for problem in sorted(problems, key=Problem.sort_key):
        line = str(problem)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


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
