"""PRISMA 2020 checklist: items as published, each either filled by the report (with its anchor) or the authors'."""

from metacalc.review.checklist import AUTHORS, FILLED, checklist_rows

REPORT_ANCHORS = {"#prisma", "#studies", "#patients", "#risk-of-bias", "#results", "#onset", "#sensitivity",
                  "#methods", "#provenance", "#excluded-rows"}


def test_items_and_topics_as_published():
    rows = checklist_rows({})
    assert [r["item"] for r in rows] == [
        "1", "2", "3", "4", "5", "6", "7", "8", "9", "10a", "10b", "11", "12", "13a", "13b", "13c", "13d",
        "13e", "13f", "14", "15", "16a", "16b", "17", "18", "19", "20a", "20b", "20c", "20d", "21", "22",
        "23a", "23b", "23c", "23d", "24a", "24b", "24c", "25", "26", "27"]
    topics = list(dict.fromkeys(r["topic"] for r in rows))
    assert topics == [
        "Title", "Abstract", "Rationale", "Objectives", "Eligibility criteria", "Information sources",
        "Search strategy", "Selection process", "Data collection process", "Data items",
        "Study risk of bias assessment", "Effect measures", "Synthesis methods", "Reporting bias assessment",
        "Certainty assessment", "Study selection", "Study characteristics", "Risk of bias in studies",
        "Results of individual studies", "Results of syntheses", "Reporting biases", "Certainty of evidence",
        "Discussion", "Registration and protocol", "Support", "Competing interests",
        "Availability of data, code and other materials"]
    assert len({r["item"].rstrip("abcdef") for r in rows}) == 27


def test_filled_items_point_to_report_sections():
    rows = {r["item"]: r for r in checklist_rows({})}
    for item in ("5", "6", "8", "10a", "10b", "13d", "13f", "16a", "17", "18", "20b", "20d"):
        assert rows[item]["status"] == FILLED, item
        assert rows[item]["anchors"] and set(rows[item]["anchors"]) <= REPORT_ANCHORS
    assert rows["16a"]["anchors"] == ["#prisma"]
    assert rows["18"]["anchors"] == ["#risk-of-bias"]
    assert rows["13f"]["location"] == "#sensitivity"
    for item in ("1", "3", "7", "14", "15", "21", "22", "23a", "24a", "25", "26"):
        assert rows[item]["status"] == AUTHORS, item
        assert rows[item]["anchors"] == [] and rows[item]["location"] == ""


def test_settings_fill_the_items_the_authors_stated():
    rows = {r["item"]: r for r in checklist_rows({"registration": "PROSPERO CRD42099000000",
                                                  "competing_interests": "  ", "support": None})}
    assert rows["24a"]["status"] == FILLED and rows["24a"]["anchors"] == ["#methods"]
    assert rows["26"]["status"] == AUTHORS  # blank text does not count
    assert rows["25"]["status"] == AUTHORS
    assert checklist_rows(None) == checklist_rows({})
