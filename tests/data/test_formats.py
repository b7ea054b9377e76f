"""CSV and Excel give the same dataset; the dataset survives JSON; the template is deterministic."""

import dataclasses
import shutil
from pathlib import Path

import pytest

from metacalc.data import Dataset, load_dataset
from metacalc.errors import UserError

TESTS = Path(__file__).resolve().parents[1]
VALID = TESTS / "fixtures" / "sheets" / "valid"
BUNDLED = TESTS.parent / "extraction_sheets"


def same_data(a, b):
    return dataclasses.replace(a, source="x").equals(dataclasses.replace(b, source="x"))


@pytest.mark.parametrize("infer_types", [True, False])
def test_fixture_csv_and_xlsx_give_identical_datasets(tmp_path, infer_types, to_xlsx):
    to_xlsx(VALID, tmp_path / "sheets.xlsx", infer_types)
    from_csv, from_xlsx = load_dataset(VALID), load_dataset(tmp_path / "sheets.xlsx")
    assert same_data(from_csv, from_xlsx)
    for name, frame in from_csv.tables().items():
        assert list(frame.dtypes) == list(from_xlsx.tables()[name].dtypes)


@pytest.mark.skipif(not (BUNDLED / "patients.csv").exists(), reason="bundled extraction sheets not present")
@pytest.mark.slow
def test_bundled_csv_and_xlsx_give_identical_datasets(tmp_path, to_xlsx):
    to_xlsx(BUNDLED, tmp_path / "review.xlsx")
    assert same_data(load_dataset(BUNDLED), load_dataset(tmp_path / "review.xlsx"))


def test_directory_holding_one_workbook(tmp_path, to_xlsx):
    (tmp_path / "review").mkdir()
    to_xlsx(VALID, tmp_path / "review" / "review.xlsx")
    assert same_data(load_dataset(tmp_path / "review"), load_dataset(VALID))


def test_excel_rows_are_spreadsheet_rows(tmp_path, monkeypatch, to_xlsx):
    shutil.copytree(VALID, tmp_path / "sheets")
    path = tmp_path / "sheets" / "patients.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("36,female", "36,femal"), encoding="utf-8")
    to_xlsx(tmp_path / "sheets", tmp_path / "review.xlsx")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("review.xlsx")
    assert error.value.problems == ['review.xlsx[patients]:3:sex: not an allowed value (got "femal", expected one of: female, male)']


def test_excel_sheet_missing(tmp_path, monkeypatch, to_xlsx):
    import openpyxl

    to_xlsx(VALID, tmp_path / "review.xlsx")
    book = openpyxl.load_workbook(tmp_path / "review.xlsx")
    del book["treatments"]
    book.save(tmp_path / "review.xlsx")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("review.xlsx")
    assert error.value.problems == ['review.xlsx: sheet missing (got no sheet "treatments", expected sheets studies, patients, treatments, quotes)']


def test_excel_unknown_sheet(tmp_path, monkeypatch, to_xlsx):
    import openpyxl

    to_xlsx(VALID, tmp_path / "review.xlsx")
    book = openpyxl.load_workbook(tmp_path / "review.xlsx")
    book["records"].title = "record"
    book.save(tmp_path / "review.xlsx")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("review.xlsx")
    assert error.value.problems == ['review.xlsx[record]: unknown sheet (got "record", expected one of: studies, patients, treatments, aggregates, records, appraisal, appraisal_overall, quotes, vocabulary, duplicate_decisions; did you mean records?)']


def test_not_an_xlsx(tmp_path, monkeypatch):
    (tmp_path / "review.xlsx").write_bytes(b"studies,patients\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("review.xlsx")
    assert error.value.problems == ["review.xlsx: not a valid .xlsx workbook (got BadZipFile: File is not a zip file, expected an Excel .xlsx file)"]


def test_json_round_trip(tmp_path):
    ds = load_dataset(VALID)
    ds.to_json(tmp_path / "a.json")
    back = Dataset.from_json(tmp_path / "a.json")
    assert back.equals(ds)
    assert back.patients["years_sle_to_onset"].tolist() == [11.0, 4.0]
    back.to_json(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_template_is_deterministic_and_loads_as_an_empty_dataset(tmp_path):
    import openpyxl

    from metacalc.data.template import write_template

    write_template(tmp_path / "a.xlsx")
    write_template(tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    ds = load_dataset(tmp_path / "a.xlsx")
    assert all(len(frame) == 0 for frame in ds.tables().values())

    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert book.sheetnames[0] == "README"
    patients = book["patients"]
    assert [c.value for c in patients[1]][:4] == ["patient_id", "study_id", "age_at_presentation", "sex"]
    lists = {str(rule.sqref): rule.formula1 for rule in patients.data_validations.dataValidation}
    assert lists["D2:D5000"] == '"female,male"'
    assert "years_sle_to_onset" not in [c.value for c in patients[1]]


def test_committed_template_is_current(tmp_path):
    from metacalc.data.template import write_template

    committed = BUNDLED / "template.xlsx"
    if not committed.exists():
        pytest.skip("extraction_sheets/template.xlsx not generated yet")
    write_template(tmp_path / "t.xlsx")
    assert committed.read_bytes() == (tmp_path / "t.xlsx").read_bytes()


def test_readme_dictionary_is_current():
    from metacalc.data.dictionary import BEGIN, END, dictionary_markdown

    text = (BUNDLED / "README.md").read_text(encoding="utf-8")
    assert text[text.index(BEGIN) + len(BEGIN):text.index(END)] == "\n" + dictionary_markdown()
