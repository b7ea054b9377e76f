"""`metacalc meta proportions|means` through metacalc.cli.main and once through the installed entry point."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from metacalc.cli import main

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "means_reference.json").read_text())
NORMAND = REFERENCE["normand1999_mn"]


@pytest.fixture
def normand_csv(tmp_path):
    lines = ["study,mean,sd,n,arm"]
    for arm in ("group1", "group2"):
        data = NORMAND[arm]
        for label, mean, sd, n in zip(data["labels"], data["mean"], data["sd"], data["n"]):
            lines.append(f"{label},{mean},{sd},{n},{arm}")
    path = tmp_path / "normand.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def group1_csv(tmp_path):
    data = NORMAND["group1"]
    lines = ["study,mean,sd,n"] + [f"{label},{m},{s},{n}" for label, m, s, n in
                                   zip(data["labels"], data["mean"], data["sd"], data["n"])]
    path = tmp_path / "group1.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


MEANS = ("meta", "means")
MEAN_COLUMNS = ("--mean", "mean", "--sd", "sd", "--n", "n", "--study", "study")


def test_means_json_matches_metafor(capsys, group1_csv):
    code, out, err = run(capsys, *MEANS, group1_csv, *MEAN_COLUMNS, "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    ref = NORMAND["group1"]["fits"]["REML_z"]
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "i2", "h2", "q"):
        assert result[key] == pytest.approx(ref[key], rel=1e-6), key
    assert [s["label"] for s in result["studies"]] == NORMAND["group1"]["labels"]
    assert [s["weight"] for s in result["studies"]] == pytest.approx(ref["weights"], rel=1e-6)


def test_means_options_reach_the_model(capsys, group1_csv):
    code, out, _ = run(capsys, *MEANS, group1_csv, *MEAN_COLUMNS, "--tau2", "DL", "--knha", "--format", "json")
    assert code == 0
    result = json.loads(out)
    ref = NORMAND["group1"]["fits"]["DL_knha"]
    assert result["tau2_method"] == "DL" and result["test"] == "knha"
    assert result["ci_lower"] == pytest.approx(ref["ci_lower"], rel=1e-6)
    code, out, _ = run(capsys, *MEANS, group1_csv, *MEAN_COLUMNS, "--level", "0.9", "--format", "json")
    narrower = json.loads(out)
    assert narrower["level"] == 0.9
    assert narrower["ci_upper"] - narrower["ci_lower"] < result["ci_upper"] - result["ci_lower"]


def test_means_by_gives_one_analysis_per_group(capsys, normand_csv):
    code, out, _ = run(capsys, *MEANS, normand_csv, *MEAN_COLUMNS, "--by", "arm", "--format", "json")
    assert code == 0
    results = json.loads(out)
    assert [r["by"] for r in results] == ["group1", "group2"]
    assert list(results[0])[0] == "by"
    for result in results:
        ref = NORMAND[result["by"]]["fits"]["REML_z"]
        assert result["k"] == 9 and result["estimate"] == pytest.approx(ref["estimate"], rel=1e-6)


def test_means_table_is_aligned_text(capsys, normand_csv):
    code, out, _ = run(capsys, *MEANS, normand_csv, *MEAN_COLUMNS, "--by", "arm")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "arm = group1" and "arm = group2" in lines
    assert lines[1] == "Pooled mean (iv, MN, REML), k = 9"
    header = lines[2]
    assert header.split() == ["study", "n", "mean", "sd", "95%", "CI", "weight"]
    edinburgh = next(line for line in lines if line.startswith("Edinburgh"))
    assert "[47.60, 62.40]" in edinburgh and len(edinburgh) == len(lines[3])
    pooled = next(line for line in lines if line.startswith("pooled"))
    assert "38.32" in pooled and "[24.90, 51.75]" in pooled and pooled.endswith("100.0%")
    assert "prediction interval: [-3.52, 80.17]" in lines
    assert any(line.startswith("heterogeneity: tau2 = 408.9 [179.7, 1526], I2 = 99.1%") for line in lines)


def test_output_file_is_written_and_equals_stdout(capsys, group1_csv, tmp_path):
    target = tmp_path / "out" / "pooled.json"
    code, printed, _ = run(capsys, *MEANS, group1_csv, *MEAN_COLUMNS, "--format", "json")
    code, out, _ = run(capsys, *MEANS, group1_csv, *MEAN_COLUMNS, "--format", "json", "--output", target)
    assert code == 0 and out == ""
    assert target.read_text() == printed
    assert [p.name for p in target.parent.iterdir()] == ["pooled.json"]


def test_xlsx_input(capsys, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["study", "mean", "sd", "n"])
    data = NORMAND["group2"]
    for row in zip(data["labels"], data["mean"], data["sd"], data["n"]):
        sheet.append(list(row))
    path = tmp_path / "series.xlsx"
    workbook.save(path)
    code, out, err = run(capsys, *MEANS, path, *MEAN_COLUMNS, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["estimate"] == pytest.approx(data["fits"]["REML_z"]["estimate"], rel=1e-6)


# --------------------------------------------------------------------------------------------------- bad input


def write(tmp_path, text, name="input.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_missing_column_names_the_columns_that_exist(capsys, tmp_path):
    path = write(tmp_path, "study,avg,sd,n\na,1,2,3\n")
    code, out, err = run(capsys, *MEANS, path, *MEAN_COLUMNS)
    assert code == 1 and out == ""
    assert err == f"{path}: no column 'mean' (given as --mean); the columns are: study, avg, sd, n\n"


def test_empty_file_and_header_only(capsys, tmp_path):
    empty = write(tmp_path, "", "empty.csv")
    code, _, err = run(capsys, *MEANS, empty, *MEAN_COLUMNS)
    assert code == 1 and err == f"{empty}: empty file (got 0 bytes, expected a header row naming the columns)\n"
    header = write(tmp_path, "study,mean,sd,n\n", "header.csv")
    code, _, err = run(capsys, *MEANS, header, *MEAN_COLUMNS)
    assert code == 1 and err == f"{header}: no data rows (the file has only a header)\n"
    code, _, err = run(capsys, *MEANS, tmp_path / "absent.csv", *MEAN_COLUMNS)
    assert code == 1 and "no such file" in err


def test_every_bad_cell_is_reported_with_row_and_column(capsys, tmp_path):
    # a blank line in the middle must not shift the row numbers: they are the file's own lines
    path = write(tmp_path, "study,mean,sd,n\na,1,abc,3\n\nb,2,1,-4\nc,,1,5\nd,4,0,5\n")
    code, out, err = run(capsys, *MEANS, path, *MEAN_COLUMNS)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"{path}:2:sd: not a number (got 'abc')",
        f"{path}:4:n: must be at least 1 (got -4)",
        f"{path}:5:mean: blank (a number is needed)",
        f"{path}:6:sd: must be above 0 (got 0)",
    ]
    assert "Traceback" not in err


def test_proportion_counts_are_checked(capsys, tmp_path):
    path = write(tmp_path, "study,x,n\na,3,2\nb,-1,4\nc,1.5,3\nd,1,0\ne,2,5\n")
    code, _, err = run(capsys, "meta", "proportions", path, "--events", "x", "--total", "n", "--study", "study")
    assert code == 1
    assert err.splitlines() == [
        f"{path}:2:x: more events than patients (got 3 > 2 in 'n')",
        f"{path}:3:x: must be at least 0 (got -1)",
        f"{path}:4:x: not a whole number (got 1.5)",
        f"{path}:5:n: must be at least 1 (got 0)",
    ]


def test_blank_group_value_is_an_error(capsys, tmp_path):
    path = write(tmp_path, "mean,sd,n,arm\n1,1,3,a\n2,1,3,\n")
    code, _, err = run(capsys, *MEANS, path, "--mean", "mean", "--sd", "sd", "--n", "n", "--by", "arm")
    assert code == 1 and err == f"{path}:3:arm: blank (every row needs a group value for --by)\n"


def test_meta_without_analysis_prints_help(capsys):
    code, out, _ = run(capsys, "meta")
    assert code == 2 and "proportions" in out and "means" in out


# --------------------------------------------------------------------------------------------------- proportions


def test_proportions_of_case_reports_pool_the_count(capsys, tmp_path):
    pytest.importorskip("metacalc.meta.proportions")
    rows = ["report,responders,patients,drug"] + [f"r{i},{1 if i < 14 else 0},1,diltiazem" for i in range(20)]
    rows += ["s1,9,17,bisphosphonate", "s2,3,4,bisphosphonate", "s3,0,1,bisphosphonate"]
    path = write(tmp_path, "\n".join(rows) + "\n")
    argv = ("meta", "proportions", path, "--events", "responders", "--total", "patients", "--study", "report")
    code, out, err = run(capsys, *argv, "--by", "drug", "--method", "exact", "--format", "json")
    assert code == 0, err
    results = json.loads(out)
    assert [r["by"] for r in results] == ["diltiazem", "bisphosphonate"]
    assert results[0]["estimate"] == pytest.approx(0.70) and results[0]["k"] == 20
    assert results[1]["estimate"] == pytest.approx(12 / 22)
    code, out, err = run(capsys, *argv, "--by", "drug", "--method", "exact")
    assert code == 0, err
    assert "drug = diltiazem" in out and "pooled" in out


# ---------------------------------------------------------------------------------------- the real entry point


def test_installed_entry_point(group1_csv):
    executable = Path(sys.executable).parent / "metacalc"
    if not executable.exists():
        pytest.skip(f"no metacalc script beside {sys.executable}")
    done = subprocess.run([str(executable), "meta", "means", str(group1_csv), *MEAN_COLUMNS, "--format", "json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["k"] == 9
    done = subprocess.run([str(executable), "meta", "means", str(group1_csv), "--mean", "average", "--sd", "sd",
                           "--n", "n"], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().endswith("the columns are: study, mean, sd, n")
    assert "Traceback" not in done.stderr


def test_means_estimated_from_median_range_and_quartiles(capsys, tmp_path):
    from metacalc.meta.means import mean_sd_from_quantiles

    path = write(tmp_path, "study,mean,sd,n,median,q1,q3,min,max\n"
                           "Balin 2012,21.5,10.2,28,,,,,\n"
                           "Series A,,,12,10,6,18,2,30\n"
                           "Series B,,,40,8,,,0.5,41\n")
    quantile_options = ("--median", "median", "--q1", "q1", "--q3", "q3", "--min", "min", "--max", "max")
    code, out, err = run(capsys, *MEANS, path, *MEAN_COLUMNS, *quantile_options, "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    series_a = mean_sd_from_quantiles(n=12, median=10, q1=6, q3=18, min=2, max=30)
    assert result["studies"][1]["mean"] == pytest.approx(series_a.mean)
    assert result["studies"][1]["sd"] == pytest.approx(series_a.sd)
    assert "Series A: mean and SD estimated from S2 (luo2018 mean, wan2014 SD)" in result["warnings"]
    assert "Series B: mean and SD estimated from S1 (luo2018 mean, wan2014 SD)" in result["warnings"]
    # a row with neither mean/SD nor a usable median is located
    bad = write(tmp_path, "study,mean,sd,n,median,q1,q3,min,max\nX,,,3,,,,,\n", "bad.csv")
    code, _, err = run(capsys, *MEANS, bad, *MEAN_COLUMNS, *quantile_options)
    assert code == 1 and err.startswith(f"{bad}:2: no mean and SD, and they cannot be estimated")


def test_malformed_files_get_one_line_each(capsys, tmp_path):
    ragged = write(tmp_path, "study,mean,sd,n\na,1,2,3,9\nb,1,2\n", "ragged.csv")
    code, _, err = run(capsys, *MEANS, ragged, *MEAN_COLUMNS)
    # the reader the extraction sheets use: a long row and a short row are each a located problem
    assert code == 1 and err.splitlines() == [
        f"{ragged}:2: too many cells (got a value in cell 5, expected 4 cells as in the header; is a comma unquoted?)",
        f"{ragged}:3: too few cells (got 3, expected 4 as in the header; is the file truncated?)"]
    duplicated = write(tmp_path, "study,mean,mean,n\na,1,2,3\n", "duplicated.csv")
    code, _, err = run(capsys, *MEANS, duplicated, *MEAN_COLUMNS)
    assert code == 1 and err == f"{duplicated}:1: duplicate column names: mean\n"
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("study,mean,sd,n\nPérez,1,2,3\n".encode("latin-1"))
    code, _, err = run(capsys, *MEANS, latin1, *MEAN_COLUMNS)
    assert code == 1 and err.startswith(f"{latin1}:2: not valid UTF-8 (got byte 0xE9")
    not_excel = write(tmp_path, "plain text", "fake.xlsx")
    code, _, err = run(capsys, *MEANS, not_excel, *MEAN_COLUMNS)
    assert code == 1 and err.startswith(f"{not_excel}: not a valid .xlsx workbook (")
    assert len(err.splitlines()) == 1


# ------------------------------------------------------------------------------- --by through the batch engines


def assert_close_json(actual, expected, where="result"):
    """Same structure and text; numbers within 1e-10 relative."""
    if isinstance(expected, dict):
        assert list(actual) == list(expected), where
        for key in expected:
            assert_close_json(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close_json(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) and not isinstance(actual, bool):
        assert actual == pytest.approx(expected, rel=1e-10, abs=1e-300), where
    else:
        assert actual == expected, where


GROUPS = {  # drug: (events, totals) -- series, reports only, the issue-13 dataset, a single study, all zero
    "A": ([3, 6, 10, 1], [11, 17, 21, 6]),
    "B": ([1, 1, 0, 1, 1], [1, 1, 1, 1, 1]),
    "issue13": ([1, 2, 0, 1, 0, 1, 0], [1, 2, 1, 3, 1, 1, 1]),
    "C": ([4], [9]),
    "D": ([0, 0, 0], [3, 1, 8]),
    "pritz": ([16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6], [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]),
}


@pytest.fixture
def groups_csv(tmp_path):
    lines = ["study,x,n,drug"]
    for drug, (events, totals) in GROUPS.items():
        lines += [f"{drug}{i},{x},{n},{drug}" for i, (x, n) in enumerate(zip(events, totals))]
    path = tmp_path / "groups.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("options", [(), ("--method", "glmm"), ("--method", "iv", "--tau2", "DL", "--knha"),
                                     ("--method", "iv", "--measure", "PFT"), ("--method", "exact")])
def test_by_json_equals_each_group_fitted_alone(capsys, groups_csv, options):
    from metacalc.meta.proportions import pool_proportions

    argv = ("meta", "proportions", groups_csv, "--events", "x", "--total", "n", "--study", "study", "--by", "drug",
            "--format", "json", *options)
    code, out, err = run(capsys, *argv)
    option = dict(zip(options[::2], options[1::2]))
    method = option.get("--method", "auto")
    if method == "glmm":  # group D (every study 0 events) has no GLMM: the command refuses and names the group
        assert code == 1 and out == ""
        assert err.startswith(f"{groups_csv}: drug = 'D': GLMM not estimable: every study has 0 events")
        return
    assert code == 0, err
    results = json.loads(out)
    assert [r["by"] for r in results] == list(GROUPS)
    for result, (drug, (events, totals)) in zip(results, GROUPS.items()):
        alone = pool_proportions(events, totals, method=method, measure=option.get("--measure", "PLO"),
                                 tau2_method=option.get("--tau2", "REML"), knha="--knha" in options,
                                 labels=[f"{drug}{i}" for i in range(len(events))])
        assert_close_json(result, {"by": drug, **alone.to_dict()}, drug)
    issue13 = results[2]
    assert issue13["method"] == ("glmm" if method == "auto" else method)
    if method == "auto":
        assert issue13["tau2"] == 0.0 and issue13["estimate"] == 0.5


def test_means_by_json_equals_each_group_fitted_alone(capsys, normand_csv):
    from metacalc.meta.means import pool_means

    code, out, _ = run(capsys, *MEANS, normand_csv, *MEAN_COLUMNS, "--by", "arm", "--format", "json", "--tau2", "PM")
    assert code == 0
    for result in json.loads(out):
        data = NORMAND[result["by"]]
        alone = pool_means(data["mean"], data["sd"], data["n"], tau2_method="PM", labels=data["labels"])
        assert_close_json(result, {"by": result["by"], **alone.to_dict()})


def test_json_is_compact_unless_indented(capsys, group1_csv):
    code, compact, _ = run(capsys, *MEANS, group1_csv, *MEAN_COLUMNS, "--format", "json")
    assert code == 0 and compact.count("\n") == 1 and '{"k":9,' in compact
    code, indented, _ = run(capsys, *MEANS, group1_csv, *MEAN_COLUMNS, "--format", "json", "--indent", "2")
    assert code == 0 and indented.startswith('{\n  "k": 9,')
    assert json.loads(compact) == json.loads(indented)


def test_every_group_the_model_refuses_is_named_at_once(capsys, tmp_path):
    path = write(tmp_path, "x,n,g\n0,5,a\n0,3,a\n2,4,b\n5,5,c\n7,7,c\n")
    code, out, err = run(capsys, "meta", "proportions", path, "--events", "x", "--total", "n", "--by", "g",
                         "--method", "glmm")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}: g = 'a': GLMM not estimable: every study has 0 events")
    assert lines[1].startswith(f"{path}: g = 'c': GLMM not estimable: every study has all events")


def test_by_makes_one_call_to_the_batch_engine(capsys, groups_csv, monkeypatch):
    import metacalc.meta.proportions as proportions

    calls = []
    engine = proportions.pool_proportions_many

    def counted(events_list, *args, **kwargs):
        calls.append(len(events_list))
        return engine(events_list, *args, **kwargs)

    monkeypatch.setattr(proportions, "pool_proportions_many", counted)
    monkeypatch.setattr(proportions, "pool_proportions", None)  # a per-group loop would fail
    code, _, err = run(capsys, "meta", "proportions", groups_csv, "--events", "x", "--total", "n", "--by", "drug",
                       "--format", "json")
    assert code == 0, err
    assert calls == [len(GROUPS)]


def test_table_marks_censored_tau2_bounds_and_gives_both_glmm_tests():
    from metacalc.cli.meta import render_table
    from metacalc.meta import pool_means, pool_proportions

    far = render_table(pool_means([0.0, 30.0], [1.0, 1.0], [2, 2]).to_dict(), "means")
    assert ", >4495]" in far  # the Q-profile upper bound is the end of its search, as metafor prints it
    glmm = render_table(pool_proportions([1, 3, 5, 9], [1, 10, 12, 20], method="glmm").to_dict(), "proportions")
    assert "Q (Wald) = " in glmm and "Q (LRT) = " in glmm
    auto = render_table(pool_proportions([1, 3, 5, 9], [1, 10, 12, 20]).to_dict(), "proportions")
    assert "population-average proportion" in auto
