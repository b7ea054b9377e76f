"""The report's numbers in sentences: a pooled proportion, a mean, a comparison with a published figure, and the
review's headline question (which published figure the patients are closer to). Measures are named in the
review's words (its clock), which the results carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from metacalc.review.certainty import LEVELS
from metacalc.review.onset import LATER_MEASURE
from metacalc.review.results import AnalysisResult, Comparison, ProportionGroup, TimeGroup, ValuesSummary
from metacalc.review.words import level_label, lower_limit_label, measure_name, method_name, num
from metacalc.review.words import p_value, pct, span

if TYPE_CHECKING:
    from metacalc.data.review_file import Review
    from metacalc.review.document import ReviewResults


def proportion_sentence(group: ProportionGroup, level: float, with_method: bool = True) -> str:
    """'1 of 4 patients responded (25.0%, 95% CI 0.6% to 80.6%; pooled count with exact ... interval)'; a lower
    bound reads 'at least 10 of 21 patients responded (≥ 47.6%, one-sided 95% lower limit 28.6%; ...)'."""
    result = group.result
    who = "patients" if group.total != 1 else "patient"
    if result is None:
        return f"{group.events} of {group.total} {who} responded (not pooled: {group.not_pooled or 'no estimate'})"
    method = f"; {method_name(result)}" if with_method else ""
    if result.lower_bound:
        return (f"at least {group.events} of {group.total} {who} responded (≥ {pct(result.estimate)}, "
                f"{lower_limit_label(level)} {pct(result.ci_lower)}; a lower bound, so no upper limit{method})")
    return (f"{group.events} of {group.total} {who} responded ({pct(result.estimate)}, {level_label(level)} "
            f"{span(result.ci_lower, result.ci_upper, pct)}{method})")


def median_text(summary: ValuesSummary, level: float) -> str:
    """The median with its exact interval, or with the range and the range's chance of containing the median."""
    text = f"median {num(summary.median)} years"
    if summary.median_ci:
        low, high = summary.median_ci
        return (f"{text} ({level_label(level)} {span(low, high)}, exact, covering the median with probability "
                f"{pct(summary.median_ci_coverage)})")
    if summary.n > 1:
        return (f"{text} (range {span(summary.min, summary.max)}, which contains the median with probability "
                f"{pct(summary.range_coverage)}; no exact {100 * level:g}% interval exists with {summary.n} values)")
    return text


def mean_sentence(summary: ValuesSummary | None, level: float) -> str:
    """The summary the time rule allows: the median first, then the mean (with its approximate t interval only
    from 10 patients on), n."""
    if not summary:
        return "no patient with a value"
    if summary.n == 1:
        return f"one patient, {num(summary.median)} years"
    text = median_text(summary, level)
    text += f"; mean {num(summary.mean)} (SD {num(summary.sd)})"
    if summary.mean_ci:
        text += f", approximate {level_label(level)} {span(*summary.mean_ci)}"
    elif summary.n < 10:
        text += ", no interval for the mean with fewer than 10 patients"
    else:
        text += ", no interval for the mean (its t interval would extend below 0)"
    return f"{text}; n = {summary.n}"


def _reference_name(comparison: Comparison, review: Review) -> str:
    ref = comparison.reference
    details = [ref.label]
    if ref.population:
        details.append(ref.population)
    if ref.n:
        details.append(f"n = {ref.n:g}")
    if ref.sd:
        details.append(f"SD {ref.sd:g}")
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
    untested = [c for c in (near, far) if not c.tested]
    if untested:
        figures = " and ".join(f"{c.reference.mean:g} years" for c in untested)
        sources = "; ".join(_unknowns(c) for c in untested)
        caveats.append(
            f"{'Both differences are' if len(untested) == 2 else 'The difference from ' + figures + ' is'} "
            f"descriptive, not a test: {sources}, so no test can allow for the published figure's own uncertainty "
            "(a one-sample test would treat it as a known constant).")
    if summary.n < 10:
        caveats.append(f"With {summary.n} patients the mean itself is imprecise: "
                       f"{median_text(summary, float(summary.level))}.")
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
            test = f"Welch t test {p_value(c.pvalue)}" if c.tested else "descriptive"
            caveats.append(
                f"On that measure ({measure_name(c.measure, review)}), {patients}{num(c.mean)} "
                f"years) lie{'s' if c.n == 1 else ''} {abs(c.difference):.1f} years {direction} "
                f"{c.reference.mean:g} years ({test})."
            )
    return Headline(answer, tuple(caveats))


def _unknowns(comparison: Comparison) -> str:
    """What is not known about a published figure, so that it cannot be tested against."""
    ref = comparison.reference
    if ref.n and not ref.sd:
        return f"{ref.mean:g} years is the mean of {ref.n:g} patient{'s' if ref.n != 1 else ''}, without an SD"
    if not ref.n:
        return f"the number of patients and the SD behind {ref.mean:g} years are not known"
    return comparison.note or f"{ref.mean:g} years cannot be tested against"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def plain_summary(results: ReviewResults) -> list[str]:
    """A short plain-language summary in the review's words: what was found, how many patients the main figures
    rest on, the headline time, and how certain the evidence is. Numbers only, no methods (Methods has them)."""
    review = results.review
    table = results.characteristics
    with_patients = {p["study_id"] for p in results.patients}
    individual = len(with_patients)
    patients = table.patients if table else len(results.patients)
    once = " (a patient described in two reports is counted once)" if table and table.counted_once else ""
    others = len(results.studies) - individual
    series = f", and {others} give{'s' if others == 1 else ''} summary figures only" if others else ""
    out = [f"We found {_count(len(results.studies), 'published report')} of {review.condition.name} in "
           f"{review.disease.name}: {individual} describe{'s' if individual == 1 else ''} "
           f"{_count(patients, 'patient')} one by one{once}{series}."]
    for analysis in results.analyses:
        groups = [g for g in analysis.groups if isinstance(g, ProportionGroup) and g.total]
        if analysis.kind != "proportion" or not groups:
            continue
        largest = sorted(groups, key=lambda g: (-g.total, g.group))[:3]
        parts = [f"{g.events} of {g.total} given {g.group}" for g in largest]
        out.append(f"Patients with {analysis.outcome_label}, for the therapies given most often: "
                   f"{'; '.join(parts)}.")
        break  # the first analysis of response is the main one; the others are in the table below
    for analysis in results.analyses:
        overall = analysis.groups[0] if analysis.groups else None
        if analysis.kind != "time" or not isinstance(overall, TimeGroup) or not overall.summary:
            continue
        summary = overall.summary
        text = (f"The {review.clock.onset} came a median of {num(summary.median)} years after the "
                f"{review.clock.start} ({_count(summary.n, 'patient')}).")
        headline = closest_reference(analysis, review)
        if headline:  # 'Closer to 9.8 than to 21.5 years: ...'
            text += (f" Their mean is {headline.answer.split(':')[0].lower()}, the published figures it was "
                     "compared with.")
        out.append(text)
        break
    levels = sorted({c.level for c in results.certainty}, key=LEVELS.index)
    if levels:
        certainty = levels[0] if len(levels) == 1 else f"{levels[0]} to {levels[-1]}"
        out.append(f"The certainty of this evidence is {certainty}: case reports describe selected patients without "
                   "a comparison group, and reports of success are more likely to be published, so these figures "
                   "say what was reported, not how often a therapy works.")
    return out


def time_estimate(summary: ValuesSummary | None, level: float) -> str:
    """A time in a table cell: 'median 8.5 years (range 4 to 11)', or with the median's exact interval."""
    if not summary:
        return "no patient with a value"
    text = f"median {num(summary.median)} years"
    if summary.median_ci:
        return f"{text} ({level_label(level)} {span(*summary.median_ci)})"
    if summary.n > 1:
        return f"{text} (range {span(summary.min, summary.max)})"
    return f"{text} (one patient)"
