"""The risk-of-bias appraisal checked against the tools and against the reports the review includes.

Consistency (always an error): each item belongs to its tool, and an overall judgement rests on item answers
(that only included reports are appraised follows from the records log, which includes every report). Completeness (an error by default, a warning when asked, e.g. while
an appraisal is in progress): every included report appraised with at least one tool and every item of each
tool it uses, each answer justified, one overall judgement with its rationale per report and tool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from metacalc.data.appraisal_tools import TOOLS
from metacalc.data.prisma_flow import PrismaCounts, included_report_ids
from metacalc.data.problems import Collector, show

if TYPE_CHECKING:
    import pandas as pd

Severity = Literal["error", "warning"]
SEVERITIES = ("error", "warning")


def normalise_items(appraisal: pd.DataFrame, file: str, out: Collector) -> pd.DataFrame:
    """Items as the tools write them (Murad's "q2" is Q2); an item that is not one of its tool's is reported."""
    normal = appraisal["item"].str.upper()
    for tool_id, tool in TOOLS.items():
        bad = (appraisal["tool"] == tool_id) & appraisal["item"].notna() & ~normal.isin(tool.item_ids)
        for row in appraisal.index[bad]:
            out.add(file, int(row), "item", f"not an item of {tool_id} (got {show(appraisal.at[row, 'item'])}, "
                                            f"expected one of: {', '.join(tool.item_ids)})")
    return appraisal.assign(item=normal)


def check_appraisal(frames: dict[str, pd.DataFrame], files: dict[str, str], out: Collector,
                    flow: PrismaCounts | None, incomplete: Severity = "error") -> dict[str, str]:
    """Consistency and completeness of ``appraisal`` and ``appraisal_overall`` (see the module docstring).

    The included reports come from the records log (``flow``, the counts ``check_records`` returns); when the
    log is not consistent (``flow`` is None), the checks that need them are left until it is fixed (they would
    only repeat its problems). Returns the included reports whose risk of bias is not (fully) appraised, with
    what is missing (what the report states when this is a warning).
    """
    if incomplete not in SEVERITIES:
        raise ValueError(f"incomplete must be one of {', '.join(SEVERITIES)} (got {incomplete!r})")
    appraisal, overall = frames["appraisal"], frames["appraisal_overall"]
    file, overall_file = files["appraisal"], files["appraisal_overall"]
    report = out.add if incomplete == "error" else out.warn
    # Columns as lists: iterating a pandas column hands out its cells one call at a time.
    rows = list(zip(appraisal.index, *(appraisal[name].tolist() for name in ("study_id", "tool", "item", "answer")),
                    appraisal["justification"].isna().tolist()))
    # A report and tool with a problem on one of its rows is not checked for completeness: fix that row first.
    problem_rows = {problem.row for problem in out.problems if problem.file == file}
    broken = {(study, tool) for row, study, tool, *_ in rows if row in problem_rows}
    answered: dict[tuple[str, str], set[str]] = {}
    for row, study, tool, item, answer, unjustified in rows:
        answered.setdefault((study, tool), set()).add(item)
        if unjustified and (study, tool) not in broken:
            report(file, int(row), "justification",
                   f"justification missing (got blank, expected why {tool} item {item} of study {study} is "
                   f"answered {answer}, citing what the report says or lacks)")
    judged = set()
    for row, study, tool, judgement, no_rationale in zip(overall.index, overall["study_id"].tolist(),
                                                         overall["tool"].tolist(), overall["judgement"].tolist(),
                                                         overall["rationale"].isna().tolist()):
        judged.add((study, tool))
        if (study, tool) not in answered:
            out.add(overall_file, int(row), "study_id",
                    f"overall judgement without item answers (got {tool} for study {study}, expected the answers "
                    "to its items in the appraisal table)")
        elif no_rationale:
            report(overall_file, int(row), "rationale",
                   f"rationale missing (got blank, expected why study {study} is at {judgement} risk of bias by "
                   f"{tool})")

    gaps: dict[str, list[str]] = {}
    if flow is None:
        return {}
    # A consistent log includes every report of the sheets (records_rules), so an appraised report is included.
    included = included_report_ids(flow, frames["records"])
    for study in dict.fromkeys(included):
        tools_used = [tool_id for tool_id in TOOLS if (study, tool_id) in answered]
        if not tools_used:
            gaps.setdefault(study, []).append("not appraised")
            report(file, None, "", f"included study {study} not appraised (got no rows, expected the items of at "
                                   f"least one tool: {', '.join(TOOLS)})")
        for tool_id in tools_used:
            if (study, tool_id) in broken:
                continue
            missing = [i for i in TOOLS[tool_id].item_ids if i not in answered[(study, tool_id)]]
            if missing:
                gaps.setdefault(study, []).append(f"{tool_id} items {', '.join(missing)} not answered")
                report(file, None, "", f"study {study}, {tool_id}: items not answered (got no row for item(s) "
                                       f"{', '.join(missing)}, expected every item of {tool_id})")
            if (study, tool_id) not in judged:
                gaps.setdefault(study, []).append(f"no overall judgement by {tool_id}")
                report(overall_file, None, "", f"study {study}, {tool_id}: no overall judgement (got item answers "
                                               "only, expected one row with the reviewer's judgement)")
    return {study: "; ".join(missing) for study, missing in gaps.items()}

