"""The review file (``review.yaml`` at the root of a review folder): what is specific to one review.

It names the condition and the underlying disease, the time-to-onset clock (the event that starts it, the
events that end it), the review's own patient columns, the response categories, the published figures the
patients are compared with, the review's additions to the therapy vocabulary and how an unfinished appraisal
is treated. Everything else (the core tables, their rules, the analyses) is generic: a review of another
condition changes this file, never the package.

The file is validated against ``review.schema.yaml`` (shipped with the package) and by the rules below, with
every problem located ``review.yaml:KEY.PATH: what is wrong (got X, expected Y)``. Without a review file
(``default_review()``) the words are neutral and the categories the default ones.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from metacalc.errors import UserError

REVIEW_FILE = "review.yaml"
BASE_PATIENT_COLUMNS = ("patient_id", "study_id", "age_at_presentation", "sex", "start_year",
                        "start_years_before_presentation", "onset_year", "onset_years_after_start",
                        "onset_years_before_presentation", "diagnosis_year", "diagnosis_years_after_start",
                        "presentation_year", "onset_before_start", "notes", "years_to_onset",
                        "years_to_onset_derivation", "years_to_diagnosis", "years_to_diagnosis_derivation")
TIME_MEASURES = ("years_to_onset", "years_to_diagnosis")
ALL_PATIENTS = "all patients"
SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Named:
    """A condition or a disease in words, and its short name."""

    name: str
    short: str


@dataclass(frozen=True)
class Clock:
    """The events of the time-to-onset clock, in words (long, and short for labels)."""

    start: str
    onset: str
    diagnosis: str
    start_short: str
    onset_short: str = "onset"
    diagnosis_short: str = "diagnosis"


@dataclass(frozen=True)
class PatientField:
    """A review-specific column of the patients table."""

    name: str
    type: str
    description: str
    values: tuple[str, ...] = ()
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    label: str = ""
    show: bool = True

    @property
    def heading(self) -> str:
        """How the report names the column (its label, else the name spaced)."""
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class ResponseCategory:
    name: str
    meaning: str
    counted: str  # how a count of such patients is named: "partial responses"

    @property
    def aggregate_outcome(self) -> str:
        """The aggregates.outcome of a series' count in this category: response_<name>."""
        return "response_" + re.sub(r"[^a-z0-9]+", "_", self.name).strip("_")


DEFAULT_CATEGORIES = (
    ResponseCategory("complete", "resolved", "complete responses"),
    ResponseCategory("partial", "improved", "partial responses"),
    ResponseCategory("none", "stable or worse", "no responses"),
    ResponseCategory("not reported", "the report does not say", "responses not reported"),
)


@dataclass(frozen=True)
class Responses:
    """The response categories and which of them count as a response, as a complete one, or as unknown."""

    categories: tuple[ResponseCategory, ...] = DEFAULT_CATEGORIES
    any_response: tuple[str, ...] = ("complete", "partial")
    complete_response: tuple[str, ...] = ("complete",)
    not_assessed: tuple[str, ...] = ("not reported",)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    def flag(self, outcome: str, category: str) -> int | None:
        """1 or 0 for a course in ``category`` on ``outcome`` (any_response, complete_response); None when unknown."""
        if category in self.not_assessed or category not in self.names:
            return None
        return int(category in getattr(self, outcome))

    def series_outcomes(self, outcome: str) -> tuple[str, ...]:
        """The aggregates outcomes whose counts are events of ``outcome``."""
        return tuple(c.aggregate_outcome for c in self.categories if c.name in getattr(self, outcome))

    @property
    def assessed(self) -> tuple[ResponseCategory, ...]:
        return tuple(c for c in self.categories if c.name not in self.not_assessed)

    def counted(self, aggregate_outcome: str) -> str:
        """How a series' count of one outcome is named ("partial responses")."""
        return next((c.counted for c in self.categories if c.aggregate_outcome == aggregate_outcome),
                    aggregate_outcome.replace("_", " "))


@dataclass(frozen=True)
class PublishedFigure:
    """What a published figure (a row of aggregates) means: which patients it describes, what it measures."""

    aggregate: str
    population: tuple[tuple[str, tuple[str, ...]], ...] = ()  # () = all patients
    measure: str | None = None

    @property
    def describes_all(self) -> bool:
        return not self.population


@dataclass(frozen=True)
class Review:
    """A review file, validated; ``source`` is the file it was read from ("" for the default review)."""

    title: str
    condition: Named
    disease: Named
    clock: Clock
    patient_fields: tuple[PatientField, ...] = ()
    response: Responses = field(default_factory=Responses)
    published_figures: tuple[PublishedFigure, ...] = ()
    vocabulary: tuple[tuple[str, str, str], ...] = ()  # (name, drug, drug_class)
    incomplete_appraisal: str = "error"
    source: str = field(default="", compare=False)

    @property
    def words(self) -> dict[str, str]:
        """The review's words, for the templates of the schema's descriptions and the derivations."""
        clock = self.clock
        return {"start": clock.start, "onset": clock.onset, "diagnosis": clock.diagnosis,
                "start_short": clock.start_short, "onset_short": clock.onset_short,
                "diagnosis_short": clock.diagnosis_short, "condition": self.condition.name,
                "condition_short": self.condition.short, "disease": self.disease.name,
                "disease_short": self.disease.short}

    def field_named(self, name: str) -> PatientField | None:
        return next((f for f in self.patient_fields if f.name == name), None)

    def figure_of(self, aggregate_id: str) -> PublishedFigure | None:
        return next((f for f in self.published_figures if f.aggregate == aggregate_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in dataset.json and results.json (what the figures and the report read)."""
        return {
            "title": self.title,
            "condition": {"name": self.condition.name, "short": self.condition.short},
            "disease": {"name": self.disease.name, "short": self.disease.short},
            "clock": dict(self.clock.__dict__),
            "patient_fields": [{**f.__dict__, "values": list(f.values)} for f in self.patient_fields],
            "response": {"categories": [dict(c.__dict__) for c in self.response.categories],
                         "any_response": list(self.response.any_response),
                         "complete_response": list(self.response.complete_response),
                         "not_assessed": list(self.response.not_assessed)},
            "published_figures": [{"aggregate": f.aggregate, "population": _population_dict(f.population),
                                   "measure": f.measure} for f in self.published_figures],
            "vocabulary": [{"name": n, "drug": d, "drug_class": c} for n, d, c in self.vocabulary],
            "appraisal": {"incomplete": self.incomplete_appraisal},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "") -> Review:
        response = data["response"]
        return cls(
            title=data["title"], condition=Named(**data["condition"]), disease=Named(**data["disease"]),
            clock=Clock(**data["clock"]),
            patient_fields=tuple(PatientField(**{**f, "values": tuple(f["values"])}) for f in data["patient_fields"]),
            response=Responses(tuple(ResponseCategory(**c) for c in response["categories"]),
                               tuple(response["any_response"]), tuple(response["complete_response"]),
                               tuple(response["not_assessed"])),
            published_figures=tuple(PublishedFigure(f["aggregate"], _population(f["population"]), f["measure"])
                                    for f in data["published_figures"]),
            vocabulary=tuple((v["name"], v["drug"], v["drug_class"]) for v in data["vocabulary"]),
            incomplete_appraisal=data["appraisal"]["incomplete"], source=source)


def default_review() -> Review:
    """The review of sheets without a review file: neutral words, the default response categories."""
    return Review(title="Pooled case reports", condition=Named("the condition", "the condition"),
                  disease=Named("the underlying disease", "the underlying disease"),
                  clock=Clock("diagnosis of the underlying disease", "onset of the condition",
                              "diagnosis of the condition", "diagnosis"))


def _population(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if value == ALL_PATIENTS or not value:
        return ()
    return tuple(sorted((column, tuple(allowed) if isinstance(allowed, list) else (allowed,))
                        for column, allowed in value.items()))


def _population_dict(population: tuple[tuple[str, tuple[str, ...]], ...]) -> Any:
    return {column: list(allowed) for column, allowed in population} if population else ALL_PATIENTS


# ---------------------------------------------------------------------------------------------- reading


@lru_cache(maxsize=1)
def review_schema() -> dict[str, Any]:
    import yaml

    text = resources.files("metacalc.data").joinpath("review.schema.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def find_review(folder: str | os.PathLike[str]) -> str | None:
    """The review file of a folder, or None when it has none."""
    path = os.path.join(os.fspath(folder), REVIEW_FILE)
    return path if os.path.isfile(path) else None


def load_review(path: str | os.PathLike[str] | None) -> Review:
    """Read and validate a review file (None: the default review); raises UserError listing every problem."""
    import yaml

    if path is None:
        return default_review()
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise UserError([f"{name}: review file not found (expected {REVIEW_FILE} at the root of the review "
                         "folder; `metacalc init DIR` writes one)"])
    try:
        with open(name, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except UnicodeDecodeError as error:
        raise UserError([f"{name}: not UTF-8 text (got byte 0x{error.object[error.start]:02X} at byte "
                         f"{error.start}, expected UTF-8)"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise UserError([f"{name}{where}: not valid YAML (got {getattr(error, 'problem', error)}, expected "
                         "key: value lines; quote a value that holds a colon)"]) from None
    return parse_review(document, name)


def parse_review(document: Any, name: str = REVIEW_FILE) -> Review:
    """A review file's content (parsed YAML) as a ``Review``; raises UserError listing every problem."""
    import jsonschema

    if not isinstance(document, dict):
        raise UserError([f"{name}: not a review file (got {type(document).__name__}, expected a mapping of keys "
                         "such as title, condition, disease, clock)"])
    validator = jsonschema.Draft202012Validator(review_schema())
    problems = [f"{name}:{_where(error)}: {_message(error)}"
                for error in sorted(validator.iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)),
                                                                                      e.message))]
    if problems:
        raise UserError(problems)
    review = _review(document, name)
    problems = [f"{name}:{where}: {text}" for where, text in _rules(review)]
    if problems:
        raise UserError(problems)
    return review


def _where(error: Any) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        path += missing[:1]
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        path += extra[:1]
    return ".".join(path) or "(top level)"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (dict, list)):
        return type(value).__name__ if value else f"an empty {type(value).__name__}"
    return "blank" if value is None else str(value)


def _message(error: Any) -> str:
    """A jsonschema error in the words of the project's messages: what is wrong (got X, expected Y)."""
    schema, instance = error.schema, error.instance
    if error.validator == "required":
        key = re.findall(r"'([^']+)' is a required property", error.message)[0]
        described = schema.get("properties", {}).get(key, {}).get("description", "").strip().rstrip(".")
        described = described[:1].lower() + described[1:]
        return f"required key missing (got no {key}, expected {described or 'a value'})"
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(instance) - set(allowed))[0]
        close = difflib.get_close_matches(extra, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown key (got {extra}, expected one of: {', '.join(allowed)}{hint})"
    if error.validator == "enum":
        return f"not an allowed value (got {_shown(instance)}, expected one of: {', '.join(map(str, schema['enum']))})"
    if error.validator == "type":
        expected = {"string": "text", "array": "a list", "object": "a mapping", "number": "a number",
                    "boolean": "true or false", "integer": "a whole number"}.get(schema["type"], schema["type"])
        return f"wrong kind of value (got {_shown(instance)}, expected {expected})"
    if error.validator in ("minLength", "pattern") and isinstance(instance, str):
        if not instance.strip():
            return "blank (got an empty text, expected words)"
        if schema.get("pattern", "").startswith("^[a-z]"):
            return f"not a column name (got {_shown(instance)}, expected lower case letters, digits and underscores)"
        return f"not an allowed spelling (got {_shown(instance)}, expected lower case text)"
    if error.validator in ("minItems", "minProperties"):
        return f"empty (got {_shown(instance)}, expected at least one entry)"
    if error.validator in ("oneOf", "const"):
        if error.absolute_path and error.absolute_path[-1] == "population":
            return (f"not a population (got {_shown(instance)}, expected \"all patients\" or a filter of column: "
                    "value such as {sex: \"female\"})")
        return f"not an allowed value (got {_shown(instance)}, expected text or a list of text)"
    return error.message


def _review(document: dict[str, Any], name: str) -> Review:
    def named(value: dict[str, str]) -> Named:
        return Named(value["name"].strip(), value.get("short", value["name"]).strip())

    clock = document["clock"]
    response = document.get("response")
    responses = Responses() if response is None else Responses(
        tuple(ResponseCategory(c["name"], c["meaning"], c.get("counted", f"'{c['name']}' responses"))
              for c in response["categories"]),
        tuple(response["any_response"]), tuple(response["complete_response"]), tuple(response.get("not_assessed", ())))
    return Review(
        title=document["title"].strip(), condition=named(document["condition"]), disease=named(document["disease"]),
        clock=Clock(clock["start"], clock["onset"], clock["diagnosis"], clock.get("start_short", clock["start"]),
                    clock.get("onset_short", "onset"), clock.get("diagnosis_short", "diagnosis")),
        patient_fields=tuple(PatientField(f["name"], f["type"], f["description"], tuple(f.get("values", ())),
                                          f.get("unit"), f.get("min"), f.get("max"), f.get("label", ""),
                                          f.get("show", True)) for f in document.get("patient_fields", ())),
        response=responses,
        published_figures=tuple(PublishedFigure(f["aggregate"], _population(f["population"]), f.get("measure"))
                                for f in document.get("published_figures", ())),
        vocabulary=tuple((v["name"], v["drug"], v["drug_class"]) for v in document.get("vocabulary", ())),
        incomplete_appraisal=document.get("appraisal", {}).get("incomplete", "error"), source=name)


def _rules(review: Review) -> list[tuple[str, str]]:
    """The rules a schema cannot state: names that clash, enums with values, response sets of the categories."""
    problems = []
    seen: dict[str, int] = {}
    for index, f in enumerate(review.patient_fields):
        where = f"patient_fields.{index}"
        if f.name in BASE_PATIENT_COLUMNS:
            problems.append((f"{where}.name", f"a column of every review (got {f.name}, expected a name that is not "
                                              f"one of: {', '.join(BASE_PATIENT_COLUMNS)})"))
        if f.name in seen:
            problems.append((f"{where}.name", f"declared twice (got {f.name} again, expected each field once; first "
                                              f"at patient_fields.{seen[f.name]})"))
        seen.setdefault(f.name, index)
        if f.type == "enum" and not f.values:
            problems.append((f"{where}.values", "values missing for an enum (got none, expected the allowed values, "
                                                "e.g. [\"yes\", \"no\"])"))
        if f.type != "enum" and f.values:
            problems.append((f"{where}.values", f"values given for a {f.type} field (got {len(f.values)} values, "
                                                "expected type enum, or no values)"))
        if f.type not in ("integer", "number") and (f.min is not None or f.max is not None or f.unit):
            key = "unit" if f.unit else ("min" if f.min is not None else "max")
            problems.append((f"{where}.{key}", f"{key} of a {f.type} field (got {key}, expected type number or "
                                               "integer)"))
        if f.min is not None and f.max is not None and f.min > f.max:
            problems.append((f"{where}.max", f"below min (got max {f.max:g}, min {f.min:g}, expected min <= max)"))
    problems.extend(_response_rules(review.response))
    for index, figure in enumerate(review.published_figures):
        repeated = [i for i, other in enumerate(review.published_figures[:index]) if other.aggregate == figure.aggregate]
        if repeated:
            problems.append((f"published_figures.{index}.aggregate",
                             f"described twice (got {figure.aggregate} again, expected each figure once; first at "
                             f"published_figures.{repeated[0]})"))
    names = [n.lower() for n, _, _ in review.vocabulary]
    for index, name in enumerate(names):
        if name in names[:index]:
            problems.append((f"vocabulary.{index}.name", f"listed twice (got \"{review.vocabulary[index][0]}\" again, "
                                                         f"expected each name once; first at vocabulary."
                                                         f"{names.index(name)})"))
    return problems


def _response_rules(response: Responses) -> list[tuple[str, str]]:
    problems = []
    names = list(response.names)
    for index, name in enumerate(names):
        if name in names[:index]:
            problems.append((f"response.categories.{index}.name", f"listed twice (got \"{name}\" again, expected "
                                                                  "each category once)"))
    outcomes = [c.aggregate_outcome for c in response.categories]
    for index, outcome in enumerate(outcomes):
        if outcome in outcomes[:index] and names[index] not in names[:index]:
            problems.append((f"response.categories.{index}.name",
                             f"same aggregates outcome as another category (got \"{names[index]}\", which like "
                             f"\"{names[outcomes.index(outcome)]}\" is {outcome}, expected names that differ in "
                             "letters or digits)"))
    for key in ("any_response", "complete_response", "not_assessed"):
        for index, name in enumerate(getattr(response, key)):
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]}?" if close else ""
                problems.append((f"response.{key}.{index}", f"not a category (got \"{name}\", expected one of: "
                                                            f"{', '.join(names)}{hint})"))
    for index, name in enumerate(response.complete_response):
        if name in names and name not in response.any_response:
            problems.append((f"response.complete_response.{index}",
                             f"a complete response that is not a response (got \"{name}\", expected one of "
                             f"any_response: {', '.join(response.any_response)})"))
    for index, name in enumerate(response.not_assessed):
        if name in response.any_response:
            problems.append((f"response.not_assessed.{index}",
                             f"both a response and unknown (got \"{name}\", expected a category that is not in "
                             "any_response)"))
    if names and not [n for n in names if n not in response.any_response and n not in response.not_assessed]:
        problems.append(("response.any_response", "every assessed category is a response (got no category for "
                                                  "patients who did not respond, expected at least one)"))
    return problems
