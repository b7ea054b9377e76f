"""The `metacalc report` step: one self-contained HTML file a reviewer can read, print and archive.

It reads the results and the figures only (never the dataset). jinja2 with autoescaping renders every value
from the sheets as text; figures are embedded as inline SVG (our own files, with the XML prolog and doctype
removed and their ids made unique in the page); the CSS is inlined; there is no JavaScript and nothing is
loaded from the network. The same inputs give the same bytes: no timestamps, everything sorted.

Needs no scientific stack (jinja2 only), so that a change of the template reruns only this quick step.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from metacalc.errors import UserError
from metacalc.files import write_atomic
from metacalc.meta.auto_rule import RULE as AUTO_RULE
from metacalc.render.changes import change_view
from metacalc.render.listings import courses_by_patient, summaries, write_listings
from metacalc.render.sentences import closest_reference, mean_sentence, median_text, plain_summary
from metacalc.render.sentences import proportion_sentence, time_estimate
from metacalc.review.certainty import DEFAULT_START, DOMAIN_NAMES, Certainty
from metacalc.review.document import ReviewResults
from metacalc.review.duplicate_threshold import CALIBRATED_REPORTS, THRESHOLD
from metacalc.review.labels import RowNames
from metacalc.review.onset import LATER_MEASURE
from metacalc.review.results import ProportionGroup
from metacalc.review.words import (
    ARM_PREFIXES,
    ESTIMAND_NAMES,
    METHOD_NAMES,
    column_label,
    general,
    level_label,
    lower_limit_label,
    measure_name,
    measure_short,
    method_name,
    num,
    outcome_label,
    p_value,
    pct,
    sections,
    sentence_case,
    series_figure_name,
    slug,
    span,
    time_section_title,
)

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), "templates")
Figures = dict[str, dict[str, Any]]

REFERENCES = {
    "clopper1934": "Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case of the "
    "binomial. Biometrika 1934;26:404-413.",
    "viechtbauer2010": "Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw "
    "2010;36(3):1-48.",
    "stijnen2010": "Stijnen T, Hamza TH, Özdemir P. Random effects meta-analysis of event outcome in the framework "
    "of the generalized linear mixed model with applications in sparse data. Stat Med 2010;29:3046-3067.",
    "hartung2001": "Hartung J, Knapp G. A refined method for the meta-analysis of controlled clinical trials with "
    "binary outcome. Stat Med 2001;20:3875-3889.",
    "wan2014": "Wan X, Wang W, Liu J, Tong T. Estimating the sample mean and standard deviation from the sample "
    "size, median, range and/or interquartile range. BMC Med Res Methodol 2014;14:135.",
    "luo2018": "Luo D, Wan X, Liu J, Tong T. Optimally estimating the sample mean from the sample size, median, "
    "mid-range, and/or mid-quartile range. Stat Methods Med Res 2018;27:1785-1805.",
    "page2021": "Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated guideline for "
    "reporting systematic reviews. BMJ 2021;372:n71.",
    "jbi": "Moola S, Munn Z, Tufanaru C, et al. Chapter 7: Systematic reviews of etiology and risk. In: Aromataris "
    "E, Munn Z (eds). JBI Manual for Evidence Synthesis. JBI, 2020 (critical appraisal checklist for case "
    "reports).",
    "murad2018": "Murad MH, Sultan S, Haffar S, Bazerbachi F. Methodological quality and synthesis of case series "
    "and case reports. BMJ Evid Based Med 2018;23:60-63.",
    "mcguinness2021": "McGuinness LA, Higgins JPT. Risk-of-bias VISualization (robvis). Res Synth Methods "
    "2021;12:55-61.",
    "zeger1988": "Zeger SL, Liang KY, Albert PS. Models for longitudinal data: a generalized estimating equation "
    "approach. Biometrics 1988;44:1049-1060.",
    "lin2020": "Lin L, Chu H. Meta-analysis of proportions using generalized linear mixed models. Epidemiology "
    "2020;31:713-717.",
    "viechtbauer2007": "Viechtbauer W. Confidence intervals for the amount of heterogeneity in meta-analysis. "
    "Stat Med 2007;26:37-52.",
    "welch1947": "Welch BL. The generalization of 'Student's' problem when several different population variances "
    "are involved. Biometrika 1947;34:28-35.",
    "coverage": "metacalc coverage study of interval methods on case-report-shaped data: benchmarks/coverage/README.md "
    "and benchmarks/coverage/results/results.md in the metacalc repository (tables P1-P7, B1, G1, T1, T2).",
}

# The patients' columns that the times of the clock are derived from (their quotes back the onset numbers).
TIMING_COLUMNS = (
    "start_year", "start_years_before_presentation", "onset_year", "onset_years_after_start",
    "onset_years_before_presentation", "diagnosis_year", "diagnosis_years_after_start", "presentation_year",
    "onset_before_start",
)


# ---------------------------------------------------------------------------------------------------------------
# Inline SVG
# ---------------------------------------------------------------------------------------------------------------

# XML prolog, doctype, comments and matplotlib's RDF <metadata> block: none belongs inside an HTML page.
_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>[]*(\[[^\]]*\])?\s*>|<!--.*?-->|<metadata>.*?</metadata>\s*", re.S)
_ID = re.compile(r'\bid="([^"]+)"')


def inline_svg(text: str, prefix: str) -> str:
    """SVG text ready to sit inside HTML: no prolog/doctype/comments, ids prefixed so figures cannot collide.

    Only references to ids the SVG itself defines are rewritten; links to the report's own anchors (the PRISMA
    boxes point at ``#prisma-...`` lists) are left alone.
    """
    text = _PROLOG.sub("", text).strip()
    if not text.startswith("<svg"):
        raise UserError([f"{prefix}: not an SVG file (expected it to start with <svg)"])
    # Inside tags only ("<" never occurs in escaped text): scripting elements or on* event attributes.
    if re.search(r"<\s*(script|foreignObject|iframe)\b|<[^<>]*\son[a-z]+\s*=", text, re.I):
        raise UserError([f"{prefix}: the SVG contains script or event handlers; refusing to embed it"])
    defined = set(_ID.findall(text))
    if not defined:
        return text

    def rename(value: str) -> str:
        return f"{prefix}-{value}" if value in defined else value

    text = _ID.sub(lambda m: f'id="{rename(m.group(1))}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{rename(m.group(1))})", text)
    text = re.sub(r'(href=")#([^"]+)"', lambda m: f'{m.group(1)}#{rename(m.group(2))}"', text)
    return text


# ---------------------------------------------------------------------------------------------------------------
# The page's content
# ---------------------------------------------------------------------------------------------------------------


def read_figures(figures_dir: str) -> tuple[Figures, list[dict[str, Any]]]:
    """The figures of the manifest with their inline SVG (by id), and the figures left out with why."""
    manifest_path = os.path.join(figures_dir, "figures.json")
    if not os.path.exists(manifest_path):
        raise UserError([f"{manifest_path}: figure manifest not found (run `metacalc figures` first)"])
    with open(manifest_path, encoding="utf-8") as handle:
        document = json.load(handle)
    out = {}
    for index, entry in enumerate(document["figures"]):
        with open(os.path.join(figures_dir, entry["file"]), encoding="utf-8") as handle:
            svg = inline_svg(handle.read(), f"fig{index}")
        out[entry["id"]] = {**entry, "svg": svg}
    return out, document.get("omitted", [])


def _proportion_groups(results: ReviewResults) -> list[ProportionGroup]:
    """Every group of every response analysis, its sensitivity variants included."""
    return [group for analysis in results.analyses if analysis.kind == "proportion"
            for groups in [analysis.groups, *(v.groups for v in analysis.sensitivity)]
            for group in groups if isinstance(group, ProportionGroup)]


def _method_reasons(results: ReviewResults) -> list[tuple[str, str]]:
    """Every (method, reason) the pooled proportions used, each once (the Methods' notes M1, M2, ...), in the
    order of the method and then of the reason: the one place where each technical justification is given."""
    used = {(group.result.method, group.result.reason or "") for group in _proportion_groups(results)
            if group.result and group.result.method}
    return sorted(used)


def _branches_used(results: ReviewResults) -> set[str]:
    """The branches of the auto rule that the pooled proportions of this report took."""
    return {group.result.branch for group in _proportion_groups(results) if group.result and group.result.branch}


def _summary(results: ReviewResults) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of the summary-of-findings table (by analysis), and its notes: each distinct judgement of a
    domain with its reason, once, marked on the rows it applies to."""
    level = results.settings["level"]
    certainty = {(c.analysis, c.group): c for c in results.certainty}
    notes: list[str] = []
    items = []
    for analysis in results.analyses:
        lines = []
        for group in analysis.groups:
            if isinstance(group, ProportionGroup):
                text = proportion_sentence(group, level, with_method=False)
            else:
                text = time_estimate(group.summary, level)
            found = certainty.get((analysis.id, group.group))
            marks = []
            for note in _certainty_notes(found):
                if note not in notes:
                    notes.append(note)
                marks.append(_letter(notes.index(note)))
            lines.append({"name": group.group, "text": text, "anchor": f"prov-{analysis.id}-{slug(group.group)}",
                          "certainty": found, "marks": marks})
        items.append({"analysis": analysis, "lines": lines})
    return items, notes


def _certainty_notes(certainty: Certainty | None) -> list[str]:
    if certainty is None:
        return []
    notes = []
    if certainty.start != DEFAULT_START:
        notes.append(f"Starts at {certainty.start} (recorded by the reviewer; case reports start at {DEFAULT_START}).")
    for j in certainty.judgements:
        effect = {"serious": "lowered one level", "very_serious": "lowered two levels"}.get(j.judgement, "not lowered")
        notes.append(f"{sentence_case(DOMAIN_NAMES[j.domain])}: {j.judgement.replace('_', ' ')} ({effect}): {j.reason}.")
    if certainty.not_assessed:
        notes.append("Not assessed by the reviewer: " + ", ".join(DOMAIN_NAMES[d] for d in certainty.not_assessed)
                     + ".")
    return notes


def _letter(index: int) -> str:
    return chr(ord("a") + index % 26) + ("" if index < 26 else str(index // 26))


def _arm_of(box_id: str) -> str:
    return next((name for prefix, name in ARM_PREFIXES.items() if box_id.startswith(prefix)), "")


def _patients_table(results: ReviewResults) -> list[dict[str, Any]]:
    courses = courses_by_patient(results)
    labels = {s["study_id"]: s["label"] for s in results.studies}
    return [{**patient, "study_label": labels.get(patient["study_id"], patient["study_id"]),
             "courses": courses.get(patient["patient_id"], [])} for patient in results.patients]


def _appraisal(results: ReviewResults) -> list[dict[str, Any]]:
    """The overall judgements of every tool (by tool, then report), each with the answers it rests on."""
    return [{"study_label": j.label, "tool_name": appraisal.name, "judgement": j.judgement, "rationale": j.rationale,
             "items": list(j.answers)}
            for appraisal in sorted(results.appraisal, key=lambda a: a.tool) for j in appraisal.judgements]


def _checklist(results: ReviewResults) -> list[dict[str, Any]] | None:
    from metacalc.review.checklist import checklist_rows

    return checklist_rows(results.settings)


def _response_definition(results: ReviewResults) -> str:
    """How response was defined, from the review's categories: 'complete (lesions resolved), partial ...'."""
    assessed = [f"{c.name} ({c.meaning})" for c in results.review.response.assessed]
    return assessed[0] if len(assessed) == 1 else ", ".join(assessed[:-1]) + " or " + assessed[-1]


def build_context(results: ReviewResults, figures: Figures, title: str | None = None) -> dict[str, Any]:
    level = results.settings["level"]
    review = results.review
    studies = sorted(results.studies, key=lambda s: (s.get("year") or 0, s["study_id"]))
    excluded = list(results.excluded_rows)
    names = RowNames(results)
    summary, certainty_notes = _summary(results)
    reasons = _method_reasons(results)

    def figures_in(section: str) -> list[dict[str, Any]]:
        return [f for f in figures.values() if f.get("section") == section]

    def figure_of(analysis: str, group: str | None = None) -> dict[str, Any] | None:
        return next((f for f in figures.values() if f.get("analysis") == analysis and f.get("group") == group), None)

    return {
        "title": title or review.title,
        "review": review,
        "clock": review.clock,
        "shown_fields": [f for f in review.patient_fields if f.show],
        "response_definition": _response_definition(results),
        "outcome_labels": {o: outcome_label(o, review) for o in ("any_response", "complete_response")},
        "time_title": time_section_title(review),
        "sections": sections(review),
        "level": level,
        "ci": level_label(level),
        "results": results,
        "summary": summary,
        "certainty_notes": certainty_notes,
        "plain_summary": plain_summary(results),
        "figures": figures,
        "figures_in": figures_in,
        "figure_of": figure_of,
        "studies": studies,
        "patients": _patients_table(results),
        "courses": {course["treatment_id"]: course for course in results.treatments},
        "appraisal": _appraisal(results),
        "checklist": _checklist(results),
        "method_reasons": reasons,
        "method_reason": lambda result: reasons.index((result.method, result.reason or "")) + 1,
        "auto_rule": AUTO_RULE,
        "branches_used": _branches_used(results),
        "references": REFERENCES,
        "method_names": METHOD_NAMES,
        "excluded": excluded,
        "excluded_by_table": {t: [r for r in excluded if r.table == t]
                              for t in ("studies", "patients", "treatments", "aggregates")},
        "changes": change_view(results.changes_since_release, level),
        "duplicates": results.duplicate_screen,
        "duplicate_rule": {"threshold": THRESHOLD, "reports": CALIBRATED_REPORTS},
        "duplicate_differences": results.duplicate_differences,
        "prisma": results.prisma.relabelled(names.text),
        "warnings": results.dataset_warnings,
        "slug": slug,
        "arm_of": _arm_of,
        "timing_columns": TIMING_COLUMNS,
        "labels": names,
        "counted_once": {c.patient_id: c for c in (results.characteristics.counted_once
                                                     if results.characteristics else ())},
    }


def _environment(review: Any) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.do"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    filters: dict[str, Callable[..., Any]] = {
        "pct": pct, "num": num, "pvalue": lambda value: p_value(value, with_p=False), "slug": slug, "span": span,
        "sentence_case": sentence_case, "g": general,
        "outcome_name": lambda outcome: series_figure_name(str(outcome), review),
        "measure_short": lambda measure: measure_short(str(measure), review),
        "measure_name": lambda measure: measure_name(str(measure), review),
        "column": lambda column: column_label(str(column), review),
        "columns": lambda columns: ", ".join(column_label(str(c), review) for c in columns),
    }
    env.filters.update(filters)
    env.globals.update(proportion_sentence=proportion_sentence, mean_sentence=mean_sentence, median_text=median_text,
                       closest_reference=lambda analysis: closest_reference(analysis, review),
                       later_measure=LATER_MEASURE, method_name=method_name, estimand_names=ESTIMAND_NAMES,
                       lower_limit_label=lower_limit_label, pct=pct)
    return env


# The order of the report's sections that hold figures: figures are numbered in the order a reader meets them.
FIGURE_SECTIONS = ("prisma", "risk-of-bias", "results", "onset")


def number_figures(figures: Figures) -> None:
    """Number the figures in page order and give each its legend: 'Figure 3. Title. What the marks mean and
    the method.' (titles and method text live here, not inside the figures)."""
    def rank(item: tuple[int, dict[str, Any]]) -> tuple[int, int]:
        section = item[1].get("section")
        section = "results" if section == "cumulative" else section  # drawn beside its analysis' forest plots
        return (FIGURE_SECTIONS.index(section) if section in FIGURE_SECTIONS else len(FIGURE_SECTIONS), item[0])

    ranked = sorted(enumerate(figures.values()), key=rank)  # then the manifest's order: the plan's
    for number, (_, figure) in enumerate(ranked, start=1):
        title = sentence_case(figure.get("title") or str(figure.get("caption", "")).rstrip("."))
        legend = figure.get("legend") or ""
        figure["number"] = number
        figure["caption"] = f"Figure {number}. {title}." + (f" {legend}" if legend else "")


class TableNumbers:
    """'Table 1', 'Table 2', ... in the order the template asks for them (its page order), one number a key."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def __call__(self, key: str) -> str:
        return f"Table {self.numbers.setdefault(key, len(self.numbers) + 1)}"


def render_html(results: ReviewResults, figures: Figures, title: str | None = None,
                omitted: Sequence[Mapping[str, Any]] = (), provenance: Mapping[str, Any] | None = None,
                listings: Mapping[str, Any] | None = None) -> str:
    """The report's HTML; ``provenance`` is what ``write_provenance`` returned, ``listings`` what
    ``write_listings`` returned (None: their summaries, no file)."""
    import jinja2

    from metacalc.render.provenance import provenance_rows, summary

    env = _environment(results.review)
    with open(os.path.join(TEMPLATE_DIR, "report.css"), encoding="utf-8") as handle:
        css = handle.read()
    context = build_context(results, figures, title)
    env.filters["label"] = context["labels"].of  # a row's id -> its label, for lists of ids (| map("label"))
    context["omitted_in"] = lambda section: [o for o in omitted if o.get("section") == section]
    if provenance is None:
        provenance = summary(*provenance_rows(results, TIMING_COLUMNS))
    context["provenance"] = provenance
    context["listed"] = listings if listings is not None else summaries(results, provenance["inline_max"])
    context["css"] = jinja2.utils.markupsafe.Markup(css)
    number_figures(figures)
    context["table_number"] = TableNumbers()
    for figure in figures.values():
        figure["html"] = jinja2.utils.markupsafe.Markup(figure["svg"])
    return env.get_template("report.html.j2").render(**context)


def render_report(results_path: str, figures_dir: str, output: str, title: str | None = None,
                  provenance_inline_max: int | None = None) -> str:
    """The report of ``results_path`` (results.json) and ``figures_dir`` written to ``output``, with the
    provenance of every pooled number as ``provenance.csv`` beside it (inline in the report too up to
    ``provenance_inline_max`` rows, ``metacalc.render.provenance.INLINE_MAX`` by default), every patient and report in
    ``patients.csv`` and ``reports.csv`` beside it (listed inline up to the same size), and the numbered tables
    for a manuscript in ``manuscript_tables/`` beside it (a CSV per table, tables.xlsx, tables.docx, read from the
    report's own HTML); returns ``output``. The report is written last, so that it never stands beside
    tables of another run."""
    from metacalc.render.manuscript_tables import FOLDER, write_manuscript_tables
    from metacalc.render.provenance import FILE_NAME, INLINE_MAX, write_provenance
    from metacalc.review.results_io import read_results

    results = read_results(results_path)
    figures, omitted = read_figures(figures_dir)
    inline_max = INLINE_MAX if provenance_inline_max is None else provenance_inline_max
    folder = os.path.dirname(output)
    provenance = write_provenance(results, os.path.join(folder, FILE_NAME), TIMING_COLUMNS, inline_max)
    listings = write_listings(results, folder, inline_max)
    html = render_html(results, figures, title=title, omitted=omitted, provenance=provenance, listings=listings)
    write_manuscript_tables(html, os.path.join(folder, FOLDER))
    write_atomic(output, html)
    return output
