"""`metacalc validate` is the one place a review's data is checked: for each of its checks, a broken copy of a
review folder that validate refuses, with the located message (FILE:ROW:COLUMN, the sheet for Excel, rows as a
spreadsheet counts them, blank lines included)."""

import shutil

import pytest
from conftest import SMALL_REVIEW

from metacalc.cli import main


@pytest.fixture
def review(tmp_path, monkeypatch):
    """A copy of the small review as a review folder ``review/`` (review.yaml, extraction_sheets/, sources/)."""
    shutil.copytree(SMALL_REVIEW, tmp_path / "review")
    (tmp_path / "review" / "sheets").rename(tmp_path / "review" / "extraction_sheets")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "review"


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refused(capsys, *argv):
    code = main(["validate", *argv])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and "Traceback" not in err, (code, out, err)
    return err.splitlines()


def test_the_review_folder_validates(review, capsys):
    assert main(["validate", "review"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("review/extraction_sheets: valid\nreview file: review/review.yaml; A small review")
    assert "quotes: 38, each found in its source document" in out


def test_a_column_rule(review, capsys):
    edit(review / "extraction_sheets" / "patients.csv", "36,female", "36,femal")
    assert refused(capsys, "review") == [
        'review/extraction_sheets/patients.csv:3:sex: not an allowed value (got "femal", expected one of: female, male)']


def test_a_review_field_is_a_column_with_its_rules(review, capsys):
    edit(review / "extraction_sheets" / "patients.csv", "circumscripta,yes", "localised,yes")
    assert refused(capsys, "review") == [
        'review/extraction_sheets/patients.csv:2:distribution: not an allowed value (got "localised", expected one '
        'of: circumscripta, universalis)']


def test_a_reference_between_tables(review, capsys):
    edit(review / "extraction_sheets" / "treatments.csv", "beta2013_p1_t1,beta2013_p1,", "beta2013_p1_t1,beta2013_p9,")
    assert refused(capsys, "review") == [
        'review/extraction_sheets/treatments.csv:4:patient_id: unknown patient_id (got "beta2013_p9", expected a '
        'patient_id listed in patients.csv)']


def test_chronology_in_the_review_s_words(review, capsys):
    edit(review / "extraction_sheets" / "patients.csv", ",,4,,universalis,", ",,-3,,universalis,")
    assert refused(capsys, "review") == [
        "review/extraction_sheets/patients.csv:3:onset_years_after_start: onset before SLE diagnosis (got onset -3 y "
        "after SLE diagnosis (stated), expected 0 or more years unless onset_before_start is yes)"]


def test_records_reconciliation_with_rows_as_a_spreadsheet_counts_them(review, capsys):
    # a blank line before the record that includes beta2013: the row named is the one a spreadsheet shows (5)
    edit(review / "extraction_sheets" / "records.csv", "r3,other_methods,citation_searching,reference list of "
         "alpha2011,Beta 2013,,yes,include,beta2013", "\nr3,other_methods,citation_searching,reference list of "
         "alpha2011,Beta 2013,,yes,exclude,")
    lines = refused(capsys, "review")
    assert "review/extraction_sheets/records.csv:5:exclusion_reason: record r3 was excluded at eligibility without a " \
           "reason (PRISMA 2020 reports each reason with its count)" in lines
    assert "review/extraction_sheets/studies.csv:3:study_id: study beta2013 is in the extraction sheets but no record " \
           "in records.csv includes it" in lines


def test_appraisal_completeness_is_an_error(review, capsys):
    path = review / "extraction_sheets" / "appraisal_overall.csv"
    path.write_text("\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                              if not line.startswith("beta2013")) + "\n", encoding="utf-8")
    assert refused(capsys, "review") == [
        "review/extraction_sheets/appraisal_overall.csv: study beta2013, jbi_case_report: no overall judgement (got "
        "item answers only, expected one row with the reviewer's judgement)"]


def test_or_a_warning_when_the_review_file_says_so(review, capsys):
    path = review / "extraction_sheets" / "appraisal_overall.csv"
    path.write_text("\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                              if not line.startswith("beta2013")) + "\n", encoding="utf-8")
    (review / "review.yaml").write_text((review / "review.yaml").read_text(encoding="utf-8")
                                        + "appraisal: {incomplete: warning}\n", encoding="utf-8")
    assert main(["validate", "review"]) == 0
    out = capsys.readouterr().out
    assert ("appraisal unfinished (accepted as a warning by the review file): beta2013 (no overall judgement by "
            "jbi_case_report)") in out
    assert "warning: review/extraction_sheets/appraisal_overall.csv: study beta2013, jbi_case_report: no overall " \
           "judgement" in out


def test_a_quote_not_in_its_source_document_shows_the_closest_passage(review, capsys):
    edit(review / "extraction_sheets" / "quotes.csv", "with an onset 21 years prior", "with an onset 12 years prior")
    assert refused(capsys, "review") == [
        'review/extraction_sheets/quotes.csv:14:quote: not found in alpha.txt (got "with an onset 12 years prior", '
        'expected the words of the source document, whitespace aside; closest passage (96% alike): "with an onset '
        '21 years prior")']


def test_whitespace_aside_a_quote_is_found(review, capsys):
    edit(review / "sources" / "alpha.txt", "with an onset 21 years prior", "with an\n  onset 21\tyears prior")
    assert main(["validate", "review"]) == 0
    capsys.readouterr()


def test_a_source_document_that_is_not_in_sources(review, capsys):
    (review / "sources" / "beta.txt").rename(review / "sources" / "beta2013.txt")
    assert refused(capsys, "review") == [
        'review/extraction_sheets/studies.csv:3:source_document: source document not found (got "beta.txt", expected '
        'a file in review/sources/; did you mean beta2013.txt?)']


def test_a_folder_named_like_a_source_document_is_said_to_be_a_folder(review, capsys):
    (review / "sources" / "beta.txt").unlink()
    (review / "sources" / "beta.txt").mkdir()
    assert refused(capsys, "review") == [
        'review/extraction_sheets/studies.csv:3:source_document: a folder, not a text file (got "beta.txt", '
        'expected a UTF-8 text file in review/sources/)']


def test_a_source_document_that_is_not_utf8_is_named(review, capsys):
    path = review / "sources" / "beta.txt"
    path.write_bytes(path.read_bytes() + "caf\u00e9".encode("latin-1"))
    assert refused(capsys, "review") == [
        'review/extraction_sheets/studies.csv:3:source_document: not UTF-8 text (got "beta.txt", expected a UTF-8 '
        'text file in review/sources/)']


def test_a_quote_from_another_document_named_in_its_location(review, capsys):
    quotes = review / "extraction_sheets" / "quotes.csv"
    edit(quotes, "patients,beta2013_p1,sex,woman,case", "patients,beta2013_p1,sex,woman,alpha.txt: case")
    assert main(["validate", "review"]) == 0  # "woman" is in alpha.txt too
    capsys.readouterr()
    edit(quotes, "alpha.txt: case", "gamma.txt: case")
    assert refused(capsys, "review") == [
        'review/extraction_sheets/quotes.csv:20:location: source document not found (got "gamma.txt" named in the '
        'location, expected a file in review/sources/; did you mean alpha.txt?)']


def test_no_sources_folder(review, capsys):
    shutil.rmtree(review / "sources")
    assert refused(capsys, "review") == [
        "review/sources: no sources folder (got no review/sources/, expected the full texts of the reports, where "
        "every quote is checked; each study's source_document names its file)"]


def test_csv_files_and_a_workbook_side_by_side_name_both(review, capsys, to_xlsx):
    to_xlsx(review / "extraction_sheets", review / "extraction_sheets" / "filled.xlsx")
    (line,) = refused(capsys, "review")
    assert line == ("review/extraction_sheets: both CSV files and a workbook (got aggregates.csv, appraisal.csv, "
                    "appraisal_overall.csv, patients.csv, quotes.csv, records.csv, studies.csv, treatments.csv and "
                    "filled.xlsx, expected one or the other: move the workbook out of the folder, or the CSV files)")


def test_a_workbook_in_the_sheets_folder_is_read(review, capsys, to_xlsx):
    sheets = review / "extraction_sheets"
    edit(sheets / "patients.csv", "36,female", "36,femal")
    to_xlsx(sheets, review / "book.xlsx")
    shutil.rmtree(sheets)
    sheets.mkdir()
    (review / "book.xlsx").rename(sheets / "book.xlsx")
    assert refused(capsys, "review") == [
        'review/extraction_sheets/book.xlsx[patients]:3:sex: not an allowed value (got "femal", expected one of: '
        'female, male)']


def test_the_review_file_is_checked_with_located_messages(review, capsys):
    edit(review / "review.yaml", "  start: SLE diagnosis\n", "  stat: SLE diagnosis\n")
    assert refused(capsys, "review") == [
        "review/review.yaml:clock.start: required key missing (got no start, expected the event that starts the "
        "clock (e.g. diagnosis of sarcoidosis))",
        "review/review.yaml:clock.stat: unknown key (got stat, expected one of: diagnosis, diagnosis_short, onset, "
        "onset_short, start, start_short; did you mean start?)"]


def test_a_published_figure_must_be_a_time_with_a_mean(review, capsys):
    edit(review / "review.yaml", "aggregate: alpha2011_a2, population: all patients, measure: years_to_onset",
         "aggregate: alpha2011_a1, population: {lupus_panniculitis: maybe}, measure: years_to_onset")
    assert refused(capsys, "review") == [
        "review/review.yaml:published_figures.0.aggregate: not a published time (got "
        "review/extraction_sheets/aggregates.csv:2 with outcome response_partial, expected years_to_onset or "
        "years_to_diagnosis)",
        'review/review.yaml:published_figures.0.population.lupus_panniculitis: not an allowed value of '
        'lupus_panniculitis (got "maybe", expected one of: yes, no)']


def test_a_published_figure_of_another_measure_or_without_a_row(review, capsys):
    edit(review / "review.yaml", "aggregate: alpha2011_a2, population: all patients, measure: years_to_onset",
         "aggregate: alpha2011_a2, population: all patients, measure: years_to_diagnosis}\n"
         "  - {aggregate: alpha2011_a3, population: all patients")
    assert refused(capsys, "review") == [
        "review/review.yaml:published_figures.0.measure: not the figure's measure (got years_to_diagnosis, expected "
        "years_to_onset, as review/extraction_sheets/aggregates.csv:3:outcome says)",
        'review/review.yaml:published_figures.1.aggregate: unknown aggregate_id (got "alpha2011_a3", expected an '
        'aggregate_id listed in aggregates.csv; did you mean alpha2011_a2?)']
