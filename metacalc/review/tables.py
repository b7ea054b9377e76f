"""The review's tables as the analyses walk over them: rows as plain dicts (pandas stays in the data layer),
with the lookups every analysis needs (a study, a patient, a report's label, the quotes of a row)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from metacalc.data.cells import as_text
from metacalc.review.labels import patient_labels, study_labels

if TYPE_CHECKING:
    from metacalc.data.dataset import Dataset
    from metacalc.data.review_file import Review

Row = dict[str, Any]
ANALYSED_TABLES = ("studies", "patients", "treatments", "aggregates", "quotes", "records", "appraisal",
                   "appraisal_overall", "duplicate_decisions", "certainty")


class Course(NamedTuple):
    """What the analyses read of a therapy course, as text: read once per review, not once per analysis and
    variant (the same cells of every course were read again by each of them)."""

    treatment_id: str
    patient_id: str
    study_id: str  # the patient's report ("" when the patient is unknown)
    drug: str  # "" when the therapy is not in the vocabulary
    drug_class: str
    response: str  # as the sheet words it ("" when blank)
    row: Row


class ReviewTables:
    """The dataset's tables as lists of row dicts (JSON values, None when blank), with lookups, and the review
    file (its words and settings).

    ``high_risk`` lists the reports judged at high overall risk of bias (by any tool).
    """

    def __init__(self, tables: Mapping[str, Iterable[Row]], review: Review | None = None,
                 unappraised: Iterable[tuple[str, str]] = ()) -> None:
        from metacalc.data.review_file import default_review

        self.review = review if review is not None else default_review()
        self.unappraised = tuple(unappraised)  # (study_id, what is missing) of reports not fully appraised

        def rows(name: str) -> list[Row]:
            return [dict(row) for row in tables.get(name, ())]

        self.studies = rows("studies")
        self.patients = rows("patients")
        self.treatments = rows("treatments")
        self.aggregates = rows("aggregates")
        self.quotes = rows("quotes")
        self.records = rows("records")
        self.appraisal = rows("appraisal")
        self.appraisal_overall = rows("appraisal_overall")
        self.duplicate_decisions = rows("duplicate_decisions")
        self.certainty = rows("certainty")  # the reviewer's GRADE-style judgements (optional sheet)
        self.study = {s["study_id"]: s for s in self.studies}
        self.patient = {p["patient_id"]: p for p in self.patients}
        self.study_of_patient = {p["patient_id"]: as_text(p.get("study_id")) for p in self.patients}
        self.primary_of = {s["study_id"]: as_text(s.get("duplicate_of")) for s in self.studies}  # "" when none
        self.courses = tuple(
            Course(row["treatment_id"], row["patient_id"], self.study_of_patient.get(row["patient_id"], ""),
                   as_text(row.get("drug")), as_text(row.get("drug_class")), as_text(row.get("response")), row)
            for row in self.treatments)
        self.label = study_labels(self.studies)  # study_id -> 'Pérez Pampín 2003'
        self.patient_label = patient_labels(self.patients, self.label)  # -> 'Pérez Pampín 2003, patient 1'
        self.quotes_of: dict[tuple[str, str], list[Row]] = {}
        for quote in self.quotes:
            self.quotes_of.setdefault((quote["table"], quote["row_id"]), []).append(quote)
        self.high_risk = sorted({row["study_id"] for row in self.appraisal_overall
                                 if as_text(row.get("judgement")).lower() == "high"})
        self.high_risk_set = frozenset(self.high_risk)
        # Reports with an overall judgement by some tool: the others' risk of bias is unknown (an unfinished
        # appraisal, accepted as a warning), so an analysis of low-risk reports leaves them out too.
        self.judged_set = frozenset(row["study_id"] for row in self.appraisal_overall if as_text(row.get("judgement")))

    @classmethod
    def of(cls, dataset: Dataset) -> ReviewTables:
        """The tables of a validated dataset, in the form its JSON holds them."""
        return cls({name: dataset.rows(name) for name in ANALYSED_TABLES}, dataset.review, dataset.unappraised)

    def label_of(self, study_id: str) -> str:
        """The report's label ('Pérez Pampín 2011'); its id when the study is unknown."""
        return self.label.get(study_id) or study_id

    def patient_label_of(self, patient_id: str) -> str:
        """The patient's label ('Pérez Pampín 2011, patient 1'); its id when the patient is unknown."""
        return self.patient_label.get(patient_id) or patient_id

    def heading(self, column: str) -> str:
        """How the report names a patients column: a review field's label, else the name spaced."""
        field = self.review.field_named(column)
        return field.heading if field else column.replace("_", " ")

    def duplicate_of(self, study_id: str) -> str:
        """The report of which this one is a duplicate ("" when none, or when the study is unknown)."""
        return self.primary_of.get(study_id, "")
