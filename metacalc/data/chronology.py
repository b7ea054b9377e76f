"""Derived times and their chronology: when calcinosis began and was diagnosed, from the facts a report states.

A derived time must make sense: calcinosis before SLE needs the report's explicit flag, diagnosis does not
precede onset, nothing happens after the presentation that reports it. Routes to one time that disagree by
more than a year are warnings: the reviewer should read the report again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metacalc.data.derive import CALCINOSIS_DIAGNOSIS_ROUTES, ONSET_ROUTES, Derivation, derive_interval
from metacalc.data.problems import Collector, show

if TYPE_CHECKING:
    import pandas as pd


def derive_times(patients: pd.DataFrame, file: str, out: Collector) -> tuple[Derivation, Derivation]:
    """(time to onset, time to calcinosis diagnosis) of every patient, with their chronology checked."""
    onset = derive_interval(patients, ONSET_ROUTES)
    diagnosis = derive_interval(patients, CALCINOSIS_DIAGNOSIS_ROUTES)
    _chronology(patients, onset, diagnosis, file, out)
    for column, derivation, routes in (("years_sle_to_onset", onset, ONSET_ROUTES),
                                       ("years_sle_to_calcinosis_diagnosis", diagnosis, CALCINOSIS_DIAGNOSIS_ROUTES)):
        for row, applied in derivation.disagreements.items():
            facts = "; ".join(routes[k].explain({c: float(patients.at[row, c]) for c in routes[k].uses}, years)
                              for k, years in applied)
            out.warn(file, int(row), column, f"timing facts disagree by more than 1 year ({facts}); used the first")
    return onset, diagnosis


def _chronology(patients: pd.DataFrame, onset: Derivation, diagnosis: Derivation, file: str, out: Collector) -> None:
    """Calcinosis before SLE needs the explicit flag; nothing happens after the presentation that reports it."""
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
        out.add(file, int(row), column, f"calcinosis diagnosed before its onset (got {diagnosis.text[row]}; "
                                        f"{onset.text[row]}, expected diagnosis at or after onset)")
    for column in ("sle_diagnosis_year", "onset_year", "calcinosis_diagnosis_year"):
        late = patients[column] > patients["presentation_year"]
        for row in patients.index[late.fillna(False).astype(bool)]:
            out.add(file, int(row), column, f"after the presentation (got {column} {show(patients.at[row, column])},"
                    f" presentation_year {show(patients.at[row, 'presentation_year'])}, expected {column} <= "
                    "presentation_year)")
    before_birth = patients["sle_diagnosis_years_before_presentation"] > patients["age_at_presentation"]
    for row in patients.index[before_birth]:
        out.add(file, int(row), "sle_diagnosis_years_before_presentation",
                f"SLE diagnosis before birth (got {show(patients.at[row, 'sle_diagnosis_years_before_presentation'])}"
                f" y before presentation, age_at_presentation {show(patients.at[row, 'age_at_presentation'])}, "
                "expected at most the age)")
