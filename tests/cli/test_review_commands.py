"""`metacalc analyse`, `figures`, `report`: choices and defaults come from the modules that own them, bad values
are located errors, and the report step (like --help) does not import the scientific stack."""

import inspect
import subprocess
import sys

import pytest

from metacalc.cli import main
from metacalc.meta.options import MEASURES, TAU2_METHODS
from metacalc.meta.options import PROPORTION_METHODS as METHODS
from metacalc.render.figures import FigureOptions
from metacalc.render.risk_of_bias import PALETTES
from metacalc.review.settings import RunSettings


def help_of(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_choices_are_the_core_constants(capsys):
    text = help_of(capsys, "analyse")
    for choices in (METHODS, MEASURES, TAU2_METHODS):
        assert f"one of {', '.join(choices)}" in text


def test_run_defaults_are_the_core_defaults():
    from metacalc.meta import pool_proportions

    parameters = inspect.signature(pool_proportions).parameters
    defaults = RunSettings()
    assert (defaults.method, defaults.measure, defaults.tau2_method, defaults.knha, defaults.level) == tuple(
        parameters[name].default for name in ("method", "measure", "tau2_method", "knha", "level"))


def test_figure_defaults_and_palettes(capsys):
    text = help_of(capsys, "figures")
    assert f"(default: {FigureOptions().palette})" in text and f"(default: {FigureOptions().max_rows})" in text
    assert "{" + ",".join(PALETTES) + "}" in text


def test_a_value_outside_the_core_choices_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_code:
        main(["analyse", "dataset.json", "--method", "bayes"])
    assert exit_code.value.code == 2
    assert "invalid choice: 'bayes' (choose from 'auto', 'exact', 'iv', 'glmm')" in capsys.readouterr().err


def test_bad_numbers_are_located_errors_and_nothing_is_written(tmp_path, capsys):
    code = main(["analyse", str(tmp_path / "dataset.json"), "--level", "95", "--jobs", "0",
                 "--outdir", str(tmp_path / "tables")])
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        "--level: got 95.0, expected a number between 0 and 1 (e.g. 0.95)", "--jobs: got 0, expected at least 1"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["--help"], ["report", "--help"]])
def test_help_and_report_do_not_import_the_scientific_stack(argv):
    code = ("import sys\nfrom metacalc.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'matplotlib') if m in sys.modules))" % argv)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_figure_formats_resolution_and_width_defaults_and_refusals(tmp_path, capsys):
    text = help_of(capsys, "analyse")
    defaults = FigureOptions()
    assert defaults.formats == ("svg", "pdf", "png") and defaults.dpi == 300 and defaults.width == "double"
    assert "(default: svg,pdf,png)" in text and "(default: 300)" in text and "(default: double)" in text
    code = main(["figures", str(tmp_path / "results.json"), "--outdir", str(tmp_path / "figures"),
                 "--formats", "pdf,png", "--dpi", "150", "--width", "triple"])
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        "--formats: got pdf,png, expected some of svg,pdf,png, each once, svg included (the report embeds the SVG)",
        "--dpi: got 150, expected one of 300, 600",
        "--width: got triple, expected one of single, double"]
    assert list(tmp_path.iterdir()) == []


def test_figures_are_the_same_files_written_by_one_worker_or_two(tmp_path, bundled_results, capsys):
    from metacalc.review.results_io import write_results

    (tmp_path / "tables").mkdir()
    write_results(bundled_results, str(tmp_path / "tables"))
    results = str(tmp_path / "tables" / "results.json")
    assert main(["figures", results, "--outdir", str(tmp_path / "none"), "--jobs", "0"]) == 1
    assert capsys.readouterr().err.splitlines() == ["--jobs: got 0, expected at least 1"]
    for jobs in ("1", "2"):
        assert main(["figures", results, "--outdir", str(tmp_path / jobs), "--formats", "svg", "--jobs", jobs]) == 0
    one, two = sorted((tmp_path / "1").iterdir()), sorted((tmp_path / "2").iterdir())
    assert [p.name for p in one] == [p.name for p in two] and len(one) > 5
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(one, two))
    assert not (tmp_path / "none").exists()
