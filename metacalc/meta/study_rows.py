"""The study rows of a pooled result: one row per study with its own estimate, interval and weight.

A review's batch can hold thousands of studies, so the rows are kept as columns (:class:`StudyTable`) and turned
into JSON straight from them; reading a row gives a small frozen :class:`StudyProportion` or :class:`StudyMean`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, overload

import numpy as np

from metacalc.meta.errors import InvalidInput


def json_number(value: Any) -> float | None:
    """A float for JSON, or None when it is not finite (JSON has no NaN or infinity)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class StudyProportion:
    label: str
    events: int
    total: int
    estimate: float
    ci_lower: float
    ci_upper: float
    weight: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "events": int(self.events), "total": int(self.total),
                "estimate": json_number(self.estimate), "ci_lower": json_number(self.ci_lower),
                "ci_upper": json_number(self.ci_upper), "weight": json_number(self.weight)}


@dataclass(frozen=True)
class StudyMean:
    label: str
    n: float
    mean: float
    sd: float
    estimate: float
    ci_lower: float
    ci_upper: float
    weight: float | None

    def to_dict(self) -> dict[str, Any]:
        n = float(self.n)
        return {"label": self.label, "n": int(n) if n.is_integer() else n, "mean": json_number(self.mean),
                "sd": json_number(self.sd), "estimate": json_number(self.estimate),
                "ci_lower": json_number(self.ci_lower), "ci_upper": json_number(self.ci_upper),
                "weight": json_number(self.weight)}


def _json_column(values: np.ndarray, kind: str) -> list[Any]:
    """A column as JSON values: "int" as ints, "count" as int when whole, "float" with non-finite as None."""
    if kind == "int":
        return np.asarray(values, dtype=np.int64).tolist()
    numbers = np.asarray(values, dtype=float)
    out = numbers.tolist()
    if kind == "count":
        return [int(v) if v.is_integer() else v for v in out]
    finite = np.isfinite(numbers)
    if not finite.all():
        out = [v if ok else None for v, ok in zip(out, finite.tolist())]
    return out


class StudyTable(Sequence[Any]):
    """The study rows of a pooled result, kept as columns (one array per field of ``row_type``).

    It is a sequence of :class:`StudyProportion` or :class:`StudyMean` (built when read); ``to_dicts()`` gives
    their JSON form straight from the columns, which matters when a batch holds thousands of studies.
    A column that is ``None`` (weights of a GLMM) is None in every row.
    """

    _KINDS = {StudyProportion: {"events": "int", "total": "int"}, StudyMean: {"n": "count"}}

    def __init__(self, row_type: type, labels: Sequence[str], columns: Mapping[str, np.ndarray | None]):
        names = [f.name for f in fields(row_type)][1:]
        if set(columns) != set(names):
            raise InvalidInput(f"study columns {sorted(columns)} do not match {row_type.__name__}")
        self.row_type = row_type
        self.labels = tuple(labels)
        self.columns = {name: columns[name] for name in names}

    def __len__(self) -> int:
        return len(self.labels)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        kinds = self._KINDS[self.row_type]
        values: list[Any] = []
        for name, column in self.columns.items():
            if column is None:
                values.append(None)
            elif kinds.get(name) == "int":
                values.append(int(column[index]))
            else:
                values.append(float(column[index]))
        return self.row_type(self.labels[index], *values)

    def to_dicts(self) -> list[dict[str, Any]]:
        kinds = self._KINDS[self.row_type]
        columns: list[Sequence[Any]] = [self.labels]
        for name, column in self.columns.items():
            columns.append([None] * len(self) if column is None else _json_column(column, kinds.get(name, "float")))
        # dict displays with the keys written out: several times faster than dict(zip(keys, row)) per study
        if self.row_type is StudyProportion:
            return [{"label": label, "events": events, "total": total, "estimate": estimate, "ci_lower": lower,
                     "ci_upper": upper, "weight": weight}
                    for label, events, total, estimate, lower, upper, weight in zip(*columns)]
        return [{"label": label, "n": n, "mean": mean, "sd": sd, "estimate": estimate, "ci_lower": lower,
                 "ci_upper": upper, "weight": weight}
                for label, n, mean, sd, estimate, lower, upper, weight in zip(*columns)]


def proportion_table(events: np.ndarray, totals: np.ndarray, labels: Sequence[str], columns: Mapping[str, np.ndarray],
                     weights: np.ndarray | None) -> StudyTable:
    """Study rows of a pooled proportion: counts, ``columns`` (estimate, ci_lower, ci_upper) and weights."""
    return StudyTable(StudyProportion, labels, {"events": events, "total": totals, **columns, "weight": weights})
