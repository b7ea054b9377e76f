"""Reading search exports (RIS, MEDLINE, CSV) to records, and the located problems of bad exports."""

from pathlib import Path

import pytest

from metacalc.data.search_results import (
    SearchRecord,
    fold,
    normalise_doi,
    read_search_export,
    surname_key,
    vancouver_name,
)
from metacalc.errors import UserError

EXPORTS = Path(__file__).parent.parent / "fixtures" / "search_exports"


def test_medline_fields_and_continuation_lines():
    kind, records = read_search_export(EXPORTS / "pubmed_update.nbib")
    assert kind == "medline"
    first = records[0]
    assert first.line == 1
    assert first.pmid == "16041464"
    assert first.title == "Calcinosis cutis universalis in a patient with systemic lupus erythematosus."
    assert first.authors == ("Tristano AG", "Villarroel JL", "Rodriguez MA", "Millan A")
    assert (first.year, first.journal, first.volume, first.issue, first.pages) == (2006, "Clin Rheumatol", "25", "1", "70-4")
    assert first.doi == "10.1007/s10067-005-1100-5"
    assert first.citation() == ("Tristano AG, Villarroel JL, Rodriguez MA, Millan A. Calcinosis cutis universalis in a "
                                "patient with systemic lupus erythematosus. Clin Rheumatol. 2006;25(1):70-4.")
    assert records[1].line == 28
    assert records[1].title.endswith("systemic lupus erythematosus: a case report.")


def test_medline_translated_title_loses_its_brackets(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("PMID- 1\nTI  - [Calcinosis cutis in a lupus patient].\nAB  -\nDP  - 1999\n", encoding="utf-8")
    assert read_search_export(path)[1][0].title == "Calcinosis cutis in a lupus patient"


def test_ris_fields_doi_prefix_and_pages():
    kind, records = read_search_export(EXPORTS / "embase.ris")
    assert kind == "ris"
    assert [r.line for r in records] == [1, 15, 29, 42]
    rothe, lindqvist = records[0], records[1]
    assert rothe.authors == ("Rothe MJ", "Grant-Kels JM", "Rothfield NF")
    assert (rothe.year, rothe.pages, rothe.journal, rothe.doi) == (1990, "1060-1063", "Archives of Dermatology", None)
    assert lindqvist.doi == "10.9999/jcr.2026.0142"  # https://doi.org/ prefix gone, lower case
    assert lindqvist.title == "Sodium thiosulfate for calcinosis cutis universalis in systemic lupus erythematosus: a case report"


def test_ris_pmid_only_from_a_pubmed_accession_number(tmp_path):
    path = tmp_path / "x.ris"
    path.write_text("TY  - JOUR\nTI  - From PubMed via EndNote\nAN  - 16041464\nDB  - PubMed\nER  - \n"
                    "TY  - JOUR\nTI  - From Embase, whose accession is not a PMID\nAN  - 2005400123\nDB  - Embase\nER  - \n",
                    encoding="utf-8")
    records = read_search_export(path)[1]
    assert [r.pmid for r in records] == ["16041464", None]


def test_csv_header_variants_and_authors():
    kind, records = read_search_export(EXPORTS / "scopus.csv")
    assert kind == "csv"
    assert [r.line for r in records] == [2, 3, 4, 5]
    assert records[0].authors == ("Quismoro FP", "Dubois EL", "Chandor SB")
    assert (records[0].year, records[0].journal, records[0].pages) == (1975, "Archives of Dermatology", "352-356")
    assert records[2].doi == "10.9999/dcr.2025.0231"


@pytest.mark.parametrize("header", ["Article Title,PubMed ID,Publication Year", "TITLE;PMID;YEAR", "title\tpmid\tyear"])
def test_csv_columns_found_case_insensitively_with_any_delimiter(tmp_path, header):
    delimiter = {",": ",", ";": ";", "\t": "\t"}[next(d for d in ",;\t" if d in header)]
    path = tmp_path / "hits.csv"
    path.write_text(header + "\n" + delimiter.join(["A title long enough", "123", "2001"]) + "\n", encoding="utf-8")
    record = read_search_export(path)[1][0]
    assert (record.title, record.pmid, record.year) == ("A title long enough", "123", 2001)


def test_csv_quoted_cells_span_lines_and_rows_keep_their_first_line(tmp_path):
    path = tmp_path / "hits.csv"
    path.write_text('Title,DOI\n"A title\nover two lines",10.1000/a\nSecond,10.1000/b\n', encoding="utf-8")
    records = read_search_export(path)[1]
    assert [(r.line, r.title) for r in records] == [(2, "A title over two lines"), (4, "Second")]


def test_truncated_ris_lists_every_problem_located():
    with pytest.raises(UserError) as error:
        read_search_export(EXPORTS / "truncated.ris")
    file = str(EXPORTS / "truncated.ris")
    assert error.value.problems == [
        f"{file}:5: a new record starts before the one on line 1 ended (got 'TY  - ', expected 'ER  - ' first)",
        f"{file}:5: not a DOI (got \"not-a-doi\", expected 10.NNNN/suffix, e.g. 10.1007/s10067-005-1100-5)",
        f"{file}:5: not a year (got \"20x6\", expected a year from 1800 to 2100)",
    ]


def test_ris_without_an_end_is_reported_not_dropped(tmp_path):
    path = tmp_path / "cut.ris"
    path.write_text("TY  - JOUR\nTI  - First\nER  - \n\nTY  - JOUR\nTI  - Cut off here", encoding="utf-8")
    with pytest.raises(UserError) as error:
        read_search_export(path)
    assert error.value.problems == [f"{path}:5: the record opened here never ends (got the end of the file, expected "
                                    "'ER  - '; is the file truncated?)"]


def test_broken_medline_lines_and_pmid():
    file = str(EXPORTS / "broken.nbib")
    with pytest.raises(UserError) as error:
        read_search_export(EXPORTS / "broken.nbib")
    assert error.value.problems == [
        f"{file}:3: not a MEDLINE line (got \"this line is not MEDLINE\", expected 'TAG - value' or a continuation "
        "indented by six spaces)",
        f"{file}:5: not a PMID (got \"12a4\", expected digits, e.g. 16041464)",
    ]


def test_csv_without_identifying_columns():
    with pytest.raises(UserError) as error:
        read_search_export(EXPORTS / "no_identifiers.csv")
    assert error.value.problems == [
        f"{EXPORTS / 'no_identifiers.csv'}:1: no title, DOI or PMID column (got columns: Journal, Volume; expected a "
        "column named Title, DOI or PMID, or a common variant such as Article Title or PubMed ID)"]


def test_csv_cell_problems_name_the_column(tmp_path):
    path = tmp_path / "hits.csv"
    path.write_text("Title,PubMed ID,Year\n,,\nSome title of a paper,PM12,circa 2001\n,,2002\n", encoding="utf-8")
    with pytest.raises(UserError) as error:
        read_search_export(path)
    assert error.value.problems == [
        f"{path}:3:PubMed ID: not a PMID (got \"PM12\", expected digits, e.g. 16041464)",
        f"{path}:4: record without a title, DOI or PMID (got none of them, expected at least one to identify the record)",
    ]


@pytest.mark.parametrize("content, expected", [
    (b"", ": empty file (got 0 bytes"),
    (b"TY  - JOUR\n", ":1: the record opened here never ends"),
    (b"Title,DOI\n", ": no records (got a CSV export without any"),
    (b"Hello world\n", ":1: not a search export (got \"Hello world\""),
    (b"TY  - JOUR\nTI  - caf\xe9\nER  - \n", ":2: not valid UTF-8 (got byte 0xE9"),
])
def test_files_that_are_no_export(tmp_path, content, expected):
    path = tmp_path / "export.ris"
    path.write_bytes(content)
    with pytest.raises(UserError) as error:
        read_search_export(path)
    assert len(error.value.problems) == 1 and expected in error.value.problems[0]


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_search_export(tmp_path / "nothing.ris")


@pytest.mark.parametrize("raw, doi", [
    ("https://doi.org/10.1007/S10067-005-1100-5", "10.1007/s10067-005-1100-5"),
    ("http://dx.doi.org/10.1/X.", "10.1/x"),
    ("doi: 10.1/x", "10.1/x"),
    ("  ", None),
])
def test_normalise_doi(raw, doi):
    assert normalise_doi(raw) == doi


@pytest.mark.parametrize("raw, name, key", [
    ("Tristano, Antonio G.", "Tristano AG", "tristano"),
    ("Tristano A.G.", "Tristano AG", "tristano"),
    ("Pérez Pampín, Eva", "Pérez Pampín E", "perez pampin"),
    ("Grant-Kels, Jane M.", "Grant-Kels JM", "grant kels"),
    ("WHO Collaborating Group", "WHO Collaborating Group", "who collaborating group"),
])
def test_author_names(raw, name, key):
    assert vancouver_name(raw) == name
    assert surname_key(raw) == key


def test_fold_and_citation_without_authors():
    assert fold("Soft-tissue  Calcificación!") == "soft tissue calcificacion"
    assert SearchRecord(line=1, title="Only a title.").citation() == "Only a title."
    many = SearchRecord(line=1, title="T", authors=tuple(f"A{i} X" for i in range(8)), year=2000)
    assert many.citation() == "A0 X, A1 X, A2 X, A3 X, A4 X, A5 X, et al. T. 2000."
