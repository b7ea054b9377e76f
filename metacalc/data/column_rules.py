"""Rules on the columns of one table: blank where a value is required, enumerations, ranges, unique ids, the
"a <= b" checks of schema.yaml and rows repeated where the schema asks for one per key.

The column rules are pandera schemas built from schema.yaml and run lazily, so that every failing cell is
collected in one pass (vectorised: 10,000-patient sheets validate in about a second).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from metacalc.data.problems import Collector, show
from metacalc.data.schema import ColumnSpec, TableSpec

if TYPE_CHECKING:
    import pandas as pd


def check_table(frame: pd.DataFrame, spec: TableSpec, file: str, out: Collector) -> None:
    """Every rule of one table that needs nothing outside it."""
    _column_rules(frame, spec, file, out)
    _row_checks(frame, spec, file, out)
    _unique_together(frame, spec, file, out)


@lru_cache(maxsize=64)
def _pandera_schema(spec: TableSpec) -> Any:
    import pandera.pandas as pa

    columns = {}
    for c in spec.input_columns:
        checks = []
        if c.type == "enum":
            checks.append(pa.Check.isin(list(c.values), error="enum"))
        if c.min is not None and c.max is not None:
            checks.append(pa.Check.in_range(c.min, c.max, error="range"))
        elif c.min is not None:
            checks.append(pa.Check.ge(c.min, error="range"))
        elif c.max is not None:
            checks.append(pa.Check.le(c.max, error="range"))
        # No dtype: columns.typed_frame gives every column its type (checking it again costs half the time of
        # validating a small review and finds nothing).
        columns[c.name] = pa.Column(None, checks=checks, nullable=not c.required, unique=c.name == spec.id,
                                    required=True)
    return pa.DataFrameSchema(columns, strict=True, ordered=False)


def range_text(c: ColumnSpec) -> str:
    """A column's documented range, as messages say it: \"1800 to 2100\", \"at least 0\"."""
    if c.min is not None and c.max is not None:
        return f"{c.min:g} to {c.max:g}"
    return f"at least {c.min:g}" if c.min is not None else f"at most {c.max:g}"


def _column_rules(frame: pd.DataFrame, spec: TableSpec, file: str, out: Collector) -> None:
    import pandera.pandas as pa

    if frame.empty:
        return
    try:
        _pandera_schema(spec).validate(frame, lazy=True)
        return
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
    missing_columns = {p.column for p in out.problems if p.file == file and p.row == 1}
    rows_by_value: dict[str, dict[Any, list[int]]] = {}
    for case in failures.itertuples(index=False):
        name, check = case.column, case.check
        if name not in spec.by_name or case.index is None:
            continue
        column, row = spec.by_name[name], int(case.index)
        if name in missing_columns or out.has(file, row, name):
            continue
        if check == "not_nullable":
            expected = column.expected if column.type != "text" else "a value"
            out.add(file, row, name, f"required value missing (got blank, expected {expected})")
        elif check == "field_uniqueness":
            if name not in rows_by_value:
                repeated = frame[name][frame[name].duplicated(keep=False)]
                rows_by_value[name] = {v: [int(r) for r in rows]
                                       for v, rows in repeated.groupby(repeated).groups.items()}
            others = [r for r in rows_by_value[name][case.failure_case] if r != row]
            listed = ", ".join(map(str, others[:5])) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            out.add(file, row, name, f"duplicate {name} (got {show(case.failure_case)}, expected a unique value; "
                                     f"also on row {listed})")
        elif check == "enum":
            out.add(file, row, name, f"not an allowed value (got {show(case.failure_case)}, expected "
                                     f"{column.expected})")
        elif check == "range":
            out.add(file, row, name, f"out of range (got {show(_float(case.failure_case))}, expected "
                                     f"{range_text(column)})")


def _float(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _row_checks(frame: pd.DataFrame, spec: TableSpec, file: str, out: Collector) -> None:
    # Every rule in schema.yaml has the form "a <= b", checked where both are filled.
    for check in spec.checks:
        left, right = (side.strip() for side in check.test.split("<="))
        present = frame[left].notna() & frame[right].notna()
        broken = present & ~(frame[left].astype("float64") <= frame[right].astype("float64"))
        for row in frame.index[broken]:
            got = ", ".join(f"{c} {show(float(frame.at[row, c]))}" for c in check.uses)
            out.add(file, int(row), check.column, f"{check.message} (got {got}, expected {check.test})")


def _unique_together(frame: pd.DataFrame, spec: TableSpec, file: str, out: Collector) -> None:
    if not spec.unique_together or frame.empty:
        return
    keys = list(spec.unique_together)
    complete = frame[keys].notna().all(axis=1)
    duplicated = frame[complete].duplicated(keys, keep="first")
    for row in duplicated.index[duplicated]:
        first = frame[complete][(frame.loc[complete, keys] == frame.loc[row, keys]).all(axis=1)].index[0]
        got = ", ".join(f"{k} {show(frame.at[row, k])}" for k in keys)
        out.add(file, int(row), keys[-1], f"repeated row (got {got} again, expected one row per "
                                          f"{' x '.join(keys)}; first on row {first})")
