"""Possible duplicate patients: every pair of patients from different reports, scored on the evidence a
reviewer weighs (the checks on the reviewer's decisions are in ``metacalc.data.duplicate_checks``).

Pure functions on the dataset's tables as plain rows (lists of dicts; blank = None or NaN); nothing is read
or written here. Pairs that cannot reach the threshold are skipped by an exact bound computed with numpy
(``DuplicateScorer._above_bound``: never below a pair's score, so it keeps every pair brute force finds), so
that only the pairs above the threshold are scored with their evidence (benchmarks/duplicates.py).

**The score** is a sum of weights, each the log10 of a likelihood ratio, P(evidence | one patient reported
twice) / P(evidence | two different patients), so that components add and a weight reads as "this much
more likely if the same patient" (+1 = 10 to 1, -1 = 1 to 10). The probabilities under "two different
patients" come from the review's own patients, leaving the pair out, with add-one (Laplace) smoothing: a
value the pair shares and few others have (a rare drug, a rare dose) weighs more than a common one. The
probabilities under "one patient" are the elicited error and omission rates below; every report of one
patient is allowed to disagree for reasons that are not the patient (another anchor for a time, a misprint,
an omitted drug), which keeps every negative weight bounded.

| component | same patient, reports agree | weight when they disagree |
|---|---|---|
| sex | log10(1 / p(value)) | log10(1e-6 / (1 - p)), about -6: near-decisive, only an extraction error explains it |
| country (studies) | log10(0.95 / p(value)) | log10(0.05 / (1 - p)) (a referral centre abroad) |
| age | a second report may give the age at the same presentation or up to the years between the reports later (presentation_year, else studies.year), so differences from 0 to that gap fit, each blurred by P(error) 0.55 / 0.35 / 0.07 / 0.03 for 0 / 1 / 2 / 3 years; with the gap unknown, 0.40 / 0.30 / 0.15 / 0.08 / 0.04 / 0.03 for 0 to 5 years; 5% of reports inconsistent | against the spread of the review's ages (SD, at least 10 years): bounded by log10(0.05) = -1.3 |
| years from diagnosis to onset | 0.50 / 0.30 / 0.12 / 0.08 for 0 to 3 years, 30% inconsistent (reports count from different anchors) | against the review's spread (at least 5 years): bounded by log10(0.3) = -0.5 |
| each drug | both reports name it: log10(1 / p(drug)) | one only: log10(0.3 / (1 - 0.7 p)), a report names 70% of a patient's therapies |
| dose of a shared drug | log10(0.85 / p(dose)) | log10(0.15 / (1 - p)) |
| response to a shared drug | log10(0.85 / p(response)) | log10(0.15 / (1 - p)) |
| shared author (studies.first_author and the linked records' citations) | log10(0.6 / p(author)): 60% of duplicate publications share an author | none shared: log10(0.4 / 0.9) |
| distinctive wording: passages of 5 or more words (numbers masked) in the quotes of both patients and of no other patient; the study's affiliation quote (studies.country) counts, so a shared institution shows here | 1 passage: log10(0.3 / 0.08), 2: log10(0.15 / 0.015), 3 or more: log10(0.15 / 0.005) | none: log10(0.4 / 0.9) |

Blank on either side contributes nothing. The components are not independent (a copied sentence often
holds the dose), so the weights are deliberately modest.

**The threshold** is ``THRESHOLD`` = 2 (evidence of 100 to 1 for "same patient") in a review of up to
``CALIBRATED_REPORTS`` = 200 reports with patients, and ``2 + log10(reports / 200)`` beyond
(``screening_threshold``): 3 at 2,000 reports, 4 at 20,000. Why it rises: the duplicates grow with the reports,
the pairs screened with their square, so the prior odds that a given pair is one patient fall as 1 / reports;
with a fixed threshold the pairs flagged by chance grow with the square of the review (synthetic reviews of all
different people: 35, 5,943 and 54,653 pairs at 1,000, 10,000 and 30,000 patients, benchmarks/bench_results.md),
while each flagged pair is ever less likely one patient. Raising the threshold by log10 of the growth keeps a
flagged pair's posterior odds what they are at 200 reports, and the pairs flagged by chance grow at most
linearly (a likelihood ratio of two different patients exceeds t with probability at most 1 / t). 200 reports
is about the largest review of case reports (the synthetic review of 1,000 patients has 190). A pair above the
threshold is listed with its evidence side by side. On the bundled review the known duplicate (seed004 of
seed002) scores 3.8 and every other pair at most 0.4 (tests/review/test_patient_duplicates.py).

**Decisions.** A pair is decided when ``studies.duplicate_of`` joins its reports (the same patient), or when
a ``duplicate_decisions`` row says ``not the same patient``, with reasons. Decided pairs are listed as decided,
whatever their score.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from metacalc.data.record_matching import cell_text
from metacalc.data.duplicate_checks import report_roots
from metacalc.data.problems import Problem
from metacalc.review.document import DIFFERENT, SAME, UNDECIDED, DuplicateScreen, Evidence, ScoredPair
from metacalc.review.duplicate_bound import BoundPlan
from metacalc.review.duplicate_threshold import CALIBRATED_REPORTS, THRESHOLD, screening_threshold  # noqa: F401
from metacalc.review.duplicate_weights import (AGE_GAP_KNOWN, AGE_GAP_UNKNOWN, DISAGREE, MENTIONED, MIN_SD, NO_SHARED,
                                               ONSET, SHARED_AUTHOR, WORDING, categorical_weight, pair_interval_weight,
                                               smoothed_share)

SHINGLE = 5             # words in a passage (4-word ones such as "the trunk and extremities" are common phrasing)
PARALLEL_PATIENTS = 5_000  # below this the bound takes well under a second: threads would cost more than they save
BLOCK_PAIRS = 1 << 21   # pairs the bound takes at once (rows x columns of a block): about 16 MB an array


# ------------------------------------------------------------------ plain values

def _number(value) -> float:
    text = cell_text(value)
    try:
        return float(text) if text is not None else math.nan
    except ValueError:
        return math.nan


def _shown(value: float) -> str:
    return "blank" if math.isnan(value) else f"{value:g}"


def _fold(text):
    from metacalc.data.search_results import fold

    return fold(text)


# ------------------------------------------------------------------ the scorer

@dataclass
class _Patient:
    patient_id: str
    study_id: str
    row: int
    age: float
    sex: str | None
    country: str | None
    onset: float
    presented: float      # presentation_year
    published: float      # studies.year
    drugs: dict = field(default_factory=dict)      # drug -> {"doses": set, "responses": set}
    text: tuple = ()      # folded token lists of the patient's quotes (numbers masked)


_DIGIT_LETTER = re.compile(r"(\d)([a-z])")


def _tokens(quote: str) -> tuple:
    """Folded words with numbers masked ("30mg/day" -> # mg day): numbers are compared as ages and doses."""
    words = _DIGIT_LETTER.sub(r"\1 \2", _fold(quote)).split()
    return tuple("#" if w.isdigit() else w for w in words)


class DuplicateScorer:
    """The review's patients with what scoring needs: values, frequencies, author lists and wording."""

    def __init__(self, patients: Sequence[Mapping], treatments: Sequence[Mapping] = (),
                 studies: Sequence[Mapping] = (), quotes: Sequence[Mapping] = (), records: Sequence[Mapping] = ()):
        from metacalc.data.record_matching import citation_authors
        from metacalc.data.search_results import surname_key

        self.study = {str(cell_text(s.get("study_id"))): s for s in studies if cell_text(s.get("study_id"))}
        self.patients: list[_Patient] = []
        by_id = {}
        for position, row in enumerate(patients):
            patient_id, study_id = cell_text(row.get("patient_id")), cell_text(row.get("study_id"))
            if not patient_id or not study_id:
                continue
            study = self.study.get(study_id, {})
            country = cell_text(study.get("country"))
            patient = _Patient(patient_id, study_id, position, _number(row.get("age_at_presentation")),
                               (cell_text(row.get("sex")) or "").lower() or None, _fold(country) if country else None,
                               _number(row.get("years_to_onset")), _number(row.get("presentation_year")),
                               _number(study.get("year")))
            self.patients.append(patient)
            by_id[patient_id] = patient
        self.by_id = by_id
        course_of = {}
        for course in treatments:
            treated = by_id.get(cell_text(course.get("patient_id")) or "")
            drug = cell_text(course.get("drug")) or cell_text(course.get("therapy"))
            if treated is None or not drug:
                continue
            facts = treated.drugs.setdefault(drug.lower(), {"doses": set(), "responses": set()})
            dose = " ".join(filter(None, (cell_text(course.get("dose")), cell_text(course.get("dose_unit")))))
            if cell_text(course.get("dose")):
                facts["doses"].add(_fold(dose).replace(" ", ""))
            response = (cell_text(course.get("response")) or "").lower()
            if response and response != "not reported":
                facts["responses"].add(response)
            course_of[cell_text(course.get("treatment_id"))] = treated
        # quotes: the patient's row, its courses, and its report's affiliation (quoted for studies.country)
        texts: dict[str, set] = {p.patient_id: set() for p in self.patients}
        affiliation: dict[str, set] = {}
        # One sentence often supports several values (age and sex; a drug, its dose and the response), so each
        # distinct quote is folded into words once.
        tokens_of: dict[str, tuple] = {}

        def tokens(text: str) -> tuple:
            found = tokens_of.get(text)
            if found is None:
                found = tokens_of[text] = _tokens(text)
            return found

        for quote in quotes:
            table, row_id, text = cell_text(quote.get("table")), cell_text(quote.get("row_id")), cell_text(quote.get("quote"))
            if not (table and row_id and text):
                continue
            if table == "patients" and row_id in texts:
                texts[row_id].add(tokens(text))
            elif table == "treatments" and course_of.get(row_id) is not None:
                texts[course_of[row_id].patient_id].add(tokens(text))
            elif table == "studies" and cell_text(quote.get("column")) == "country":
                affiliation.setdefault(row_id, set()).add(tokens(text))
        for patient in self.patients:
            patient.text = tuple(sorted(texts[patient.patient_id] | affiliation.get(patient.study_id, set())))
        self.shingles = {p.patient_id: _shingles(p.text) for p in self.patients}
        self.shingle_count: dict[tuple, int] = {}
        for found in self.shingles.values():
            for shingle in found:
                self.shingle_count[shingle] = self.shingle_count.get(shingle, 0) + 1
        # authors of each report: its first author and the author lists of the records that name it
        self.authors: dict[str, set] = {}
        for study_id, study in self.study.items():
            key = surname_key(cell_text(study.get("first_author")))
            self.authors[study_id] = {key} if key else set()
        for record in records:
            study_id = cell_text(record.get("study_id"))
            if study_id in self.authors:
                key = surname_key(cell_text(record.get("first_author")))
                self.authors[study_id].update(filter(None, (key,) + citation_authors(cell_text(record.get("citation")) or "")))
        self.author_count: dict[str, int] = {}
        for names in self.authors.values():
            for name in names:
                self.author_count[name] = self.author_count.get(name, 0) + 1
        self._frequencies()
        self._caps: dict[tuple, float] = {}

    def _frequencies(self):
        def count(values):
            out: dict[str, int] = {}
            for value in values:
                if value:
                    out[value] = out.get(value, 0) + 1
            return out

        self.sex_count = count(p.sex for p in self.patients)
        self.country_count = count(p.country for p in self.patients)
        treated = [p for p in self.patients if p.drugs]
        self.treated = len(treated)
        self.drug_count = count(d for p in treated for d in p.drugs)
        # one pass over the patients, not one per drug
        self.dose_count: dict[str, dict[str, int]] = {d: {} for d in self.drug_count}
        self.response_count: dict[str, dict[str, int]] = {d: {} for d in self.drug_count}
        for p in treated:
            for drug, facts in p.drugs.items():
                for key, counts in (("doses", self.dose_count[drug]), ("responses", self.response_count[drug])):
                    for value in facts[key]:
                        if value:
                            counts[value] = counts.get(value, 0) + 1
        self.sd = {}
        for name, values in (("age", [p.age for p in self.patients]), ("years to onset", [p.onset for p in self.patients])):
            known = [v for v in values if not math.isnan(v)]
            spread = float(np.std(known, ddof=1)) if len(known) > 2 else 0.0
            self.sd[name] = max(spread, MIN_SD[name])

    # -------------------------------------------------------------- one pair

    def score(self, first_id: str, second_id: str) -> ScoredPair:
        """The pair's score and evidence (undecided; ``screen`` adds the decisions)."""
        a, b = sorted((self.by_id[first_id], self.by_id[second_id]), key=lambda p: p.patient_id)
        evidence = [e for e in (self._sex(a, b), self._country(a, b), self._age(a, b), self._onset(a, b)) if e]
        evidence += self._drugs(a, b)
        evidence += [e for e in (self._authors(a, b), self._wording(a, b)) if e]
        return ScoredPair(a.patient_id, b.patient_id, a.study_id, b.study_id,
                          score=float(sum(e.weight for e in evidence)), threshold=THRESHOLD, evidence=tuple(evidence))

    def _categorical(self, component, a, b, counts, what="share"):
        if not a or not b:
            return None
        weight = categorical_weight(a, b, counts, DISAGREE[component])
        others = counts.get(a, 0) - (2 if a == b else 1)
        reason = (f"same {component}; {others} other patient(s) {what} it" if a == b
                  else f"different {component}: a second report rarely changes it")
        return weight, reason

    def _sex(self, a, b):
        found = self._categorical("sex", a.sex, b.sex, self.sex_count)
        return Evidence("sex", a.sex or "blank", b.sex or "blank", *found) if found else None

    def _country(self, a, b):
        found = self._categorical("country", a.country, b.country, self.country_count)
        shown = lambda p: cell_text(self.study.get(p.study_id, {}).get("country")) or "blank"  # noqa: E731
        return Evidence("country", shown(a), shown(b), *found) if found else None

    def _gap(self, a, b):
        if not (math.isnan(a.presented) or math.isnan(b.presented)):
            return b.presented - a.presented, "presentations"
        if not (math.isnan(a.published) or math.isnan(b.published)):
            return b.published - a.published, "publications"
        return math.nan, None

    def _age(self, a, b):
        if math.isnan(a.age) or math.isnan(b.age):
            return None
        gap, between = self._gap(a, b)
        x = b.age - a.age
        known = not math.isnan(gap)
        weight = pair_interval_weight(x, gap if known else 0.0, known, self.sd["age"], DISAGREE["age"],
                                  AGE_GAP_KNOWN, AGE_GAP_UNKNOWN)
        if known:
            low, high = sorted((0.0, gap))
            reason = (f"{abs(gap):g} year(s) between the {between}: a difference of {low:g} to {high:g} fits one "
                      f"patient; got {x:g}")
        else:
            reason = f"{abs(x):g} year(s) apart; the years between the reports are not known"
        return Evidence("age", _shown(a.age), _shown(b.age), weight, reason)

    def _onset(self, a, b):
        if math.isnan(a.onset) or math.isnan(b.onset):
            return None
        x = b.onset - a.onset
        weight = pair_interval_weight(x, 0.0, True, self.sd["years to onset"], DISAGREE["years to onset"], ONSET, ONSET)
        return Evidence("years to onset", _shown(a.onset), _shown(b.onset), weight,
                        f"{abs(x):g} year(s) apart (reports often count from different events)")

    def _drugs(self, a, b):
        if not a.drugs or not b.drugs:
            return []
        out: list[Evidence] = []
        total = self.treated - 2
        for drug in sorted(set(a.drugs) | set(b.drugs)):
            n = self.drug_count.get(drug, 0)
            if drug in a.drugs and drug in b.drugs:
                p = (n - 2 + 1) / (total + 2)
                out.append(Evidence("drug", drug, drug, math.log10(1 / p), f"both reports name it; {n - 2} other "
                                    f"treated patient(s) of {total} had it"))
                out += self._course_facts(drug, a.drugs[drug], b.drugs[drug])
            else:
                p = (n - 1 + 1) / (total + 2)
                first, second = (drug, "not named") if drug in a.drugs else ("not named", drug)
                out.append(Evidence("drug", first, second, math.log10((1 - MENTIONED) / (1 - MENTIONED * p)),
                                    "named by one report only (a report may leave a therapy out)"))
        return out

    def _course_facts(self, drug, first, second):
        out = []
        for component, key, counts in (("dose", "doses", self.dose_count[drug]),
                                       ("response", "responses", self.response_count[drug])):
            mine, theirs = first[key], second[key]
            if not mine or not theirs:
                continue
            common = sorted(mine & theirs, key=lambda v: (counts.get(v, 0), v))
            a, b = (common[0], common[0]) if common else (sorted(mine)[0], sorted(theirs)[0])
            weight, reason = self._categorical(component, a, b, counts, "with this drug have")
            out.append(Evidence(f"{component} of {drug}", "; ".join(sorted(mine)), "; ".join(sorted(theirs)),
                                weight, reason))
        return out

    def _authors(self, a, b):
        mine, theirs = self.authors.get(a.study_id, set()), self.authors.get(b.study_id, set())
        if not mine or not theirs:
            return None
        shared = sorted(mine & theirs)
        shown = lambda names: ", ".join(sorted(names))  # noqa: E731
        if not shared:
            return Evidence("authors", shown(mine), shown(theirs), math.log10((1 - SHARED_AUTHOR) / NO_SHARED),
                            "no author in common")
        others = len([s for s in self.authors.values() if s]) - 2
        rarest = min(shared, key=lambda name: (self.author_count[name], name))
        p = (self.author_count[rarest] - 2 + 1) / (others + 2)
        return Evidence("authors", shown(mine), shown(theirs), math.log10(SHARED_AUTHOR / p),
                        f"in common: {', '.join(shared)}; {self.author_count[rarest] - 2} other report(s) by {rarest}")

    def _wording(self, a, b):
        if not a.text or not b.text:
            return None
        distinctive = {s for s in self.shingles[a.patient_id] & self.shingles[b.patient_id]
                       if self.shingle_count[s] == 2}
        passages = _passages(a.text, distinctive)
        m = min(len(passages), len(WORDING) - 1)
        same, different = WORDING[m]
        shown = "; ".join(f"'{p}'" for p in passages) or "none"
        return Evidence("wording", shown, shown, math.log10(same / different),
                        f"{len(passages)} passage(s) of {SHINGLE}+ words in the quotes of both and of no other patient")

    # -------------------------------------------------------------- every pair

    def screen(self, decisions: Sequence[Mapping] = (), threshold: float | None = None, jobs: int = 1
               ) -> DuplicateScreen:
        """Every pair of patients from different reports: those above ``threshold`` (by default
        ``screening_threshold`` of the review's reports) or decided, with evidence. ``jobs``: threads that bound
        the blocks of pairs (the same pairs whatever their number)."""
        if threshold is None:
            threshold = screening_threshold(len({p.study_id for p in self.patients}))
        decided = self._decisions(decisions)
        candidates = set(decided)
        for i, j in self._above_bound(threshold, jobs=jobs):
            candidates.add(frozenset((self.patients[i].patient_id, self.patients[j].patient_id)))
        pairs = []
        for pair in candidates:
            scored = self.score(*sorted(pair))
            decision, reasons = decided.get(pair, (UNDECIDED, ""))
            if decision == UNDECIDED and scored.score < threshold:
                continue
            pairs.append(ScoredPair(scored.first, scored.second, scored.first_study, scored.second_study,
                                    scored.score, threshold, scored.evidence, decision, reasons))
        pairs.sort(key=lambda p: (-p.score, p.first, p.second))
        n = len(self.patients)
        same_report = sum(c * (c - 1) // 2 for c in _counts(p.study_id for p in self.patients).values())
        return DuplicateScreen(threshold, tuple(pairs), n * (n - 1) // 2 - same_report)

    def _decisions(self, decisions):
        decided = {}
        roots = report_roots(self.study)
        by_root: dict[str, list] = {}
        for patient in self.patients:
            by_root.setdefault(roots.get(patient.study_id, patient.study_id), []).append(patient)
        for members in by_root.values():
            for i, first in enumerate(members):
                for second in members[i + 1:]:
                    if first.study_id != second.study_id:
                        pointing = next((s for s in (first.study_id, second.study_id)
                                         if cell_text(self.study.get(s, {}).get("duplicate_of"))), first.study_id)
                        reasons = cell_text(self.study.get(pointing, {}).get("duplicate_evidence")) or ""
                        decided[frozenset((first.patient_id, second.patient_id))] = (SAME, reasons)
        for row in decisions:
            pair = frozenset((cell_text(row.get("patient_id")) or "", cell_text(row.get("other_patient_id")) or ""))
            if len(pair) == 2 and pair <= set(self.by_id) and pair not in decided:
                decided[pair] = (DIFFERENT, cell_text(row.get("reasons")) or "")
        return decided

    def _above_bound(self, threshold, common: int | None = None, jobs: int = 1):
        """Pairs (i, j), i < j, whose score could reach ``threshold``: every pair brute force finds, and few others.

        Why none is lost: the bound of a pair is its score term by term, or more. Exact: sex, country, age, years
        to onset, the drugs each names (both, or one only), "no author in common" and "no passage in common";
        the dose and response of a shared drug where each patient has one value of it. At most: a shared author
        or passage (the most it can weigh for the patient), and the dose or response where a patient has several
        values (``_component_cap``: agreeing on its rarest value, or any disagreement). A pair is kept when its
        bound reaches the threshold (less 1e-9 for rounding), so a pair whose score reaches it is kept.

        Which pairs are looked at (``BoundPlan``): a pair is only bounded one by one if two per-patient caps
        say it could reach the threshold, so that most of the pairs of a large review are never looked at. Both
        caps rest on the same facts: a pair's sex and country weigh exactly what their table says for the two
        patients' groups (a group is one sex and one country, blank included), and every other term of its score
        is at most what the patient could score with anyone (``BoundPlan`` has the terms). A pair sharing one
        of the review's rarer drugs is looked at among that drug's patients; a pair sharing none of them (only
        common drugs, or no drug) has its drug evidence capped by what its common drugs could add and by the
        "named by one report only" weights of the rest, which are negative; a pair with an untreated patient
        has no drug evidence. ``common`` is how many of the drugs (those that cost most to look at drug by drug)
        are treated as common; by default the number that looks at the fewest pairs.

        Cost: blocks of rows against columns (numpy, no loop per pair), the cheap terms first (lookup tables
        and one matrix product for the drugs); the age and onset weights (normal probabilities) only for the
        pairs that the cheap terms plus the most those two can add (``interval_cap``) leave in; the doses and
        responses by pair for the pairs left after that (about as many as are flagged). At 100,000 patients
        about 1 pair in 15 is looked at (benchmarks/duplicates_results.md: 3.3e8 of 5.0e9, 17 s)."""
        if len(self.patients) < 2:
            return []
        plan = BoundPlan(self, threshold)
        blocks = plan.blocks(plan.common_drugs(common))
        found: set[tuple[int, int]] = set()
        if jobs <= 1 or len(self.patients) < PARALLEL_PATIENTS:
            for rows, cols, ordered in blocks:
                found.update(self._bounded_pairs(plan, rows, cols, ordered, threshold))
            return sorted(found)
        # Threads, not processes: most of a block's time is numpy on whole arrays, which runs without the
        # interpreter lock, and the plan is shared as it is (a process would copy or pickle it). Blocks are
        # independent and the pairs are sorted, so the result does not depend on the number of threads.
        from concurrent.futures import ThreadPoolExecutor

        def bounded(block):
            rows, cols, ordered = block
            return self._bounded_pairs(plan, rows, cols, ordered, threshold)

        with ThreadPoolExecutor(jobs) as pool:
            for pairs in pool.map(bounded, blocks):
                found.update(pairs)
        return sorted(found)

    def _bounded_pairs(self, plan: "BoundPlan", rows, cols, ordered: bool, threshold: float):
        """The pairs of ``rows`` x ``cols`` (index arrays, ``cols`` ascending) whose bound reaches ``threshold``,
        as (smaller, larger) index pairs. ``ordered``: rows and columns are drawn from one set, and a pair is
        taken only where the column comes after the row in ``plan.order`` (each pair once)."""
        out: list[tuple[int, int]] = []
        step = max(1, BLOCK_PAIRS // max(1, len(cols)))
        for start in range(0, len(rows), step):
            block = rows[start:start + step]
            first, second = block[:, None], cols[None, :]
            bound = plan.sex_table[plan.sex[first], plan.sex[second]] + plan.country_table[plan.country[first],
                                                                                          plan.country[second]]
            drug_part = plan.row_weights[block] @ plan.named[cols].T + plan.one_sum[block][:, None] + \
                plan.one_sum[cols][None, :]
            bound += np.where(plan.treated[first] & plan.treated[second], drug_part, 0.0)
            bound += np.where(plan.has_authors[first] & plan.has_authors[second], plan.no_author, 0.0)
            bound += np.where(plan.has_text[first] & plan.has_text[second], plan.no_passage, 0.0)
            for r, i in enumerate(block.tolist()):
                for partners, gain in ((plan.authors.get(i), plan.author_cap[i] - plan.no_author),
                                       (plan.wording.get(i), plan.word_cap - plan.no_passage)):
                    if partners is None:
                        continue
                    at = np.searchsorted(cols, partners)
                    inside = at < len(cols)
                    at = at[inside][cols[at[inside]] == partners[inside]]
                    bound[r, at] += gain
            reach = bound + np.minimum(plan.age_cap[first], plan.age_cap[second]) + np.minimum(
                plan.onset_cap[first], plan.onset_cap[second])
            taken = (plan.order[second] > plan.order[first]) if ordered else (second != first)
            a, b = np.nonzero(taken & (reach >= threshold - 1e-9) & (plan.study[second] != plan.study[first]))
            left, right = block[a], cols[b]
            exact = bound[a, b] + plan.interval_terms(left, right)
            keep = exact >= threshold - 1e-9
            left, right, exact = left[keep], right[keep], exact[keep]
            # The doses and responses of the drugs both name, as the score has them (the bound took the most
            # each could add for the row's patient): on the few pairs left, a loop over their shared drugs.
            exact += self._course_terms(left, right)
            keep = exact >= threshold - 1e-9
            out.extend(zip(np.minimum(left, right)[keep].tolist(), np.maximum(left, right)[keep].tolist()))
        return out

    def _table(self, component, values, counts):
        """Codes per patient and the weight of every pair of codes (code 0 = blank, weight 0)."""
        names = sorted(counts)
        code = {name: k + 1 for k, name in enumerate(names)}
        table = np.zeros((len(names) + 1, len(names) + 1))
        for u in names:
            for v in names:
                if u != v or counts[u] >= 2:
                    table[code[u], code[v]] = categorical_weight(u, v, counts, DISAGREE[component])
        return np.array([code.get(v, 0) if v else 0 for v in values]), table

    def _course_cap(self, drug, facts):
        """The most that the dose and the response of ``drug`` can add for this patient, with any other."""
        return sum(self._cap(drug, key, facts[key]) for key, _, _ in self._courses(drug))

    def _cap(self, drug, key, values) -> float:
        """``_component_cap`` of a patient's ``values`` of ``drug``, remembered: the screen asks again for every
        pair that shares the drug, and each answer reads all the drug's values."""
        found = self._caps.get((drug, key, frozenset(values)))
        if found is None:
            counts, component = (self.dose_count[drug], "dose") if key == "doses" else (self.response_count[drug],
                                                                                        "response")
            found = self._caps[(drug, key, frozenset(values))] = self._component_cap(values, counts, component)
        return found

    def _courses(self, drug):
        return (("doses", self.dose_count[drug], "dose"), ("responses", self.response_count[drug], "response"))

    @staticmethod
    def _component_cap(values, counts, component) -> float:
        """The most the dose (or response) weight of a drug can be for a patient with these ``values``: agreeing
        on its rarest value that another patient has, or disagreeing, which weighs log10(rho * (1/(1 - p_a) +
        1/(1 - p_b)) / 2) <= log10(rho / (1 - p_max)) (above 0 only where one value is nearly universal)."""
        if not values:
            return 0.0
        total, distinct, rho = sum(counts.values()) - 2, len(counts), DISAGREE[component]
        best = 0.0
        shareable = [counts[v] for v in values if counts.get(v, 0) >= 2]
        if shareable:
            best = max(best, math.log10((1 - rho) / smoothed_share(min(shareable) - 2, total, distinct)))
        if distinct >= 2:
            p_max = max(smoothed_share(c - 1, total, distinct) for c in counts.values())
            best = max(best, math.log10(rho / (1 - p_max)))
        return best

    def _course_terms(self, p, q):
        """Pairs (p[k], q[k]): the dose and response weights of their shared drugs as ``score`` gives them
        where each patient has one value of the drug, and the row patient's cap where one has several; minus
        the caps the block bound used (``_course_cap`` of p's courses). Arrays of len(p)."""
        out = np.zeros(len(p))
        patients = self.patients
        shared = [(k, d) for k, (i, j) in enumerate(zip(p.tolist(), q.tolist()))
                  for d in patients[i].drugs.keys() & patients[j].drugs.keys()]
        for k, drug in shared:
            first, second = patients[int(p[k])].drugs[drug], patients[int(q[k])].drugs[drug]
            for key, counts, component in self._courses(drug):
                mine, theirs = first[key], second[key]
                cap = self._cap(drug, key, mine)
                out[k] -= cap
                if not mine or not theirs:
                    continue
                if len(mine) == 1 and len(theirs) == 1:
                    out[k] += categorical_weight(next(iter(mine)), next(iter(theirs)), counts, DISAGREE[component])
                else:
                    out[k] += cap
        return out

    def _partners_by_author(self):
        """patient index -> indices of the other patients whose report shares an author; and each one's best gain."""
        index_of: dict[str, list] = {}
        for k, p in enumerate(self.patients):
            index_of.setdefault(p.study_id, []).append(k)
        by_author: dict[str, list] = {}
        for study_id, names in self.authors.items():
            for name in names:
                if self.author_count[name] >= 2:
                    by_author.setdefault(name, []).append(study_id)
        others = len([s for s in self.authors.values() if s]) - 2
        partners: dict[int, set] = {}
        cap = np.zeros(len(self.patients))
        for name, studies in by_author.items():
            gain = math.log10(SHARED_AUTHOR * (others + 2) / (self.author_count[name] - 1))
            members = [k for s in studies for k in index_of.get(s, ())]
            for k in members:
                cap[k] = max(cap[k], gain)
                partners.setdefault(k, set()).update(m for m in members if m != k)
        return {k: np.array(sorted(v)) for k, v in partners.items()}, cap

    def _partners_by_wording(self):
        """patient index -> indices of the other patients sharing a passage that no other patient has."""
        holders: dict[tuple, list] = {}
        for k, p in enumerate(self.patients):
            for shingle in self.shingles[p.patient_id]:
                if self.shingle_count[shingle] == 2:
                    holders.setdefault(shingle, []).append(k)
        partners: dict[int, set] = {}
        for first, second in holders.values():
            partners.setdefault(first, set()).add(second)
            partners.setdefault(second, set()).add(first)
        return {k: np.array(sorted(v)) for k, v in partners.items()}


def _shingles(texts) -> set:
    return {words[k:k + SHINGLE] for words in texts for k in range(len(words) - SHINGLE + 1)}


def _passages(texts, distinctive) -> list:
    """The distinct runs of words covered by distinctive shingles, in the first patient's quotes."""
    found = []
    for words in texts:
        covered = [False] * len(words)
        for k in range(len(words) - SHINGLE + 1):
            if words[k:k + SHINGLE] in distinctive:
                covered[k:k + SHINGLE] = [True] * SHINGLE
        run: list = []
        for word, inside in zip(words + ("",), covered + [False]):
            if inside:
                run.append(word)
            elif run:
                found.append(" ".join(run))
                run = []
    unique: list[str] = []
    for passage in sorted(set(found), key=lambda p: (-len(p), p)):
        if not any(passage in longer for longer in unique):
            unique.append(passage)
    return sorted(unique)


def _counts(values: Iterable[str]) -> dict:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def screen_patients(patients: Sequence[Mapping], treatments: Sequence[Mapping] = (), studies: Sequence[Mapping] = (),
                    quotes: Sequence[Mapping] = (), records: Sequence[Mapping] = (),
                    decisions: Sequence[Mapping] = (), threshold: float | None = None, jobs: int = 1
                    ) -> DuplicateScreen:
    """Every pair of patients from different reports scored; those above ``threshold`` (by default the one for the
    review's number of reports, ``screening_threshold``) or decided returned. ``jobs``: threads for the bound."""
    return DuplicateScorer(patients, treatments, studies, quotes, records).screen(decisions, threshold, jobs)


def undecided_problems(screen: DuplicateScreen, file: str = "studies.csv",
                       row_of: Mapping[str, int] | None = None) -> list[Problem]:
    """One problem per undecided pair above the threshold (what ``--strict`` refuses), at the row of the later
    report in ``row_of`` (study_id -> its row of ``file``) when given."""
    problems = []
    for pair in screen.undecided():
        later = max(pair.first_study, pair.second_study, key=lambda s: ((row_of or {}).get(s, 0), s))
        row = (row_of or {}).get(later)
        problems.append(Problem(file, row, "duplicate_of" if row else "", f"possibly the same patient, undecided (got "
                                f"{pair.first} of {pair.first_study} and {pair.second} of {pair.second_study} scoring "
                                f"{pair.score:.1f}, threshold {pair.threshold:g}; expected studies.duplicate_of on one "
                                "report, or a duplicate_decisions row: not the same patient, with reasons)"))
    return problems
