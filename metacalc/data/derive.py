"""Values computed from the extracted facts, never typed: the times of the review's clock, response flags.

Reports state timing in many ways ("diagnosed 21 years prior", "nodules since 10 years prior", "four years
later", calendar years). Each way is a *route* to the years from the start of the clock (the review's start
event, e.g. the diagnosis of the underlying disease); the first route whose facts are all present wins (the
order below is the precedence: a stated interval beats arithmetic on two statements, which beats arithmetic on
calendar years). Routes that disagree by more than one year are reported as warnings, because the reviewer
should look at the report again.

The derivation texts name the events in the review's words (``Review.words``).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DISAGREEMENT_YEARS = 1.0


@dataclass(frozen=True)
class Route:
    uses: tuple[str, ...]  # columns that must all be present
    formula: Callable[[Any], Any]  # function(frame) -> Series of years
    explain: str  # the arithmetic in words: a template of the review's words, the facts ({column}) and {result}

    def text(self, words: Mapping[str, str], values: Mapping[str, float], result: float) -> str:
        return self.explain.format(**words, **{column: _g(value) for column, value in values.items()},
                                   result=_g(result))


def _g(value: float) -> str:
    return f"{value:g}"


ONSET_ROUTES = (
    Route(("onset_years_after_start",),
          lambda f: f["onset_years_after_start"],
          "{onset_short} {result} y after {start} (stated)"),
    Route(("start_years_before_presentation", "onset_years_before_presentation"),
          lambda f: f["start_years_before_presentation"] - f["onset_years_before_presentation"],
          "{start} {start_years_before_presentation} y before presentation - {onset_short}"
          " {onset_years_before_presentation} y before presentation = {result} y"),
    Route(("onset_year", "start_year"),
          lambda f: f["onset_year"] - f["start_year"],
          "{onset_short} in {onset_year} - {start} in {start_year} = {result} y"),
    Route(("presentation_year", "onset_years_before_presentation", "start_year"),
          lambda f: f["presentation_year"] - f["onset_years_before_presentation"] - f["start_year"],
          "{onset_short} {onset_years_before_presentation} y before presentation in {presentation_year}"
          " - {start} in {start_year} = {result} y"),
    Route(("onset_year", "presentation_year", "start_years_before_presentation"),
          lambda f: f["onset_year"] - (f["presentation_year"] - f["start_years_before_presentation"]),
          "{onset_short} in {onset_year} - {start} {start_years_before_presentation} y before presentation in"
          " {presentation_year} = {result} y"),
)

DIAGNOSIS_ROUTES = (
    Route(("diagnosis_years_after_start",),
          lambda f: f["diagnosis_years_after_start"],
          "{diagnosis_short} {result} y after {start} (stated)"),
    Route(("diagnosis_year", "start_year"),
          lambda f: f["diagnosis_year"] - f["start_year"],
          "{diagnosis_short} in {diagnosis_year} - {start} in {start_year} = {result} y"),
    Route(("diagnosis_year", "presentation_year", "start_years_before_presentation"),
          lambda f: f["diagnosis_year"] - (f["presentation_year"] - f["start_years_before_presentation"]),
          "{diagnosis_short} in {diagnosis_year} - {start} {start_years_before_presentation} y before presentation"
          " in {presentation_year} = {result} y"),
)


@dataclass(frozen=True)
class Derivation:
    """Result of deriving one timing interval for every patient (indexed like the patients frame)."""

    years: Any  # float Series, NaN where no route applies
    text: Any  # str Series, NaN where no route applies
    route: Any  # int Series: index into the routes, -1 where none applies
    disagreements: dict[Any, list[tuple[int, float]]]  # frame index -> (route, years) of every route that applied,
    #                                                   when they disagree


def derive_interval(patients: Any, routes: Sequence[Route], words: Mapping[str, str]) -> Derivation:
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
        text[chosen] = [route.text(words, dict(zip(route.uses, values)), result)
                        for values, result in zip(facts.itertuples(index=False, name=None), results)]
    text = text.astype("str")
    stacked = pd.concat(all_values, axis=1, keys=range(len(routes)))
    spread = stacked.max(axis=1) - stacked.min(axis=1)
    disagreements: dict[Any, list[tuple[int, float]]] = {}
    for label in index[spread > DISAGREEMENT_YEARS]:
        disagreements[label] = [(k, float(stacked.at[label, k])) for k in range(len(routes)) if pd.notna(stacked.at[label, k])]
    return Derivation(years, text, route_of, disagreements)


def response_flags(response: Any, categories: Any) -> tuple[Any, Any]:
    """(any_response, complete_response) as nullable integers from the response categories of the review
    (``metacalc.data.review_file.Responses``): 1 or 0, blank for a category that means the response is unknown."""
    any_response = response.map({name: categories.flag("any_response", name) for name in categories.names})
    complete = response.map({name: categories.flag("complete_response", name) for name in categories.names})
    return any_response.astype("Int64"), complete.astype("Int64")
