"""Validation of extraction sheets: every problem at once, each located by file, row and column.

Column rules (blank where a value is required, enumerations, ranges, unique ids) are pandera schemas
built from schema.yaml and run lazily so that every failure is collected. Rules that look across
columns or tables (references, chronology, provenance, vocabulary) are plain vectorised pandas.
"""

import os
from functools import lru_cache

from metacalc.data.problems import Problem, show
from metacalc.data.schema import load_schema

CROSS_TABLE_NOTE = "metacalc computes it"


class Collector:
    """Problems and warnings found so far, and which cells already have a problem (reported once)."""

    def __init__(self):
        self.problems = []
        self.warnings = []
        self.cells = set()

    def add(self, file, row, column, text):
        self.problems.append(Problem(file, row, column, text))
        if row is not None and column:
            self.cells.add((file, row, column))

    def warn(self, file, row, column, text):
        self.warnings.append(Problem(file, row, column, text))

    def has(self, file, row, column):
        return (file, row, column) in self.cells


def check_sheets(path):
    """Read and validate the sheets at ``path``.

    Returns (frames, files, collector, vocabulary): frames are typed DataFrames of the input columns,
    indexed by spreadsheet row number, for every table (absent optional tables are empty).
    """

    from metacalc.data.sheets import read_sheets
    from metacalc.data.vocabulary import build_vocabulary

    schema = load_schema()
    out = Collector()
    raws, problems, workbook = read_sheets(path)
    out.problems.extend(problems)
    if not raws and problems:
        return None, None, out, None

    path = str(path)
    files, frames, usable = {}, {}, {}
    for name, spec in schema.items():
        raw = raws.get(name)
        if raw is None:
            files[name] = f"{workbook}[{name}]" if workbook else os.path.join(path, f"{name}.csv")
            if spec.required and not workbook and not os.path.exists(files[name]):
                out.add(files[name], None, "", f"file missing (got no {name}.csv, expected the {name} table; required tables: "
                        + ", ".join(n for n, s in schema.items() if s.required) + ")")
            frames[name] = _empty_frame(spec)
            # An absent optional table is an empty one; a missing or unreadable table cannot vouch for
            # references into it, so those are not checked (its own problem is already reported).
            usable[name] = not spec.required and not _file_reported(out, files[name])
            continue
        files[name] = raw.file
        frames[name] = _typed_frame(raw, spec, out)
        usable[name] = raw.complete
    for name, spec in schema.items():
        _column_rules(frames[name], spec, files[name], out)
        _row_checks(frames[name], spec, files[name], out)
        _unique_together(frames[name], spec, files[name], out)
    _references(frames, files, usable, out)
    _study_duplicates(frames["studies"], files["studies"], out)
    _records_consistency(frames["records"], files["records"], out)
    _appraisal_items(frames["appraisal"], files["appraisal"], out)
    _aggregate_outcomes(frames["aggregates"], files["aggregates"], out)
    vocab_rows = frames["vocabulary"][["name", "drug", "drug_class"]].dropna().itertuples(index=False)
    vocabulary = build_vocabulary([tuple(r) for r in vocab_rows])
    for name in ("treatments", "aggregates"):
        _therapies(frames[name], files[name], vocabulary, out)
    _quotes(frames, files, usable, out)
    return frames, files, out, vocabulary


def _file_reported(out, file):
    return any(p.file == file for p in out.problems)


# ------------------------------------------------------------------ types

def _empty_frame(spec):
    import pandas as pd

    return pd.DataFrame({c.name: pd.Series([], dtype=c.pandas_dtype) for c in spec.input_columns},
                        index=pd.Index([], dtype="int64"))


def _typed_frame(raw, spec, out):
    """Header checks, then text cells to typed columns; cells that do not parse are reported and left blank."""
    import pandas as pd

    from metacalc.data.sheets import _clean, _closest

    positions = {}
    valid_names = [c.name for c in spec.input_columns]
    for i, name in enumerate(raw.header):
        if not name:
            if any(_clean(row[i]) is not None for row in raw.rows):
                out.add(raw.file, 1, "", f"unnamed column (got values in column {i + 1}, expected a column name in row 1)")
            continue
        if name in positions:
            out.add(raw.file, 1, name, f"column appears twice (got it in columns {positions[name] + 1} and {i + 1}, expected each column once)")
            continue
        if name not in spec.by_name:
            out.add(raw.file, 1, name, f"unknown column (got {show(name)}, expected a column of {spec.name}{_closest(name, valid_names)})")
            continue
        if spec.by_name[name].derived:
            out.add(raw.file, 1, name, f"derived column typed in (got a {name} column, expected none: {CROSS_TABLE_NOTE} from the extracted facts)")
            continue
        positions[name] = i
    for column in spec.input_columns:
        if column.required and column.name not in positions:
            out.add(raw.file, 1, column.name, f"required column missing (got no {column.name} in row 1, expected a {column.name} column)")

    index = pd.Index(raw.row_numbers, dtype="int64")
    cells = pd.DataFrame(raw.rows, columns=range(len(raw.header)), index=index, dtype=object) if raw.rows else None
    data = {}
    for column in spec.input_columns:
        if column.name in positions and cells is not None:
            text = cells[positions[column.name]].astype("str").str.strip()
            text = text.mask(text == "")
        else:
            text = pd.Series(None, index=index, dtype="str")
        data[column.name] = _convert(text, column, raw.file, out)
    return pd.DataFrame(data, index=index)


def _convert(text, column, file, out):
    import numpy as np
    import pandas as pd

    if column.type == "text":
        return text
    if column.type == "enum":
        return text.str.replace(r"\s+", " ", regex=True).str.lower()
    numbers = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & (numbers.isna() | np.isinf(numbers))
    for row in text.index[bad]:
        out.add(file, int(row), column.name, f"not a number (got {show(text[row])}, expected {column.expected})")
    numbers = numbers.where(~bad)
    if column.type == "integer":
        fractional = numbers.notna() & (numbers % 1 != 0)
        for row in numbers.index[fractional]:
            out.add(file, int(row), column.name, f"not a whole number (got {show(text[row])}, expected {column.expected})")
        return numbers.where(~fractional).round().astype("Int64")
    return numbers.astype("float64")


# ------------------------------------------------------------------ column rules (pandera)

@lru_cache(maxsize=None)
def _pandera_schema(table):
    import pandera.pandas as pa

    spec = load_schema()[table]
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
        columns[c.name] = pa.Column(c.pandas_dtype, checks=checks, nullable=not c.required,
                                    unique=c.name == spec.id, required=True)
    return pa.DataFrameSchema(columns, strict=True, ordered=False)


def _range_text(c):
    if c.min is not None and c.max is not None:
        return f"{c.min:g} to {c.max:g}"
    return f"at least {c.min:g}" if c.min is not None else f"at most {c.max:g}"


def _column_rules(frame, spec, file, out):
    import pandera.pandas as pa

    if frame.empty:
        return
    try:
        _pandera_schema(spec.name).validate(frame, lazy=True)
        return
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
    missing_columns = {p.column for p in out.problems if p.file == file and p.row == 1}
    rows_by_value = {}
    for case in failures.itertuples(index=False):
        name, check = case.column, case.check
        if name not in spec.by_name or case.index is None:
            continue
        column, row = spec.by_name[name], int(case.index)
        if name in missing_columns or out.has(file, row, name):
            continue
        if check == "not_nullable":
            out.add(file, row, name, f"required value missing (got blank, expected {column.expected if column.type != 'text' else 'a value'})")
        elif check == "field_uniqueness":
            if name not in rows_by_value:
                repeated = frame[name][frame[name].duplicated(keep=False)]
                rows_by_value[name] = {v: [int(r) for r in rows] for v, rows in repeated.groupby(repeated).groups.items()}
            others = [r for r in rows_by_value[name][case.failure_case] if r != row]
            listed = ", ".join(map(str, others[:5])) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            out.add(file, row, name, f"duplicate {name} (got {show(case.failure_case)}, expected a unique value; also on row {listed})")
        elif check == "enum":
            out.add(file, row, name, f"not an allowed value (got {show(case.failure_case)}, expected {column.expected})")
        elif check == "range":
            out.add(file, row, name, f"out of range (got {show(_number(case.failure_case))}, expected {_range_text(column)})")


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


# ------------------------------------------------------------------ rules across columns and tables

def _row_checks(frame, spec, file, out):
    # Every rule in schema.yaml has the form "a <= b", checked where both are filled.
    for check in spec.checks:
        left, right = (side.strip() for side in check.test.split("<="))
        present = frame[left].notna() & frame[right].notna()
        broken = present & ~(frame[left].astype("float64") <= frame[right].astype("float64"))
        for row in frame.index[broken]:
            got = ", ".join(f"{c} {show(float(frame.at[row, c]))}" for c in check.uses)
            out.add(file, int(row), check.column, f"{check.message} (got {got}, expected {check.test})")


def _unique_together(frame, spec, file, out):
    if not spec.unique_together or frame.empty:
        return
    keys = list(spec.unique_together)
    complete = frame[keys].notna().all(axis=1)
    duplicated = frame[complete].duplicated(keys, keep="first")
    for row in duplicated.index[duplicated]:
        first = frame[complete][(frame.loc[complete, keys] == frame.loc[row, keys]).all(axis=1)].index[0]
        got = ", ".join(f"{k} {show(frame.at[row, k])}" for k in keys)
        out.add(file, int(row), keys[-1], f"repeated row (got {got} again, expected one row per {' x '.join(keys)}; first on row {first})")


def _references(frames, files, usable, out):
    schema = load_schema()
    for name, spec in schema.items():
        for column in spec.input_columns:
            if not column.references:
                continue
            target, target_column = column.references.split(".")
            if not usable[target]:
                continue
            frame = frames[name]
            known = frames[target][target_column]
            values = frame[column.name]
            bad = values.notna() & ~values.isin(known.dropna())
            for row in values.index[bad]:
                if out.has(files[name], int(row), column.name):
                    continue
                out.add(files[name], int(row), column.name,
                        f"unknown {target_column} (got {show(values[row])}, expected a {target_column} listed in {os.path.basename(files[target])})")


def _study_duplicates(studies, file, out):
    """A duplicate publication is the reviewer's recorded decision: it points elsewhere and says why."""
    marked = studies["duplicate_of"].notna()
    for row in studies.index[marked & (studies["duplicate_of"] == studies["study_id"])]:
        out.add(file, int(row), "duplicate_of", f"a report cannot duplicate itself (got {show(studies.at[row, 'duplicate_of'])}, expected another study_id)")
    for row in studies.index[marked & studies["duplicate_evidence"].isna()]:
        out.add(file, int(row), "duplicate_evidence", "reasons missing for a duplicate (got blank, expected the evidence that both reports describe the same patient)")


def _records_consistency(records, file, out):
    removed = records["removed_before_screening"].notna()
    for row in records.index[removed & records["screening"].notna()]:
        out.add(file, int(row), "screening", f"screened although removed before screening (got {show(records.at[row, 'screening'])},"
                f" expected blank because removed_before_screening is {show(records.at[row, 'removed_before_screening'])})")
    assessed = records["eligibility"].notna()
    for row in records.index[assessed & (records["retrieved"] != "yes")]:
        out.add(file, int(row), "eligibility", f"assessed for eligibility without the full text (got retrieved {show(records.at[row, 'retrieved'])}, expected retrieved yes)")
    for row in records.index[(records["eligibility"] == "include") & records["study_id"].isna()]:
        out.add(file, int(row), "study_id", "included record without its report (got blank, expected the study_id of the included report)")


def _appraisal_items(appraisal, file, out):
    items = {"jbi_case_report": [str(i) for i in range(1, 9)], "murad_2018": [f"Q{i}" for i in range(1, 9)]}
    normal = appraisal["item"].str.upper()
    for tool, allowed in items.items():
        bad = (appraisal["tool"] == tool) & appraisal["item"].notna() & ~normal.isin(allowed)
        for row in appraisal.index[bad]:
            out.add(file, int(row), "item", f"not an item of {tool} (got {show(appraisal.at[row, 'item'])}, expected one of: {', '.join(allowed)})")
    appraisal["item"] = normal


def _aggregate_outcomes(aggregates, file, out):
    response = aggregates["outcome"].str.startswith("response_", na=False)
    # n may be blank (a series that gives responders but not the number treated): such a row cannot be
    # pooled, but it is still a fact the report states.
    for column in ("therapy", "events"):
        for row in aggregates.index[response & aggregates[column].isna()]:
            out.add(file, int(row), column, f"required for a response outcome (got blank, expected the {column} of {aggregates.at[row, 'outcome']})")
    timing = aggregates["outcome"].notna() & ~response
    for row in aggregates.index[timing & aggregates["therapy"].notna()]:
        out.add(file, int(row), "therapy", f"a therapy on a time outcome (got {show(aggregates.at[row, 'therapy'])}, expected blank for {aggregates.at[row, 'outcome']})")
    no_summary = aggregates[["mean", "median"]].isna().all(axis=1)
    for row in aggregates.index[timing & no_summary]:
        out.add(file, int(row), "mean", "no summary for a time outcome (got blank mean and median, expected at least one of them)")


def _therapies(frame, file, vocabulary, out):
    from metacalc.data.vocabulary import normalise_name

    names = frame["therapy"]
    known = names.dropna().map(lambda n: normalise_name(n) in vocabulary.entries)
    for row in known.index[~known.astype(bool)]:
        close = vocabulary.suggest(names[row])
        hint = f"closest: {', '.join(close)}" if close else "no close name"
        out.add(file, int(row), "therapy", f"unknown therapy (got {show(names[row])}, expected a name in the therapy vocabulary; {hint};"
                " a new therapy goes in vocabulary.csv)")


def _quotes(frames, files, usable, out):
    """Quotes point at existing cells, and every extracted value has a quote."""
    from metacalc.data.sheets import _closest

    schema = load_schema()
    quotes, qfile = frames["quotes"], files["quotes"]
    if not usable["quotes"]:
        return  # its own problem is reported; every value would otherwise be reported as unquoted
    quotable = [n for n, s in schema.items() if s.quoted]
    for table in quotable:
        spec = schema[table]
        mine = quotes["table"] == table
        if not mine.any():
            continue
        columns = [c.name for c in spec.input_columns]
        bad_column = mine & quotes["column"].notna() & ~quotes["column"].isin(columns)
        for row in quotes.index[bad_column]:
            got = quotes.at[row, "column"]
            out.add(qfile, int(row), "column", f"not a quoted column of {table} (got {show(got)}, expected a column of {table}{_closest(got, columns)})")
        if usable[table]:
            ids = frames[table][spec.id].dropna()
            bad_row = mine & quotes["row_id"].notna() & ~quotes["row_id"].isin(ids)
            for row in quotes.index[bad_row]:
                out.add(qfile, int(row), "row_id", f"no such row (got {show(quotes.at[row, 'row_id'])}, expected a {spec.id} listed in {os.path.basename(files[table])})")

    for table in quotable:
        spec = schema[table]
        frame = frames[table]
        if frame.empty:
            continue
        ids = frame[spec.id]
        mine = quotes[quotes["table"] == table]
        by_column = mine.groupby("column")["row_id"].agg(set) if not mine.empty else {}
        for column in spec.input_columns:
            if not column.provenance:
                continue
            quoted = by_column.get(column.name, set()) if len(by_column) else set()
            missing = frame[column.name].notna() & ids.notna() & ~ids.isin(quoted)
            for row in frame.index[missing]:
                if out.has(files[table], int(row), column.name):
                    continue
                out.add(files[table], int(row), column.name,
                        f"no quote for this value (got {show(frame.at[row, column.name])}, expected a row in quotes with table {table},"
                        f" row_id {ids[row]}, column {column.name})")
