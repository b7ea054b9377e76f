"""Derived times and their chronology: when the condition began and was diagnosed, from the facts a report states.

A derived time must make sense: an onset before the start of the clock needs the report's explicit flag,
diagnosis does not precede onset, nothing happens after the presentation that reports it. Routes to one time
that disagree by more than a year are warnings: the reviewer should read the report again. Messages name the
events in the review's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from metacalc.data.derive import DIAGNOSIS_ROUTES, ONSET_ROUTES, Derivation, derive_interval
from metacalc.data.problems import Collector, show

if TYPE_CHECKING:
    import pandas as pd


def derive_times(patients: pd.DataFrame, file: str, out: Collector, words: Mapping[str, str]
                 ) -> tuple[Derivation, Derivation]:
    """(time to onset, time to diagnosis) of every patient, with their chronology checked."""
    onset = derive_interval(patients, ONSET_ROUTES, words)
    diagnosis = derive_interval(patients, DIAGNOSIS_ROUTES, words)
    _chronology(patients, onset, diagnosis, file, out, words)
    for column, derivation, routes in (("years_to_onset", onset, ONSET_ROUTES),
                                       ("years_to_diagnosis", diagnosis, DIAGNOSIS_ROUTES)):
        for row, applied in derivation.disagreements.items():
            facts = "; ".join(routes[k].text(words, {c: float(patients.at[row, c]) for c in routes[k].uses}, years)
                              for k, years in applied)
            out.warn(file, int(row), column, f"timing facts disagree by more than 1 year ({facts}); used the first")
    return onset, diagnosis


def _chronology(patients: pd.DataFrame, onset: Derivation, diagnosis: Derivation, file: str, out: Collector,
                words: Mapping[str, str]) -> None:
    """An onset before the start needs the explicit flag; nothing happens after the presentation that reports it."""
    start = words["start"]
    flagged = patients["onset_before_start"] == "yes"
    for label, derivation, routes in ((words["onset_short"], onset, ONSET_ROUTES),
                                      (words["diagnosis_short"], diagnosis, DIAGNOSIS_ROUTES)):
        early = (derivation.years < 0) & ~flagged
        for row in patients.index[early]:
            column = routes[derivation.route[row]].uses[0]
            out.add(file, int(row), column, f"{label} before {start} (got {derivation.text[row]},"
                    " expected 0 or more years unless onset_before_start is yes)")
    before_onset = diagnosis.years < onset.years
    for row in patients.index[before_onset]:
        column = DIAGNOSIS_ROUTES[diagnosis.route[row]].uses[0]
        out.add(file, int(row), column, f"{words['diagnosis_short']} before {words['onset_short']} (got "
                                        f"{diagnosis.text[row]}; {onset.text[row]}, expected the {words['diagnosis']} "
                                        f"at or after the {words['onset']})")
    for column in ("start_year", "onset_year", "diagnosis_year"):
        late = patients[column] > patients["presentation_year"]
        for row in patients.index[late.fillna(False).astype(bool)]:
            out.add(file, int(row), column, f"after the presentation (got {column} {show(patients.at[row, column])},"
                    f" presentation_year {show(patients.at[row, 'presentation_year'])}, expected {column} <= "
                    "presentation_year)")
    before_birth = patients["start_years_before_presentation"] > patients["age_at_presentation"]
    for row in patients.index[before_birth]:
        out.add(file, int(row), "start_years_before_presentation",
                f"{start} before birth (got {show(patients.at[row, 'start_years_before_presentation'])}"
                f" y before presentation, age_at_presentation {show(patients.at[row, 'age_at_presentation'])}, "
                "expected at most the age)")
