"""Run the analysis plan on a validated dataset: pooled numbers with their provenance, and the row ledger.

Every pooled number in ``results.json`` carries the patients, courses, series figures and quotes behind it;
every row of the analysis tables (studies, patients, treatments, aggregates) is either used by a main analysis
or listed in ``excluded_rows.csv`` with the reason. Nothing here draws or renders: figures and the report read
``results.json``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
from dataclasses import dataclass

from metacalc.errors import UserError
from metacalc.files import write_atomic
from metacalc.review.plan import TIME_OUTCOMES

RESULTS_FORMAT = 1

OUTCOME_LABELS = {
    "any_response": "any response (complete or partial)",
    "complete_response": "complete response",
    "years_sle_to_onset": "years from SLE diagnosis to the first calcinosis lesion",
    "years_sle_to_calcinosis_diagnosis": "years from SLE diagnosis to the diagnosis of calcinosis",
}

# Aggregate outcomes that count as events for each response outcome.
SERIES_EVENTS = {
    "any_response": ("response_complete", "response_partial"),
    "complete_response": ("response_complete",),
}


SERIES_OUTCOME_NAMES = {
    "response_complete": "complete responses",
    "response_partial": "partial responses",
    "response_none": "no responses",
}
OUTCOME_SHORT = {"any_response": "any response", "complete_response": "complete response"}


@dataclass(frozen=True)
class RunSettings:
    """Workflow-wide defaults (from the Snakemake config); an analysis file may override the method."""

    level: float = 0.95
    method: str = "auto"
    measure: str = "PLO"
    tau2_method: str = "REML"
    knha: bool = False

    def to_dict(self):
        return {
            "level": self.level,
            "method": self.method,
            "measure": self.measure,
            "tau2_method": self.tau2_method,
            "knha": self.knha,
        }


# ---------------------------------------------------------------------------------------------------------------
# Small helpers on cells
# ---------------------------------------------------------------------------------------------------------------


def _blank(value):
    if value is None:
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _text(value):
    return "" if _blank(value) else str(value)


def _number(value):
    if _blank(value):
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() else value


def _records(frame):
    """DataFrame rows as plain dicts with JSON-safe cells (blank -> None)."""
    out = []
    columns = list(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        record = {}
        for column, value in zip(columns, row):
            if _blank(value):
                record[column] = None
            elif isinstance(value, (int, float)) or hasattr(value, "item"):
                number = _number(value)
                record[column] = number if number is not None else _text(value)
            else:
                record[column] = str(value)
        out.append(record)
    return out


def study_label(study):
    """'Pérez Pampín 2011' style label of a study record."""
    author = _text(study.get("first_author")) or _text(study.get("study_id"))
    year = _number(study.get("year"))
    return f"{author} {year}" if year is not None else author


# ---------------------------------------------------------------------------------------------------------------
# The review's tables as plain records (pandas stays at the edge)
# ---------------------------------------------------------------------------------------------------------------


class Review:
    """The dataset's tables as lists of dicts, with the lookups the analyses need.

    ``tables`` maps table name -> list of row dicts (as :func:`read_tables` gives them, cheap for large
    reviews) or -> DataFrame; ``high_risk`` lists the reports judged at high risk of bias.
    """

    def __init__(self, tables, high_risk=()):
        def rows(name):
            table = tables.get(name)
            if table is None:
                return []
            return list(table) if isinstance(table, list) else _records(table)

        self.studies = rows("studies")
        self.patients = rows("patients")
        self.treatments = rows("treatments")
        self.aggregates = rows("aggregates")
        self.quotes = rows("quotes")
        self.study = {s["study_id"]: s for s in self.studies}
        self.patient = {p["patient_id"]: p for p in self.patients}
        self.label = {sid: study_label(s) for sid, s in self.study.items()}
        self.quotes_of = {}
        for quote in self.quotes:
            self.quotes_of.setdefault((quote["table"], quote["row_id"]), []).append(quote)
        self.high_risk = sorted(high_risk)
        self.high_risk_set = frozenset(high_risk)

    def duplicate_of(self, study_id):
        return _text(self.study.get(study_id, {}).get("duplicate_of"))


def read_tables(dataset_path):
    """The dataset's tables as lists of dicts, read straight from the JSON of ``Dataset.to_json``.

    Values there are already typed and derived; plain dicts are what the analyses walk over, and building
    them from the JSON is much cheaper than from DataFrames on a large review.
    """
    with open(dataset_path, encoding="utf-8") as handle:
        document = json.load(handle)
    if document.get("format") != "metacalc-dataset":
        raise UserError([f"{dataset_path}: not a metacalc dataset (got format {document.get('format')!r})"])
    return {
        name: [dict(zip(table["columns"], row)) for row in table["rows"]]
        for name, table in document["tables"].items()
    }


def high_risk_of(ds):
    """Reports judged at high overall risk of bias by any tool (the reviewer's judgement, not a score)."""
    frame = getattr(ds, "appraisal_overall", None)
    if frame is None or not len(frame):
        return []
    from metacalc.review.appraisal import high_risk_studies

    return list(high_risk_studies(frame))


# ---------------------------------------------------------------------------------------------------------------
# Filters shared by both kinds of analysis. Each returns a reason when a row is left out, None when kept.
# ---------------------------------------------------------------------------------------------------------------


def _population_reason(settings, patient, study, source):
    for column, allowed in settings.population.items():
        if column in patient:
            value = _text(patient.get(column))
        elif column in study:
            value = _text(study.get(column))
        else:
            raise UserError([f"{source}:population.{column}: no such column in the patients or studies table"])
        if value not in allowed:
            shown = value or "blank"
            return f"outside the population ({column} = {shown}, analysis needs {' or '.join(allowed)})"
    return None


def _study_reason(review, settings, study_id):
    duplicate = review.duplicate_of(study_id)
    if duplicate and settings.duplicates == "once":
        return f"duplicate report of {duplicate} (its patient is counted once, from {duplicate})"
    if settings.exclude_high_risk and study_id in review.high_risk_set:
        return "report at high risk of bias"
    return None


# ---------------------------------------------------------------------------------------------------------------
# Response (proportions)
# ---------------------------------------------------------------------------------------------------------------


def _group_key(group_by, drug, drug_class):
    if group_by == "drug":
        return drug
    if group_by == "drug_class":
        return drug_class
    return "all therapies"


def _series_rows(review, settings, group_by):
    """Case-series figures for a response outcome: one (study, group, population) unit with events / n.

    A series that publishes partial and complete responses separately for one therapy gives one unit whose
    events add up; a series without a figure for the outcome (e.g. only partial responses, for complete
    response) is left out with that reason.
    """
    units, excluded = {}, {}
    wanted = SERIES_EVENTS[settings.outcome]
    for row in review.aggregates:
        if not _text(row.get("outcome")).startswith("response_"):
            continue
        row_id = row["aggregate_id"]
        study_id = row["study_id"]
        reason = None if settings.include_series else "case series not included in this analysis"
        if reason is None and settings.population:
            reason = "population filter applies to individual patients; series are aggregate only"
        reason = reason or _study_reason(review, settings, study_id)
        drug = _text(row.get("drug"))
        if reason is None and not drug:
            reason = "therapy not in the vocabulary"
        if reason is None and row.get("n") is None:
            reason = "no number of patients (n)"
        if reason:
            excluded[row_id] = reason
            continue
        group = _group_key(group_by, drug, _text(row.get("drug_class")))
        key = (study_id, group, drug, _text(row.get("population")), row["n"])
        unit = units.setdefault(key, {"events": 0, "has_outcome": False, "rows": [], "other_rows": [],
                                      "outcomes": set(), "accounted": 0})
        unit["outcomes"].add(row["outcome"])
        unit["accounted"] += int(row.get("events") or 0)
        if row["outcome"] in wanted:
            if row.get("events") is None:
                excluded[row_id] = "no number of events"
                continue
            unit["events"] += int(row["events"])
            unit["has_outcome"] = True
            unit["rows"].append(row_id)
        else:
            unit["other_rows"].append(row_id)
    out = []
    for (study_id, group, drug, population, n), unit in sorted(units.items(), key=lambda item: item[0][:3]):
        if not unit["has_outcome"]:
            for row_id in unit["other_rows"]:
                excluded[row_id] = f"series gives no figure for {OUTCOME_LABELS[settings.outcome]}"
            continue
        for row_id in unit["other_rows"]:
            excluded[row_id] = f"does not count towards {OUTCOME_LABELS[settings.outcome]}"
        out.append(
            {
                "study_id": study_id,
                "group": group,
                "drug": drug,
                "population": population,
                "events": unit["events"],
                "total": int(n),
                "aggregate_ids": unit["rows"],
                "lower_bound": _lower_bound_note(settings.outcome, wanted, unit, int(n)),
            }
        )
    return out, excluded


def _lower_bound_note(outcome, wanted, unit, n):
    """Why a series' events are only a lower bound of the outcome ('' when they are the full count).

    A series that reports, say, partial responses but no row for complete responses has an unknown number of
    complete responders -- unless its rows (complete, partial, none) already account for all n patients.
    """
    missing = [o for o in wanted if o not in unit["outcomes"]]
    if not missing or unit["accounted"] >= n:
        return ""
    given = [SERIES_OUTCOME_NAMES[o] for o in wanted if o in unit["outcomes"]]
    return (f"{' and '.join(given)} only; {' and '.join(SERIES_OUTCOME_NAMES[o] for o in missing)} not reported, "
            f"so {OUTCOME_SHORT[outcome]} ≥ {unit['events']}/{n}")


def _response_units(review, analysis, settings):
    """Patients x group with the response they had, and the reasons for every course left out."""
    outcome = settings.outcome
    excluded = {}
    per_patient = {}
    for course in review.treatments:
        course_id = course["treatment_id"]
        patient = review.patient.get(course["patient_id"], {})
        study_id = patient.get("study_id")
        study = review.study.get(study_id, {})
        reason = _population_reason(settings, patient, study, analysis.source)
        reason = reason or _study_reason(review, settings, study_id)
        drug = _text(course.get("drug"))
        if reason is None and not drug:
            reason = "therapy not in the vocabulary"
        if reason is None and course.get(outcome) is None:
            response = _text(course.get("response")) or "blank"
            reason = "response not reported" if response in ("not reported", "blank") else f"response {response}"
        if reason:
            excluded[course_id] = reason
            continue
        group = _group_key(analysis.group_by, drug, _text(course.get("drug_class")))
        unit = per_patient.setdefault(
            (group, course["patient_id"]),
            {"group": group, "patient_id": course["patient_id"], "study_id": study_id, "courses": []},
        )
        unit["courses"].append(course)
    units = []
    for key in sorted(per_patient):
        unit = per_patient[key]
        # One patient counts once per therapy: a responder if any course of it helped.
        unit["responded"] = max(int(c[outcome]) for c in unit["courses"])
        units.append(unit)
    return units, excluded


def _pool(events, totals, labels, method, run):
    from metacalc.meta import pool_proportions

    try:
        result = pool_proportions(
            events,
            totals,
            method=method,
            measure=run.measure,
            tau2_method=run.tau2_method,
            knha=run.knha,
            level=run.level,
            labels=labels,
        )
    except (ValueError, ArithmeticError) as error:
        return None, str(error)
    return result.to_dict(), None


def _fit_response(review, analysis, settings, run):
    units, excluded = _response_units(review, analysis, settings)
    series, series_excluded = _series_rows(review, settings, analysis.group_by)
    method = run.method if settings.method == "default" else settings.method
    groups = {}
    for unit in units:
        group = groups.setdefault(unit["group"], {"studies": {}, "series": []})
        study = group["studies"].setdefault(unit["study_id"], [])
        study.append(unit)
    for unit in series:
        groups.setdefault(unit["group"], {"studies": {}, "series": []})["series"].append(unit)

    out = []
    for name in sorted(groups):
        group = groups[name]
        contributors = []
        for study_id in sorted(group["studies"]):
            patients = group["studies"][study_id]
            contributors.append(
                {
                    "kind": "patients",
                    "study_id": study_id,
                    "label": review.label.get(study_id, study_id),
                    "events": sum(p["responded"] for p in patients),
                    "total": len(patients),
                    "patients": [
                        {
                            "patient_id": p["patient_id"],
                            "responded": p["responded"],
                            "courses": [c["treatment_id"] for c in p["courses"]],
                        }
                        for p in patients
                    ],
                }
            )
        for unit in group["series"]:
            label = review.label.get(unit["study_id"], unit["study_id"])
            if analysis.group_by != "drug":
                label = f"{label} ({unit['drug']})"
            contributors.append(
                {
                    "kind": "series",
                    "study_id": unit["study_id"],
                    "label": label,
                    "population": unit["population"],
                    "events": unit["events"],
                    "total": unit["total"],
                    "aggregate_ids": unit["aggregate_ids"],
                    "lower_bound": unit["lower_bound"],
                }
            )
        n_patients = sum(c["total"] for c in contributors if c["kind"] == "patients")
        events = [c["events"] for c in contributors]
        totals = [c["total"] for c in contributors]
        entry = {
            "group": name,
            "k": len(contributors),
            "patients": n_patients,
            "events": sum(events),
            "total": sum(totals),
            "method_requested": method,
            "result": None,
            "not_pooled": None,
            # Series whose events undercount the outcome: the estimate is then a lower bound too.
            "lower_bounds": [f"{c['label']}: {c['lower_bound']}" for c in contributors if c.get("lower_bound")],
            "contributors": contributors,
        }
        if sum(totals) < analysis.min_patients:
            entry["not_pooled"] = f"fewer than {analysis.min_patients} patients"
        else:
            entry["result"], entry["not_pooled"] = _pool(events, totals, [c["label"] for c in contributors], method, run)
        out.append(entry)
    used = {
        "treatments": sorted({c["treatment_id"] for u in units for c in u["courses"]}),
        "patients": sorted({u["patient_id"] for u in units}),
        "studies": sorted({u["study_id"] for u in units} | {s["study_id"] for s in series}),
        "aggregates": sorted({a for s in series for a in s["aggregate_ids"]}),
    }
    reasons = {"treatments": excluded, "aggregates": series_excluded}
    return out, used, reasons


# ---------------------------------------------------------------------------------------------------------------
# Time from SLE diagnosis (means)
# ---------------------------------------------------------------------------------------------------------------


def _time_series(review, settings):
    """Series figures of the same time outcome that can be pooled (mean and SD, or median with spread)."""
    from metacalc.meta.means import mean_sd_from_quantiles

    usable, excluded = [], {}
    for row in review.aggregates:
        if row.get("outcome") not in TIME_OUTCOMES:
            continue
        row_id = row["aggregate_id"]
        if row["outcome"] != settings.outcome:
            continue
        reason = None if settings.include_series else "case series not pooled in this analysis (compared only)"
        reason = reason or _study_reason(review, settings, row["study_id"])
        if reason is None and row.get("n") is None:
            reason = "no number of patients (n)"
        mean, sd, how = row.get("mean"), row.get("sd"), "published mean and SD"
        if reason is None and (mean is None or sd is None):
            if row.get("median") is not None:
                try:
                    estimate = mean_sd_from_quantiles(
                        row["n"], row["median"], min=row.get("min"), max=row.get("max"),
                        q1=row.get("q1"), q3=row.get("q3"),
                    )
                    mean, sd = estimate.mean, estimate.sd
                    how = "mean and SD estimated from the median and spread (Wan 2014, Luo 2018)"
                except (ValueError, TypeError) as error:
                    reason = f"mean and SD cannot be estimated ({error})"
            else:
                reason = "no SD, median or quartiles published: the mean can be compared with but not pooled"
        if reason:
            excluded[row_id] = reason
            continue
        usable.append({"aggregate_id": row_id, "study_id": row["study_id"], "n": int(row["n"]), "mean": float(mean),
                       "sd": float(sd), "how": how, "label": review.label.get(row["study_id"], row["study_id"])})
    return usable, excluded


def _references(review, analysis):
    """Published means to compare with, each with the patients' group it describes (by its population)."""
    out = []
    for row in review.aggregates:
        if row.get("outcome") in analysis.compare_with and row.get("mean") is not None:
            population = _text(row.get("population"))
            value = analysis.reference_populations.get(population)
            out.append(
                {
                    "aggregate_id": row["aggregate_id"],
                    "study_id": row["study_id"],
                    "label": review.label.get(row["study_id"], row["study_id"]),
                    "population": population,
                    "outcome": row["outcome"],
                    "n": row.get("n"),
                    "mean": float(row["mean"]),
                    "group": "all patients" if value is None else _subgroup_name(analysis.subgroup_by, value),
                }
            )
    return sorted(out, key=lambda r: (r["mean"], r["aggregate_id"]))


def _subgroup_name(column, value):
    return f"{column.replace('_', ' ')}: {value or 'not stated'}"


# Diagnosis of calcinosis follows the first lesion, so a time to diagnosis bounds the time to onset from above.
LATER_MEASURE = {"years_sle_to_calcinosis_diagnosis": "years_sle_to_onset"}

# The measures of time in a few words, for labels.
MEASURE_SHORT = {"years_sle_to_onset": "to onset", "years_sle_to_calcinosis_diagnosis": "to calcinosis diagnosis"}


def measure_caveat(reference_measure, patients_measure):
    """Why a published figure and the patients' values are not the same measure ('' when they are)."""
    if reference_measure == patients_measure:
        return ""
    if LATER_MEASURE.get(reference_measure) == patients_measure:
        return ("different measures: the published figure is a time to diagnosis of calcinosis, the patients' values "
                "are times to the first lesion; diagnosis follows onset, so the published figure is an upper bound "
                "of the time to onset in its series")
    if LATER_MEASURE.get(patients_measure) == reference_measure:
        return ("different measures: the published figure is a time to the first lesion, the patients' values are "
                "times to diagnosis of calcinosis; diagnosis follows onset, so the patients' values are upper bounds "
                "of their times to onset")
    return f"different measures ({reference_measure} vs {patients_measure})"


def _comparison(reference, patients, measure, level):
    """One published figure against the patients of its group on one measure; no test on fewer than 2 patients."""
    from metacalc.meta.means import compare_with_published

    values = [float(p[measure]) for p in patients]
    caveat = measure_caveat(reference["outcome"], measure)
    row = {
        "reference": reference,
        "group": reference["group"],
        "measure": measure,
        "reference_measure": reference["outcome"],
        "same_measure": not caveat,
        "caveat": caveat,
        "patient_ids": [p["patient_id"] for p in patients],
        "n": len(values),
        "mean": None, "median": None, "difference": None, "ci_lower": None, "ci_upper": None, "pvalue": None,
        "wilcoxon_pvalue": None, "sign_pvalue": None, "tested": False,
    }
    what = OUTCOME_LABELS[measure]
    if not values:
        row["interpretation"] = (f"No patient of {reference['group']} has a value of {what}: nothing to compare with "
                                 f"the published {reference['mean']:g} years.")
        return row
    if len(values) < 2:
        value = values[0]
        row.update(mean=value, median=value, difference=value - reference["mean"])
        row["interpretation"] = (f"One patient ({value:g} years, {what}) against the published {reference['mean']:g} "
                                 "years: too few patients for a test.")
    else:
        result = compare_with_published(values, reference["mean"], level=level).to_dict()
        row.update({key: result[key] for key in ("mean", "median", "difference", "ci_lower", "ci_upper", "pvalue",
                                                 "wilcoxon_pvalue", "sign_pvalue", "t_statistic", "df",
                                                 "sign_above", "sign_below")})
        row["tested"] = True
        row["interpretation"] = result["interpretation"]
    if caveat:
        row["interpretation"] = f"{_sentence_start(caveat)}. {row['interpretation']}"
    return row


def _sentence_start(text):
    return text[:1].upper() + text[1:]


def _fit_time(review, analysis, settings, run):
    from metacalc.meta.means import pool_means, study_from_patients, summarise_values

    outcome = settings.outcome
    excluded, kept, eligible = {}, [], []
    for patient in review.patients:
        study_id = patient["study_id"]
        study = review.study.get(study_id, {})
        reason = _population_reason(settings, patient, study, analysis.source)
        reason = reason or _study_reason(review, settings, study_id)
        if reason is None:
            eligible.append(patient)
        if reason is None and patient.get(outcome) is None:
            reason = f"{OUTCOME_LABELS[outcome]} not derivable from the report"
        if reason:
            excluded[patient["patient_id"]] = reason
        else:
            kept.append(patient)
    references = _references(review, analysis)
    series, series_excluded = _time_series(review, settings)

    def members(group_name, patients):
        if group_name == "all patients":
            return list(patients)
        return [p for p in patients
                if _subgroup_name(analysis.subgroup_by, _text(p.get(analysis.subgroup_by))) == group_name]

    subsets = [("all patients", kept)]
    if analysis.subgroup_by:
        values = sorted({_text(p.get(analysis.subgroup_by)) for p in kept})
        for value in values:
            name = _subgroup_name(analysis.subgroup_by, value)
            subsets.append((name, members(name, kept)))
    # A published figure about a subgroup that has no patient yet still gets its (empty) row.
    named = {name for name, _ in subsets}
    for reference in references:
        if reference["group"] not in named:
            subsets.append((reference["group"], []))
            named.add(reference["group"])

    comparisons = {}
    compared_patients = set()
    for reference in references:
        # Each published figure against the patients it describes: on the analysis' measure, and also on its
        # own measure when the two differ and some patients' reports give that measure too.
        rows = comparisons.setdefault(reference["group"], [])
        rows.append(_comparison(reference, members(reference["group"], kept), outcome, run.level))
        if reference["outcome"] != outcome:
            same = [p for p in members(reference["group"], eligible) if p.get(reference["outcome"]) is not None]
            if same:
                rows.append(_comparison(reference, same, reference["outcome"], run.level))
                compared_patients.update(p["patient_id"] for p in same)

    groups = []
    for name, patients in subsets:
        values = [float(p[outcome]) for p in patients]
        entry = {
            "group": name,
            "patients": len(values),
            "summary": None,
            "comparisons": comparisons.get(name, []),
            "pooled": None,
            "not_pooled": None,
            "contributors": [
                {
                    "patient_id": p["patient_id"],
                    "study_id": p["study_id"],
                    "label": review.label.get(p["study_id"], p["study_id"]),
                    "value": float(p[outcome]),
                    "derivation": _text(p.get(f"{outcome}_derivation")),
                    "lupus_panniculitis": _text(p.get("lupus_panniculitis")),
                }
                for p in patients
            ],
        }
        if values:
            entry["summary"] = summarise_values(values, level=run.level).to_dict()
        if name == "all patients":
            if not series:
                entry["not_pooled"] = (
                    "no case series of this outcome with an SD (or median and spread) to pool with"
                    if settings.include_series
                    else "series are compared with, not pooled, in this analysis"
                )
            elif len(values) < 2:
                entry["not_pooled"] = "pooling with series needs at least 2 patients (an SD) from the case reports"
            else:
                combined = study_from_patients(values)
                means = [combined.mean] + [s["mean"] for s in series]
                sds = [combined.sd] + [s["sd"] for s in series]
                ns = [combined.n] + [s["n"] for s in series]
                labels = [f"case reports ({combined.n} patients)"] + [s["label"] for s in series]
                try:
                    entry["pooled"] = pool_means(
                        means, sds, ns, tau2_method=run.tau2_method, knha=run.knha, level=run.level, labels=labels
                    ).to_dict()
                    entry["pooled_series"] = series
                except (ValueError, ArithmeticError) as error:
                    entry["not_pooled"] = str(error)
        groups.append(entry)
    used = {
        "patients": sorted({p["patient_id"] for p in kept} | compared_patients),
        "studies": sorted({p["study_id"] for p in kept} | {s["study_id"] for s in series}
                          | {r["study_id"] for r in references}),
        "aggregates": sorted({s["aggregate_id"] for s in series} | {r["aggregate_id"] for r in references}),
    }
    return groups, used, {"patients": excluded, "aggregates": series_excluded}, references


# ---------------------------------------------------------------------------------------------------------------
# The whole plan
# ---------------------------------------------------------------------------------------------------------------


MAX_CUMULATIVE_REPORTS = 60


def cumulative_by_year(review, group, run):
    """Cumulative meta-analysis of one therapy: the pooled estimate as reports are added by publication year.

    Same pooling method as the group's own estimate (metafor's ``cumul``, via
    :func:`metacalc.meta.sensitivity.cumulative_by`); reports without a year come last, in report order. None
    for fewer than 2 reports or when the group itself is not pooled.
    """
    import numpy as np

    from metacalc.meta import pool_proportions
    from metacalc.meta.sensitivity import cumulative_by

    contributors = group["contributors"]
    if len(contributors) < 2 or group.get("result") is None:
        return None
    if len(contributors) > MAX_CUMULATIVE_REPORTS:
        # k refits of up to k reports each (a GLMM when a series contributes): minutes on a large review, and a
        # table of hundreds of steps that nobody reads. The forest plots stop at the same size.
        return {"order": "year of publication", "steps": [], "without_year": [],
                "not_computed": f"{len(contributors)} reports (more than {MAX_CUMULATIVE_REPORTS}); one step per "
                                "report would be unreadable and needs as many refits"}
    events = np.array([c["events"] for c in contributors])
    totals = np.array([c["total"] for c in contributors])
    years = [_number(review.study.get(c["study_id"], {}).get("year")) for c in contributors]
    method = group["method_requested"]

    def fit(indices):
        return pool_proportions(events[indices], totals[indices], method=method, measure=run.measure,
                                tau2_method=run.tau2_method, knha=run.knha, level=run.level)

    try:
        table = cumulative_by(fit, len(contributors), order=[math.inf if y is None else y for y in years],
                              labels=[c["label"] for c in contributors])
    except (ValueError, ArithmeticError) as error:
        return {"order": "year of publication", "steps": [], "not_computed": str(error), "without_year": []}
    steps = []
    for i, (row, indices) in enumerate(zip(table.to_dict()["steps"], table.indices)):
        added = indices[-1]
        steps.append({
            "added": row["added"],
            "study_id": contributors[added]["study_id"],
            "year": years[added],
            "k": row["k"],
            "events": int(events[list(indices)].sum()),
            "total": int(totals[list(indices)].sum()),
            "method": table.fits[i].method,
            "estimate": row["estimate"],
            "ci_lower": row["ci_lower"],
            "ci_upper": row["ci_upper"],
        })
    return {"order": "year of publication", "steps": steps, "not_computed": None,
            "without_year": [c["label"] for c, y in zip(contributors, years) if y is None]}


def _fit(review, analysis, settings, run):
    if settings.kind == "proportion":
        groups, used, reasons = _fit_response(review, analysis, settings, run)
        return {"groups": groups}, used, reasons
    groups, used, reasons, references = _fit_time(review, analysis, settings, run)
    return {"groups": groups, "references": references}, used, reasons


def _variant_rows(main_groups, variant_groups, kind):
    """Main estimate beside the variant's, per group (groups present in either)."""
    main = {g["group"]: g for g in main_groups}
    other = {g["group"]: g for g in variant_groups}
    rows = []
    for name in sorted(set(main) | set(other)):
        rows.append({"group": name, "main": _headline(main.get(name), kind), "variant": _headline(other.get(name), kind),
                     "notes": list((other.get(name) or {}).get("lower_bounds", []))})
    return rows


def _headline(group, kind):
    """The few numbers of a group that tables, the summary and the change log show."""
    if group is None:
        return None
    if kind == "proportion":
        result = group.get("result") or {}
        return {
            "k": group["k"],
            "events": group["events"],
            "total": group["total"],
            "method": result.get("method"),
            "estimate": result.get("estimate"),
            "ci_lower": result.get("ci_lower"),
            "ci_upper": result.get("ci_upper"),
        }
    summary = group.get("summary") or {}
    mean_ci = summary.get("mean_ci") or [None, None]
    return {
        "n": group["patients"],
        "mean": summary.get("mean"),
        "ci_lower": mean_ci[0],
        "ci_upper": mean_ci[1],
        "median": summary.get("median"),
    }


def possible_duplicates(review):
    """Patients in different reports with the same age, sex and drugs, not yet marked duplicate_of.

    Flagged for the reviewer to decide; never removed automatically.
    """
    drugs = {}
    for course in review.treatments:
        if _text(course.get("drug")):
            drugs.setdefault(course["patient_id"], set()).add(course["drug"])
    keys = {}
    for patient in review.patients:
        age = _number(patient.get("age_at_presentation"))
        sex = _text(patient.get("sex"))
        if age is None or not sex:
            continue
        key = (age, sex, tuple(sorted(drugs.get(patient["patient_id"], ()))))
        keys.setdefault(key, []).append(patient)
    flags = []
    for (age, sex, drug_list), patients in sorted(keys.items(), key=lambda item: str(item[0])):
        studies = sorted({p["study_id"] for p in patients})
        if len(studies) < 2:
            continue
        roots = {review.duplicate_of(s) or s for s in studies}
        if len(roots) == 1:
            continue  # already decided by the reviewer
        flags.append(
            {
                "patients": sorted(p["patient_id"] for p in patients),
                "studies": studies,
                "age": age,
                "sex": sex,
                "drugs": list(drug_list),
                "reason": f"same age ({age:g}), sex ({sex}) and drugs ({', '.join(drug_list) or 'none'}) in "
                f"{len(studies)} reports not marked duplicate_of",
            }
        )
    return flags


# Free text and the code's own derivation sentences differ between any two reports; they are not facts to compare.
_NOT_COMPARED = ("patient_id", "study_id", "notes")


def _shown(value):
    number = _number(value) if isinstance(value, (int, float)) else None
    return f"{number:g}" if number is not None else _text(value)


def _course_texts(courses):
    return sorted(f"{_text(c.get('drug')) or _text(c.get('therapy'))}: {_text(c.get('response')) or 'blank'}"
                  for c in courses)


def _courses_difference(first, second):
    """How two lists of 'drug: response' differ, in words."""
    only_first = [c for c in first if c not in second]
    only_second = [c for c in second if c not in first]
    parts = []
    if only_first:
        parts.append(f"only in the primary report: {'; '.join(only_first)}")
    if only_second:
        parts.append(f"only in the duplicate report: {'; '.join(only_second)}")
    return "; ".join(parts) or "the reports disagree"


def duplicate_differences(review):
    """For each report marked duplicate_of another: the patient facts on which the two reports differ.

    Counting the patient once (from the primary report) silently drops what only the duplicate report states, or
    where the two disagree; this lists them so the reader sees what was set aside. Patients are paired in
    patient_id order when both reports describe the same number of patients; otherwise the pair is listed as
    not paired.
    """
    by_study, courses = {}, {}
    for course in review.treatments:
        courses.setdefault(course["patient_id"], []).append(course)
    for patient in review.patients:
        by_study.setdefault(patient["study_id"], []).append(patient)
    columns = []
    for patient in review.patients:
        for column in patient:
            if column not in columns and column not in _NOT_COMPARED and not column.endswith("_derivation"):
                columns.append(column)
    out = []
    for study in sorted(review.studies, key=lambda s: s["study_id"]):
        primary = review.duplicate_of(study["study_id"])
        if not primary:
            continue
        duplicates = sorted(by_study.get(study["study_id"], []), key=lambda p: p["patient_id"])
        originals = sorted(by_study.get(primary, []), key=lambda p: p["patient_id"])
        pair = {"primary_study": primary, "duplicate_study": study["study_id"],
                "primary_label": review.label.get(primary, primary),
                "duplicate_label": review.label.get(study["study_id"], study["study_id"]), "patients": [],
                "not_paired": None}
        if len(duplicates) != len(originals):
            pair["not_paired"] = (f"{len(originals)} patient(s) in {primary} and {len(duplicates)} in "
                                  f"{study['study_id']}: patients cannot be paired automatically")
        else:
            for original, duplicate in zip(originals, duplicates):
                differences = []
                for column in columns:
                    first, second = _shown(original.get(column)), _shown(duplicate.get(column))
                    if first == second:
                        continue
                    kind = ("only in the duplicate report" if not first else
                            "only in the primary report" if not second else "the reports disagree")
                    differences.append({"field": column, "primary": first, "duplicate": second, "kind": kind})
                first = _course_texts(courses.get(original["patient_id"], []))
                second = _course_texts(courses.get(duplicate["patient_id"], []))
                if first != second:
                    differences.append({"field": "therapy courses (drug: response)", "primary": "; ".join(first),
                                        "duplicate": "; ".join(second), "kind": _courses_difference(first, second)})
                pair["patients"].append({"primary_patient": original["patient_id"],
                                         "duplicate_patient": duplicate["patient_id"], "differences": differences})
        out.append(pair)
    return out


def _ledger(review, plan_results):
    """Every row of the analysis tables: used by a main analysis, or why not (one line per row)."""
    used = {"studies": set(), "patients": set(), "treatments": set(), "aggregates": set()}
    reasons = {table: {} for table in used}
    for entry in plan_results:
        for table, ids in entry["_used"].items():
            used[table].update(ids)
        for table, by_row in entry["_reasons"].items():
            for row_id, reason in by_row.items():
                reasons[table].setdefault(row_id, []).append(f"{entry['id']}: {reason}")
    # A patient used in a response analysis is used; a patient of a used course is used.
    used["patients"].update(
        c["patient_id"] for c in review.treatments if c["treatment_id"] in used["treatments"]
    )
    used["studies"].update(review.patient[p]["study_id"] for p in used["patients"] if p in review.patient)
    rows = []
    tables = (
        ("studies", "study_id", review.studies, lambda r: r["study_id"]),
        ("patients", "patient_id", review.patients, lambda r: r["study_id"]),
        ("treatments", "treatment_id", review.treatments,
         lambda r: review.patient.get(r["patient_id"], {}).get("study_id")),
        ("aggregates", "aggregate_id", review.aggregates, lambda r: r["study_id"]),
    )
    for table, id_column, records, study_of in tables:
        for record in records:
            row_id = record[id_column]
            if row_id in used[table]:
                continue
            why = sorted(set(reasons[table].get(row_id, [])))
            if not why:
                if table == "studies":
                    dup = review.duplicate_of(row_id)
                    why = [f"duplicate report of {dup}" if dup else "no patient or figure of this report is analysed"]
                elif table == "patients":
                    why = ["no therapy course or time value of this patient is used by any analysis"]
                elif table == "aggregates":
                    why = [f"outcome {record.get('outcome')} is not analysed by any analysis in the plan"]
                else:
                    why = ["therapy not in any analysis"]
            rows.append({"table": table, "row_id": row_id, "study_id": _text(study_of(record)), "reason": "; ".join(why)})
    counts = {table: {"rows": len(records), "used": len(used[table] & {r[id_column] for r in records})}
              for table, id_column, records, _ in tables}
    return rows, counts


def _provenance_quotes(review, plan_results):
    """Quotes of every row a main analysis used, and of the series figures sensitivity variants add, keyed
    'table/row_id' (stored once, referenced by id)."""
    wanted = set()
    for entry in plan_results:
        for table, ids in entry["_used"].items():
            wanted.update((table, row_id) for row_id in ids)
        for variant in entry["sensitivity"]:
            for group in variant["groups"]:
                for contributor in group.get("contributors", []):
                    wanted.update(("aggregates", a) for a in contributor.get("aggregate_ids", []))
    out = {}
    for table, row_id in sorted(wanted):
        quotes = review.quotes_of.get((table, row_id))
        if quotes:
            # One sentence often supports several values (therapy, dose, duration): show it once with its columns.
            merged = {}
            for q in quotes:
                entry = merged.setdefault((q["quote"], q.get("location")), {"columns": [], "quote": q["quote"],
                                                                           "location": q.get("location")})
                if q["column"] not in entry["columns"]:
                    entry["columns"].append(q["column"])
            out[f"{table}/{row_id}"] = list(merged.values())
    return out


def flatten_numbers(results):
    """Every headline number as 'analysis / variant / group / field' -> value, for the change log."""
    flat = {}
    for analysis in results.get("analyses", []):
        kind = analysis["kind"]
        for group in analysis["groups"]:
            for key, value in (_headline(group, kind) or {}).items():
                flat[f"{analysis['id']} / main / {group['group']} / {key}"] = value
        for variant in analysis.get("sensitivity", []):
            for row in variant["rows"]:
                for key, value in (row["variant"] or {}).items():
                    flat[f"{analysis['id']} / {variant['id']} / {row['group']} / {key}"] = value
    return flat


def changes_since(previous, current):
    """Numbers that changed, appeared or disappeared between two results documents."""
    if previous is None:
        return {"previous_run": False, "changes": []}
    before, after = flatten_numbers(previous), flatten_numbers(current)
    changes = []
    # the main analyses first, then the sensitivity variants
    for key in sorted(set(before) | set(after), key=lambda k: (k.split(" / ")[1] != "main", k)):
        old, new = before.get(key, "absent"), after.get(key, "absent")
        if old != new:
            changes.append({"number": key, "before": old, "after": new})
    return {"previous_run": True, "changes": changes}


def software_versions():
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in ("metacalc", "numpy", "scipy", "pandas", "matplotlib", "jinja2", "snakemake"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _prisma(review_ds):
    """PRISMA counts, records behind each box and the reconciliation problems (issue 4's module)."""
    from metacalc.review import prisma

    records = review_ds.records
    problems = prisma.reconcile(
        records, review_ds.studies, review_ds.patients, review_ds.treatments, review_ds.aggregates
    )
    if problems:
        raise UserError(["records log does not reconcile with the extraction sheets: " + p for p in problems])
    counts = prisma.flow_counts(records, review_ds.studies)
    behind = prisma.records_behind_boxes(counts, records)
    # A list, not a mapping: the boxes keep the diagram's order through JSON written with sorted keys.
    boxes = [{"box_id": box_id, **box} for box_id, box in _jsonable(counts).items()]
    return {"boxes": boxes, "records_behind_boxes": _jsonable(behind)}


def _jsonable(value):
    """Dataclasses / numpy scalars / tuples -> plain JSON values."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return _jsonable(value.to_dict())
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _without_detail(group):
    """A sensitivity variant's group without per-patient and per-study rows (the main analysis has them)."""
    out = {key: value for key, value in group.items() if key not in ("contributors", "pooled_series", "cumulative")}
    # Series figures stay: the report's provenance lists them (with their quotes) for the variants that add them.
    series = [c for c in group.get("contributors", []) if c.get("kind") == "series"]
    if series:
        out["contributors"] = series
    for key in ("result", "pooled"):
        if out.get(key):
            out[key] = {k: v for k, v in out[key].items() if k != "studies"}
    return out


# Set in the parent before forking workers, so that they inherit the review instead of unpickling it.
_SHARED = {}


def _fit_task(task):
    """One fit: the main analysis (with the rows it used) or one sensitivity variant (numbers only)."""
    review, analyses, run = _SHARED["review"], _SHARED["analyses"], _SHARED["run"]
    index, variant = task
    analysis = analyses[index]
    if variant is None:
        fitted, used, reasons = _fit(review, analysis, analysis.main, run)
        if analysis.kind == "proportion":
            for group in fitted["groups"]:
                group["cumulative"] = cumulative_by_year(review, group, run)
        return fitted, used, reasons
    fitted, _, _ = _fit(review, analysis, analysis.variants[variant].settings, run)
    return {**fitted, "groups": [_without_detail(g) for g in fitted["groups"]]}


def _fit_all(review, analyses, run, jobs):
    """Every fit of the plan, in parallel worker processes when ``jobs`` > 1 (results do not depend on it)."""
    tasks = [(i, None) for i in range(len(analyses))]
    tasks += [(i, j) for i, analysis in enumerate(analyses) for j in range(len(analysis.variants))]
    _SHARED.update(review=review, analyses=analyses, run=run)
    try:
        if jobs <= 1 or len(tasks) < 2:
            return dict(zip(tasks, map(_fit_task, tasks)))
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=multiprocessing.get_context("fork")) as pool:
            return dict(zip(tasks, pool.map(_fit_task, tasks)))
    finally:
        _SHARED.clear()


def run_plan(ds, analyses, run=RunSettings(), tables=None, jobs=1):
    """Fit every analysis of the plan (and its sensitivity variants) on a dataset; returns the results dict.

    ``tables`` (from :func:`read_tables`) spares converting the dataset's DataFrames to row dicts; ``jobs`` > 1
    fits in that many worker processes.
    """
    if tables is None:
        tables = {name: getattr(ds, name) for name in ("studies", "patients", "treatments", "aggregates", "quotes")
                  if getattr(ds, name, None) is not None}
    review = Review(tables, high_risk_of(ds))
    fits = _fit_all(review, analyses, run, jobs)
    plan_results = []
    for index, analysis in enumerate(analyses):
        main, used, reasons = fits[(index, None)]
        entry = {
            "id": analysis.id,
            "title": analysis.title,
            "description": analysis.description,
            "source": os.path.basename(analysis.source),  # the file name: outputs must not depend on the cwd
            "kind": analysis.kind,
            "outcome": analysis.main.outcome,
            "outcome_label": OUTCOME_LABELS[analysis.main.outcome],
            "group_by": analysis.group_by,
            "subgroup_by": analysis.subgroup_by,
            "settings": analysis.main.to_dict(),
            **main,
            "sensitivity": [],
            "_used": used,
            "_reasons": reasons,
        }
        for number, variant in enumerate(analysis.variants):
            fitted = fits[(index, number)]
            entry["sensitivity"].append(
                {
                    "id": variant.id,
                    "label": variant.label,
                    "settings": variant.settings.to_dict(),
                    "rows": _variant_rows(main["groups"], fitted["groups"], analysis.kind),
                    "groups": fitted["groups"],
                }
            )
        plan_results.append(entry)
    excluded, counts = _ledger(review, plan_results)
    quotes = _provenance_quotes(review, plan_results)
    for entry in plan_results:
        entry["used"] = entry.pop("_used")
        entry.pop("_reasons")
    return {
        "format": RESULTS_FORMAT,
        "settings": run.to_dict(),
        "software": software_versions(),
        "high_risk_studies": review.high_risk,
        "studies": [{**s, "label": review.label[s["study_id"]]} for s in review.studies],
        "analyses": plan_results,
        "quotes": quotes,
        "excluded_rows": excluded,
        "row_counts": counts,
        "possible_duplicates": possible_duplicates(review),
        "duplicate_differences": duplicate_differences(review),
    }


# ---------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------


def dumps(document):
    # Compact separators keep json's C encoder (indent would fall back to the pure-Python one: slow on a large
    # review); sorted keys keep the bytes stable. The CSV tables are the human-readable form.
    return json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (list, tuple)):
        return ";".join(_cell(v) for v in value)
    return str(value)


def csv_text(rows, columns):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


PROPORTION_COLUMNS = (
    "analysis", "variant", "group", "k", "patients", "events", "total", "method", "measure", "tau2_method",
    "estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "i2", "q", "q_pvalue", "reason", "not_pooled",
)
TIME_COLUMNS = (
    "analysis", "variant", "group", "n", "mean", "sd", "mean_ci_lower", "mean_ci_upper", "median", "q1", "q3",
    "min", "max", "median_ci_lower", "median_ci_upper", "pooled_estimate", "pooled_ci_lower", "pooled_ci_upper",
)
CUMULATIVE_COLUMNS = (
    "analysis", "group", "step", "added", "study_id", "year", "k", "events", "total", "method", "estimate",
    "ci_lower", "ci_upper",
)
COMPARISON_COLUMNS = (
    "analysis", "group", "reference", "reference_population", "reference_measure", "reference_mean", "measure", "n",
    "mean", "difference", "ci_lower", "ci_upper", "pvalue", "wilcoxon_pvalue", "sign_pvalue", "note",
)


def _table_rows(analysis):
    variants = [("main", analysis["groups"])] + [(v["id"], v["groups"]) for v in analysis["sensitivity"]]
    rows = []
    for variant, groups in variants:
        for group in groups:
            row = {"analysis": analysis["id"], "variant": variant, "group": group["group"]}
            if analysis["kind"] == "proportion":
                result = group.get("result") or {}
                row.update({key: result.get(key) for key in PROPORTION_COLUMNS if key in result})
                row.update({"k": group["k"], "patients": group["patients"], "events": group["events"],
                            "total": group["total"], "not_pooled": group.get("not_pooled")})
            else:
                summary = group.get("summary") or {}
                pooled = group.get("pooled") or {}
                row.update({key: summary.get(key) for key in ("n", "mean", "sd", "median", "q1", "q3", "min", "max")})
                row["mean_ci_lower"], row["mean_ci_upper"] = summary.get("mean_ci") or (None, None)
                row["median_ci_lower"], row["median_ci_upper"] = summary.get("median_ci") or (None, None)
                row["pooled_estimate"] = pooled.get("estimate")
                row["pooled_ci_lower"], row["pooled_ci_upper"] = pooled.get("ci_lower"), pooled.get("ci_upper")
            rows.append(row)
    return rows


def _comparison_rows(analysis):
    rows = []
    for group in analysis["groups"]:
        for comparison in group.get("comparisons", []):
            reference = comparison["reference"]
            rows.append({
                "analysis": analysis["id"], "group": group["group"],
                "reference": f"{reference['label']} ({reference['aggregate_id']})",
                "reference_population": reference["population"], "reference_mean": reference["mean"],
                **{key: comparison.get(key) for key in ("reference_measure", "measure", "n", "mean", "difference",
                                                        "ci_lower", "ci_upper", "pvalue", "wilcoxon_pvalue",
                                                        "sign_pvalue")},
                "note": "; ".join(filter(None, [comparison.get("caveat"), None if comparison.get("tested") or
                                                not comparison.get("n") else "too few patients for a test"])),
            })
    return rows


def write_results(results, outdir, history=None):
    """Write results.json, one CSV per analysis, the comparisons and excluded_rows.csv (atomically).

    ``history`` is the copy of the last run's results (outside Snakemake's outputs, which it deletes before a
    job): the change log compares with it, ``previous_results.json`` keeps it, and it is then replaced.
    """
    previous = None
    if history and os.path.exists(history):
        with open(history, encoding="utf-8") as handle:
            previous = json.load(handle)
        previous.pop("changes_since_last_run", None)
    comparable = {key: value for key, value in results.items() if key != "changes_since_last_run"}
    results["changes_since_last_run"] = changes_since(previous, comparable)
    written = []
    for analysis in results["analyses"]:
        columns = PROPORTION_COLUMNS if analysis["kind"] == "proportion" else TIME_COLUMNS
        path = os.path.join(outdir, f"{analysis['id']}.csv")
        write_atomic(path, csv_text(_table_rows(analysis), columns))
        written.append(path)
        if analysis["kind"] == "proportion":
            rows = [{"analysis": analysis["id"], "group": group["group"], "step": number, **step}
                    for group in analysis["groups"] if group.get("cumulative")
                    for number, step in enumerate(group["cumulative"]["steps"], start=1)]
            path = os.path.join(outdir, f"{analysis['id']}_cumulative.csv")
            write_atomic(path, csv_text(rows, CUMULATIVE_COLUMNS))
            written.append(path)
        if analysis["kind"] == "time":
            path = os.path.join(outdir, f"{analysis['id']}_comparisons.csv")
            write_atomic(path, csv_text(_comparison_rows(analysis), COMPARISON_COLUMNS))
            written.append(path)
    path = os.path.join(outdir, "excluded_rows.csv")
    write_atomic(path, csv_text(results["excluded_rows"], ("table", "row_id", "study_id", "reason")))
    written.append(path)
    if previous is not None:
        write_atomic(os.path.join(outdir, "previous_results.json"), dumps(previous))
    path = os.path.join(outdir, "results.json")
    write_atomic(path, dumps(results))
    written.append(path)
    if history:
        write_atomic(history, dumps(comparable))
    return written


def analyse(dataset_path, plan_dir, outdir, run=RunSettings(), history=None, jobs=1):
    """The ``metacalc analyse`` step: dataset JSON + plan -> reports/tables/. Nothing is written on a UserError."""
    from metacalc.data import Dataset
    from metacalc.review.plan import load_plan

    analyses = load_plan(plan_dir)
    ds = Dataset.from_json(dataset_path)
    prisma = _prisma(ds)  # before any fitting: an inconsistent log stops the run with nothing written
    results = run_plan(ds, analyses, run, tables=read_tables(dataset_path), jobs=jobs)
    results["prisma"] = prisma
    results["dataset_warnings"] = list(getattr(ds, "warnings", []) or [])
    return write_results(results, outdir, history=history)
