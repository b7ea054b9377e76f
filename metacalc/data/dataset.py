"""The validated dataset: typed tables with derived columns, and its JSON form.

``load_dataset`` is the one way in: read, validate (raising ``UserError`` with every problem), derive.
"""

import json
from dataclasses import dataclass

from metacalc.errors import UserError
from metacalc.files import write_atomic

TABLES = ("studies", "patients", "treatments", "aggregates", "records", "appraisal", "appraisal_overall",
          "quotes", "vocabulary")
JSON_FORMAT = "metacalc-dataset"
JSON_VERSION = 1


@dataclass(frozen=True, eq=False)
class Dataset:
    """The extraction tables after validation (RangeIndex, schema column order, derived columns filled)."""

    studies: object
    patients: object
    treatments: object
    aggregates: object
    records: object
    appraisal: object
    appraisal_overall: object
    quotes: object
    vocabulary: object
    source: str = ""
    warnings: tuple = ()

    def tables(self):
        return {name: getattr(self, name) for name in TABLES}

    def equals(self, other):
        """Same tables (values and dtypes), source and warnings."""
        return (
            isinstance(other, Dataset)
            and self.source == other.source
            and tuple(self.warnings) == tuple(other.warnings)
            and all(getattr(self, n).equals(getattr(other, n))
                    and list(getattr(self, n).dtypes) == list(getattr(other, n).dtypes) for n in TABLES)
        )

    def to_json(self, path):
        """Write the dataset as JSON, atomically and byte-identically for the same data."""
        document = {
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "source": self.source,
            "warnings": list(self.warnings),
            "tables": {name: _table_to_json(frame) for name, frame in self.tables().items()},
        }
        text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
        write_atomic(path, text)

    @classmethod
    def from_json(cls, path):
        from metacalc.data.schema import load_schema

        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        if document.get("format") != JSON_FORMAT:
            raise UserError([f"{path}: not a metacalc dataset (got format {document.get('format')!r}, expected {JSON_FORMAT!r})"])
        schema = load_schema()
        tables = {name: _table_from_json(document["tables"][name], schema[name]) for name in TABLES}
        return cls(**tables, source=document["source"], warnings=tuple(document["warnings"]))

    def summary(self):
        """A few lines for the terminal: rows per table, patients, therapies, classes, warnings."""
        lines = [f"{self.source}: valid"]
        lines.append("rows: " + ", ".join(f"{n} {len(getattr(self, n))}" for n in TABLES))
        duplicates = self.studies["duplicate_of"].notna()
        lines.append(f"studies: {len(self.studies)} ({int(duplicates.sum())} marked as duplicate publications)")
        lines.append(f"patients: {len(self.patients)}; with years from SLE to onset: "
                     f"{int(self.patients['years_sle_to_onset'].notna().sum())}")
        therapies = self.treatments["drug"].value_counts().sort_index()
        lines.append(f"therapy courses: {len(self.treatments)}; therapies: "
                     + (", ".join(f"{d} {c}" for d, c in therapies.items()) or "none"))
        classes = sorted(set(self.treatments["drug_class"].dropna()) | set(self.aggregates["drug_class"].dropna()))
        lines.append(f"drug classes: {len(classes)} ({', '.join(classes) or 'none'})")
        lines.append(f"warnings: {len(self.warnings)}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return lines


def _json_value(value):
    import math

    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):  # numpy scalars
        return _json_value(value.item())
    try:
        import pandas as pd

        if value is pd.NA:
            return None
    except ImportError:  # pragma: no cover
        pass
    return value


def _table_to_json(frame):
    columns = list(frame.columns)
    rows = [[_json_value(v) for v in row] for row in frame.astype(object).itertuples(index=False, name=None)]
    return {"columns": columns, "rows": rows}


def _table_from_json(table, spec):
    import pandas as pd

    columns = [c.name for c in spec.columns]
    if table["columns"] != columns:
        raise UserError([f"dataset JSON: table {spec.name} has columns {table['columns']}, expected {columns}"])
    data = {}
    for i, column in enumerate(spec.columns):
        values = [row[i] for row in table["rows"]]
        data[column.name] = pd.Series(values, dtype=object).astype(column.pandas_dtype) if values else pd.Series([], dtype=column.pandas_dtype)
    return pd.DataFrame(data, columns=columns)


def load_dataset(path):
    """Read and validate the extraction sheets at ``path`` (directory of CSVs, or an .xlsx workbook).

    Raises ``UserError`` listing every problem, one line each, sorted by file and row.
    """

    from metacalc.data.derive import CALCINOSIS_DIAGNOSIS_ROUTES, ONSET_ROUTES, derive_interval, response_flags
    from metacalc.data.problems import sorted_lines
    from metacalc.data.schema import load_schema
    from metacalc.data.validate import check_sheets
    from metacalc.data.vocabulary import normalise_name

    frames, files, out, vocabulary = check_sheets(path)
    if frames is None:
        raise UserError(sorted_lines(out.problems))
    patients = frames["patients"]

    onset = derive_interval(patients, ONSET_ROUTES)
    diagnosis = derive_interval(patients, CALCINOSIS_DIAGNOSIS_ROUTES)
    _chronology(patients, onset, diagnosis, files["patients"], out)
    for column, derivation, routes in (("years_sle_to_onset", onset, ONSET_ROUTES),
                                       ("years_sle_to_calcinosis_diagnosis", diagnosis, CALCINOSIS_DIAGNOSIS_ROUTES)):
        for row, applied in derivation.disagreements.items():
            facts = "; ".join(routes[k].explain({c: float(patients.at[row, c]) for c in routes[k].uses}, years)
                              for k, years in applied)
            out.warn(files["patients"], int(row), column, f"timing facts disagree by more than 1 year ({facts}); used the first")
    if out.problems:
        raise UserError(sorted_lines(out.problems))

    patients = patients.assign(
        years_sle_to_onset=onset.years, years_sle_to_onset_derivation=onset.text,
        years_sle_to_calcinosis_diagnosis=diagnosis.years,
        years_sle_to_calcinosis_diagnosis_derivation=diagnosis.text)
    treatments = frames["treatments"]
    any_response, complete = response_flags(treatments["response"])
    treatments = treatments.assign(**_drugs(treatments["therapy"], vocabulary, normalise_name),
                                   any_response=any_response, complete_response=complete)
    aggregates = frames["aggregates"].assign(**_drugs(frames["aggregates"]["therapy"], vocabulary, normalise_name))
    frames = dict(frames, patients=patients, treatments=treatments, aggregates=aggregates)

    schema = load_schema()
    tables = {}
    for name in TABLES:
        spec = schema[name]
        frame = frames[name][[c.name for c in spec.columns]].reset_index(drop=True)
        tables[name] = frame.astype({c.name: c.pandas_dtype for c in spec.columns})
    return Dataset(**tables, source=str(path), warnings=tuple(sorted_lines(out.warnings)))


def _drugs(therapy, vocabulary, normalise_name):
    found = therapy.map(lambda n: vocabulary.entries.get(normalise_name(n)) if isinstance(n, str) else None)
    drug = found.map(lambda e: e[0] if e else None).astype("str")
    drug_class = found.map(lambda e: e[1] if e else None).astype("str")
    return {"drug": drug, "drug_class": drug_class}


def _chronology(patients, onset, diagnosis, file, out):
    """Calcinosis before SLE needs the explicit flag; nothing happens after the presentation that reports it."""
    from metacalc.data.derive import CALCINOSIS_DIAGNOSIS_ROUTES, ONSET_ROUTES
    from metacalc.data.problems import show

    flagged = patients["onset_before_sle_diagnosis"] == "yes"
    for label, derivation, routes in (("calcinosis onset", onset, ONSET_ROUTES),
                                      ("calcinosis diagnosis", diagnosis, CALCINOSIS_DIAGNOSIS_ROUTES)):
        early = (derivation.years < 0) & ~flagged
        for row in patients.index[early]:
            column = routes[derivation.route[row]].uses[0]
            out.add(file, int(row), column, f"{label} before SLE diagnosis (got {derivation.text[row]},"
                    " expected 0 or more years unless onset_before_sle_diagnosis is yes)")
    before_onset = diagnosis.years < onset.years
    for row in patients.index[before_onset]:
        column = CALCINOSIS_DIAGNOSIS_ROUTES[diagnosis.route[row]].uses[0]
        out.add(file, int(row), column, f"calcinosis diagnosed before its onset (got {diagnosis.text[row]}; {onset.text[row]},"
                " expected diagnosis at or after onset)")
    for column in ("sle_diagnosis_year", "onset_year", "calcinosis_diagnosis_year"):
        late = patients[column] > patients["presentation_year"]
        for row in patients.index[late.fillna(False).astype(bool)]:
            out.add(file, int(row), column, f"after the presentation (got {column} {show(patients.at[row, column])},"
                    f" presentation_year {show(patients.at[row, 'presentation_year'])}, expected {column} <= presentation_year)")
    before_birth = patients["sle_diagnosis_years_before_presentation"] > patients["age_at_presentation"]
    for row in patients.index[before_birth]:
        out.add(file, int(row), "sle_diagnosis_years_before_presentation",
                f"SLE diagnosis before birth (got {show(patients.at[row, 'sle_diagnosis_years_before_presentation'])} y before presentation,"
                f" age_at_presentation {show(patients.at[row, 'age_at_presentation'])}, expected at most the age)")
