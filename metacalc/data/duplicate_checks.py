"""Checks on the reviewer's duplicate decisions, for validation: ``studies.duplicate_of`` without cycles or
chains, and ``duplicate_decisions`` rows that can stand. (Undecided likely pairs, which ``validate --strict``
refuses, come from the scoring: ``metacalc.review.patient_duplicates.undecided_problems``.)

Pure functions on plain rows (dicts); each returns ``Problem`` objects located by file, row and column. Row
numbers are the spreadsheet rows of the rows given (header = 1), by default their position + 2.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from metacalc.data.problems import Problem
from metacalc.data.record_matching import cell_text

def report_roots(study: Mapping[str, Mapping]) -> dict[str, str]:
    """study_id -> the report its duplicate_of chain ends at: the report kept for the patient. ``study`` maps
    study_id -> its row. A chain ends where it names a report that is no duplicate (or an unknown one); a
    cycle, which ``check_duplicate_of`` refuses, ends at its smallest id, so that every report still has one."""
    pointer = {s: target for s, row in study.items() if (target := cell_text(row.get("duplicate_of")))}
    roots = {}
    for start in study:
        seen, current = [start], start
        while current in pointer and pointer[current] in study and pointer[current] not in seen:
            current = pointer[current]
            seen.append(current)
        if current in pointer and pointer[current] in seen:  # a cycle
            roots[start] = min(seen[seen.index(pointer[current]):])
        else:
            roots[start] = current
    return roots


def _row_numbers(rows, numbers):
    return list(numbers) if numbers is not None else list(range(2, len(rows) + 2))


def check_duplicate_of(studies: Sequence[Mapping], file: str = "studies.csv",
                       rows: Sequence[int] | None = None) -> list[Problem]:
    """Cycles and chains in ``studies.duplicate_of``, named by their ids.

    ``duplicate_of`` must name the report that is kept, which itself is no duplicate: A of B and B of A
    would count the patient zero times, A of B of C hides which report is kept. A report naming itself and
    an unknown report are reported by the schema's own rules.
    """
    numbers = _row_numbers(studies, rows)
    row_of: dict[str, int] = {}
    pointer: dict[str, str] = {}
    for number, study in zip(numbers, studies):
        study_id = cell_text(study.get("study_id"))
        if study_id:
            row_of.setdefault(study_id, number)
            target = cell_text(study.get("duplicate_of"))
            if target and target != study_id:
                pointer[study_id] = target
    problems = []
    reported_cycles = set()
    for study_id, target in pointer.items():
        if target not in pointer:
            continue
        path = [study_id]
        while path[-1] in pointer and pointer[path[-1]] not in path:
            path.append(pointer[path[-1]])
        closes = pointer.get(path[-1]) in path
        if closes and study_id in path[path.index(pointer[path[-1]]):]:
            cycle = path[path.index(pointer[path[-1]]):]
            if frozenset(cycle) in reported_cycles:
                continue
            reported_cycles.add(frozenset(cycle))
            links = ", ".join(f"{s} of {pointer[s]}" for s in cycle)
            first = min(cycle, key=lambda s: row_of[s])
            problems.append(Problem(file, row_of[first], "duplicate_of",
                                    f"circular duplicate_of (got {links}; expected one kept report that the others "
                                    "name, or the patient is counted zero times)"))
            continue
        chain = " of ".join(path + ([pointer[path[-1]]] if path[-1] in pointer else []))
        kept = path[-1] if not closes else None
        expected = f"duplicate_of {kept}, the report that is kept" if kept else "the kept report, which is not a duplicate"
        problems.append(Problem(file, row_of[study_id], "duplicate_of",
                                f"chain of duplicates (got {chain}; expected {expected})"))
    return sorted(problems, key=Problem.sort_key)


def check_decisions(decisions: Sequence[Mapping], patients: Sequence[Mapping], studies: Sequence[Mapping] = (),
                    file: str = "duplicate_decisions.csv", rows: Sequence[int] | None = None) -> list[Problem]:
    """Rows of ``duplicate_decisions`` that cannot stand: a patient paired with itself or with a patient of the
    same report, a pair decided twice (in either order), a "not the same patient" for reports that
    ``studies.duplicate_of`` joins. Unknown patient ids are the schema's references check."""
    study_of = {cell_text(p.get("patient_id")): cell_text(p.get("study_id")) for p in patients}
    roots = report_roots({str(cell_text(s.get("study_id"))): s for s in studies if cell_text(s.get("study_id"))})
    seen: dict[frozenset, int] = {}
    problems = []
    for number, row in zip(_row_numbers(decisions, rows), decisions):
        first, second = cell_text(row.get("patient_id")), cell_text(row.get("other_patient_id"))
        if not first or not second or first not in study_of or second not in study_of:
            continue
        if first == second:
            problems.append(Problem(file, number, "other_patient_id", f"a patient paired with itself (got {first} "
                                    "twice, expected two patients of different reports)"))
            continue
        if study_of[first] == study_of[second]:
            problems.append(Problem(file, number, "other_patient_id", f"both patients are in report {study_of[first]} "
                                    f"(got {first} and {second}, expected patients of different reports)"))
            continue
        pair = frozenset((first, second))
        if pair in seen:
            problems.append(Problem(file, number, "other_patient_id", f"pair decided twice (got {first} and {second}"
                                    f" again, expected one row per pair; first on row {seen[pair]})"))
            continue
        seen[pair] = number
        a, b = str(study_of[first]), str(study_of[second])
        if roots.get(a, a) == roots.get(b, b):
            problems.append(Problem(file, number, "decision", f"contradicts studies.duplicate_of (got not the same "
                                    f"patient for {first} and {second}, whose reports {a} and {b} are marked as "
                                    "duplicates; expected one decision: remove this row or the duplicate_of)"))
    return problems
