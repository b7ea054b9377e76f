"""The PRISMA 2020 checklist: which items the report fills from its own data and settings, and where.

Item wording: Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated guideline
for reporting systematic reviews. BMJ 2021;372:n71 (Table 1). An item is "filled by metacalc" when the
report states it from the data and settings that produced it (the anchor says where); the rest are
the authors' to write, because no pipeline can know them (rationale, search strategy, interpretation...).
Some items are filled only when the settings carry the text (e.g. ``registration``): then the report's
methods section states it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FILLED = "filled by metacalc"
AUTHORS = "for the authors to write"

# (item, section, topic, checklist text, anchors in the report or None, what metacalc puts there)
ITEMS = (
    ("1", "Title", "Title", "Identify the report as a systematic review.", None, ""),
    ("2", "Abstract", "Abstract", "See the PRISMA 2020 for Abstracts checklist.", None, ""),
    ("3", "Introduction", "Rationale",
     "Describe the rationale for the review in the context of existing knowledge.", None, ""),
    ("4", "Introduction", "Objectives",
     "Provide an explicit statement of the objective(s) or question(s) the review addresses.", None, ""),
    ("5", "Methods", "Eligibility criteria",
     "Specify the inclusion and exclusion criteria for the review and how studies were grouped for the "
     "syntheses.", ("#methods", "#prisma"),
     "Exclusion reasons used in the records log with their counts; grouping of studies by therapy and drug "
     "class from the analysis plan."),
    ("6", "Methods", "Information sources",
     "Specify all databases, registers, websites, organisations, reference lists and other sources searched "
     "or consulted to identify studies. Specify the date when each source was last searched or consulted.",
     ("#prisma",), "Every source named in the records log with its number of records (search dates come from "
                   "the settings when given)."),
    ("7", "Methods", "Search strategy",
     "Present the full search strategies for all databases, registers and websites, including any filters and "
     "limits used.", None, ""),
    ("8", "Methods", "Selection process",
     "Specify the methods used to decide whether a study met the inclusion criteria of the review, including "
     "how many reviewers screened each record and each report retrieved, whether they worked independently, "
     "and if applicable, details of automation tools used in the process.", ("#prisma",),
     "Each record's screening, retrieval and eligibility decision with its reason, behind each box of the flow "
     "diagram; reviewer numbers and independence are the authors' to add."),
    ("9", "Methods", "Data collection process",
     "Specify the methods used to collect data from reports, including how many reviewers collected data from "
     "each report, whether they worked independently, any processes for obtaining or confirming data from "
     "study investigators, and if applicable, details of automation tools used in the process.",
     ("#provenance",), "Every extracted value with its verbatim quote and location in the source report."),
    ("10a", "Methods", "Data items",
     "List and define all outcomes for which data were sought. Specify whether all results that were "
     "compatible with each outcome domain in each study were sought (e.g. for all measures, time points, "
     "analyses), and if not, the methods used to decide which results to collect.", ("#methods",),
     "Outcome definitions (response categories; time from the start of the review's clock to onset and to diagnosis)."),
    ("10b", "Methods", "Data items",
     "List and define all other variables for which data were sought (e.g. participant and intervention "
     "characteristics, funding sources). Describe any assumptions made about any missing or unclear "
     "information.", ("#patients", "#methods"),
     "Patient and therapy variables of the extraction schema; blank means not stated in the report."),
    ("11", "Methods", "Study risk of bias assessment",
     "Specify the methods used to assess risk of bias in the included studies, including details of the "
     "tool(s) used, how many reviewers assessed each study and whether they worked independently, and if "
     "applicable, details of automation tools used in the process.", ("#risk-of-bias",),
     "The tools (JBI checklist for case reports; Murad et al. 2018) with their items."),
    ("12", "Methods", "Effect measures",
     "Specify for each outcome the effect measure(s) (e.g. risk ratio, mean difference) used in the synthesis "
     "or presentation of results.", ("#methods",), "Proportion responding per therapy; mean years to onset."),
    ("13a", "Methods", "Synthesis methods",
     "Describe the processes used to decide which studies were eligible for each synthesis (e.g. tabulating "
     "the study intervention characteristics and comparing against the planned groups for each synthesis "
     "(item #5)).", ("#methods",), "The analysis plan and the rows each analysis used."),
    ("13b", "Methods", "Synthesis methods",
     "Describe any methods required to prepare the data for presentation or synthesis, such as handling of "
     "missing summary statistics, or data conversions.", ("#methods", "#excluded-rows"),
     "Derivations of time to onset, mean/SD estimated from median/IQR/range, and the rows left out with why."),
    ("13c", "Methods", "Synthesis methods",
     "Describe any methods used to tabulate or visually display results of individual studies and syntheses.",
     ("#methods", "#results"), "Forest plots and tables."),
    ("13d", "Methods", "Synthesis methods",
     "Describe any methods used to synthesize results and provide a rationale for the choice(s). If "
     "meta-analysis was performed, describe the model(s), method(s) to identify the presence and extent of "
     "statistical heterogeneity, and software package(s) used.", ("#methods",),
     "The pooling method, its settings and software versions, generated from the settings that ran."),
    ("13e", "Methods", "Synthesis methods",
     "Describe any methods used to explore possible causes of heterogeneity among study results (e.g. "
     "subgroup analysis, meta-regression).", ("#methods",), "Subgroups of the analysis plan."),
    ("13f", "Methods", "Synthesis methods",
     "Describe any sensitivity analyses conducted to assess robustness of the synthesized results.",
     ("#sensitivity",), "Sensitivity analyses (e.g. without reports at high risk of bias, without duplicates)."),
    ("14", "Methods", "Reporting bias assessment",
     "Describe any methods used to assess risk of bias due to missing results in a synthesis (arising from "
     "reporting biases).", None, ""),
    ("15", "Methods", "Certainty assessment",
     "Describe any methods used to assess certainty (or confidence) in the body of evidence for an outcome.",
     None, ""),
    ("16a", "Results", "Study selection",
     "Describe the results of the search and selection process, from the number of records identified in the "
     "search to the number of studies included in the review, ideally using a flow diagram.", ("#prisma",),
     "The PRISMA 2020 flow diagram computed from the records log."),
    ("16b", "Results", "Study selection",
     "Cite studies that might appear to meet the inclusion criteria, but which were excluded, and explain why "
     "they were excluded.", ("#prisma",), "The records behind each exclusion box with their reasons."),
    ("17", "Results", "Study characteristics", "Cite each included study and present its characteristics.",
     ("#studies", "#patients"), "Table of included reports and patients."),
    ("18", "Results", "Risk of bias in studies", "Present assessments of risk of bias for each included study.",
     ("#risk-of-bias",), "Traffic-light and summary plots, answers with justifications, overall judgements."),
    ("19", "Results", "Results of individual studies",
     "For all outcomes, present, for each study: (a) summary statistics for each group (where appropriate) and "
     "(b) an effect estimate and its precision (e.g. confidence/credible interval), ideally using structured "
     "tables or plots.", ("#results", "#onset"), "Per-study rows of the forest plots and tables."),
    ("20a", "Results", "Results of syntheses",
     "For each synthesis, briefly summarise the characteristics and risk of bias among contributing studies.",
     ("#results", "#risk-of-bias"), "Contributing studies of each pooled estimate with their judgements."),
    ("20b", "Results", "Results of syntheses",
     "Present results of all statistical syntheses conducted. If meta-analysis was done, present for each the "
     "summary estimate and its precision (e.g. confidence/credible interval) and measures of statistical "
     "heterogeneity. If comparing groups, describe the direction of the effect.", ("#results", "#onset"),
     "Pooled estimates with intervals and heterogeneity."),
    ("20c", "Results", "Results of syntheses",
     "Present results of all investigations of possible causes of heterogeneity among study results.",
     ("#results",), "Subgroup results."),
    ("20d", "Results", "Results of syntheses",
     "Present results of all sensitivity analyses conducted to assess the robustness of the synthesized "
     "results.", ("#sensitivity",), "Sensitivity analyses beside the main estimates."),
    ("21", "Results", "Reporting biases",
     "Present assessments of risk of bias due to missing results (arising from reporting biases) for each "
     "synthesis assessed.", None, ""),
    ("22", "Results", "Certainty of evidence",
     "Present assessments of certainty (or confidence) in the body of evidence for each outcome assessed.",
     None, ""),
    ("23a", "Discussion", "Discussion",
     "Provide a general interpretation of the results in the context of other evidence.", None, ""),
    ("23b", "Discussion", "Discussion", "Discuss any limitations of the evidence included in the review.",
     None, ""),
    ("23c", "Discussion", "Discussion", "Discuss any limitations of the review processes used.", None, ""),
    ("23d", "Discussion", "Discussion",
     "Discuss implications of the results for practice, policy, and future research.", None, ""),
    ("24a", "Other information", "Registration and protocol",
     "Provide registration information for the review, including register name and registration number, or "
     "state that the review was not registered.", None, ""),
    ("24b", "Other information", "Registration and protocol",
     "Indicate where the review protocol can be accessed, or state that a protocol was not prepared.", None, ""),
    ("24c", "Other information", "Registration and protocol",
     "Describe and explain any amendments to information provided at registration or in the protocol.",
     None, ""),
    ("25", "Other information", "Support",
     "Describe sources of financial or non-financial support for the review, and the role of the funders or "
     "sponsors in the review.", None, ""),
    ("26", "Other information", "Competing interests", "Declare any competing interests of review authors.",
     None, ""),
    ("27", "Other information", "Availability of data, code and other materials",
     "Report which of the following are publicly available and where they can be found: template data "
     "collection forms; data extracted from included studies; data used for all analyses; analytic code; any "
     "other materials used in the review.", ("#provenance",),
     "The extraction sheets, the validated dataset and the metacalc version that produced the report."),
)

# Items the authors may state in the settings; the report's methods section then prints them.
SETTINGS_ITEMS = {
    "registration": "24a",
    "protocol": "24b",
    "protocol_amendments": "24c",
    "search_strategy": "7",
    "support": "25",
    "competing_interests": "26",
}


def checklist_rows(settings: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """One dict per PRISMA 2020 checklist item, in checklist order.

    Keys: ``item`` ("1", "10a", ...), ``section``, ``topic``, ``text`` (the checklist item), ``status``
    ("filled by metacalc" or "for the authors to write"), ``anchors`` (list of report anchors, empty for the
    authors' items), ``location`` (the anchors joined by ", ") and ``note`` (what the report puts there).
    ``settings`` may carry free text for the keys of ``SETTINGS_ITEMS`` (registration, protocol,
    protocol_amendments, search_strategy, support, competing_interests); a non-blank value fills the item
    in the report's methods section.
    """
    settings = settings or {}
    from_settings = {item: key for key, item in SETTINGS_ITEMS.items() if str(settings.get(key) or "").strip()}
    rows = []
    for item, section, topic, text, anchors, note in ITEMS:
        if anchors is None and item in from_settings:
            anchors = ("#methods",)
            note = f"Stated in the settings ({from_settings[item]})."
        rows.append({
            "item": item,
            "section": section,
            "topic": topic,
            "text": text,
            "status": FILLED if anchors else AUTHORS,
            "anchors": list(anchors or ()),
            "location": ", ".join(anchors or ()),
            "note": note,
        })
    return rows
