"""Rules across tables: references between them, the reviewer's duplicate decisions, the figures of case
series, therapies known to the vocabulary, the quotes that back every extracted value, and what the review
file says of the published figures."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from metacalc.data.problems import Collector, show
from metacalc.data.schema import TableSpec
from metacalc.data.sheets import closest
from metacalc.data.vocabulary import Vocabulary, normalise_name

if TYPE_CHECKING:
    import pandas as pd

    from metacalc.data.review_file import Review


def check_references(schema: dict[str, TableSpec], frames: dict[str, pd.DataFrame], files: dict[str, str],
                     usable: dict[str, bool], out: Collector) -> None:
    """Every value of a referencing column names a row of its table (unless that table is unreadable)."""
    for name, spec in schema.items():
        for column in spec.input_columns:
            if not column.references:
                continue
            target, target_column = column.references.split(".")
            if not usable[target]:
                continue
            values = frames[name][column.name]
            bad = values.notna() & ~values.isin(frames[target][target_column].dropna())
            for row in values.index[bad]:
                if out.has(files[name], int(row), column.name):
                    continue
                out.add(files[name], int(row), column.name,
                        f"unknown {target_column} (got {show(values[row])}, expected a {target_column} listed in "
                        f"{os.path.basename(files[target])})")


def check_study_duplicates(studies: pd.DataFrame, file: str, out: Collector) -> None:
    """A duplicate publication is the reviewer's recorded decision: it points elsewhere and says why."""
    marked = studies["duplicate_of"].notna()
    for row in studies.index[marked & (studies["duplicate_of"] == studies["study_id"])]:
        out.add(file, int(row), "duplicate_of", f"a report cannot duplicate itself (got "
                                                f"{show(studies.at[row, 'duplicate_of'])}, expected another study_id)")
    for row in studies.index[marked & studies["duplicate_evidence"].isna()]:
        out.add(file, int(row), "duplicate_evidence", "reasons missing for a duplicate (got blank, expected the "
                                                      "evidence that both reports describe the same patient)")


def check_aggregate_outcomes(aggregates: pd.DataFrame, file: str, out: Collector) -> None:
    """A response figure names its therapy and events; a time figure names no therapy and gives a summary."""
    response = aggregates["outcome"].str.startswith("response_", na=False)
    # n may be blank (a series that gives responders but not the number treated): such a row cannot be
    # pooled, but it is still a fact the report states.
    for column in ("therapy", "events"):
        for row in aggregates.index[response & aggregates[column].isna()]:
            out.add(file, int(row), column, f"required for a response outcome (got blank, expected the {column} of "
                                            f"{aggregates.at[row, 'outcome']})")
    timing = aggregates["outcome"].notna() & ~response
    for row in aggregates.index[timing & aggregates["therapy"].notna()]:
        out.add(file, int(row), "therapy", f"a therapy on a time outcome (got {show(aggregates.at[row, 'therapy'])}, "
                                           f"expected blank for {aggregates.at[row, 'outcome']})")
    no_summary = aggregates[["mean", "median"]].isna().all(axis=1)
    for row in aggregates.index[timing & no_summary]:
        out.add(file, int(row), "mean", "no summary for a time outcome (got blank mean and median, expected at least "
                                        "one of them)")


def check_therapies(frame: pd.DataFrame, file: str, vocabulary: Vocabulary, out: Collector) -> None:
    names = frame["therapy"]
    known = names.dropna().map(lambda n: normalise_name(n) in vocabulary.entries)
    for row in known.index[~known.astype(bool)]:
        close = vocabulary.suggest(names[row])
        hint = f"closest: {', '.join(close)}" if close else "no close name"
        out.add(file, int(row), "therapy", f"unknown therapy (got {show(names[row])}, expected a name in the therapy "
                                           f"vocabulary; {hint}; a new therapy goes in review.yaml, under vocabulary)")


def check_quotes(schema: dict[str, TableSpec], frames: dict[str, pd.DataFrame], files: dict[str, str],
                 usable: dict[str, bool], out: Collector) -> None:
    """Quotes point at existing cells, and every extracted value has a quote."""
    if not usable["quotes"]:
        return  # its own problem is reported; every value would otherwise be reported as unquoted
    quotes, qfile = frames["quotes"], files["quotes"]
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
            out.add(qfile, int(row), "column", f"not a quoted column of {table} (got {show(got)}, expected a column "
                                               f"of {table}{closest(got, columns)})")
        if usable[table]:
            ids = frames[table][spec.id].dropna()
            bad_row = mine & quotes["row_id"].notna() & ~quotes["row_id"].isin(ids)
            for row in quotes.index[bad_row]:
                out.add(qfile, int(row), "row_id", f"no such row (got {show(quotes.at[row, 'row_id'])}, expected a "
                                                   f"{spec.id} listed in {os.path.basename(files[table])})")

    for table in quotable:
        spec = schema[table]
        frame = frames[table]
        if frame.empty:
            continue
        ids = frame[spec.id]
        mine = quotes[quotes["table"] == table]
        # The rows quoted in each column, from the columns as lists (a pandas groupby aggregating into sets walks
        # the cells in Python one by one: 0.8 s for 30,000 patients' quotes).
        by_column: dict[Any, set[Any]] = {}
        for quoted_column, row_id in zip(mine["column"].tolist(), mine["row_id"].tolist()):
            by_column.setdefault(quoted_column, set()).add(row_id)
        for column in spec.input_columns:
            if not column.provenance:
                continue
            quoted = by_column.get(column.name, set())
            missing = frame[column.name].notna() & ids.notna() & ~ids.isin(quoted)
            # zip, not frame.at: a sheet without quotes has a problem on every cell (0.05 ms a lookup)
            for row, value, row_id in zip(frame.index[missing], frame.loc[missing, column.name], ids[missing]):
                if out.has(files[table], int(row), column.name):
                    continue
                out.add(files[table], int(row), column.name,
                        f"no quote for this value (got {show(value)}, expected a row in quotes "
                        f"with table {table}, row_id {row_id}, column {column.name})")


def check_published_figures(review: Review, schema: dict[str, TableSpec], frames: dict[str, pd.DataFrame],
                            files: dict[str, str], usable: dict[str, bool], out: Collector) -> None:
    """What the review file says of each published figure fits its row of aggregates: a published time with a
    mean, of the measure the file names, about patients the file's population can select."""
    from metacalc.data.review_file import REVIEW_FILE, TIME_MEASURES

    source = review.source or REVIEW_FILE
    aggregates, file = frames["aggregates"], files["aggregates"]
    rows = {value: index for index, value in zip(aggregates.index, aggregates["aggregate_id"]) if isinstance(value, str)}
    columns = {c.name: c for table in ("patients", "studies") for c in schema[table].input_columns}
    for index, figure in enumerate(review.published_figures):
        where = f"{source}:published_figures.{index}"
        if usable["aggregates"] and figure.aggregate not in rows:
            out.add(f"{where}.aggregate", None, "", f"unknown aggregate_id (got {show(figure.aggregate)}, expected an "
                                                    f"aggregate_id listed in {os.path.basename(file)}"
                                                    f"{closest(figure.aggregate, sorted(rows))})")
        elif figure.aggregate in rows:
            row = rows[figure.aggregate]
            outcome, mean = aggregates.at[row, "outcome"], aggregates.at[row, "mean"]
            if isinstance(outcome, str) and outcome not in TIME_MEASURES:
                out.add(f"{where}.aggregate", None, "", f"not a published time (got {file}:{row} with outcome "
                                                        f"{outcome}, expected years_to_onset or years_to_diagnosis)")
            else:
                if figure.measure and isinstance(outcome, str) and figure.measure != outcome:
                    out.add(f"{where}.measure", None, "", f"not the figure's measure (got {figure.measure}, expected "
                                                          f"{outcome}, as {file}:{row}:outcome says)")
                if mean != mean or mean is None:  # NaN: blank
                    out.add(f"{where}.aggregate", None, "", f"no mean to compare with (got a blank mean in "
                                                            f"{file}:{row}, expected the published mean)")
        for column, allowed in figure.population:
            spec = columns.get(column)
            if spec is None:
                out.add(f"{where}.population.{column}", None, "",
                        f"no such column in the patients or studies table (got {column}, expected one of: "
                        f"{', '.join(sorted(columns))}{closest(column, sorted(columns))})")
            elif spec.type == "enum":
                for value in allowed:
                    if value not in spec.values:
                        out.add(f"{where}.population.{column}", None, "",
                                f"not an allowed value of {column} (got {show(value)}, expected {spec.expected})")
