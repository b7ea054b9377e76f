"""Checking events out of totals, the data of every proportion model (pooled count, inverse variance, GLMM)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from metacalc.meta.errors import InvalidInput


def check_counts(events: Sequence[float] | np.ndarray, totals: Sequence[float] | np.ndarray,
                 labels: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Events and totals as integer arrays with study labels ("Study 1", ... by default).

    Every impossible study is listed in one :class:`InvalidInput`, each as "LABEL: what is wrong (got X of N)".
    """
    x = np.asarray(events, dtype=float).ravel()
    n = np.asarray(totals, dtype=float).ravel()
    if x.shape != n.shape:
        raise InvalidInput(f"events and totals differ in length ({x.size} and {n.size})")
    if x.size == 0:
        raise InvalidInput("no studies to pool")
    if labels is None:
        names = [f"Study {i + 1}" for i in range(x.size)]
    else:
        names = [str(label) for label in labels]
        if len(names) != x.size:
            raise InvalidInput(f"{len(names)} labels for {x.size} studies")
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(x) & np.isfinite(n)) | (x != np.round(x)) | (n != np.round(n)) | (n < 1) | (x < 0) | (x > n)
    if bad.any():
        raise InvalidInput([_problem(names[i], float(x[i]), float(n[i])) for i in np.flatnonzero(bad)])
    return x.astype(int), n.astype(int), names


def _problem(label: str, xi: float, ni: float) -> str:
    if not (math.isfinite(xi) and math.isfinite(ni)):
        return f"{label}: events and total must both be given (got {xi:g} of {ni:g})"
    if xi != round(xi) or ni != round(ni):
        return f"{label}: events and total must be whole numbers (got {xi:g} of {ni:g})"
    if ni < 1:
        return f"{label}: total must be at least 1 (got {ni:g})"
    return f"{label}: events must be between 0 and the total (got {xi:g} of {ni:g})"


def check_counts_many(events_list: Sequence[Sequence[float] | np.ndarray], totals_list: Sequence[Sequence[float] | np.ndarray],
                      labels_list: Sequence[Sequence[str] | None] | None = None
                      ) -> list[tuple[np.ndarray, np.ndarray, list[str]] | InvalidInput]:
    """:func:`check_counts` for many analyses, checked in one pass; an analysis with problems gets its
    :class:`InvalidInput` (the same one ``check_counts`` raises for it) in its place."""
    x_rows = [np.asarray(events, dtype=float).ravel() for events in events_list]
    n_rows = [np.asarray(totals, dtype=float).ravel() for totals in totals_list]
    labels_of = [None] * len(x_rows) if labels_list is None else list(labels_list)
    sound = [x.shape == n.shape and x.size > 0 and (labels is None or len(labels) == x.size)
             for x, n, labels in zip(x_rows, n_rows, labels_of)]
    kept = [i for i, ok in enumerate(sound) if ok]
    bad_rows: set[int] = set()
    if kept:
        x = np.concatenate([x_rows[i] for i in kept])
        n = np.concatenate([n_rows[i] for i in kept])
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(x) & np.isfinite(n)) | (x != np.round(x)) | (n != np.round(n)) | (n < 1) | (x < 0) | (
                x > n)
        if bad.any():
            starts = np.cumsum([0] + [x_rows[i].size for i in kept])
            bad_rows = {kept[j] for j in np.searchsorted(starts, np.flatnonzero(bad), side="right") - 1}
    out: list[tuple[np.ndarray, np.ndarray, list[str]] | InvalidInput] = []
    for i, (x_row, n_row, labels) in enumerate(zip(x_rows, n_rows, labels_of)):
        if not sound[i] or i in bad_rows:
            try:
                check_counts(x_row, n_row, labels)
            except InvalidInput as error:
                out.append(error)
                continue
        names = [f"Study {j + 1}" for j in range(x_row.size)] if labels is None else [str(v) for v in labels]
        out.append((x_row.astype(int), n_row.astype(int), names))
    return out
