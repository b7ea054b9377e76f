"""CSV and Excel give the same dataset; the dataset survives JSON; the template is deterministic and helps
whoever extracts."""

import dataclasses
import shutil
import types
from pathlib import Path

import pytest
from conftest import BUNDLED_COPY, ROOT, SMALL_REVIEW, copy_review

from metacalc.data import Dataset, load_dataset
from metacalc.data.review_file import load_review
from metacalc.errors import UserError

VALID = SMALL_REVIEW / "sheets"
REVIEW = load_review(SMALL_REVIEW / "review.yaml")


def small_review(tmp_path):
    """A copy of the small review in tmp_path, without its sheets: a workbook goes beside review.yaml."""
    copy_review(SMALL_REVIEW, tmp_path)
    shutil.rmtree(tmp_path / "sheets")
    return tmp_path


def same_data(a, b):
    return dataclasses.replace(a, source="x").equals(dataclasses.replace(b, source="x"))


@pytest.mark.parametrize("infer_types", [True, False])
def test_fixture_csv_and_xlsx_give_identical_datasets(tmp_path, infer_types, to_xlsx):
    to_xlsx(VALID, small_review(tmp_path) / "sheets.xlsx", infer_types)
    from_csv, from_xlsx = load_dataset(VALID), load_dataset(tmp_path / "sheets.xlsx")
    assert same_data(from_csv, from_xlsx)
    for name, frame in from_csv.tables().items():
        assert list(frame.dtypes) == list(from_xlsx.tables()[name].dtypes)


@pytest.mark.slow
def test_bundled_csv_and_xlsx_give_identical_datasets(tmp_path, to_xlsx):
    shutil.copytree(BUNDLED_COPY, tmp_path, dirs_exist_ok=True)
    shutil.rmtree(tmp_path / "extraction_sheets")
    to_xlsx(BUNDLED_COPY / "extraction_sheets", tmp_path / "review.xlsx")
    assert same_data(load_dataset(BUNDLED_COPY), load_dataset(tmp_path / "review.xlsx"))


def test_directory_holding_one_workbook(tmp_path, to_xlsx):
    (small_review(tmp_path) / "sheets").mkdir()
    to_xlsx(VALID, tmp_path / "sheets" / "review.xlsx")
    assert same_data(load_dataset(tmp_path / "sheets"), load_dataset(VALID))


def test_excel_rows_are_spreadsheet_rows(tmp_path, monkeypatch, to_xlsx):
    copy_review(SMALL_REVIEW, tmp_path)
    path = tmp_path / "sheets" / "patients.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("36,female", "36,femal"), encoding="utf-8")
    to_xlsx(tmp_path / "sheets", tmp_path / "review.xlsx")
    shutil.rmtree(tmp_path / "sheets")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("review.xlsx")
    assert error.value.problems == ['review.xlsx[patients]:3:sex: not an allowed value (got "femal", expected one of: female, male)']


def test_excel_sheet_missing(tmp_path, monkeypatch, to_xlsx):
    import openpyxl

    to_xlsx(VALID, small_review(tmp_path) / "review.xlsx")
    book = openpyxl.load_workbook(tmp_path / "review.xlsx")
    del book["treatments"]
    book.save(tmp_path / "review.xlsx")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("review.xlsx")
    assert error.value.problems == ['review.xlsx: sheet missing (got no sheet "treatments", expected sheets studies, patients, treatments, quotes)']


def test_excel_unknown_sheet(tmp_path, monkeypatch, to_xlsx):
    import openpyxl

    to_xlsx(VALID, small_review(tmp_path) / "review.xlsx")
    book = openpyxl.load_workbook(tmp_path / "review.xlsx")
    book["records"].title = "record"
    book.save(tmp_path / "review.xlsx")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("review.xlsx")
    assert error.value.problems == ['review.xlsx[record]: unknown sheet (got "record", expected one of: studies, patients, treatments, aggregates, records, appraisal, appraisal_overall, quotes, duplicate_decisions, certainty; did you mean records?)']


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
    assert back.patients["years_to_onset"].tolist() == [11.0, 4.0]
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
    assert book.sheetnames[0] == "README" and book.sheetnames[-1] == "lists"
    patients = book["patients"]
    assert [c.value for c in patients[1]][:4] == ["patient_id", "study_id", "age_at_presentation", "sex"]
    lists = {str(rule.sqref): rule.formula1 for rule in patients.data_validations.dataValidation}
    assert lists["D2:D5000"] == '"female,male"'
    assert "years_to_onset" not in [c.value for c in patients[1]]


def test_the_template_helps_whoever_extracts(tmp_path):
    """A comment and an input prompt on every column, widths for text, lists of therapies and of ids."""
    import openpyxl

    from metacalc.data.schema import load_schema
    from metacalc.data.template import write_template

    write_template(tmp_path / "t.xlsx", REVIEW)
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    schema = load_schema(REVIEW)
    for name, spec in schema.items():
        sheet = book[name]
        header = [c.value for c in sheet[1]]
        assert header == [c.name for c in spec.input_columns]
        rules = {str(rule.sqref): rule for rule in sheet.data_validations.dataValidation}
        for position, column in enumerate(spec.input_columns):
            letter = openpyxl.utils.get_column_letter(position + 1)
            cell = sheet[f"{letter}1"]
            assert cell.comment is not None and column.description in cell.comment.text, (name, column.name)
            rule = rules[f"{letter}2:{letter}5000"]
            assert rule.showInputMessage and rule.prompt.startswith(column.description[:50]), (name, column.name)
            assert sheet.column_dimensions[letter].width >= len(column.name) + 2
    patients = book["patients"]
    header = [c.value for c in patients[1]]
    assert header.index("lupus_panniculitis") < header.index("notes")  # the review's own fields
    assert patients.column_dimensions["B"].width >= 12 and book["quotes"].column_dimensions["D"].width >= 50
    treatments = {str(r.sqref): r.formula1 for r in book["treatments"].data_validations.dataValidation}
    assert treatments["B2:B5000"] == "'patients'!$A$2:$A$5000"  # a course's patient: the ids of the patients sheet
    assert treatments["C2:C5000"].startswith("'lists'!$A$2:$A$")
    assert treatments["I2:I5000"] == '"complete,partial,none,not reported"'
    therapies = [row[0].value for row in book["lists"].iter_rows(min_row=2)]
    assert "diltiazem" in therapies and "topical sodium metabisulfite" in therapies  # the review's addition
    assert book["lists"].sheet_state == "hidden"
    assert int(treatments["C2:C5000"].rsplit("$", 1)[1]) == len(therapies) + 1
    studies = {str(r.sqref): r.formula1 for r in book["studies"].data_validations.dataValidation}
    duplicate_of = [c.name for c in schema["studies"].input_columns].index("duplicate_of")
    letter = openpyxl.utils.get_column_letter(duplicate_of + 1)
    assert studies[f"{letter}2:{letter}5000"] == "'studies'!$A$2:$A$5000"


def test_a_filled_template_validates_and_its_lists_sheet_is_not_a_table(tmp_path, to_xlsx):
    import openpyxl

    from metacalc.data.template import write_template

    write_template(small_review(tmp_path) / "review.xlsx", REVIEW)
    book = openpyxl.load_workbook(tmp_path / "review.xlsx")
    filled = tmp_path / "filled.xlsx"
    to_xlsx(VALID, filled)
    source = openpyxl.load_workbook(filled)
    for name in source.sheetnames:
        for row in source[name].iter_rows(min_row=2, values_only=True):
            header = [c.value for c in source[name][1]]
            target = book[name]
            columns = [c.value for c in target[1]]
            target.append([dict(zip(header, row)).get(column) for column in columns])
    filled.unlink()
    book.save(tmp_path / "review.xlsx")
    assert same_data(load_dataset(tmp_path / "review.xlsx"), load_dataset(VALID))


def test_committed_template_is_current(tmp_path):
    """The bundled review's template (beside its sheets, not among them) is the one its review file makes."""
    from metacalc.data.template import write_template

    write_template(tmp_path / "t.xlsx", load_review(ROOT / "review.yaml"))
    assert (ROOT / "extraction_template.xlsx").read_bytes() == (tmp_path / "t.xlsx").read_bytes()


def test_readme_dictionary_is_current():
    from metacalc.data.dictionary import BEGIN, END, dictionary_markdown

    text = (ROOT / "extraction_sheets" / "README.md").read_text(encoding="utf-8")
    assert text[text.index(BEGIN) + len(BEGIN):text.index(END)] == "\n" + dictionary_markdown(
        load_review(ROOT / "review.yaml"))


@pytest.mark.parametrize("values, dtype", [
    ([1, None, 3], "Int64"), ([1.5, float("nan"), float("inf"), -float("inf")], "float64"),
    (["a", None, " b "], "string"), ([True, False], "bool"), ([1, 2], "int64"), ([True, None], "boolean"),
    ([1.0, None], "Float64"), ([None, "x", 1.0, 3], "object"), ([], "float64"),
])
def test_a_table_converts_column_by_column_to_the_values_json_cell_gives_cell_by_cell(values, dtype):
    import numpy as np
    import pandas as pd

    from metacalc.data.cells import json_cell
    from metacalc.data.dataset import _table_to_json

    column = pd.Series(values, dtype=dtype)
    if dtype == "object" and values:
        column[3] = np.int64(3)  # a numpy scalar inside an object column is unwrapped as json_cell does
    frame = pd.DataFrame({"a": column, "b": column})
    expected = [[json_cell(v) for v in row] for row in frame.astype(object).itertuples(index=False, name=None)]
    got = _table_to_json(frame)["rows"]
    assert got == expected
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]
    assert _table_to_json(pd.DataFrame(index=range(2)))["rows"] == [[], []]
    # The rows the review walks (Dataset.rows) are the JSON rows as dicts.
    holder = types.SimpleNamespace(t=frame, empty=pd.DataFrame(index=range(2)))
    assert Dataset.rows(holder, "t") == [dict(zip(["a", "b"], row)) for row in expected]  # type: ignore[arg-type]
    assert Dataset.rows(holder, "empty") == [{}, {}]  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", ["Int64", "float64", "string", "bool", "boolean", "Float64", "object"])
def test_a_column_reads_as_the_text_as_text_gives_cell_by_cell(dtype):
    import numpy as np
    import pandas as pd

    from metacalc.data.cells import as_text, as_texts

    values = {"Int64": [1, None, 3], "float64": [2011.0, 2.5, float("nan")], "string": ["  a ", None, " ", ""],
              "bool": [True, False], "boolean": [True, None], "Float64": [1.0, None, 2.5],
              "object": ["  a ", None, float("nan"), 2011.0, np.int64(3), pd.NaT, 7, True, ""]}[dtype]
    column = pd.Series(values, dtype=dtype).tolist()
    assert as_texts(column) == [as_text(v) for v in column]
