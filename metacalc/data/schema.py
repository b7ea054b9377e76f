"""The extraction-sheet schema (schema.yaml) as Python objects.

One source of truth: loading, validation, the Excel template and the data dictionary all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

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
def load_schema() -> dict[str, TableSpec]:
    """Return {table name: TableSpec} in the order of schema.yaml."""
    import yaml

    text = resources.files("metacalc.data").joinpath("schema.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    tables = {}
    for name, spec in raw["tables"].items():
        columns = []
        for col in spec["columns"]:
            col = dict(col)
            if col["type"] not in TYPES:
                raise ValueError(f"schema.yaml: {name}.{col['name']}: unknown type {col['type']}")
            col["values"] = tuple(str(v) for v in col.get("values", ()))
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
