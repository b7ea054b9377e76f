"""Results on disk: results.json (the typed results' JSON form), one CSV per analysis, the cumulative and
comparison tables, excluded_rows.csv and duplicate_pairs.csv (possible duplicate patients and their decisions).
Written atomically; the same results give the same bytes. results.json is written a piece at a time, so that a
large review's results are never held whole as JSON values or text (``results_json_pieces``)."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from metacalc.errors import UserError
from metacalc.files import atomic_path, write_atomic
from metacalc.review.document import FIELD_READERS, RESULTS_FORMAT, ROW_FIELDS, ReviewResults, json_value
from metacalc.review.results import AnalysisResult, ProportionGroup, TimeGroup

PROPORTION_COLUMNS = (
    "analysis", "variant", "group", "k", "patients", "events", "total", "method", "measure", "tau2_method",
    "estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "i2", "q", "q_pvalue", "reason", "not_pooled",
)
TIME_COLUMNS = (
    "analysis", "variant", "group", "n", "mean", "sd", "mean_ci_lower", "mean_ci_upper", "median", "q1", "q3",
    "min", "max", "median_ci_lower", "median_ci_upper", "pooled_estimate", "pooled_ci_lower", "pooled_ci_upper",
)
CUMULATIVE_COLUMNS = (
    "analysis", "group", "step", "added", "study_id", "year", "k", "events", "total", "method", "estimate",
    "ci_lower", "ci_upper",
)
COMPARISON_COLUMNS = (
    "analysis", "group", "reference", "reference_population", "reference_measure", "reference_mean", "measure", "n",
    "mean", "difference", "method", "ci_lower", "ci_upper", "pvalue", "note",
)
EXCLUDED_COLUMNS = ("table", "row_id", "study_id", "reason")
DUPLICATE_COLUMNS = ("patient", "study", "other_patient", "other_study", "score", "threshold", "decision", "reasons")


# Compact separators keep json's C encoder (indent would fall back to the pure-Python one: slow on a large
# review); sorted keys keep the bytes stable. The CSV tables are the human-readable form. ASCII-only (non-ASCII
# characters as \u escapes, the same JSON values): one character beyond Latin-1 anywhere in the file makes
# Python hold the whole decoded text at 2 bytes per character when it is read back (750 MB instead of 378 MB
# at 100,000 patients; the report job's peak 2,374 -> 2,134 MB, benchmarks/bench_results.md).
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=True, allow_nan=False)
# results.json is written a piece at a time: this many elements of a long array (or entries of a large object)
# per piece, and each analysis alone (an analysis of 30,000 patients is tens of MB as JSON).
PIECE = 1000
PIECES_OF_ONE = ("analyses",)


def dumps(document: Mapping[str, Any]) -> str:
    return _ENCODER.encode(document) + "\n"


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while results are turned into JSON values or back. The JSON values and
    the frozen records built here form no reference cycles, so its passes over the millions of new objects find
    nothing; at 10,000 patients they were about 40% of reading results.json and a quarter of writing it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _array_pieces(values: Sequence[Any], convert: Callable[[Any], Any], size: int) -> Iterator[str]:
    """The JSON text of the array ``values`` (each converted by ``convert``) in pieces of ``size`` elements:
    each piece is the encoder's text of its slice without the brackets, so that the pieces joined by commas are
    the text of the whole array."""
    yield "["
    for start in range(0, len(values), size):
        text = _ENCODER.encode([convert(value) for value in values[start:start + size]])
        yield ("," if start else "") + text[1:-1]
    yield "]"


def _object_pieces(entries: Mapping[str, Any], convert: Callable[[Any], Any], size: int) -> Iterator[str]:
    """The same for an object: its entries in sorted order (as sort_keys sorts them), ``size`` at a time."""
    keys = sorted(entries)
    yield "{"
    for start in range(0, len(keys), size):
        text = _ENCODER.encode({key: convert(entries[key]) for key in keys[start:start + size]})
        yield ("," if start else "") + text[1:-1]
    yield "}"


def results_json_pieces(results: ReviewResults, piece: int = PIECE) -> Iterator[str]:
    """results.json as text pieces whose concatenation is ``dumps(results.to_dict())``, byte for byte: the
    top-level fields in sorted order, each long array or large object converted and encoded ``piece`` elements
    at a time (each analysis alone), so that the whole document is never held as one tree or one string."""

    def as_it_is(value: Any) -> Any:
        return value  # a row: a dict of JSON values already (tuples of rows encode as arrays)

    fields = results.__dict__
    for number, key in enumerate(sorted(fields)):
        yield ("{" if number == 0 else ",") + _ENCODER.encode(key) + ":"
        value = fields[key]
        # The same conversion as ReviewResults.to_dict, an element at a time: rows are JSON already.
        convert = as_it_is if key in ROW_FIELDS else json_value
        size = 1 if key in PIECES_OF_ONE else piece
        if isinstance(value, (tuple, list)) and len(value) > size:
            yield from _array_pieces(value, convert, size)
        elif isinstance(value, dict) and len(value) > size:
            yield from _object_pieces(value, convert, size)
        else:
            yield _ENCODER.encode(convert(value))
    yield "}\n"


def write_results_json(results: ReviewResults, path: str | os.PathLike[str], piece: int = PIECE) -> None:
    """results.json written atomically a piece at a time (``results_json_pieces``), each piece encoded to UTF-8
    once as it is written."""
    with _no_cycle_collection(), atomic_path(path) as tmp, open(tmp, "wb") as handle:
        for text in results_json_pieces(results, piece):
            handle.write(text.encode("utf-8"))


def read_results(path: str | os.PathLike[str]) -> ReviewResults:
    """results.json as typed results, each top-level field converted as soon as it is parsed
    (``document.FIELD_READERS``), so that the JSON values of the whole file never exist at once: at 100,000
    patients they were a 1.6 GB tree beside the 378 MB text, and the typed results are built from them."""
    with _no_cycle_collection():
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except UnicodeDecodeError:
            raise UserError([f"{path}: not a metacalc results file (not UTF-8 text)"]) from None
        try:
            fields = dict(_top_level_fields(text))
        except (ValueError, LookupError, TypeError, AttributeError) as error:
            # Not JSON, not one object (json.JSONDecodeError is a ValueError), or a field its reader cannot read:
            # the file's own format number says whether another version of metacalc wrote it.
            raise UserError([_unreadable(path, text, error)]) from None
        if "analyses" not in fields or fields.get("format") != RESULTS_FORMAT:
            raise UserError([_unreadable(path, text, None)])
        return ReviewResults(**fields)


def _unreadable(path: str | os.PathLike[str], text: str, error: Exception | None) -> str:
    """Why results.json cannot be read: not a results file, another version's, or (``error``) a damaged one."""
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict) or "analyses" not in document:
        return f"{path}: not a metacalc results file (expected the results.json of `metacalc analyse`)"
    if document.get("format") != RESULTS_FORMAT:
        return (f"{path}: results written by another version of metacalc (got format {document.get('format')}, "
                f"expected {RESULTS_FORMAT}); run `metacalc analyse` again")
    return f"{path}: a damaged metacalc results file ({type(error).__name__}: {error}); run `metacalc analyse` again"


def _top_level_fields(text: str) -> Iterator[tuple[str, Any]]:
    """(key, typed value) of each field of the JSON object ``text``, parsed one field at a time with the C
    decoder (any valid JSON object reads, however it is spaced) and converted by its reader; keys that no reader
    knows are skipped. Raises ValueError when ``text`` is not one JSON object."""
    decoder = json.JSONDecoder()
    index = _after_space(text, 0)
    if text[index:index + 1] != "{":
        raise ValueError("not a JSON object")
    index = _after_space(text, index + 1)
    if text[index:index + 1] == "}":
        index += 1
    else:
        while True:
            key, index = decoder.raw_decode(text, index)
            index = _after_space(text, index)
            if not isinstance(key, str) or text[index:index + 1] != ":":
                raise ValueError("not a JSON object")
            value, index = decoder.raw_decode(text, _after_space(text, index + 1))
            reader = FIELD_READERS.get(key)
            if reader is not None:
                yield key, reader(value)
            del value  # its JSON values go once the field is typed
            index = _after_space(text, index)
            separator = text[index:index + 1]
            index += 1
            if separator == "}":
                break
            if separator != ",":
                raise ValueError("not a JSON object")
            index = _after_space(text, index)
    if _after_space(text, index) != len(text):
        raise ValueError("text after the JSON object")


_SPACE = re.compile(r"[ \t\n\r]*")


def _after_space(text: str, index: int) -> int:
    """The index of the first character at or after ``index`` that is not JSON whitespace."""
    match = _SPACE.match(text, index)
    return match.end() if match else index


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (list, tuple)):
        return ";".join(_cell(v) for v in value)
    return str(value)


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def _table_rows(analysis: AnalysisResult) -> list[dict[str, Any]]:
    variants = [("main", analysis.groups)] + [(v.id, v.groups) for v in analysis.sensitivity]
    rows = []
    for variant, groups in variants:
        for group in groups:
            row: dict[str, Any] = {"analysis": analysis.id, "variant": variant, "group": group.group}
            if isinstance(group, ProportionGroup):
                result = group.result.fields if group.result else {}
                row.update({key: result.get(key) for key in PROPORTION_COLUMNS if key in result})
                row.update({"k": group.k, "patients": group.patients, "events": group.events, "total": group.total,
                            "not_pooled": group.not_pooled})
            else:
                summary = group.summary.fields if group.summary else {}
                pooled = group.pooled.fields if group.pooled else {}
                row.update({key: summary.get(key) for key in ("n", "mean", "sd", "median", "q1", "q3", "min", "max")})
                row["mean_ci_lower"], row["mean_ci_upper"] = summary.get("mean_ci") or (None, None)
                row["median_ci_lower"], row["median_ci_upper"] = summary.get("median_ci") or (None, None)
                row["pooled_estimate"] = pooled.get("estimate")
                row["pooled_ci_lower"], row["pooled_ci_upper"] = pooled.get("ci_lower"), pooled.get("ci_upper")
            rows.append(row)
    return rows


def _cumulative_rows(analysis: AnalysisResult) -> list[dict[str, Any]]:
    return [{"analysis": analysis.id, "group": group.group, "step": number, **step.to_dict()}
            for group in analysis.groups if isinstance(group, ProportionGroup) and group.cumulative
            for number, step in enumerate(group.cumulative.steps, start=1)]


def _comparison_rows(analysis: AnalysisResult) -> list[dict[str, Any]]:
    rows = []
    for group in analysis.groups:
        if not isinstance(group, TimeGroup):
            continue
        for comparison in group.comparisons:
            reference = comparison.reference
            rows.append({
                "analysis": analysis.id, "group": group.group,
                "reference": f"{reference.label} ({reference.aggregate_id})",
                "reference_population": reference.population, "reference_mean": reference.mean,
                **{key: getattr(comparison, key) for key in ("reference_measure", "measure", "n", "mean", "difference",
                                                              "method", "ci_lower", "ci_upper", "pvalue")},
                "note": "; ".join(filter(None, [comparison.caveat, comparison.note])),
            })
    return rows


def write_results(results: ReviewResults, outdir: str) -> list[str]:
    """Write results.json, one CSV per analysis, the comparisons, excluded_rows.csv and duplicate_pairs.csv (atomically); returns
    the paths written."""
    written = []

    def write(name: str, text: str) -> None:
        path = os.path.join(outdir, name)
        write_atomic(path, text)
        written.append(path)

    for analysis in results.analyses:
        columns = PROPORTION_COLUMNS if analysis.kind == "proportion" else TIME_COLUMNS
        write(f"{analysis.id}.csv", csv_text(_table_rows(analysis), columns))
        if analysis.kind == "proportion":
            write(f"{analysis.id}_cumulative.csv", csv_text(_cumulative_rows(analysis), CUMULATIVE_COLUMNS))
        else:
            write(f"{analysis.id}_comparisons.csv", csv_text(_comparison_rows(analysis), COMPARISON_COLUMNS))
    write("excluded_rows.csv", csv_text((row.to_dict() for row in results.excluded_rows), EXCLUDED_COLUMNS))
    pairs = ({"patient": p.first, "study": p.first_study, "other_patient": p.second, "other_study": p.second_study,
              "score": p.score, "threshold": p.threshold, "decision": p.decision, "reasons": p.reasons}
             for p in results.duplicate_screen.pairs)
    write("duplicate_pairs.csv", csv_text(pairs, DUPLICATE_COLUMNS))
    path = os.path.join(outdir, "results.json")
    write_results_json(results, path)
    written.append(path)
    return written
