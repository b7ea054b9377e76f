"""The analysis plan: one small YAML file per analysis in ``analyses/``, like a registered protocol.

Each file states the outcome, the population, the grouping, the method and the sensitivity variants before
any number is seen. The files are validated against :data:`PLAN_SCHEMA` (also written as
``analyses/schema.json`` for editors), and the columns they name against the review's effective schema (its
own patient fields included); every problem names the file and the key. What a published figure describes is
said once, in the review file (``published_figures``), not per analysis.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from metacalc.errors import UserError

if TYPE_CHECKING:
    from metacalc.data.review_file import Review

RESPONSE_OUTCOMES = ("any_response", "complete_response")
TIME_OUTCOMES = ("years_to_onset", "years_to_diagnosis")
# Keys of earlier versions of the plan, and where what they said now goes.
MOVED_KEYS = {"reference_populations": "which patients a published figure describes is said in review.yaml, "
                                       "under published_figures (population)"}

# Keys a sensitivity variant may change; everything else is fixed by the main analysis.
_VARIANT_KEYS = ("outcome", "method", "include_series", "duplicates", "exclude_high_risk", "population")

_POPULATION = {
    "type": "object",
    "description": (
        "Patients to include: column of the patients or studies table -> allowed value (or list of values). "
        "Example: {sex: 'female'} or {design: ['case report', 'image']}."
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
        ]
    },
}

_SETTINGS = {
    "outcome": {
        "enum": list(RESPONSE_OUTCOMES + TIME_OUTCOMES),
        "description": (
            "any_response: a response category that counts as a response (review.yaml response.any_response); "
            "complete_response: one that counts as complete (courses whose response is unknown are left out of "
            "both); years_to_onset / years_to_diagnosis: the derived times of the patients table, from the start "
            "of the review's clock to onset or to diagnosis."
        ),
    },
    "method": {
        "enum": ["default", "auto", "exact", "glmm", "iv"],
        "description": (
            "Pooling of proportions. default: the workflow's configured method. auto: pooled count with an "
            "exact interval when every study has n = 1, binomial-normal GLMM when a series contributes. exact: "
            "pooled count x/N with Clopper-Pearson. glmm: random-intercept logistic model. iv: two-step "
            "inverse-variance on the configured measure."
        ),
    },
    "include_series": {
        "type": "boolean",
        "description": "Add the aggregate figures of case series (aggregates table) to the patients' own rows.",
    },
    "duplicates": {
        "enum": ["once", "twice"],
        "description": (
            "once: a report marked duplicate_of another is left out, so its patient counts once. twice: the "
            "duplicate report is counted as if it were a different patient (sensitivity analysis)."
        ),
    },
    "exclude_high_risk": {
        "type": "boolean",
        "description": "Leave out reports whose overall risk-of-bias judgement is high (appraisal_overall).",
    },
    "population": _POPULATION,
}

PLAN_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "metacalc-analysis-plan",
    "title": "One analysis of a metacalc review",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "outcome"],
    "properties": {
        "id": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$",
            "description": "Unique key of the analysis (lower case, digits, underscores); names its tables and figures.",
        },
        "title": {"type": "string", "minLength": 1, "description": "Title shown in the report."},
        "description": {"type": "string", "description": "What the analysis answers, in plain words."},
        "order": {"type": "integer", "description": "Position in the report (lower first); ties sort by id."},
        **_SETTINGS,
        "group_by": {
            "enum": ["drug", "drug_class", "none"],
            "description": "Response outcomes: one pooled estimate per drug, per drug class, or one overall.",
        },
        "subgroup_by": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$",
            "description": (
                "Time outcomes: summaries overall and per value of this patients column (sex, or an enumerated "
                "field of the review file)."
            ),
        },
        "compare_with": {
            "type": "array",
            "items": {"enum": list(TIME_OUTCOMES)},
            "description": (
                "Time outcomes: compare the patients' values with the review's published figures (review.yaml "
                "published_figures) that measure these outcomes; each only with the patients it describes."
            ),
        },
        "min_patients": {
            "type": "integer",
            "minimum": 1,
            "description": "Response outcomes: groups with fewer contributing patients are listed but not pooled.",
        },
        "sensitivity": {
            "type": "array",
            "description": "Variants of this analysis shown beside the main estimate; each changes a few settings.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "label": {
                        "type": "string",
                        "minLength": 1,
                        "description": (
                            "Heading of the variant in the report; default: said from its settings and the data "
                            "(e.g. 'With the case series (Smith 2012)', named by the series' own labels)."
                        ),
                    },
                    **_SETTINGS,
                },
            },
        },
    },
    "allOf": [
        {
            "if": {"properties": {"outcome": {"enum": list(TIME_OUTCOMES)}}},
            "then": {"not": {"anyOf": [{"required": ["group_by"]}, {"required": ["min_patients"]}]}},
        },
        {
            "if": {"properties": {"outcome": {"enum": list(RESPONSE_OUTCOMES)}}},
            "then": {"not": {"anyOf": [{"required": ["subgroup_by"]}, {"required": ["compare_with"]}]}},
        },
    ],
}

DEFAULTS = {
    "method": "default",
    "include_series": False,
    "duplicates": "once",
    "exclude_high_risk": False,
    "population": {},
    "group_by": "drug",
    "subgroup_by": None,
    "compare_with": [],
    "min_patients": 1,
    "description": "",
    "order": 100,
}


@dataclass(frozen=True)
class Settings:
    """The settings of one fit: the main analysis or one of its sensitivity variants."""

    outcome: str
    method: str
    include_series: bool
    duplicates: str
    exclude_high_risk: bool
    population: dict[str, tuple[str, ...]]

    @property
    def kind(self) -> Literal["proportion", "time"]:
        return "proportion" if self.outcome in RESPONSE_OUTCOMES else "time"

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "method": self.method,
            "include_series": self.include_series,
            "duplicates": self.duplicates,
            "exclude_high_risk": self.exclude_high_risk,
            "population": dict(sorted(self.population.items())),
        }


@dataclass(frozen=True)
class Variant:
    id: str
    label: str  # "" when the plan gives none: the analysis words it from the settings and the data
    settings: Settings


@dataclass(frozen=True)
class Analysis:
    """One analysis file, with defaults filled in."""

    id: str
    title: str
    description: str
    order: int
    source: str
    main: Settings
    group_by: str
    subgroup_by: str | None
    compare_with: tuple[str, ...]
    min_patients: int
    variants: tuple[Variant, ...] = field(default=())

    @property
    def kind(self) -> Literal["proportion", "time"]:
        return self.main.kind


def _location(error: Any) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    return path or "(top level)"


def _message(error: Any) -> str:
    """A jsonschema error in words a reviewer can act on."""
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"{error.message}; allowed keys: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"got {error.instance!r}, expected one of {', '.join(map(str, error.validator_value))}"
    return error.message


def _schema_problems(name: str, document: Any) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(PLAN_SCHEMA)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: (list(e.absolute_path), e.message)):
        if error.validator == "not":
            message = (
                "keys group_by/min_patients apply only to response outcomes, subgroup_by/compare_with only to "
                "time outcomes"
            )
        else:
            message = _message(error)
        problems.append(f"{name}:{_location(error)}: {message}")
    return problems


def _settings(values: dict[str, Any], base: Settings | None = None) -> Settings:
    merged = dict(base.to_dict()) if base else {}
    for key in _VARIANT_KEYS:
        if key in values:
            merged[key] = copy.deepcopy(values[key])
        elif key not in merged:
            merged[key] = copy.deepcopy(DEFAULTS[key])
    population = {
        key: (list(value) if isinstance(value, list) else [value]) for key, value in merged["population"].items()
    }
    return Settings(
        outcome=merged["outcome"],
        method=merged["method"],
        include_series=bool(merged["include_series"]),
        duplicates=merged["duplicates"],
        exclude_high_risk=bool(merged["exclude_high_risk"]),
        population={key: tuple(value) for key, value in sorted(population.items())},
    )


def _population_problems(name: str, where: str, settings: Settings, review: Review | None) -> list[str]:
    """A population filter names a column of the patients or studies table (the review's fields included)."""
    from metacalc.data.schema import load_schema

    from metacalc.data.sheets import closest

    schema = load_schema(review)
    columns = sorted({c.name for table in ("patients", "studies") for c in schema[table].columns})
    return [f"{name}:{where}.{column}: no such column in the patients or studies table (got {column}, expected "
            f"a column of either{closest(column, columns)})"
            for column in settings.population if column not in columns]


def _subgroup_problems(name: str, subgroup_by: str, review: Review | None) -> list[str]:
    """Subgroups are the values of an enumerated patients column: sex, or one of the review's fields."""
    from metacalc.data.schema import load_schema

    columns = [c.name for c in load_schema(review)["patients"].input_columns if c.type == "enum"]
    if subgroup_by in columns:
        return []
    return [f"{name}:subgroup_by: not an enumerated column of the patients table (got {subgroup_by}, expected one "
            f"of: {', '.join(columns)})"]


def parse_analysis(name: str, document: Any, review: Review | None = None) -> Analysis:
    """Validate one plan document (already parsed from YAML) against the effective schema of ``review`` (None:
    a review without a review file) and return an :class:`Analysis`."""
    if not isinstance(document, dict):
        raise UserError([f"{name}: expected a mapping of keys to values, got {type(document).__name__}"])
    moved = [f"{name}:{key}: not a key of the analysis plan any more (got {key}, expected none: {where})"
             for key, where in MOVED_KEYS.items() if key in document]
    if moved:
        raise UserError(moved)
    problems = _schema_problems(name, document)
    main = None if problems else _settings(document)
    if main is not None:
        for index, variant in enumerate(document.get("sensitivity", [])):
            changed = _settings(variant, base=main)
            if changed.kind != main.kind:
                problems.append(
                    f"{name}:sensitivity.{index}.outcome: a variant must keep the kind of outcome "
                    f"(got {changed.outcome!r} for a {main.kind} analysis)"
                )
        if document.get("subgroup_by"):
            problems.extend(_subgroup_problems(name, document["subgroup_by"], review))
        problems.extend(_population_problems(name, "population", main, review))
        for index, variant in enumerate(document.get("sensitivity", [])):
            if "population" in variant:
                problems.extend(_population_problems(name, f"sensitivity.{index}.population",
                                                     _settings(variant, main), review))
        ids = [variant["id"] for variant in document.get("sensitivity", [])]
        for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"{name}:sensitivity: variant id {duplicate!r} is used more than once")
    if problems:
        raise UserError(problems)
    assert main is not None  # the schema problems, the only way it stays None, were raised above
    values = {**DEFAULTS, **document}
    return Analysis(
        id=document["id"],
        title=document["title"],
        description=values["description"].strip(),
        order=int(values["order"]),
        source=name,
        main=main,
        group_by=values["group_by"] if main.kind == "proportion" else "none",
        subgroup_by=values["subgroup_by"],
        compare_with=tuple(values["compare_with"]),
        min_patients=int(values["min_patients"]),
        variants=tuple(
            Variant(id=v["id"], label=v.get("label", ""), settings=_settings(v, base=main))
            for v in document.get("sensitivity", [])
        ),
    )


def plan_files(directory: str) -> list[str]:
    """The plan's YAML files in a stable order (so outputs do not depend on directory listing order)."""
    if not os.path.isdir(directory):
        raise UserError([f"{directory}: analysis plan directory not found"])
    names = sorted(n for n in os.listdir(directory) if n.endswith((".yaml", ".yml")) and not n.startswith("."))
    return [os.path.join(directory, n) for n in names]


def load_plan(directory: str, review: Review | None = None) -> list[Analysis]:
    """Read and validate every ``*.yaml`` in ``directory`` against the effective schema of ``review``; raises
    UserError listing all problems at once."""
    import yaml

    analyses, problems = [], []
    files = plan_files(directory)
    if not files:
        raise UserError([f"{directory}: no analysis files (*.yaml) found"])
    for path in files:
        name = os.path.relpath(path)
        try:
            with open(path, encoding="utf-8") as handle:
                document = yaml.safe_load(handle)
        except UnicodeDecodeError as error:
            problems.append(f"{name}: not UTF-8 text ({error.reason} at byte {error.start})")
            continue
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f":{mark.line + 1}" if mark else ""
            problems.append(f"{name}{where}: not valid YAML ({getattr(error, 'problem', error)})")
            continue
        try:
            analyses.append(parse_analysis(name, document, review))
        except UserError as error:
            problems.extend(error.problems)
    seen: dict[str, str] = {}
    for analysis in analyses:
        if analysis.id in seen:
            problems.append(f"{analysis.source}:id: {analysis.id!r} is already used by {seen[analysis.id]}")
        seen.setdefault(analysis.id, analysis.source)
    if problems:
        raise UserError(problems)
    return sorted(analyses, key=lambda a: (a.order, a.id))


def schema_json() -> str:
    """The schema as written to ``analyses/schema.json`` (sorted keys, so the file is stable)."""
    return json.dumps(PLAN_SCHEMA, indent=2, sort_keys=True) + "\n"
