"""PRISMA 2020 flow counted from a records log with a known number in every box, and the records behind each."""

from metacalc.data.prisma_flow import PrismaCounts, flow_counts, records_behind_boxes
from records_log import DB, EXPECTED, known_log, studies_frame


def test_counts_of_every_box():
    counts = flow_counts(known_log().frame(), studies_frame())
    boxes = counts.boxes()
    for box_id, n in EXPECTED.items():
        assert boxes[box_id].n == n, box_id
    assert boxes["databases_registers-removed-duplicate"].n == 5
    assert boxes["databases_registers-removed-automation"].n == 2
    assert boxes["databases_registers-removed-other"].n == 1
    assert [(p.label, p.n) for p in counts.databases_registers.excluded.parts] == [
        ("no calcinosis", 3), ("review article", 1)]
    assert not counts.other_methods.has_screening
    assert not counts.is_update
    # the studies box keeps one record per study: s4 and s5 are one patient
    assert len(boxes["included-studies"].record_ids) == 4
    assert boxes["included-reports"].record_ids == ("r001", "r002", "r003", "r021", "r022")


def test_a_new_report_of_a_previous_study_is_a_new_report_not_a_new_study():
    log = known_log()
    log.add(1, **DB, previous_review="yes", study_id="s0")
    studies = studies_frame(("s0", "s1", "s2", "s3", "s4", "s5"), {"s5": "s4", "s1": "s0"})
    counts = flow_counts(log.frame(), studies)
    assert counts.new_studies.n == 3  # s1 belongs to s0; s2, s3 and s4/s5 are new
    assert counts.new_reports.n == 5
    assert counts.studies.n == 4


def test_records_behind_boxes():
    log = known_log()
    counts = flow_counts(log.frame(), studies_frame())
    listing = records_behind_boxes(counts, log.frame())
    assert set(EXPECTED) <= set(listing)
    for box_id, n in EXPECTED.items():
        assert len(listing[box_id]) == n
    duplicates = listing["databases_registers-removed-duplicate"]
    assert duplicates[0] == {"record_id": "r004", "citation": "Citation of r004", "reason": "duplicate of r001"}
    assert {e["reason"] for e in listing["databases_registers-excluded"]} == {"no calcinosis", "review article"}
    assert {e["reason"] for e in listing["other_methods-not-retrieved"]} == {"full text not retrieved"}


# ----------------------------------------------------------------------------------------------------


def test_counts_survive_their_json_form():
    log = known_log()
    log.add(1, **DB, previous_review="yes", study_id="s0")
    counts = flow_counts(log.frame(), studies_frame(("s0", "s1", "s2", "s3", "s4", "s5"), {"s5": "s4"}))
    again = PrismaCounts.from_json(counts.to_dict(), counts.layout())
    assert again.to_dict() == counts.to_dict()
    assert again == counts  # every box, part and arm, in the same order
