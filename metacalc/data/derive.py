"""Values computed from the extracted facts, never typed: timing of calcinosis, drug and class, response flags.

Reports state timing in many ways ("onset 21 years prior", "nodules since 10 years prior", "four years
later", calendar years). Each way is a *route* to the years from SLE diagnosis; the first route whose facts
are all present wins (the order below is the precedence: a stated interval beats arithmetic on two
statements, which beats arithmetic on calendar years). Routes that disagree by more than one year are
reported as warnings, because the reviewer should look at the report again.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

DISAGREEMENT_YEARS = 1.0


@dataclass(frozen=True)
class Route:
    uses: tuple[str, ...]  # columns that must all be present
    formula: Callable[[Any], Any]  # function(frame) -> Series of years
    explain: Callable[[dict[str, float], float], str]  # function(row values, result) -> text


def _g(value: float) -> str:
    return f"{value:g}"


ONSET_ROUTES = (
    Route(("onset_years_after_sle_diagnosis",),
          lambda f: f["onset_years_after_sle_diagnosis"],
          lambda v, r: f"onset {_g(r)} y after SLE diagnosis (stated)"),
    Route(("sle_diagnosis_years_before_presentation", "onset_years_before_presentation"),
          lambda f: f["sle_diagnosis_years_before_presentation"] - f["onset_years_before_presentation"],
          lambda v, r: f"SLE diagnosis {_g(v['sle_diagnosis_years_before_presentation'])} y before presentation"
                       f" - onset {_g(v['onset_years_before_presentation'])} y before presentation = {_g(r)} y"),
    Route(("onset_year", "sle_diagnosis_year"),
          lambda f: f["onset_year"] - f["sle_diagnosis_year"],
          lambda v, r: f"onset in {_g(v['onset_year'])} - SLE diagnosis in {_g(v['sle_diagnosis_year'])} = {_g(r)} y"),
    Route(("presentation_year", "onset_years_before_presentation", "sle_diagnosis_year"),
          lambda f: f["presentation_year"] - f["onset_years_before_presentation"] - f["sle_diagnosis_year"],
          lambda v, r: f"onset {_g(v['onset_years_before_presentation'])} y before presentation in"
                       f" {_g(v['presentation_year'])} - SLE diagnosis in {_g(v['sle_diagnosis_year'])} = {_g(r)} y"),
    Route(("onset_year", "presentation_year", "sle_diagnosis_years_before_presentation"),
          lambda f: f["onset_year"] - (f["presentation_year"] - f["sle_diagnosis_years_before_presentation"]),
          lambda v, r: f"onset in {_g(v['onset_year'])} - SLE diagnosis {_g(v['sle_diagnosis_years_before_presentation'])}"
                       f" y before presentation in {_g(v['presentation_year'])} = {_g(r)} y"),
)

CALCINOSIS_DIAGNOSIS_ROUTES = (
    Route(("calcinosis_diagnosis_years_after_sle_diagnosis",),
          lambda f: f["calcinosis_diagnosis_years_after_sle_diagnosis"],
          lambda v, r: f"calcinosis diagnosed {_g(r)} y after SLE diagnosis (stated)"),
    Route(("calcinosis_diagnosis_year", "sle_diagnosis_year"),
          lambda f: f["calcinosis_diagnosis_year"] - f["sle_diagnosis_year"],
          lambda v, r: f"calcinosis diagnosis in {_g(v['calcinosis_diagnosis_year'])} - SLE diagnosis in"
                       f" {_g(v['sle_diagnosis_year'])} = {_g(r)} y"),
    Route(("calcinosis_diagnosis_year", "presentation_year", "sle_diagnosis_years_before_presentation"),
          lambda f: f["calcinosis_diagnosis_year"] - (f["presentation_year"] - f["sle_diagnosis_years_before_presentation"]),
          lambda v, r: f"calcinosis diagnosis in {_g(v['calcinosis_diagnosis_year'])} - SLE diagnosis"
                       f" {_g(v['sle_diagnosis_years_before_presentation'])} y before presentation in"
                       f" {_g(v['presentation_year'])} = {_g(r)} y"),
)


@dataclass(frozen=True)
class Derivation:
    """Result of deriving one timing interval for every patient (indexed like the patients frame)."""

    years: Any  # float Series, NaN where no route applies
    text: Any  # str Series, NaN where no route applies
    route: Any  # int Series: index into the routes, -1 where none applies
    disagreements: dict[Any, list[tuple[int, float]]]  # frame index -> (route, years) of every route that applied,
    #                                                   when they disagree


def derive_interval(patients: Any, routes: Sequence[Route]) -> Derivation:
    """Apply the routes in precedence order; vectorised over patients."""
    import numpy as np
    import pandas as pd

    index = patients.index
    years = pd.Series(np.nan, index=index, dtype="float64")
    route_of = pd.Series(-1, index=index, dtype="int64")
    all_values = []
    for k, route in enumerate(routes):
        frame = patients[list(route.uses)].astype("float64")
        available = frame.notna().all(axis=1)
        values = route.formula(frame).where(available)
        all_values.append(values)
        take = available & years.isna()
        years = years.where(~take, values)
        route_of = route_of.where(~take, k)
    text = pd.Series(np.nan, index=index, dtype="object")
    for k, route in enumerate(routes):
        chosen = route_of == k
        if not chosen.any():
            continue
        facts = patients.loc[chosen, list(route.uses)].astype("float64")
        results = years[chosen].tolist()
        text[chosen] = [route.explain(dict(zip(route.uses, values)), result)
                        for values, result in zip(facts.itertuples(index=False, name=None), results)]
    text = text.astype("str")
    stacked = pd.concat(all_values, axis=1, keys=range(len(routes)))
    spread = stacked.max(axis=1) - stacked.min(axis=1)
    disagreements: dict[Any, list[tuple[int, float]]] = {}
    for label in index[spread > DISAGREEMENT_YEARS]:
        disagreements[label] = [(k, float(stacked.at[label, k])) for k in range(len(routes)) if pd.notna(stacked.at[label, k])]
    return Derivation(years, text, route_of, disagreements)


def response_flags(response: Any) -> tuple[Any, Any]:
    """(any_response, complete_response) as nullable integers from the response enumeration."""

    any_response = response.map({"complete": 1, "partial": 1, "none": 0}).astype("Int64")
    complete = response.map({"complete": 1, "partial": 0, "none": 0}).astype("Int64")
    return any_response, complete
