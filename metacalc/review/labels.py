"""How the report names reports and patients: author–year labels, as a journal prints them.

A reader knows a report as "Pérez Pampín 2003", never as the id the reviewer typed; a patient as
"Pérez Pampín 2003, patient 1". Labels are made here once, for every study and patient of the review, because a
label depends on the other reports (two reports of one first author in one year become "2003a" and "2003b").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from metacalc.data.cells import as_number, as_text

if TYPE_CHECKING:
    from metacalc.review.document import ReviewResults

ANONYMOUS = "Anonymous"  # a report whose authors the reviewer could not name
NO_DATE = "n.d."  # a report whose year is unknown (the citation styles' "no date")

# Trailing initials of a Vancouver-style author ("Pérez Pampín E", "Tristano AG", "Smith J.-P."): not the surname.
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")


def surname(first_author: str) -> str:
    """The first author's surname as a label prints it: initials dropped ('Pérez Pampín E' -> 'Pérez Pampín';
    'Smith, John' -> 'Smith')."""
    text = first_author.strip()
    if "," in text:
        return text.split(",", 1)[0].strip()
    words = text.split()
    while len(words) > 1 and _INITIALS.match(words[-1]):
        words.pop()
    return " ".join(words)


def _base_label(study: Mapping[str, Any]) -> tuple[str, str]:
    """(author part, year part) of a study, before any disambiguating letter."""
    author = surname(as_text(study.get("first_author"))) or ANONYMOUS
    year = as_number(study.get("year"))
    return author, (f"{year:g}" if year is not None else NO_DATE)


def _joined(author: str, year: str, letter: str = "") -> str:
    if year == NO_DATE:
        return f"{author} ({NO_DATE}{'-' + letter if letter else ''})"
    return f"{author} {year}{letter}"


def study_labels(studies: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """study_id -> 'Pérez Pampín 2003'; 'Balin 2012a' / 'Balin 2012b' when two reports would share a label
    (lettered in the order of the studies sheet); 'Anonymous 2010' without an author, 'Tristano (n.d.)' without a
    year, 'Anonymous (n.d.-a)' / '(n.d.-b)' when both are missing from several reports."""
    studies = list(studies)
    bases = {s["study_id"]: _base_label(s) for s in studies}
    shared: dict[tuple[str, str], list[str]] = {}
    for study_id, base in bases.items():
        shared.setdefault(base, []).append(study_id)
    labels = {}
    for (author, year), ids in shared.items():
        for index, study_id in enumerate(ids):
            letter = "" if len(ids) == 1 else _letters(index)
            labels[study_id] = _joined(author, year, letter)
    return labels


def _letters(index: int) -> str:
    """a, b, ..., z, aa, ab, ...: the disambiguating letter of the index-th report sharing a label."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def patient_labels(patients: Iterable[Mapping[str, Any]], study_label: Mapping[str, str]) -> dict[str, str]:
    """patient_id -> 'Pérez Pampín 2003, patient 1': patients numbered within their report in the order of the
    patients sheet (the order the reviewer extracted them, usually the report's own)."""
    numbers: dict[str, int] = {}
    labels = {}
    for patient in patients:
        study_id = patient["study_id"]
        numbers[study_id] = numbers.get(study_id, 0) + 1
        labels[patient["patient_id"]] = f"{study_label.get(study_id, study_id)}, patient {numbers[study_id]}"
    return labels


_WORD = re.compile(r"[\w-]+")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def record_name(citation: str) -> str:
    """A search record's author–year name from its citation ('Weinberger A, Kaplan JG (1979) ...' -> 'Weinberger
    1979'); "" when the citation does not start with an author."""
    first = re.split(r"[,.(;]", citation, maxsplit=1)[0].split() if citation else []
    if len(first) < 2 or not _INITIALS.match(first[-1]):
        return ""  # not 'Surname AB': an untitled or anonymous record
    author = surname(" ".join(first))
    year = _YEAR.search(citation)
    return f"{author} {year.group(1)}" if year else f"{author} ({NO_DATE})"


class RowNames:
    """The readers' names of the review's rows: reports and patients by their author–year labels (made in the
    review layer), therapy courses and published figures by their patient's or report's label. The report shows
    these; the ids the reviewer typed appear only in the provenance section, where they locate a row in a sheet.
    """

    def __init__(self, results: ReviewResults) -> None:
        self.study = {s["study_id"]: s.get("label") or s["study_id"] for s in results.studies}
        self.patient = {p["patient_id"]: p.get("label") or p["patient_id"] for p in results.patients}
        names = {**self.study, **self.patient}
        for course in results.treatments:
            patient = self.patient.get(course["patient_id"], course["patient_id"])
            names[course["treatment_id"]] = f"{patient}, {course.get('therapy') or 'therapy'}"
        figures = [(row.row_id, row.study_id) for row in results.excluded_rows if row.table == "aggregates"]
        for analysis in results.analyses:
            figures.extend((r.aggregate_id, r.study_id) for r in analysis.references)
            for groups in [analysis.groups, *(v.groups for v in analysis.sensitivity)]:
                for group in groups:
                    for contributor in getattr(group, "contributors", ()):
                        figures.extend((a, contributor.study_id) for a in getattr(contributor, "aggregate_ids", ()))
                    figures.extend((s.aggregate_id, s.study_id) for s in getattr(group, "pooled_series", None) or ())
        for aggregate_id, study_id in figures:
            names.setdefault(aggregate_id, f"{self.study.get(study_id, study_id)} (published figure)")
        for entries in results.prisma.records_behind_boxes.values():
            for record in entries:  # a record is behind several boxes: named once
                if record.record_id not in names:
                    names[record.record_id] = record_name(record.citation) or record.record_id
        self.names = names

    def of(self, row_id: str) -> str:
        """The label of any row id (a report, patient, course or published figure); the id itself if unknown."""
        return self.names.get(row_id, row_id)

    def text(self, value: Any) -> str:
        """Free text of the reviewer (notes, evidence, populations) with every id of the review's rows replaced by
        its label: 'same patient as seed004' reads 'same patient as Anonymous (n.d.-b)'."""
        text = "" if value is None else str(value)
        # A word at a time (ids are words: letters, digits, _ and -), so that 'seed002_p1' is replaced whole and a
        # review of thousands of rows costs one dictionary look-up per word.
        return _WORD.sub(lambda m: self.names.get(m.group(0), m.group(0)), text)
