"""Matching search hits against the records log: identifiers, the title threshold and its near misses,
duplicates within one export, stable ids, and a second import of the same export."""

import csv
from pathlib import Path

import pytest

from metacalc.data.record_matching import (
    TITLE_THRESHOLD,
    Matcher,
    Reference,
    citation_first_author,
    plan_import,
    reference_of_hit,
    reference_of_row,
)
from metacalc.data.search_results import SearchRecord, fold, read_search_export

FIXTURES = Path(__file__).parent.parent / "fixtures"
EXPORTS = FIXTURES / "search_exports"
LOG = FIXTURES / "golden" / "review" / "extraction_sheets"  # a committed copy of the bundled review


def rows(name):
    with open(LOG / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def hit(title, author="Tristano AG", year=2006, **fields):
    return SearchRecord(line=1, title=title, authors=(author,) if author else (), year=year, **fields)


def match(new_hit, *old_hits):
    matcher = Matcher(reference_of_hit(f"old{i}", old) for i, old in enumerate(old_hits, start=1))
    return matcher.match(reference_of_hit("new", new_hit))


SLE = "in a patient with systemic lupus erythematosus"


def test_the_threshold_is_95():
    assert TITLE_THRESHOLD == 95


@pytest.mark.parametrize("variant", [
    f"Calcinosis cutis universalis {SLE}.",                     # full stop
    f"CALCINOSIS CUTIS UNIVERSALIS {SLE.upper()}",              # case
    f"Calcinosis cutis universalis in a patient with systemic lupus erythaematosus",  # spelling
    f"Calcinosis cutis universalis in patient with systemic lupus erythematosus",     # dropped article
    f"Calcinosis-cutis universalis {SLE}",                      # punctuation
])
def test_title_variants_match(variant):
    found = match(hit(variant), hit(f"Calcinosis cutis universalis {SLE}"))
    assert found is not None and found.record_id == "old1" and found.rule == "title"


def test_a_title_differing_by_a_word_is_a_near_miss():
    # 91% similar, same first author and year: two papers, not one.
    assert match(hit(f"Calcinosis cutis {SLE}"), hit(f"Calcinosis cutis universalis {SLE}")) is None


def test_near_identical_titles_of_different_first_authors_do_not_match():
    # Quismoro 1975 and Budin 1975 (both in the bundled log): titles 99% similar, different papers.
    quismoro = hit("Soft-tissue calcification in systemic lupus erythematosus", "Quismoro FP", 1975)
    budin = hit("Soft tissue calcifications in systemic lupus erythematosus", "Budin JA", 1975)
    assert match(budin, quismoro) is None


def test_same_title_years_apart_does_not_match():
    assert match(hit(f"Calcinosis cutis universalis {SLE}", "Akande T", 2024),
                 hit(f"Calcinosis cutis universalis {SLE}", "Akande T", 2006)) is None


def test_online_and_print_years_one_apart_match():
    assert match(hit(f"Calcinosis cutis universalis {SLE}", year=2005), hit(f"Calcinosis cutis universalis {SLE}")) is not None


def test_a_title_alone_is_not_enough():
    title = f"Calcinosis cutis universalis {SLE}"
    assert match(hit(title, author=None, year=None), hit(title)) is None
    assert match(hit(title, author=None), hit(title, author=None)) is not None  # the year corroborates
    assert match(hit(title, year=None), hit(title)) is not None                  # the first author corroborates


def test_identifiers_decide_and_conflicting_identifiers_veto():
    title = f"Calcinosis cutis universalis {SLE}"
    assert match(hit("Different words entirely", doi="10.1/x"), hit(title, doi="10.1/x")).rule == "DOI"
    assert match(hit("Different words entirely", pmid="99"), hit(title, pmid="99")).rule == "PMID"
    assert match(hit(title, doi="10.1000/a"), hit(title, doi="10.1000/b")) is None
    assert match(hit(title, pmid="1"), hit(title, pmid="2")) is None


def test_compound_surnames_written_short_still_agree():
    title = "Calcinosis cutis in a patient with systemic lupus erythematosus"
    assert match(hit(title, "Pérez E", None), hit(title, "Pérez Pampín E", None)) is not None


def test_matches_point_at_the_kept_record():
    title = f"Calcinosis cutis universalis {SLE}"
    matcher = Matcher([reference_of_hit("kept", hit(title))])
    matcher.add(reference_of_hit("dup", hit(title + " (reprint)", doi="10.1000/dup")), kept_as="kept")
    found = matcher.match(reference_of_hit("new", hit("Other words", doi="10.1000/dup")))
    assert (found.record_id, found.matched) == ("kept", "dup")
    assert found.note() == "duplicate of kept by DOI (same DOI 10.1000/dup; matched dup, itself a duplicate of kept)"


def test_log_rows_with_only_a_citation_match_a_whole_sentence():
    # perezpampin_ref5: Park 1999 "Large subcutaneous calcification in SLE: treatment with ..."; Nomura 1990's title
    # is the beginning of Park's, but must match Nomura's own record (tristano2006_ref18), not Park's.
    log = rows("records")
    matcher = Matcher(reference_of_row(r) for r in log)
    nomura = hit("Large subcutaneous calcification in systemic lupus erythematosus", "Nomura M", 1990)
    assert matcher.match(reference_of_hit("new", nomura)).matched == "tristano2006_ref18"
    park = reference_of_row(next(r for r in log if r["record_id"] == "perezpampin_ref5"))
    assert park.author == "park" and not park.whole_title


def test_citation_first_author():
    assert citation_first_author("Pérez Pampín E, Campos Franco J. Calcinosis.") == "perez pampin"
    assert citation_first_author("Muller SA, Brunsting LA (1959) Calcinosis cutis") == "muller"
    assert citation_first_author("Untitled case report, no bibliographic details") is None


def test_blank_fields_come_from_the_included_report():
    row = {"record_id": "r1", "citation": "Balin SJ. Something else entirely. Arch Dermatol.", "study_id": "balin2012"}
    study = {"study_id": "balin2012", "title": "Calcinosis cutis: the Mayo Clinic experience", "year": "2012",
             "doi": "10.1001/archdermatol.2011.2052", "first_author": "Balin SJ"}
    reference = reference_of_row(row, study)
    assert (reference.doi, reference.year, reference.author) == ("10.1001/archdermatol.2011.2052", 2012, "balin")
    assert reference.titles == (fold(study["title"]),)


# ------------------------------------------------------------------ planning an import into the bundled log

def plan(path, source="Embase", date="2026-03-02", log=None):
    return plan_import(rows("records") if log is None else log, rows("studies"), read_search_export(path)[1],
                       source=source, date=date)


def test_import_marks_log_and_within_file_duplicates():
    result = plan(EXPORTS / "embase.ris")
    got = [(r.values["record_id"], r.values["duplicate_of"], r.values["removed_before_screening"], r.within_file)
           for r in result.rows]
    ids = [g[0] for g in got]
    assert got == [
        (ids[0], "perezpampin_ref3", "duplicate", False),  # Rothe 1990, also in two reference lists
        (ids[1], None, None, False),                       # new: to screen
        (ids[2], None, None, False),                       # new: to screen
        (ids[3], ids[2], "duplicate", True),               # the same hit again, "thiosulphate"
    ]
    assert result.counts() == {"added": 4, "to_screen": 2, "duplicates_of_log": 1, "duplicates_within_file": 1,
                               "already_imported": 0}
    first = result.rows[1].values
    assert first["arm"] == "databases_registers" and first["source_type"] == "database"
    assert (first["source"], first["search_date"], first.get("screening")) == ("Embase", "2026-03-02", None)
    assert first["first_author"] == "Lindqvist M" and first["doi"] == "10.9999/jcr.2026.0142"


def test_ids_are_stable_and_name_source_date_and_record():
    first, second = plan(EXPORTS / "pubmed_update.nbib", "MEDLINE", "2026-03-01"), plan(
        EXPORTS / "pubmed_update.nbib", "MEDLINE", "2026-03-01")
    assert [r.values for r in first.rows] == [r.values for r in second.rows]
    assert [r.values["record_id"] for r in first.rows] == ["medline_2026-03-01_pmid16041464",
                                                         "medline_2026-03-01_pmid39990001"]
    embase = plan(EXPORTS / "embase.ris", "Embase (Ovid)")
    assert all(r.values["record_id"].startswith("embase_ovid_2026-03-02_") for r in embase.rows)


def test_the_same_export_imported_twice_adds_nothing():
    once = plan(EXPORTS / "embase.ris")
    log = rows("records") + [dict(r.values, screening="exclude") for r in once.rows]
    again = plan(EXPORTS / "embase.ris", log=log)
    assert again.rows == ()
    assert again.already_imported == tuple(r.values["record_id"] for r in once.rows)
    assert again.lines()[-1].startswith("4 records already in the log from an earlier import of this search")


def test_a_later_search_of_the_same_database_finds_the_earlier_hits_as_duplicates():
    once = plan(EXPORTS / "embase.ris")
    log = rows("records") + [r.values for r in once.rows]
    later = plan(EXPORTS / "embase.ris", date="2027-03-02", log=log)
    kept = {r.values["record_id"]: r.values["duplicate_of"] or r.values["record_id"] for r in once.rows}
    assert [r.values["duplicate_of"] for r in later.rows] == [kept[r.values["record_id"]] for r in once.rows]


def test_scopus_csv_against_the_log():
    result = plan(EXPORTS / "scopus.csv", "Scopus")
    assert [r.values["duplicate_of"] for r in result.rows] == ["tristano2006_ref11", "tristano2006_ref12", None, None]
