"""The risk-of-bias appraisal as the results hold it: per tool, each report's answers, the share of reports
giving each answer, and the reviewer's overall judgements (never a summed score: both tools ask the reviewer
for the judgement). The tools themselves are data, in ``metacalc.data.appraisal_tools``.
"""

from __future__ import annotations

from metacalc.data.appraisal_tools import TOOLS, Tool, answers, judgements
from metacalc.data.cells import as_text
from metacalc.review.document import AppraisedStudy, Judgement, ToolAppraisal
from metacalc.review.tables import ReviewTables, Row


def appraisal_results(review: ReviewTables) -> list[ToolAppraisal]:
    """One entry per tool that the appraisal uses, in the order of the tools."""
    rows_of: dict[str, list[Row]] = {}
    for row in review.appraisal:
        rows_of.setdefault(as_text(row.get("tool")).lower(), []).append(row)
    overall_of: dict[str, list[Row]] = {}
    for row in review.appraisal_overall:
        overall_of.setdefault(as_text(row.get("tool")).lower(), []).append(row)
    return [_tool_appraisal(review, TOOLS[tool_id], rows_of[tool_id], overall_of.get(tool_id, []))
            for tool_id in TOOLS if rows_of.get(tool_id)]


def _tool_appraisal(review: ReviewTables, tool: Tool, rows: list[Row], overall_rows: list[Row]) -> ToolAppraisal:
    by_study: dict[str, dict[str, str]] = {}  # in the order the sheet first names each report
    for row in rows:
        if row["item"] in tool.item_ids:
            by_study.setdefault(row["study_id"], {})[row["item"]] = as_text(row.get("answer")).lower()
    overall = {row["study_id"]: as_text(row.get("judgement")).lower() for row in overall_rows}
    studies = tuple(AppraisedStudy(study, review.label_of(study),
                                   tuple(given.get(item, "") for item in tool.item_ids), overall.get(study, ""))
                    for study, given in by_study.items())
    shares = []
    for position, _ in enumerate(tool.item_ids):
        given = [s.answers[position] for s in studies if s.answers[position]]
        shares.append({answer: (given.count(answer) / len(given) if given else 0.0) for answer in answers()})
    judged = [s.overall for s in studies if s.overall]
    overall_shares = {j: judged.count(j) / len(judged) for j in judgements()} if judged else {}
    rows_by_study: dict[str, list[Row]] = {}
    for row in rows:
        rows_by_study.setdefault(row["study_id"], []).append(row)
    return ToolAppraisal(
        tool.tool_id, tool.name,
        tuple({"item": i.item, "domain": i.domain, "question": i.question, "short_label": i.short_label}
              for i in tool.items),
        studies, tuple(shares), overall_shares,
        tuple(_judgement(review, row, rows_by_study.get(row["study_id"], []))
              for row in sorted(overall_rows, key=lambda r: r["study_id"])))


def _judgement(review: ReviewTables, overall: Row, rows: list[Row]) -> Judgement:
    """An overall judgement with the answers of its report, sorted by item."""
    answered = sorted(rows, key=lambda r: str(r["item"]))
    return Judgement(overall["study_id"], review.label_of(overall["study_id"]),
                     overall["judgement"], overall.get("rationale"),
                     tuple({"item": r["item"], "answer": r["answer"], "justification": r.get("justification")}
                           for r in answered))
