"""Risk of bias of case reports and case series: the appraisal tools as data, and checks of the answers.

Two tools, item wording as published:
- JBI Critical Appraisal Checklist for Case Reports (Moola S et al., JBI Manual for Evidence Synthesis,
  2020, chapter 7): 8 items.
- Murad MH, Sultan S, Haffar S, Bazerbachi F. Methodological quality and synthesis of case series and case
  reports. BMJ Evid Based Med 2018;23:60-63. doi:10.1136/bmjebm-2017-110853: 8 items in 4 domains.

Both tools ask for an overall judgement by the reviewer rather than a summed score (Murad et al. say so
explicitly), so the overall judgement is read from ``appraisal_overall`` and never computed from the items.
"""

from dataclasses import dataclass

ANSWERS = ("yes", "no", "unclear", "not applicable")
JUDGEMENTS = ("low", "moderate", "high")


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
    items: tuple

    @property
    def item_ids(self):
        return tuple(item.item for item in self.items)

    def item(self, item_id):
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

TOOLS = {tool.tool_id: tool for tool in (JBI_CASE_REPORT, MURAD_2018)}


def _text(value):
    from metacalc.review.prisma import _text as text

    return text(value)


def normalise_item(tool_id, item):
    """The sheet's item as the tool's id: JBI 1..8 (also "1.0" from a spreadsheet), Murad Q1..Q8."""
    item = _text(item)
    if tool_id == "murad_2018":
        item = item.upper()
        if item.isdigit():
            item = f"Q{item}"
    elif tool_id == "jbi_case_report":
        if item.endswith(".0") and item[:-2].isdigit():
            item = item[:-2]
    return item


def _rows(frame):
    from metacalc.review.prisma import _rows as rows

    return rows(frame)


def validate_appraisal(appraisal, appraisal_overall, included_study_ids):
    """Every problem with the appraisal against the tools and the included reports, as messages.

    Checks: known tools, items and answers; a justification for each answer; every included report
    appraised with at least one tool and with every item of each tool it uses; one overall judgement per
    report and tool it uses (and none without item answers); no appraisal of a report that is not included.
    """
    problems = []
    included = list(dict.fromkeys(included_study_ids))
    answered = {}  # (study, tool) -> set of items
    seen = {}
    for row in _rows(appraisal):
        where = f"appraisal.csv:{row['_row']}"
        study, tool_id = row.get("study_id", ""), row.get("tool", "").lower()
        if tool_id not in TOOLS:
            problems.append(f"{where}:tool: unknown tool '{tool_id}' (expected one of {', '.join(TOOLS)})")
            continue
        tool = TOOLS[tool_id]
        item = normalise_item(tool_id, row.get("item", ""))
        if item not in tool.item_ids:
            problems.append(f"{where}:item: '{row.get('item', '')}' is not an item of {tool_id} "
                            f"(expected one of {', '.join(tool.item_ids)})")
            continue
        answer = row.get("answer", "").lower()
        if answer not in ANSWERS:
            problems.append(f"{where}:answer: '{answer}' is not an answer (expected one of {', '.join(ANSWERS)})")
        if not row.get("justification"):
            problems.append(f"{where}:justification: study {study}, {tool_id} item {item}: the answer needs a "
                            "justification citing what the report says or lacks")
        key = (study, tool_id, item)
        if key in seen:
            problems.append(f"{where}:item: study {study}, {tool_id} item {item} is answered twice "
                            f"(first on row {seen[key]})")
        seen.setdefault(key, row["_row"])
        if study not in included:
            problems.append(f"{where}:study_id: study {study} is appraised but is not an included report")
        answered.setdefault((study, tool_id), set()).add(item)

    judged = {}
    for row in _rows(appraisal_overall):
        where = f"appraisal_overall.csv:{row['_row']}"
        study, tool_id = row.get("study_id", ""), row.get("tool", "").lower()
        judgement = row.get("judgement", "").lower()
        if tool_id not in TOOLS:
            problems.append(f"{where}:tool: unknown tool '{tool_id}' (expected one of {', '.join(TOOLS)})")
            continue
        if judgement not in JUDGEMENTS:
            problems.append(f"{where}:judgement: '{judgement}' is not a judgement "
                            f"(expected one of {', '.join(JUDGEMENTS)})")
        if not row.get("rationale"):
            problems.append(f"{where}:rationale: study {study}, {tool_id}: the overall judgement needs a rationale")
        if (study, tool_id) in judged:
            problems.append(f"{where}:tool: study {study} has a second overall judgement for {tool_id} "
                            f"(first on row {judged[(study, tool_id)]})")
        judged.setdefault((study, tool_id), row["_row"])
        if (study, tool_id) not in answered:
            problems.append(f"{where}:study_id: study {study} has an overall {tool_id} judgement but no item "
                            "answers in appraisal.csv")

    for study in included:
        tools_used = [tool_id for tool_id in TOOLS if (study, tool_id) in answered]
        if not tools_used:
            problems.append(f"appraisal.csv: included study {study} is not appraised with any tool "
                            f"({', '.join(TOOLS)})")
        for tool_id in tools_used:
            missing = [i for i in TOOLS[tool_id].item_ids if i not in answered[(study, tool_id)]]
            if missing:
                problems.append(f"appraisal.csv: study {study}, {tool_id}: item(s) {', '.join(missing)} "
                                "not answered")
            if (study, tool_id) not in judged:
                problems.append(f"appraisal_overall.csv: study {study} is appraised with {tool_id} but has no "
                                "overall judgement")
    return problems


def appraisal_table(appraisal, appraisal_overall, tool_id):
    """Per-study table for one tool: one row per study, one column per item plus ``overall``.

    Studies in the order they first appear in the appraisal sheet; blank where not answered.
    """
    import pandas as pd

    tool = TOOLS[tool_id]
    by_study = {}
    for row in _rows(appraisal):
        if row.get("tool", "").lower() != tool_id:
            continue
        item = normalise_item(tool_id, row.get("item", ""))
        if item in tool.item_ids:
            by_study.setdefault(row["study_id"], {})[item] = row.get("answer", "").lower()
    overall = {row["study_id"]: row.get("judgement", "").lower() for row in _rows(appraisal_overall)
               if row.get("tool", "").lower() == tool_id}
    records = []
    for study, answers in by_study.items():
        records.append({"study_id": study, **{i: answers.get(i, "") for i in tool.item_ids},
                        "overall": overall.get(study, "")})
    return pd.DataFrame(records, columns=["study_id", *tool.item_ids, "overall"])


def answer_shares(appraisal, tool_id):
    """Share of studies giving each answer per item (the summary plot's bars): rows items, columns answers."""
    import pandas as pd

    table = appraisal_table(appraisal, None, tool_id)
    tool = TOOLS[tool_id]
    shares = {}
    for item in tool.item_ids:
        answers = [a for a in table[item] if a]
        shares[item] = {answer: (answers.count(answer) / len(answers) if answers else 0.0) for answer in ANSWERS}
    return pd.DataFrame.from_dict(shares, orient="index", columns=list(ANSWERS))


def high_risk_studies(appraisal_overall, tool=None):
    """study_ids judged at high risk of bias (by ``tool``, or by any tool when None), sorted."""
    found = set()
    for row in _rows(appraisal_overall):
        if tool is not None and row.get("tool", "").lower() != tool:
            continue
        if row.get("judgement", "").lower() == "high":
            found.add(row["study_id"])
    return sorted(found)
