"""The risk-of-bias tools for case reports and case series, as data: defined here once, for the validation of the
appraisal sheets, the summaries in the results and the figures.

- JBI Critical Appraisal Checklist for Case Reports (Moola S et al., JBI Manual for Evidence Synthesis, 2020,
  chapter 7): 8 items.
- Murad MH, Sultan S, Haffar S, Bazerbachi F. Methodological quality and synthesis of case series and case
  reports. BMJ Evid Based Med 2018;23:60-63. doi:10.1136/bmjebm-2017-110853: 8 items in 4 domains.

Both tools ask for an overall judgement by the reviewer rather than a summed score (Murad et al. say so
explicitly), so the overall judgement is read from ``appraisal_overall`` and never computed from the items.
The answers and judgements are the enumerations of schema.yaml (``appraisal.answer``,
``appraisal_overall.judgement``), in that order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    item: str  # the id used in the sheets: "1".."8" (JBI) or "Q1".."Q8" (Murad)
    domain: str
    question: str
    short_label: str  # for plot axes


@dataclass(frozen=True)
class Tool:
    tool_id: str
    name: str
    reference: str
    items: tuple[Item, ...]

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.item for item in self.items)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.item == item_id:
                return item
        raise KeyError(item_id)


JBI_CASE_REPORT = Tool(
    "jbi_case_report",
    "JBI Critical Appraisal Checklist for Case Reports",
    "Moola S, Munn Z, Tufanaru C, et al. Systematic reviews of aetiology and risk. In: Aromataris E, Munn Z "
    "(eds). JBI Manual for Evidence Synthesis. JBI, 2020.",
    (
        Item("1", "Case report", "Were patient's demographic characteristics clearly described?", "Demographics"),
        Item("2", "Case report", "Was the patient's history clearly described and presented as a timeline?",
             "History and timeline"),
        Item("3", "Case report", "Was the current clinical condition of the patient on presentation clearly "
                                 "described?", "Condition at presentation"),
        Item("4", "Case report", "Were diagnostic tests or assessment methods and the results clearly described?",
             "Diagnostic tests"),
        Item("5", "Case report", "Was the intervention(s) or treatment procedure(s) clearly described?",
             "Intervention"),
        Item("6", "Case report", "Was the post-intervention clinical condition clearly described?",
             "Post-intervention condition"),
        Item("7", "Case report", "Were adverse events (harms) or unanticipated events identified and described?",
             "Adverse events"),
        Item("8", "Case report", "Does the case report provide takeaway lessons?", "Takeaway lessons"),
    ),
)

MURAD_2018 = Tool(
    "murad_2018",
    "Murad et al. 2018 tool for case reports and case series",
    "Murad MH, Sultan S, Haffar S, Bazerbachi F. Methodological quality and synthesis of case series and case "
    "reports. BMJ Evid Based Med 2018;23:60-63. doi:10.1136/bmjebm-2017-110853",
    (
        Item("Q1", "Selection", "Does the patient(s) represent(s) the whole experience of the investigator "
                                "(centre), or is the selection method unclear to the extent that other patients "
                                "with similar presentation may not have been reported?", "Selection"),
        Item("Q2", "Ascertainment", "Was the exposure adequately ascertained?", "Exposure ascertained"),
        Item("Q3", "Ascertainment", "Was the outcome adequately ascertained?", "Outcome ascertained"),
        Item("Q4", "Causality", "Were other alternative causes that may explain the observation ruled out?",
             "Alternative causes ruled out"),
        Item("Q5", "Causality", "Was there a challenge/rechallenge phenomenon?", "Challenge/rechallenge"),
        Item("Q6", "Causality", "Was there a dose-response effect?", "Dose-response"),
        Item("Q7", "Causality", "Was follow-up long enough for outcomes to occur?", "Follow-up long enough"),
        Item("Q8", "Reporting", "Is the case(s) described with sufficient details to allow other investigators "
                                "to replicate the research or to allow practitioners to make inferences related "
                                "to their own practice?", "Sufficient detail"),
    ),
)

TOOLS: dict[str, Tool] = {tool.tool_id: tool for tool in (JBI_CASE_REPORT, MURAD_2018)}


def answers() -> tuple[str, ...]:
    """The answers an item may have, in the order of schema.yaml (yes, no, unclear, not applicable)."""
    from metacalc.data.schema import load_schema

    return load_schema()["appraisal"].column("answer").values


def judgements() -> tuple[str, ...]:
    """The overall judgements, in the order of schema.yaml (low, moderate, high)."""
    from metacalc.data.schema import load_schema

    return load_schema()["appraisal_overall"].column("judgement").values
