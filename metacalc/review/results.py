"""The results of one analysis as typed, frozen records: what the figures and the report read.

Each record has ``to_dict()`` (its form in results.json) and ``from_dict()``. The pooled models and the summaries
of values are the statistical core's own results in their JSON form (``to_dict()`` of the core's result
objects, a layout the core owns); ``PooledEstimate`` and ``ValuesSummary`` name the fields that are read here
and say which kind of estimate they hold, so that nothing downstream guesses it from the keys present.

Groups of a sensitivity variant carry numbers only (``detail=False``): no per-patient rows, no per-study rows
of the model (the main analysis has them), and only the series figures the variant adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from sys import intern
from typing import Any, Literal


def shared(ids: Iterable[str]) -> tuple[str, ...]:
    """Strings read from results.json, as one object per distinct value (``sys.intern``: C-level, a few tens
    of ns each). The same ids and labels are repeated in every group, contributor, quote and list of rows used:
    at 100,000 patients the typed results held 11.5 million str objects for 600,000 distinct values."""
    return tuple(map(intern, ids))


Kind = Literal["proportion", "time"]
JSON = dict[str, Any]


def _dicts(records: Any) -> list[JSON]:
    return [record.to_dict() for record in records]


def _optional(record: Any) -> JSON | None:
    return None if record is None else record.to_dict()


# ------------------------------------------------------------------------------------------ the core's results


@dataclass(frozen=True)
class PooledEstimate:
    """A pooled model as the core's result JSON gives it, with its kind: proportions, or means (measure MN)."""

    kind: Literal["proportion", "mean"]
    fields: Mapping[str, Any]

    def to_dict(self) -> JSON:
        return dict(self.fields)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, kind: Literal["proportion", "mean"]) -> PooledEstimate | None:
        return None if data is None else cls(kind, dict(data))

    def without_studies(self) -> PooledEstimate:
        return PooledEstimate(self.kind, {key: value for key, value in self.fields.items() if key != "studies"})

    @property
    def is_mean(self) -> bool:
        return self.kind == "mean"

    @property
    def estimate(self) -> float | None:
        return self.fields.get("estimate")

    @property
    def ci_lower(self) -> float | None:
        return self.fields.get("ci_lower")

    @property
    def ci_upper(self) -> float | None:
        return self.fields.get("ci_upper")

    @property
    def method(self) -> str | None:
        return self.fields.get("method")

    @property
    def reason(self) -> str | None:
        return self.fields.get("reason")

    @property
    def branch(self) -> str | None:
        """The auto rule's branch (None when a method was requested, or for means)."""
        return self.fields.get("branch")

    @property
    def estimand(self) -> str | None:
        """Which proportion the estimate is (the core's estimand names); None for means."""
        return self.fields.get("estimand")

    @property
    def lower_bound(self) -> bool:
        """The estimate is a lower bound: ``ci_lower`` is a one-sided lower limit and there is no upper limit."""
        return bool(self.fields.get("lower_bound"))

    @property
    def warnings(self) -> list[str]:
        return list(self.fields.get("warnings") or [])

    @property
    def k(self) -> int | None:
        return self.fields.get("k")

    @property
    def studies(self) -> list[Mapping[str, Any]]:
        return list(self.fields.get("studies") or [])


class FieldsView:
    """A record that is a JSON object with a known layout: its fields read as attributes (``summary.mean``)."""

    fields: Mapping[str, Any]

    def to_dict(self) -> JSON:
        return dict(self.fields)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class ValuesSummary(FieldsView):
    """Per-patient values summarised by the core by its time rule (``summarise_values(...).to_dict()``): n, mean,
    sd, median, q1, q3, min, max, level, mean_ci (None where the rule gives none), mean_ci_method, mean_ci_note,
    median_ci (None where no exact interval exists), median_ci_coverage, range_coverage, non_negative."""

    fields: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ValuesSummary | None:
        return None if data is None else cls(dict(data))


# ------------------------------------------------------------------------------------------ response


@dataclass(frozen=True)
class PatientResponse:
    """One patient of a report, once per therapy: a responder if any course of it helped."""

    patient_id: str
    responded: int
    courses: tuple[str, ...]

    def to_dict(self) -> JSON:
        return {"patient_id": self.patient_id, "responded": self.responded, "courses": list(self.courses)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PatientResponse:
        return cls(intern(data["patient_id"]), data["responded"], shared(data["courses"]))


@dataclass(frozen=True)
class Contributor:
    """One study of a pooled proportion: a report's patients (``kind`` "patients"), or a case series' figure."""

    kind: Literal["patients", "series"]
    study_id: str
    label: str
    events: int
    total: int
    patients: tuple[PatientResponse, ...] = ()  # kind "patients"
    population: str = ""  # kind "series", and the next two
    aggregate_ids: tuple[str, ...] = ()
    lower_bound: str = ""  # why the series' events are a lower bound ("" when they are the full count)

    @property
    def is_series(self) -> bool:
        return self.kind == "series"

    def to_dict(self) -> JSON:
        out: JSON = {"kind": self.kind, "study_id": self.study_id, "label": self.label, "events": self.events,
                     "total": self.total}
        if self.is_series:
            out.update(population=self.population, aggregate_ids=list(self.aggregate_ids),
                       lower_bound=self.lower_bound)
        else:
            out["patients"] = _dicts(self.patients)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contributor:
        if data["kind"] == "series":
            return cls("series", intern(data["study_id"]), intern(data["label"]), data["events"], data["total"],
                       population=data["population"], aggregate_ids=shared(data["aggregate_ids"]),
                       lower_bound=data["lower_bound"])
        return cls("patients", intern(data["study_id"]), intern(data["label"]), data["events"], data["total"],
                   patients=tuple(PatientResponse.from_dict(p) for p in data["patients"]))


@dataclass(frozen=True)
class CumulativeStep:
    added: str
    study_id: str
    year: int | float | None
    k: int
    events: int
    total: int
    method: str
    estimate: float | None
    ci_lower: float | None
    ci_upper: float | None
    lower_bound: bool = False  # a lower bound: ci_lower is one-sided, no upper limit

    def to_dict(self) -> JSON:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CumulativeStep:
        return cls(**data)


@dataclass(frozen=True)
class Cumulative:
    """Cumulative meta-analysis of one group, one step per report added (metafor's ``cumul``)."""

    steps: tuple[CumulativeStep, ...] = ()
    not_computed: str | None = None
    without_year: tuple[str, ...] = ()
    order: str = "year of publication"

    def to_dict(self) -> JSON:
        return {"order": self.order, "steps": _dicts(self.steps), "not_computed": self.not_computed,
                "without_year": list(self.without_year)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Cumulative | None:
        if data is None:
            return None
        return cls(tuple(CumulativeStep.from_dict(s) for s in data["steps"]), data["not_computed"],
                   tuple(data["without_year"]), data["order"])


@dataclass(frozen=True)
class LeaveOneOutStep:
    """The group's pooled estimate with one report left out (metafor's ``leave1out``), by the same method."""

    omitted: str  # the report's label
    study_id: str
    k: int
    events: int
    total: int
    method: str
    estimate: float | None
    ci_lower: float | None
    ci_upper: float | None
    lower_bound: bool = False

    def to_dict(self) -> JSON:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LeaveOneOut:
    """Leave-one-out analysis of one group of 3 or more reports: one step per report left out."""

    steps: tuple[LeaveOneOutStep, ...] = ()
    not_computed: str | None = None

    def to_dict(self) -> JSON:
        return {"steps": _dicts(self.steps), "not_computed": self.not_computed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> LeaveOneOut | None:
        if data is None:
            return None
        return cls(tuple(LeaveOneOutStep(**s) for s in data["steps"]), data["not_computed"])


@dataclass(frozen=True)
class ProportionGroup:
    """One pooled proportion (a therapy, a drug class or all therapies) with the studies behind it."""

    group: str
    k: int
    patients: int
    events: int
    total: int
    method_requested: str
    result: PooledEstimate | None
    not_pooled: str | None
    lower_bounds: tuple[str, ...]
    contributors: tuple[Contributor, ...]
    cumulative: Cumulative | None = None
    detail: bool = True
    leave_one_out: LeaveOneOut | None = None  # groups of 3 or more reports

    kind = "proportion"

    def to_dict(self) -> JSON:
        out: JSON = {"group": self.group, "k": self.k, "patients": self.patients, "events": self.events,
                     "total": self.total, "method_requested": self.method_requested,
                     "result": _optional(self.result), "not_pooled": self.not_pooled,
                     "lower_bounds": list(self.lower_bounds)}
        if self.detail:
            out.update(contributors=_dicts(self.contributors), cumulative=_optional(self.cumulative))
            if self.leave_one_out is not None:
                out["leave_one_out"] = self.leave_one_out.to_dict()
        elif self.contributors:
            out["contributors"] = _dicts(self.contributors)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], detail: bool = True) -> ProportionGroup:
        return cls(data["group"], data["k"], data["patients"], data["events"], data["total"],
                   data["method_requested"], PooledEstimate.from_dict(data["result"], "proportion"),
                   data["not_pooled"], tuple(data["lower_bounds"]),
                   tuple(Contributor.from_dict(c) for c in data.get("contributors", ())),
                   Cumulative.from_dict(data.get("cumulative")), detail,
                   LeaveOneOut.from_dict(data.get("leave_one_out")))

    def numbers_only(self) -> ProportionGroup:
        """The group as a sensitivity variant keeps it: the series figures it adds, no per-study rows."""
        result = None if self.result is None else self.result.without_studies()
        series = tuple(c for c in self.contributors if c.is_series)
        return ProportionGroup(self.group, self.k, self.patients, self.events, self.total, self.method_requested,
                               result, self.not_pooled, self.lower_bounds, series, None, detail=False)


# ------------------------------------------------------------------------------------------ time


@dataclass(frozen=True)
class Reference:
    """A published mean to compare with, and the group of patients it describes (by its population)."""

    aggregate_id: str
    study_id: str
    label: str
    population: str
    outcome: str
    n: int | float | None
    mean: float
    group: str
    sd: float | None = None  # published SD (with n, a Welch comparison is possible)

    def to_dict(self) -> JSON:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        return cls(**data)


TEST_FIELDS = ("t_statistic", "df", "se")


@dataclass(frozen=True)
class Comparison:
    """One published figure against the patients of its group, on one measure.

    ``method`` is "welch" (the figure's n and SD are known: ``tested``, with the difference's interval and p) or
    "descriptive" (the difference alone; ``note`` says why no test is made, e.g. the figure's SD is unknown).
    """

    reference: Reference
    group: str
    measure: str
    reference_measure: str
    same_measure: bool
    caveat: str
    patient_ids: tuple[str, ...]
    n: int
    interpretation: str
    mean: float | None = None
    median: float | None = None
    difference: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    pvalue: float | None = None
    method: str = "descriptive"
    note: str = ""
    tested: bool = False
    test: Mapping[str, Any] = field(default_factory=dict)  # Welch's t_statistic, df, se when tested

    def to_dict(self) -> JSON:
        out = {key: value for key, value in self.__dict__.items() if key not in ("test", "reference")}
        out["reference"] = self.reference.to_dict()
        out["patient_ids"] = list(self.patient_ids)
        if self.tested:
            out.update(self.test)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        values = {key: value for key, value in data.items() if key not in TEST_FIELDS}
        values["reference"] = Reference.from_dict(data["reference"])
        values["patient_ids"] = shared(data["patient_ids"])
        values["test"] = {key: data[key] for key in TEST_FIELDS if key in data}
        return cls(**values)


@dataclass(frozen=True)
class TimeContributor:
    """One patient's time, with how it was derived from the report."""

    patient_id: str
    study_id: str
    label: str
    value: float
    derivation: str
    subgroup: str  # the patient's value of the analysis' subgroup_by column ("" when none is set)

    def to_dict(self) -> JSON:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TimeContributor:
        return cls(intern(data["patient_id"]), intern(data["study_id"]), intern(data["label"]), data["value"],
                   intern(data["derivation"]), intern(data["subgroup"]))


@dataclass(frozen=True)
class SeriesMean:
    """A case series' mean and SD pooled with the patients (published, or estimated from the median)."""

    aggregate_id: str
    study_id: str
    n: int
    mean: float
    sd: float
    how: str
    label: str

    def to_dict(self) -> JSON:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeriesMean:
        return cls(**data)


@dataclass(frozen=True)
class TimeGroup:
    """Times of one group of patients (all, or a subgroup): summary, comparisons, pooled with series."""

    group: str
    patients: int
    summary: ValuesSummary | None
    comparisons: tuple[Comparison, ...]
    pooled: PooledEstimate | None
    not_pooled: str | None
    contributors: tuple[TimeContributor, ...] = ()
    pooled_series: tuple[SeriesMean, ...] | None = None  # the series pooled with, when pooled
    detail: bool = True

    kind = "time"

    def to_dict(self) -> JSON:
        out: JSON = {"group": self.group, "patients": self.patients, "summary": _optional(self.summary),
                     "comparisons": _dicts(self.comparisons), "pooled": _optional(self.pooled),
                     "not_pooled": self.not_pooled}
        if self.detail:
            out["contributors"] = _dicts(self.contributors)
            if self.pooled_series is not None:
                out["pooled_series"] = _dicts(self.pooled_series)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], detail: bool = True) -> TimeGroup:
        series = data.get("pooled_series")
        return cls(data["group"], data["patients"], ValuesSummary.from_dict(data["summary"]),
                   tuple(Comparison.from_dict(c) for c in data["comparisons"]),
                   PooledEstimate.from_dict(data["pooled"], "mean"), data["not_pooled"],
                   tuple(TimeContributor.from_dict(c) for c in data.get("contributors", ())),
                   None if series is None else tuple(SeriesMean.from_dict(s) for s in series), detail)

    def numbers_only(self) -> TimeGroup:
        pooled = None if self.pooled is None else self.pooled.without_studies()
        return TimeGroup(self.group, self.patients, self.summary, self.comparisons, pooled, self.not_pooled,
                         detail=False)


Group = ProportionGroup | TimeGroup


def group_from_dict(data: Mapping[str, Any], kind: Kind, detail: bool = True) -> Group:
    if kind == "proportion":
        return ProportionGroup.from_dict(data, detail)
    return TimeGroup.from_dict(data, detail)


# ------------------------------------------------------------------------------------------ sensitivity


@dataclass(frozen=True)
class Headline(FieldsView):
    """The few numbers of a group that the tables, the summary and the change log show."""

    kind: Kind
    fields: Mapping[str, Any]  # proportion: k, events, total, method, estimate, ci_lower, ci_upper, lower_bound;
    #                            time: n, mean, ci_lower, ci_upper, median, median_ci_lower, median_ci_upper,
    #                            min, max

    @classmethod
    def of_group(cls, group: Mapping[str, Any], kind: Kind) -> Headline:
        """From a group's JSON form (tolerant of missing keys: a history written by an older version)."""
        if kind == "proportion":
            result = group.get("result") or {}
            return cls(kind, {"k": group["k"], "events": group["events"], "total": group["total"],
                              **{key: result.get(key) for key in ("method", "estimate", "ci_lower", "ci_upper")},
                              "lower_bound": bool(result.get("lower_bound"))})
        summary = group.get("summary") or {}
        lower, upper = summary.get("mean_ci") or [None, None]
        median_lower, median_upper = summary.get("median_ci") or [None, None]
        return cls(kind, {"n": group["patients"], "mean": summary.get("mean"), "ci_lower": lower, "ci_upper": upper,
                          "median": summary.get("median"), "median_ci_lower": median_lower,
                          "median_ci_upper": median_upper, "min": summary.get("min"), "max": summary.get("max")})


@dataclass(frozen=True)
class VariantRow:
    """A group's main estimate beside a sensitivity variant's (None where the group is absent from one)."""

    group: str
    main: Headline | None
    variant: Headline | None
    notes: tuple[str, ...]

    def to_dict(self) -> JSON:
        return {"group": self.group, "main": _optional(self.main), "variant": _optional(self.variant),
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], kind: Kind) -> VariantRow:
        def headline(values: Mapping[str, Any] | None) -> Headline | None:
            return None if values is None else Headline(kind, dict(values))

        return cls(data["group"], headline(data["main"]), headline(data["variant"]), tuple(data["notes"]))


@dataclass(frozen=True)
class SensitivityVariant:
    id: str
    label: str
    settings: Mapping[str, Any]
    rows: tuple[VariantRow, ...]
    groups: tuple[Group, ...]

    def to_dict(self) -> JSON:
        return {"id": self.id, "label": self.label, "settings": dict(self.settings), "rows": _dicts(self.rows),
                "groups": _dicts(self.groups)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], kind: Kind) -> SensitivityVariant:
        return cls(data["id"], data["label"], dict(data["settings"]),
                   tuple(VariantRow.from_dict(r, kind) for r in data["rows"]),
                   tuple(group_from_dict(g, kind, detail=False) for g in data["groups"]))


# ------------------------------------------------------------------------------------------ one analysis


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis of the plan: its groups, the published figures it compares with, its variants."""

    id: str
    title: str
    description: str
    source: str
    kind: Kind
    outcome: str
    outcome_label: str
    group_by: str
    subgroup_by: str | None
    settings: Mapping[str, Any]
    groups: tuple[Group, ...]
    sensitivity: tuple[SensitivityVariant, ...]
    used: Mapping[str, tuple[str, ...]]
    references: tuple[Reference, ...] = ()  # time analyses only

    def to_dict(self) -> JSON:
        out: JSON = {"id": self.id, "title": self.title, "description": self.description, "source": self.source,
                     "kind": self.kind, "outcome": self.outcome, "outcome_label": self.outcome_label,
                     "group_by": self.group_by, "subgroup_by": self.subgroup_by, "settings": dict(self.settings),
                     "groups": _dicts(self.groups), "sensitivity": _dicts(self.sensitivity),
                     "used": {table: list(ids) for table, ids in self.used.items()}}
        if self.kind == "time":
            out["references"] = _dicts(self.references)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalysisResult:
        kind = data["kind"]
        return cls(data["id"], data["title"], data["description"], data["source"], kind, data["outcome"],
                   data["outcome_label"], data["group_by"], data["subgroup_by"], dict(data["settings"]),
                   tuple(group_from_dict(g, kind) for g in data["groups"]),
                   tuple(SensitivityVariant.from_dict(v, kind) for v in data["sensitivity"]),
                   {table: shared(ids) for table, ids in data["used"].items()},
                   tuple(Reference.from_dict(r) for r in data.get("references", ())))
