"""The `metacalc report` step: one self-contained HTML file a reviewer can read, print and archive.

jinja2 with autoescaping renders every value from the sheets as text; figures are embedded as inline SVG
(our own files, with the XML prolog and doctype removed and their ids made unique in the page); the CSS is
inlined; there is no JavaScript and nothing is loaded from the network. The same inputs give the same bytes:
no timestamps, everything sorted.
"""

from __future__ import annotations

import json
import math
import os
import re

from metacalc.errors import UserError
from metacalc.files import write_atomic
from metacalc.review.analyse import LATER_MEASURE, MEASURE_SHORT, read_tables

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), "templates")

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
}

SECTIONS = (
    ("summary", "Summary of findings"),
    ("changes", "What changed since the last run"),
    ("prisma", "Study selection (PRISMA 2020)"),
    ("studies", "Included studies"),
    ("patients", "Patients"),
    ("risk-of-bias", "Risk of bias"),
    ("results", "Response to therapy"),
    ("onset", "Time from SLE diagnosis to calcinosis"),
    ("sensitivity", "Sensitivity analyses"),
    ("methods", "Methods"),
    ("provenance", "Provenance"),
    ("excluded-rows", "Rows not used"),
    ("checklist", "PRISMA 2020 checklist"),
)

# The patients' columns that time from SLE diagnosis is derived from (their quotes back the onset numbers).
TIMING_COLUMNS = (
    "sle_diagnosis_year", "sle_diagnosis_years_before_presentation", "onset_year", "onset_years_after_sle_diagnosis",
    "onset_years_before_presentation", "calcinosis_diagnosis_year", "calcinosis_diagnosis_years_after_sle_diagnosis",
    "presentation_year", "onset_before_sle_diagnosis",
)

OUTCOME_NAMES = {
    "years_sle_to_onset": "years from SLE diagnosis to first lesion",
    "years_sle_to_calcinosis_diagnosis": "years from SLE diagnosis to diagnosis of calcinosis",
    "age_at_onset": "age at onset",
}

# The measures of time, as a sentence names them.
MEASURE_NAMES = {
    "years_sle_to_onset": "time from SLE diagnosis to the first lesion (onset)",
    "years_sle_to_calcinosis_diagnosis": "time from SLE diagnosis to diagnosis of calcinosis",
}


METHOD_NAMES = {
    "exact": "pooled count with exact (Clopper-Pearson) interval",
    "glmm": "binomial-normal GLMM (random-intercept logistic)",
    "iv": "inverse-variance random effects",
}


# ---------------------------------------------------------------------------------------------------------------
# Numbers in words
# ---------------------------------------------------------------------------------------------------------------


def pct(value, digits=1):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def num(value, digits=1):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def pvalue(value):
    if value is None:
        return "n/a"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def level_label(level):
    return f"{100 * level:g}% CI"


def proportion_sentence(group, level, with_method=True):
    """'1 of 4 patients responded (25.0%, 95% CI 0.6%–80.6%; pooled count with exact ... interval)'."""
    result = group.get("result")
    who = "patients" if group["total"] != 1 else "patient"
    head = f"{group['events']} of {group['total']} {who} responded"
    if result is None:
        return f"{head} (not pooled: {group.get('not_pooled') or 'no estimate'})"
    method = f"; {METHOD_NAMES.get(result['method'], result['method'])}" if with_method else ""
    return (
        f"{head} ({pct(result['estimate'])}, {level_label(level)} {pct(result['ci_lower'])}–"
        f"{pct(result['ci_upper'])}{method})"
    )


def _reference_name(comparison):
    ref = comparison["reference"]
    details = [ref["label"]]
    if ref.get("population"):
        details.append(ref["population"])
    if ref.get("n"):
        details.append(f"n = {ref['n']}")
    return f"{ref['mean']:g} years ({', '.join(details)}; {MEASURE_NAMES.get(ref['outcome'], ref['outcome'])})"


def closest_reference(analysis):
    """The review's headline question in plain words: which published figure about all patients the patients'
    mean is closest to, and what makes the comparison unequal (a different measure; too few patients).

    Returns ``{"answer": sentence, "caveats": [sentences]}``, or None when fewer than two published figures
    describe all patients.
    """
    overall = analysis["groups"][0] if analysis["groups"] else {}
    summary = overall.get("summary")
    measure = analysis["outcome"]
    rows = [c for c in overall.get("comparisons", []) if c["measure"] == measure and c.get("difference") is not None]
    if not summary or len(rows) < 2:
        return None
    ranked = sorted(rows, key=lambda c: (abs(c["difference"]), c["reference"]["aggregate_id"]))
    near, far = ranked[0], ranked[-1]
    who = f"{summary['n']} reported patients'" if summary["n"] != 1 else "one reported patient's"
    answer = (
        f"Closer to {near['reference']['mean']:g} than to {far['reference']['mean']:g} years: the {who} mean "
        f"{MEASURE_NAMES.get(measure, measure)} is {num(summary['mean'])} years, {abs(near['difference']):.1f} years "
        f"from {_reference_name(near)} and {abs(far['difference']):.1f} years from {_reference_name(far)}."
    )
    caveats = []
    for c in (near, far):
        if c["same_measure"]:
            continue
        other = MEASURE_NAMES.get(c["reference_measure"], c["reference_measure"])
        if c["reference_measure"] in LATER_MEASURE:
            caveats.append(
                f"{c['reference']['mean']:g} years is a {other}, not the patients' measure: diagnosis follows onset, "
                f"so it is an upper bound of the time to onset in its series, and part of the "
                f"{abs(c['difference']):.1f}-year gap may be this difference of measures."
            )
        else:
            caveats.append(f"{c['reference']['mean']:g} years is a {other}, not the patients' measure.")
    for c in overall.get("comparisons", []):
        if c["measure"] != measure and c.get("difference") is not None and c["reference"] in (near["reference"],
                                                                                           far["reference"]):
            direction = "below" if c["difference"] < 0 else "above"
            patients = f"{c['n']} patients whose reports give it (mean " if c["n"] != 1 else \
                "the one patient whose report gives it ("
            test = f"t test {_p(c['pvalue'])}" if c["tested"] else "too few patients for a test"
            caveats.append(
                f"On that measure ({MEASURE_NAMES.get(c['measure'], c['measure'])}), {patients}{num(c['mean'])} "
                f"years) lie{'s' if c['n'] == 1 else ''} {abs(c['difference']):.1f} years {direction} "
                f"{c['reference']['mean']:g} years ({test})."
            )
    return {"answer": answer, "caveats": caveats}


def _p(value):
    text = pvalue(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def comparison_line(group, comparison, level):
    """One comparison of the summary box in a line: who, against what, on which measure, and the test."""
    ref = comparison["reference"]
    head = (f"{_sentence_case(group)} vs {ref['mean']:g} years {MEASURE_SHORT.get(ref['outcome'], ref['outcome'])} "
            f"({ref['label']}, {ref['population'] or 'all'})")
    if not comparison["n"]:
        return f"{head}: no patient with this measure."
    patients = f"{comparison['n']} patients, mean" if comparison["n"] != 1 else "1 patient,"
    text = (f"{head}: {patients} {num(comparison['mean'])} years "
            f"{MEASURE_SHORT.get(comparison['measure'], comparison['measure'])}"
            f"{'' if comparison['same_measure'] else ' (a different measure)'}, difference "
            f"{num(comparison['difference'])}")
    if comparison["tested"]:
        text += (f" ({level_label(level)} {num(comparison['ci_lower'])} to {num(comparison['ci_upper'])}; "
                 f"t test {_p(comparison['pvalue'])})")
    else:
        text += "; too few patients for a test"
    return text + "."


def mean_sentence(summary, level):
    if not summary:
        return "no patient with a value"
    ci = summary.get("mean_ci")
    text = f"mean {num(summary['mean'])} years"
    if ci:
        text += f" ({level_label(level)} {num(ci[0])}–{num(ci[1])})"
    text += f", median {num(summary['median'])} (range {num(summary['min'])}–{num(summary['max'])}), n = {summary['n']}"
    return text


# ---------------------------------------------------------------------------------------------------------------
# Inline SVG
# ---------------------------------------------------------------------------------------------------------------

# XML prolog, doctype, comments and matplotlib's RDF <metadata> block: none belongs inside an HTML page.
_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>[]*(\[[^\]]*\])?\s*>|<!--.*?-->|<metadata>.*?</metadata>\s*", re.S)
_ID = re.compile(r'\bid="([^"]+)"')


def inline_svg(text, prefix):
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

    def rename(value):
        return f"{prefix}-{value}" if value in defined else value

    text = _ID.sub(lambda m: f'id="{rename(m.group(1))}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{rename(m.group(1))})", text)
    text = re.sub(r'(href=")#([^"]+)"', lambda m: f'{m.group(1)}#{rename(m.group(2))}"', text)
    return text


# ---------------------------------------------------------------------------------------------------------------
# The page's content
# ---------------------------------------------------------------------------------------------------------------


def _figures(figures_dir):
    """The figures of the manifest with their inline SVG (by id), and the figures left out with why."""
    manifest_path = os.path.join(figures_dir, "figures.json")
    if not os.path.exists(manifest_path):
        raise UserError([f"{manifest_path}: figure manifest not found (run `metacalc figures` first)"])
    with open(manifest_path, encoding="utf-8") as handle:
        document = json.load(handle)
    manifest = document["figures"]
    out = {}
    for index, entry in enumerate(manifest):
        with open(os.path.join(figures_dir, entry["file"]), encoding="utf-8") as handle:
            svg = inline_svg(handle.read(), f"fig{index}")
        out[entry["id"]] = {**entry, "svg": svg}
    return out, document.get("omitted", [])


def _methods_used(results):
    """Which pooling methods the analyses actually used, with the reasons the default rule gave."""
    used = {}
    for analysis in results["analyses"]:
        if analysis["kind"] != "proportion":
            continue
        groups = list(analysis["groups"])
        for variant in analysis["sensitivity"]:
            groups.extend(variant["groups"])
        for group in groups:
            result = group.get("result")
            if result:
                used.setdefault(result["method"], set()).add(result.get("reason") or "")
    return {method: sorted(reason for reason in reasons if reason) for method, reasons in sorted(used.items())}


def _bootstrap(results):
    for analysis in results["analyses"]:
        for group in analysis["groups"]:
            summary = group.get("summary")
            if summary and summary.get("mean_ci_bootstrap"):
                return summary["n_boot"], summary["seed"]
    return None


def _summary(results):
    level = results["settings"]["level"]
    items = []
    for analysis in results["analyses"]:
        lines, notes = [], []
        if analysis["kind"] == "proportion":
            for group in analysis["groups"]:
                lines.append({"name": group["group"], "text": proportion_sentence(group, level, with_method=False),
                              "anchor": f"prov-{analysis['id']}-{_slug(group['group'])}"})
                result = group.get("result")
                if result:
                    note = f"{METHOD_NAMES.get(result['method'], result['method'])}: {result.get('reason') or ''}"
                    if note not in notes:
                        notes.append(note)
        else:
            for group in analysis["groups"]:
                lines.append({"name": group["group"], "text": mean_sentence(group.get("summary"), level),
                              "anchor": f"prov-{analysis['id']}-{_slug(group['group'])}"})
            headline = closest_reference(analysis)
            if headline:
                notes.append(headline["answer"])
                notes.extend(headline["caveats"])
            for group in analysis["groups"]:
                notes.extend(comparison_line(group["group"], c, level) for c in group.get("comparisons", []))
        items.append({"analysis": analysis, "lines": lines, "notes": notes})
    return items


def _arm_of(box_id):
    for prefix, name in (("databases_registers", "Databases and registers: "), ("other_methods", "Other methods: ")):
        if box_id.startswith(prefix):
            return name
    return ""


def _general(value):
    """36.0 -> '36', 2.5 -> '2.5', None -> ''."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:g}"


def _change_value(value):
    """A number of the change log: floats to 4 significant digits, missing ones in words."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _sentence_case(text):
    return text[:1].upper() + text[1:]


def _slug(text):
    from metacalc.review.figures import slug

    return slug(text)


def _patients_table(ds, results):
    treatments = {}
    for course in ds["treatments"]:
        treatments.setdefault(course["patient_id"], []).append(course)
    labels = {s["study_id"]: s["label"] for s in results["studies"]}
    rows = []
    for patient in ds["patients"]:
        courses = sorted(treatments.get(patient["patient_id"], []),
                         key=lambda c: (c.get("course_order") or 0, c["treatment_id"]))
        rows.append({**patient, "study_label": labels.get(patient["study_id"], patient["study_id"]),
                     "courses": courses})
    return rows


def _appraisal(ds, results):
    from metacalc.review.appraisal import TOOLS

    labels = {s["study_id"]: s["label"] for s in results["studies"]}
    items = {}
    for row in ds.get("appraisal", []):
        items.setdefault((row["study_id"], row["tool"]), []).append(row)
    overall = []
    for row in sorted(ds.get("appraisal_overall", []), key=lambda r: (r["tool"], r["study_id"])):
        tool = TOOLS.get(row["tool"])
        overall.append({**row, "study_label": labels.get(row["study_id"], row["study_id"]),
                        "tool_name": getattr(tool, "name", row["tool"]),
                        "items": sorted(items.get((row["study_id"], row["tool"]), []), key=lambda r: str(r["item"]))})
    return overall


def _checklist(results):
    try:
        from metacalc.review.checklist import checklist_rows
    except ModuleNotFoundError as error:
        if error.name != "metacalc.review.checklist":
            raise
        return None
    return checklist_rows(results["settings"])


def build_context(results, ds, figures, title=None):
    level = results["settings"]["level"]
    studies = sorted(results["studies"], key=lambda s: (s.get("year") or 0, s["study_id"]))
    excluded = results["excluded_rows"]
    return {
        "title": title or "Pooled case reports",
        "sections": SECTIONS,
        "level": level,
        "ci": level_label(level),
        "results": results,
        "summary": _summary(results),
        "figures": figures,
        "figures_in": lambda section: [f for f in figures.values() if f.get("section") == section],
        "figure_of": lambda analysis, group=None: next(
            (f for f in figures.values() if f.get("analysis") == analysis and f.get("group") == group), None),
        "studies": studies,
        "patients": _patients_table(ds, results),
        "courses": {course["treatment_id"]: course for course in ds["treatments"]},
        "appraisal": _appraisal(ds, results),
        "checklist": _checklist(results),
        "methods_used": _methods_used(results),
        "bootstrap": _bootstrap(results),
        "references": REFERENCES,
        "method_names": METHOD_NAMES,
        "excluded": excluded,
        "excluded_by_table": {t: [r for r in excluded if r["table"] == t]
                              for t in ("studies", "patients", "treatments", "aggregates")},
        "changes": results.get("changes_since_last_run") or {"previous_run": False, "changes": []},
        "duplicates": results.get("possible_duplicates", []),
        "duplicate_differences": results.get("duplicate_differences", []),
        "prisma": results.get("prisma") or {},
        "warnings": results.get("dataset_warnings", []),
        "slug": _slug,
        "arm_of": _arm_of,
        "timing_columns": TIMING_COLUMNS,
    }


def _environment():
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
    env.filters.update(pct=pct, num=num, pvalue=pvalue, slug=_slug, sentence_case=_sentence_case, g=_general, change=_change_value,
                       outcome_name=lambda outcome: OUTCOME_NAMES.get(outcome, str(outcome).replace("_", " ")))
    env.globals["proportion_sentence"] = proportion_sentence
    env.globals["mean_sentence"] = mean_sentence
    env.globals["measure_names"] = MEASURE_NAMES
    env.filters["measure_short"] = lambda measure: MEASURE_SHORT.get(measure, str(measure).replace("_", " "))
    env.globals["closest_reference"] = closest_reference
    env.globals["later_measure"] = LATER_MEASURE
    return env


def render_html(results, ds, figures, title=None, omitted=()):
    import jinja2

    env = _environment()
    with open(os.path.join(TEMPLATE_DIR, "report.css"), encoding="utf-8") as handle:
        css = handle.read()
    context = build_context(results, ds, figures, title)
    context["omitted_in"] = lambda section: [o for o in omitted if o.get("section") == section]
    context["css"] = jinja2.utils.markupsafe.Markup(css)
    for figure in figures.values():
        figure["html"] = jinja2.utils.markupsafe.Markup(figure["svg"])
    return env.get_template("report.html.j2").render(**context)


def render_report(results_path, dataset_path, figures_dir, output, title=None):
    with open(results_path, encoding="utf-8") as handle:
        results = json.load(handle)
    ds = read_tables(dataset_path)
    figures, omitted = _figures(figures_dir)
    html = render_html(results, ds, figures, title=title, omitted=omitted)
    write_atomic(output, html)
    return output
