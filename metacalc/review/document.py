"""The whole results of a review (results.json) as typed, frozen records: every analysis, and everything the
figures and the report show besides (the tables of studies, patients and courses, the PRISMA counts, the
risk-of-bias appraisal, the rows not used, duplicates, what changed since the latest named version).

Figures and the report read these records and nothing else: never the dataset, never a key they must guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from sys import intern
from typing import Any, ClassVar

from metacalc.data.prisma_flow import PrismaCounts
from metacalc.data.review_file import Review
from metacalc.review.certainty import Certainty
from metacalc.review.results import JSON, AnalysisResult, shared

RESULTS_FORMAT = 3
Row = dict[str, Any]
# The fields of ReviewResults that are JSON rows already (every study, patient and course): listed as they are in
# results.json, never walked or copied.
ROW_FIELDS = ("studies", "patients", "treatments")


# JSON values as they are: json_value returns them unchanged. Looked up by exact type first, because json_value runs
# once per value of results.json (millions at 30,000 patients) and the generic checks below (hasattr, an abstract
# Mapping) cost several times more; subclasses (a str enum, a record that is a tuple) take the generic path.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_value(value: Any) -> Any:
    """Records, tuples and mappings as JSON values."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        return [v if type(v) in _SCALARS else json_value(v) for v in value]
    if kind is dict:
        return {key: v if type(v) in _SCALARS else json_value(v) for key, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {key: json_value(v) for key, v in value.items()}
    return value


class _Flat:
    """to_dict / from_dict of a record whose fields are JSON values (tuples for arrays)."""

    # The fields that are arrays (annotated ``tuple[...]``), read from JSON lists as tuples: found once per class,
    # so that reading passes the other fields as they are (66,295 PRISMA record entries at 30,000 patients).
    _array_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._array_fields = tuple(name for name, kind in cls.__annotations__.items()
                                  if str(kind).startswith("tuple"))

    def to_dict(self) -> JSON:
        return {key: value if type(value) in _SCALARS else json_value(value) for key, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        if not cls._array_fields:
            return cls(**data)
        values = dict(data)
        for name in cls._array_fields:
            values[name] = tuple(values[name])
        return cls(**values)


@dataclass(frozen=True)
class Quote(_Flat):
    """A sentence of a source report backing one or more values of a row."""

    columns: tuple[str, ...]
    quote: str
    location: str | None

    # The most numerous record of results.json (about eight per patient): its fields by name, not by the generic
    # walk over __dict__ (to_dict + from_dict of the 83,708 quotes of 10,000 patients 0.67 -> 0.21 s CPU).
    def to_dict(self) -> JSON:
        return {"columns": list(self.columns), "quote": self.quote, "location": self.location}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quote:
        columns = tuple(data["columns"])
        # A review's quotes back a handful of distinct column sets: one tuple each (a dict lookup is 3x cheaper
        # than interning each column again).
        known = _COLUMN_SETS.get(columns)
        if known is None:
            known = _COLUMN_SETS[columns] = shared(columns)
        return cls(known, data["quote"], data["location"])


_COLUMN_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}


@dataclass(frozen=True)
class ExcludedRow(_Flat):
    """A row of the analysis tables that no main analysis used, and why."""

    table: str
    row_id: str
    study_id: str
    reason: str


@dataclass(frozen=True)
class RowCount(_Flat):
    rows: int
    used: int


# The decision state of a pair of possibly duplicate patients.
UNDECIDED = "undecided"
SAME = "same patient"               # studies.duplicate_of joins their reports
DIFFERENT = "not the same patient"  # a duplicate_decisions row, with reasons


@dataclass(frozen=True)
class Evidence(_Flat):
    """One line of a pair's evidence: the two values side by side and what they weigh."""

    component: str
    first: str
    second: str
    weight: float   # log10 likelihood ratio, positive for "same patient"
    reason: str


@dataclass(frozen=True)
class ScoredPair:
    """Two patients of different reports scored as possibly one patient (``metacalc.review.patient_duplicates``)."""

    first: str            # patient ids, first < second
    second: str
    first_study: str
    second_study: str
    score: float
    threshold: float
    evidence: tuple[Evidence, ...] = ()
    decision: str = UNDECIDED
    reasons: str = ""     # the reviewer's: studies.duplicate_evidence or duplicate_decisions.reasons

    @property
    def above_threshold(self) -> bool:
        return self.score >= self.threshold

    @property
    def undecided(self) -> bool:
        return self.decision == UNDECIDED

    def to_dict(self) -> JSON:
        return {"patients": [self.first, self.second], "studies": [self.first_study, self.second_study],
                "score": self.score, "threshold": self.threshold, "decision": self.decision,
                "reasons": self.reasons, "evidence": json_value(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoredPair:
        (first, second), (first_study, second_study) = data["patients"], data["studies"]
        return cls(first, second, first_study, second_study, data["score"], data["threshold"],
                   tuple(Evidence.from_dict(e) for e in data["evidence"]), data["decision"], data["reasons"])


@dataclass(frozen=True)
class DuplicateScreen:
    """The pairs to show: above the threshold or decided, highest score first; how many pairs were scored."""

    threshold: float
    pairs: tuple[ScoredPair, ...] = ()
    pairs_scored: int = 0

    def undecided(self) -> tuple[ScoredPair, ...]:
        """Pairs above the threshold that no decision covers: each may be one patient counted twice."""
        return tuple(p for p in self.pairs if p.undecided and p.above_threshold)

    def to_dict(self) -> JSON:
        return {"threshold": self.threshold, "pairs_scored": self.pairs_scored, "pairs": json_value(self.pairs)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DuplicateScreen:
        return cls(data["threshold"], tuple(ScoredPair.from_dict(p) for p in data["pairs"]), data["pairs_scored"])


@dataclass(frozen=True)
class Difference(_Flat):
    field: str
    primary: str
    duplicate: str
    kind: str


@dataclass(frozen=True)
class PatientPair:
    primary_patient: str
    duplicate_patient: str
    differences: tuple[Difference, ...]

    def to_dict(self) -> JSON:
        return {"primary_patient": self.primary_patient, "duplicate_patient": self.duplicate_patient,
                "differences": json_value(self.differences)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PatientPair:
        return cls(data["primary_patient"], data["duplicate_patient"],
                   tuple(Difference.from_dict(d) for d in data["differences"]))


@dataclass(frozen=True)
class DuplicatePair:
    """A report marked duplicate_of another, and the patient facts on which the two differ."""

    primary_study: str
    duplicate_study: str
    primary_label: str
    duplicate_label: str
    patients: tuple[PatientPair, ...]
    not_paired: str | None

    def to_dict(self) -> JSON:
        return {key: json_value(value) for key, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DuplicatePair:
        return cls(data["primary_study"], data["duplicate_study"], data["primary_label"], data["duplicate_label"],
                   tuple(PatientPair.from_dict(p) for p in data["patients"]), data["not_paired"])


@dataclass(frozen=True)
class Labelled(_Flat):
    """A report or a patient, by its id and its report's label."""

    id: str
    label: str


@dataclass(frozen=True)
class CountChange(_Flat):
    """A PRISMA box's count in the release and now (None where the box is absent from one)."""

    box: str
    label: str
    before: int | None
    after: int | None


@dataclass(frozen=True)
class EstimateChange(_Flat):
    """One group of a main analysis in the release and now: the groups' JSON forms (numbers, no per-study rows;
    None where the group is absent from one), so that both are worded as the report words them."""

    analysis: str
    title: str
    kind: str
    group: str
    before: Row | None
    after: Row | None
    changed: bool


@dataclass(frozen=True)
class VariantChange(_Flat):
    """A sensitivity variant's headline numbers of one group that changed since the release."""

    analysis: str
    title: str
    kind: str
    variant: str
    group: str
    before: Row | None
    after: Row | None


@dataclass(frozen=True)
class ConclusionChange(_Flat):
    """A conclusion that changed: a comparison with a published figure crossing the 5% level, or an interval
    that stopped (or started) including a reference value; ``before`` and ``after`` are worded."""

    analysis: str
    group: str
    what: str
    before: str
    after: str


@dataclass(frozen=True)
class ChangeLog:
    """What changed since the latest named version (``metacalc release``); ``version`` None: there is none."""

    version: str | None
    label: str | None = None
    reports_added: tuple[Labelled, ...] = ()
    reports_removed: tuple[Labelled, ...] = ()
    patients_added: tuple[Labelled, ...] = ()
    patients_removed: tuple[Labelled, ...] = ()
    prisma: tuple[CountChange, ...] = ()
    estimates: tuple[EstimateChange, ...] = ()
    variants: tuple[VariantChange, ...] = ()
    conclusions: tuple[ConclusionChange, ...] = ()
    same_inputs: bool = False  # the inputs' hash equals the release's

    def to_dict(self) -> JSON:
        return {key: json_value(value) for key, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ChangeLog:
        if not data:
            return cls(None)
        def each(key: str, kind: Any) -> tuple[Any, ...]:
            return tuple(kind.from_dict(v) for v in data.get(key, ()))

        return cls(data["version"], data.get("label"), each("reports_added", Labelled),
                   each("reports_removed", Labelled), each("patients_added", Labelled),
                   each("patients_removed", Labelled), each("prisma", CountChange), each("estimates", EstimateChange),
                   each("variants", VariantChange), each("conclusions", ConclusionChange),
                   bool(data.get("same_inputs")))


@dataclass(frozen=True)
class PrismaBox(_Flat):
    box_id: str
    label: str
    n: int
    record_ids: tuple[str, ...]


@dataclass(frozen=True)
class RecordEntry(_Flat):
    """A record behind a box of the diagram, with the reason it stopped there."""

    record_id: str
    citation: str
    reason: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordEntry:
        # Hundreds of thousands on a large review, each record behind every box it passed: shared strings.
        return cls(intern(data["record_id"]), intern(data["citation"]), intern(data["reason"]))


@dataclass(frozen=True)
class PrismaResult:
    """The PRISMA 2020 counts: the boxes in the diagram's order, the records behind each, and which box is which."""

    boxes: tuple[PrismaBox, ...]
    records_behind_boxes: Mapping[str, tuple[RecordEntry, ...]]
    layout: Mapping[str, Any]

    @classmethod
    def of(cls, counts: PrismaCounts, behind: Mapping[str, list[dict[str, str]]]) -> PrismaResult:
        return cls(tuple(PrismaBox(box_id, box["label"], box["n"], tuple(box["record_ids"]))
                         for box_id, box in counts.to_dict().items()),
                   {box_id: tuple(RecordEntry(**entry) for entry in entries) for box_id, entries in behind.items()},
                   counts.layout())

    def relabelled(self, rename: Callable[[str], str]) -> PrismaResult:
        """The same counts with every box's label passed through ``rename`` (the report's names of the review's
        rows: 'reference list of tristano2006' reads 'reference list of Tristano 2006')."""
        return PrismaResult(tuple(replace(box, label=rename(box.label)) for box in self.boxes),
                            self.records_behind_boxes, self.layout)

    def counts(self) -> PrismaCounts:
        """The counts again, to draw the diagram."""
        return PrismaCounts.from_json({box.box_id: box.to_dict() for box in self.boxes}, dict(self.layout))

    def to_dict(self) -> JSON:
        # A list, not a mapping: the boxes keep the diagram's order through JSON written with sorted keys.
        return {"boxes": json_value(self.boxes), "records_behind_boxes": json_value(self.records_behind_boxes),
                "layout": json_value(self.layout)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrismaResult:
        return cls(tuple(PrismaBox.from_dict(b) for b in data["boxes"]),
                   {key: tuple(RecordEntry.from_dict(e) for e in entries)
                    for key, entries in data["records_behind_boxes"].items()},
                   dict(data["layout"]))


@dataclass(frozen=True)
class AppraisedStudy(_Flat):
    """One report's answers to the items of one tool (in item order, "" where not answered), and the overall."""

    study_id: str
    label: str
    answers: tuple[str, ...]
    overall: str


@dataclass(frozen=True)
class Judgement:
    """The reviewer's overall judgement of one report by one tool, with the answers it rests on."""

    study_id: str
    label: str
    judgement: str
    rationale: str | None
    answers: tuple[Row, ...]  # {item, answer, justification}, sorted by item

    def to_dict(self) -> JSON:
        return {key: json_value(value) for key, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Judgement:
        return cls(data["study_id"], data["label"], data["judgement"], data["rationale"],
                   tuple(dict(a) for a in data["answers"]))


@dataclass(frozen=True)
class ToolAppraisal:
    """The appraisal by one tool: each report's answers, the share of reports per answer, the judgements."""

    tool: str
    name: str
    items: tuple[Row, ...]  # {item, domain, question, short_label}
    studies: tuple[AppraisedStudy, ...]  # in the order the appraisal sheet first names them
    answer_shares: tuple[Mapping[str, float], ...]  # per item: answer -> share of the reports answering it
    overall_shares: Mapping[str, float]  # judgement -> share of the judged reports ({} when none is judged)
    judgements: tuple[Judgement, ...]  # sorted by study_id

    def to_dict(self) -> JSON:
        return {key: json_value(value) for key, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolAppraisal:
        return cls(data["tool"], data["name"], tuple(dict(i) for i in data["items"]),
                   tuple(AppraisedStudy.from_dict(s) for s in data["studies"]),
                   tuple(dict(s) for s in data["answer_shares"]), dict(data["overall_shares"]),
                   tuple(Judgement.from_dict(j) for j in data["judgements"]))


@dataclass(frozen=True)
class Unappraised(_Flat):
    """An included report whose risk of bias is not (fully) appraised (accepted as a warning), and what is missing."""

    study_id: str
    label: str
    missing: str


@dataclass(frozen=True)
class PatientCharacteristic:
    """One characteristic of Table 1: categories with their counts ("count"), or the median and range of a number
    ("median"); ``reported`` patients state it, ``not_reported`` do not (percentages are of the reported)."""

    column: str
    heading: str
    kind: str
    reported: int
    not_reported: int
    categories: tuple[tuple[str, int], ...] = ()
    median: float | None = None
    minimum: float | None = None
    maximum: float | None = None

    def to_dict(self) -> JSON:
        return {**self.__dict__, "categories": [list(c) for c in self.categories]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PatientCharacteristic:
        return cls(**{**data, "categories": tuple((c[0], c[1]) for c in data["categories"])})


@dataclass(frozen=True)
class CountedOnce(_Flat):
    """A patient of a duplicate report, left out of Table 1 because it is the patient of another report."""

    patient_id: str
    label: str
    same_as: str  # the counted patient ('' when the reports' patients could not be paired)
    same_as_label: str  # its label (or the primary report's, when not paired)


@dataclass(frozen=True)
class PatientCharacteristics:
    """Table 1: the included patients (each counted once), the reports they come from, their characteristics."""

    patients: int
    reports: int
    rows: tuple[PatientCharacteristic, ...]
    counted_once: tuple[CountedOnce, ...]

    def to_dict(self) -> JSON:
        return {key: json_value(value) for key, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PatientCharacteristics:
        return cls(data["patients"], data["reports"], tuple(PatientCharacteristic.from_dict(r) for r in data["rows"]),
                   tuple(CountedOnce.from_dict(c) for c in data["counted_once"]))


@dataclass(frozen=True)
class CitedReport(_Flat):
    """An entry of the reference list: an included report (its label and citation), or a full text excluded at
    eligibility (its citation from the records log and the reason)."""

    row_id: str  # study_id, or the record_id of an excluded full text
    label: str
    citation: str
    reason: str


@dataclass(frozen=True)
class ReviewResults:
    """Everything a run of the analysis plan found; results.json is its ``to_dict()``. ``review`` is the review
    file the data were validated with: the report's words (condition, clock, fields, response categories)."""

    review: Review
    settings: Mapping[str, Any]
    software: Mapping[str, str]
    high_risk_studies: tuple[str, ...]
    studies: tuple[Row, ...]  # every study row, with its label
    patients: tuple[Row, ...]  # every patient row (derived times included)
    treatments: tuple[Row, ...]  # every therapy course
    analyses: tuple[AnalysisResult, ...]
    quotes: Mapping[str, tuple[Quote, ...]]  # 'table/row_id' -> quotes of the rows the analyses use
    excluded_rows: tuple[ExcludedRow, ...]
    row_counts: Mapping[str, RowCount]
    duplicate_screen: DuplicateScreen
    duplicate_differences: tuple[DuplicatePair, ...]
    prisma: PrismaResult
    appraisal: tuple[ToolAppraisal, ...]
    dataset_warnings: tuple[str, ...] = ()
    unappraised: tuple[Unappraised, ...] = ()
    changes_since_release: ChangeLog = ChangeLog(None)
    format: int = RESULTS_FORMAT
    characteristics: PatientCharacteristics | None = None  # Table 1
    included_reports: tuple[CitedReport, ...] = ()  # the reference list
    excluded_reports: tuple[CitedReport, ...] = ()  # full texts excluded at eligibility, with reasons
    certainty: tuple[Certainty, ...] = ()  # the summary of findings: every main group with its certainty

    def to_dict(self) -> JSON:
        return {key: list(value) if key in ROW_FIELDS else json_value(value) for key, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewResults:
        return cls(**{key: FIELD_READERS[key](value) for key, value in data.items() if key in FIELD_READERS})


def _rows(rows: Any) -> tuple[Row, ...]:
    # The rows are held as read, not copied: a results.json of 100,000 patients has 300,000 of them.
    return tuple(rows)


# How each field of results.json becomes the typed field of ReviewResults: one place, used by from_dict and by
# the reader of results.json, which converts each field as soon as it is parsed (results_io.read_results). A
# field missing from the file (written before it existed) keeps ReviewResults' default; keys not listed here
# are ignored.
FIELD_READERS: dict[str, Callable[[Any], Any]] = {
    "review": Review.from_dict,
    "settings": dict, "software": dict,
    "high_risk_studies": tuple,
    "studies": _rows, "patients": _rows, "treatments": _rows,
    "analyses": lambda analyses: tuple(AnalysisResult.from_dict(a) for a in analyses),
    "quotes": lambda quotes: {key: tuple(Quote.from_dict(q) for q in rows) for key, rows in quotes.items()},
    "excluded_rows": lambda rows: tuple(ExcludedRow.from_dict(r) for r in rows),
    "row_counts": lambda counts: {table: RowCount.from_dict(c) for table, c in counts.items()},
    "duplicate_screen": DuplicateScreen.from_dict,
    "duplicate_differences": lambda pairs: tuple(DuplicatePair.from_dict(d) for d in pairs),
    "prisma": PrismaResult.from_dict,
    "appraisal": lambda tools: tuple(ToolAppraisal.from_dict(t) for t in tools),
    "dataset_warnings": tuple,
    "unappraised": lambda rows: tuple(Unappraised.from_dict(u) for u in rows),
    "changes_since_release": ChangeLog.from_dict,
    "format": lambda number: number,
    "characteristics": lambda table: PatientCharacteristics.from_dict(table) if table else None,
    "included_reports": lambda rows: tuple(CitedReport.from_dict(c) for c in rows),
    "excluded_reports": lambda rows: tuple(CitedReport.from_dict(c) for c in rows),
    "certainty": lambda rows: tuple(Certainty.from_dict(c) for c in rows),
}
