"""The report's numbers in sentences: a pooled proportion, a mean, a comparison with a published figure, and the
review's headline question (which published figure the patients are closer to). Measures are named in the
review's words (its clock), which the results carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from metacalc.review.onset import LATER_MEASURE
from metacalc.review.results import AnalysisResult, Comparison, ProportionGroup, TimeGroup, ValuesSummary
from metacalc.review.words import METHOD_NAMES, level_label, measure_name, measure_short, num, p_value, pct
from metacalc.review.words import sentence_case

if TYPE_CHECKING:
    from metacalc.data.review_file import Review


def proportion_sentence(group: ProportionGroup, level: float, with_method: bool = True) -> str:
    """'1 of 4 patients responded (25.0%, 95% CI 0.6%–80.6%; pooled count with exact ... interval)'."""
    result = group.result
    who = "patients" if group.total != 1 else "patient"
    head = f"{group.events} of {group.total} {who} responded"
    if result is None:
        return f"{head} (not pooled: {group.not_pooled or 'no estimate'})"
    method = f"; {METHOD_NAMES.get(result.method or '', result.method)}" if with_method else ""
    return (f"{head} ({pct(result.estimate)}, {level_label(level)} {pct(result.ci_lower)}–"
            f"{pct(result.ci_upper)}{method})")


def mean_sentence(summary: ValuesSummary | None, level: float) -> str:
    if not summary:
        return "no patient with a value"
    ci = summary.mean_ci
    text = f"mean {num(summary.mean)} years"
    if ci:
        text += f" ({level_label(level)} {num(ci[0])}–{num(ci[1])})"
    text += f", median {num(summary.median)} (range {num(summary.min)}–{num(summary.max)}), n = {summary.n}"
    return text


def _reference_name(comparison: Comparison, review: Review) -> str:
    ref = comparison.reference
    details = [ref.label]
    if ref.population:
        details.append(ref.population)
    if ref.n:
        details.append(f"n = {ref.n}")
    return f"{ref.mean:g} years ({', '.join(details)}; {measure_name(ref.outcome, review)})"


@dataclass(frozen=True)
class Headline:
    """The answer to the review's headline question, with what makes the comparison unequal."""

    answer: str
    caveats: tuple[str, ...]


def closest_reference(analysis: AnalysisResult, review: Review) -> Headline | None:
    """The review's headline question in plain words: which published figure about all patients the patients'
    mean is closest to, and what makes the comparison unequal (a different measure; too few patients).

    None when fewer than two published figures describe all patients.
    """
    overall = analysis.groups[0] if analysis.groups else None
    if not isinstance(overall, TimeGroup) or not overall.summary:
        return None
    summary, measure = overall.summary, analysis.outcome
    rows = [c for c in overall.comparisons if c.measure == measure and c.difference is not None]
    if len(rows) < 2:
        return None
    ranked = sorted(rows, key=lambda c: (abs(c.difference or 0.0), c.reference.aggregate_id))
    near, far = ranked[0], ranked[-1]
    who = f"{summary.n} reported patients'" if summary.n != 1 else "one reported patient's"
    answer = (
        f"Closer to {near.reference.mean:g} than to {far.reference.mean:g} years: the {who} mean "
        f"{measure_name(measure, review)} is {num(summary.mean)} years, {abs(near.difference or 0):.1f} years "
        f"from {_reference_name(near, review)} and {abs(far.difference or 0):.1f} years from "
        f"{_reference_name(far, review)}."
    )
    clock = review.clock
    caveats = []
    for c in (near, far):
        if c.same_measure:
            continue
        other = measure_name(c.reference_measure, review)
        if c.reference_measure in LATER_MEASURE:
            caveats.append(
                f"{c.reference.mean:g} years is a {other}, not the patients' measure: {clock.diagnosis_short} "
                f"follows {clock.onset_short}, so it is an upper bound of the time to {clock.onset_short} in its "
                f"series, and part of the {abs(c.difference or 0):.1f}-year gap may be this difference of measures."
            )
        else:
            caveats.append(f"{c.reference.mean:g} years is a {other}, not the patients' measure.")
    for c in overall.comparisons:
        if c.measure != measure and c.difference is not None and c.reference in (near.reference, far.reference):
            direction = "below" if c.difference < 0 else "above"
            patients = (f"{c.n} patients whose reports give it (mean " if c.n != 1
                        else "the one patient whose report gives it (")
            test = f"t test {p_value(c.pvalue)}" if c.tested else "too few patients for a test"
            caveats.append(
                f"On that measure ({measure_name(c.measure, review)}), {patients}{num(c.mean)} "
                f"years) lie{'s' if c.n == 1 else ''} {abs(c.difference):.1f} years {direction} "
                f"{c.reference.mean:g} years ({test})."
            )
    return Headline(answer, tuple(caveats))


def comparison_line(group: str, comparison: Comparison, level: float, review: Review) -> str:
    """One comparison of the summary box in a line: who, against what, on which measure, and the test."""
    ref = comparison.reference
    head = (f"{sentence_case(group)} vs {ref.mean:g} years {measure_short(ref.outcome, review)} "
            f"({ref.label}, {ref.population or 'all'})")
    if not comparison.n:
        return f"{head}: no patient with this measure."
    patients = f"{comparison.n} patients, mean" if comparison.n != 1 else "1 patient,"
    text = (f"{head}: {patients} {num(comparison.mean)} years "
            f"{measure_short(comparison.measure, review)}"
            f"{'' if comparison.same_measure else ' (a different measure)'}, difference "
            f"{num(comparison.difference)}")
    if comparison.tested:
        text += (f" ({level_label(level)} {num(comparison.ci_lower)} to {num(comparison.ci_upper)}; "
                 f"t test {p_value(comparison.pvalue)})")
    else:
        text += "; too few patients for a test"
    return text + "."
