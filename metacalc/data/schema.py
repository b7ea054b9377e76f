"""The extraction-sheet schema as Python objects: the generic base (schema.yaml) and a review's effective schema.

The effective schema of a review is the base with the review's words in the descriptions, its own patient
columns (review.yaml ``patient_fields``), its response categories as the values of ``treatments.response``
and of the series counts in ``aggregates.outcome``. One source of truth: loading, validation, the Excel
template, the data dictionary and ``metacalc init`` all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metacalc.data.review_file import Review

TYPES = ("text", "integer", "number", "enum")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    description: str
    required: bool = False
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    references: str | None = None
    provenance: bool = True
    derived: bool = False
    unit: str | None = None
    label: str = ""

    @property
    def pandas_dtype(self) -> str:
        # Nullable integers keep whole numbers whole; numbers stay plain float64 (NaN = unknown) so the
        # statistical core can take them straight to numpy; text is pandas' own string dtype.
        return {"integer": "Int64", "number": "float64"}.get(self.type, "str")

    @property
    def expected(self) -> str:
        """What a valid value looks like, for the `expected ...` part of messages."""
        if self.type == "enum":
            return "one of: " + ", ".join(self.values)
        if self.type == "integer":
            return "a whole number"
        if self.type == "number":
            return "a number"
        return "text"


@dataclass(frozen=True)
class RowCheck:
    column: str
    uses: tuple[str, ...]
    test: str
    message: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    required: bool
    id: str | None
    quoted: bool
    columns: tuple[ColumnSpec, ...]
    checks: tuple[RowCheck, ...] = ()
    unique_together: tuple[str, ...] = ()
    by_name: dict[str, ColumnSpec] = field(default_factory=dict, compare=False, repr=False)

    @property
    def input_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if not c.derived)

    @property
    def derived_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.derived)

    def column(self, name: str) -> ColumnSpec:
        return self.by_name[name]


@lru_cache(maxsize=1)
def _base_document() -> dict[str, Any]:
    import yaml

    text = resources.files("metacalc.data").joinpath("schema.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_schema(review: Review | None = None) -> dict[str, TableSpec]:
    """Return {table name: TableSpec} in the order of schema.yaml: the effective schema of ``review`` (None: of
    a review without a review file)."""
    from metacalc.data.review_file import default_review

    return _effective_schema(review if review is not None else default_review())


@lru_cache(maxsize=16)
def _effective_schema(review: Review) -> dict[str, TableSpec]:
    response = review.response
    words = {**review.words, "any_response": " or ".join(response.any_response),
             "complete_response": " or ".join(response.complete_response),
             "not_assessed": " or ".join(response.not_assessed) or "never",
             "series_outcomes": ", ".join(c.aggregate_outcome for c in response.assessed)}
    tables = {}
    for name, spec in _base_document()["tables"].items():
        columns: list[ColumnSpec] = []
        for col in spec["columns"]:
            col = dict(col)
            if col["type"] not in TYPES:
                raise ValueError(f"schema.yaml: {name}.{col['name']}: unknown type {col['type']}")
            col["values"] = tuple(str(v) for v in col.get("values", ()))
            col["description"] = col["description"].format_map(words)
            if (name, col["name"]) == ("treatments", "response"):
                col["values"] = response.names
                col["description"] = "; ".join(f"{c.name}: {c.meaning}" for c in response.categories) + "."
            if (name, col["name"]) == ("aggregates", "outcome"):
                col["values"] = tuple(c.aggregate_outcome for c in response.assessed) + col["values"]
            if (name, col["name"]) == ("patients", "notes"):
                columns.extend(_field_column(f) for f in review.patient_fields)
            columns.append(ColumnSpec(**col))
        checks = tuple(
            RowCheck(c["column"], tuple(c["uses"]), c["test"], c["message"]) for c in spec.get("checks", ())
        )
        for check in checks:
            if check.test.count("<=") != 1:
                raise ValueError(f"schema.yaml: {name}: a check must read 'a <= b' (got {check.test!r})")
        tables[name] = TableSpec(
            name=name,
            description=spec["description"],
            required=bool(spec.get("required", False)),
            id=spec.get("id"),
            quoted=bool(spec.get("quoted", False)),
            columns=tuple(columns),
            checks=checks,
            unique_together=tuple(spec.get("unique_together", ())),
            by_name={c.name: c for c in columns},
        )
    return tables


def _field_column(field: Any) -> ColumnSpec:
    """A review's patient field as a column of the patients table (an extracted fact: it needs a quote)."""
    unit = f" Unit: {field.unit}." if field.unit else ""
    return ColumnSpec(name=field.name, type=field.type, description=field.description + unit, values=field.values,
                      min=field.min, max=field.max, unit=field.unit, label=field.heading)
