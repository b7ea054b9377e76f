"""Certainty of the evidence, GRADE-style, for the summary-of-findings table.

The reviewer records a judgement per outcome and domain in the optional ``certainty`` sheet (risk of bias,
inconsistency, indirectness, imprecision, publication bias: not serious, serious or very serious, each with its
reason). Evidence from case reports and series starts at "very low" (uncontrolled observations, GRADE's lowest
start), unless the reviewer records another start; a serious concern lowers the certainty one level, a very
serious one two, never below "very low". Domains not recorded are listed as not assessed rather than assumed
fine. An outcome is an analysis of the plan, or one of its groups (``analysis_id/group``), whose rows take
precedence for their domains.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from metacalc.data.cells import as_text
from metacalc.errors import UserError
from metacalc.review.results import JSON, AnalysisResult, ProportionGroup, TimeGroup

LEVELS = ("very low", "low", "moderate", "high")  # lowest first
DEFAULT_START = "very low"  # case reports and series: uncontrolled observations
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_NAMES = {"risk_of_bias": "risk of bias", "inconsistency": "inconsistency", "indirectness": "indirectness",
                "imprecision": "imprecision", "publication_bias": "publication bias"}
DOWNGRADE = {"not_serious": 0, "serious": 1, "very_serious": 2}


@dataclass(frozen=True)
class DomainJudgement:
    domain: str
    judgement: str  # not_serious | serious | very_serious
    reason: str
    outcome: str  # the outcome the row was recorded for (the analysis, or analysis/group)

    def to_dict(self) -> JSON:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Certainty:
    """One row of the summary-of-findings table: an analysis' group, with the certainty of its evidence."""

    analysis: str
    group: str
    patients: int
    reports: int
    start: str
    level: str
    judgements: tuple[DomainJudgement, ...]  # in the order of DOMAINS
    not_assessed: tuple[str, ...]  # domains with no judgement recorded

    def to_dict(self) -> JSON:
        return {**self.__dict__, "judgements": [j.to_dict() for j in self.judgements],
                "not_assessed": list(self.not_assessed)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Certainty:
        return cls(data["analysis"], data["group"], data["patients"], data["reports"], data["start"], data["level"],
                   tuple(DomainJudgement(**j) for j in data["judgements"]), tuple(data["not_assessed"]))

    @property
    def symbols(self) -> str:
        """GRADE's circles: ⊕⊕◯◯ for low."""
        filled = LEVELS.index(self.level) + 1
        return "⊕" * filled + "◯" * (len(LEVELS) - filled)


def _level(start: str, judgements: Iterable[DomainJudgement]) -> str:
    down = sum(DOWNGRADE.get(j.judgement, 0) for j in judgements)
    return LEVELS[max(0, LEVELS.index(start) - down)]


def _sheet_problems(rows: Sequence[Mapping[str, Any]], outcomes: set[str]) -> list[str]:
    """Outcomes the plan does not have, and outcomes given two different starts (located in the sheet)."""
    problems: list[str] = []
    starts: dict[str, tuple[str, int]] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        outcome = as_text(row.get("outcome"))
        if outcome not in outcomes:
            problems.append(f"certainty:{number}:outcome: no analysis or group of the plan has this name (got "
                            f"{outcome!r}, expected an analysis id or analysis_id/group: {', '.join(sorted(outcomes))})")
        start = as_text(row.get("start"))
        if start:
            first = starts.setdefault(outcome, (start, number))
            if first[0] != start:
                problems.append(f"certainty:{number}:start: another start for this outcome (got {start!r}, expected "
                                f"{first[0]!r} as on row {first[1]}, one start per outcome)")
    return problems


def _size(group: ProportionGroup | TimeGroup) -> tuple[int, int]:
    """(patients, reports) behind a group."""
    if isinstance(group, ProportionGroup):
        return group.total, group.k
    return (group.summary.n if group.summary else 0), len({c.study_id for c in group.contributors})


def certainty_of(analyses: Sequence[AnalysisResult], rows: Sequence[Mapping[str, Any]]) -> tuple[Certainty, ...]:
    """The certainty of every main group of every analysis, from the ``certainty`` sheet's rows.

    Raises UserError (located in the sheet) for an outcome the plan does not have, or two starts of one outcome.
    """
    outcomes = {a.id for a in analyses} | {f"{a.id}/{g.group}" for a in analyses for g in a.groups}
    problems = _sheet_problems(rows, outcomes)
    if problems:
        raise UserError(problems)
    recorded: dict[str, dict[str, DomainJudgement]] = {}
    starts: dict[str, str] = {}
    for row in rows:
        outcome = as_text(row.get("outcome"))
        domain = as_text(row.get("domain"))
        recorded.setdefault(outcome, {})[domain] = DomainJudgement(domain, as_text(row.get("judgement")),
                                                                   as_text(row.get("reason")), outcome)
        if as_text(row.get("start")):
            starts[outcome] = as_text(row.get("start"))
    out = []
    for analysis in analyses:
        for group in analysis.groups:
            name = f"{analysis.id}/{group.group}"
            domains = {**recorded.get(analysis.id, {}), **recorded.get(name, {})}
            judgements = tuple(domains[d] for d in DOMAINS if d in domains)
            start = starts.get(name) or starts.get(analysis.id) or DEFAULT_START
            patients, reports = _size(group)
            out.append(Certainty(analysis.id, group.group, patients, reports, start, _level(start, judgements),
                                 judgements, tuple(d for d in DOMAINS if d not in domains)))
    return tuple(out)
