"""Running the analysis plan on a validated dataset: every fit (in worker processes when asked), then the rows
not used, the quotes behind the numbers, duplicates, PRISMA counts and the appraisal, as typed results.

``analyse_review`` is the one orchestrator of the analyses; ``analyse_step`` is the ``metacalc analyse`` step
around it (validate the sheets or read the dataset, analyse, write the tables). Nothing here draws or renders:
figures and the report read the results.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from metacalc.data.prisma_flow import flow_counts, records_behind_boxes, text_rows
from metacalc.review.appraisal import appraisal_results
from metacalc.review.certainty import certainty_of
from metacalc.review.changes import changes_since
from metacalc.review.characteristics import patient_characteristics, reference_list
from metacalc.review.document import DuplicateScreen, PrismaResult, ReviewResults, Unappraised
from metacalc.review.duplicates import duplicate_differences, duplicate_screen, undecided_pairs
from metacalc.review.ledger import RowsOfAnalysis, ledger, provenance_quotes
from metacalc.review.onset import fit_time
from metacalc.review.plan import Analysis, Settings
from metacalc.review.release import latest_release, review_inputs
from metacalc.review.response import fit_response
from metacalc.review.results import AnalysisResult, Group, Reference, SensitivityVariant
from metacalc.review.results_io import write_results
from metacalc.review.sensitivity import variant_rows
from metacalc.review.settings import RunSettings
from metacalc.review.tables import ReviewTables
from metacalc.review.words import outcome_label, variant_label

if TYPE_CHECKING:
    from metacalc.data.dataset import Dataset

SOFTWARE = ("metacalc", "numpy", "scipy", "pandas", "matplotlib", "jinja2", "snakemake")


@dataclass(frozen=True)
class Fit:
    """One fit of the plan: the groups, and (for a main analysis) the rows it used and why others were not."""

    groups: tuple[Group, ...]
    used: dict[str, list[str]]
    reasons: dict[str, dict[str, str]]
    references: tuple[Reference, ...] = ()


def fit(review: ReviewTables, analysis: Analysis, settings: Settings, run: RunSettings, main: bool) -> Fit:
    """The main analysis (with the cumulative analysis of its groups) or one sensitivity variant."""
    if settings.kind == "proportion":
        groups, used, reasons = fit_response(review, analysis, settings, run, with_cumulative=main, detail=main)
        return Fit(tuple(groups), used, reasons)
    time_groups, used, reasons, references = fit_time(review, analysis, settings, run, detail=main)
    return Fit(tuple(time_groups), used, reasons, tuple(references))


# Set in the parent before forking workers, so that they inherit the review instead of unpickling it.
_SHARED: dict[str, Any] = {}
Task = tuple[int, int | None]  # (analysis, variant or None for the main analysis)


def _fit_task(task: Task) -> Fit:
    review, analyses, run = _SHARED["review"], _SHARED["analyses"], _SHARED["run"]
    index, variant = task
    analysis = analyses[index]
    if variant is None:
        return fit(review, analysis, analysis.main, run, main=True)
    fitted = fit(review, analysis, analysis.variants[variant].settings, run, main=False)
    # A variant keeps numbers only: the main analysis has the per-patient and per-study rows.
    return Fit(tuple(group.numbers_only() for group in fitted.groups), {}, {}, fitted.references)


def _fit_all(review: ReviewTables, analyses: Sequence[Analysis], run: RunSettings, jobs: int,
             meanwhile: Callable[[], Any] = lambda: None) -> tuple[dict[Task, Fit], Any]:
    """Every fit of the plan, in parallel worker processes when ``jobs`` > 1 (results do not depend on it), and
    what ``meanwhile()`` returns: it runs in this process while the workers fit (after them when ``jobs`` is 1)."""
    tasks: list[Task] = [(i, None) for i in range(len(analyses))]
    tasks += [(i, j) for i, analysis in enumerate(analyses) for j in range(len(analysis.variants))]
    _SHARED.update(review=review, analyses=analyses, run=run)
    try:
        if jobs <= 1 or len(tasks) < 2:
            fits = dict(zip(tasks, map(_fit_task, tasks)))
            return fits, meanwhile()
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=multiprocessing.get_context("fork")) as pool:
            # map submits every task at once (the workers are forked then, before ``meanwhile`` starts any
            # thread); its results are collected after ``meanwhile`` returns.
            fitted = pool.map(_fit_task, tasks)
            done = meanwhile()
            return dict(zip(tasks, fitted)), done
    finally:
        _SHARED.clear()


def series_labels(review: ReviewTables, settings: Settings) -> list[str]:
    """The reports' own labels of the case series with figures of an outcome's kind (what 'with the case series'
    adds), in order of label."""
    if settings.kind == "proportion":
        rows = [r for r in review.aggregates if str(r.get("outcome") or "").startswith("response_")]
    else:
        rows = [r for r in review.aggregates if r.get("outcome") == settings.outcome]
    return sorted({review.label_of(r["study_id"]) for r in rows})


def _analysis_result(review: ReviewTables, analysis: Analysis, index: int, fits: dict[Task, Fit]) -> AnalysisResult:
    main = fits[(index, None)]
    variants = tuple(
        SensitivityVariant(variant.id, variant.label or variant_label(variant.settings, analysis.main, review.review,
                                                                      series_labels(review, variant.settings)),
                           variant.settings.to_dict(),
                           variant_rows(main.groups, fits[(index, number)].groups, analysis.kind),
                           fits[(index, number)].groups)
        for number, variant in enumerate(analysis.variants))
    return AnalysisResult(
        id=analysis.id, title=analysis.title, description=analysis.description,
        source=os.path.basename(analysis.source),  # the file name: outputs must not depend on the cwd
        kind=analysis.kind, outcome=analysis.main.outcome,
        outcome_label=outcome_label(analysis.main.outcome, review.review),
        group_by=analysis.group_by, subgroup_by=analysis.subgroup_by, settings=analysis.main.to_dict(),
        groups=main.groups, sensitivity=variants, used={table: tuple(ids) for table, ids in main.used.items()},
        references=main.references)


def software_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def analyse_tables(review: ReviewTables, analyses: Sequence[Analysis], run: RunSettings = RunSettings(),
                   jobs: int = 1, warnings: Sequence[str] = (), screen: DuplicateScreen | None = None) -> ReviewResults:
    """Fit every analysis of the plan (and its sensitivity variants) on the review's tables.

    ``jobs`` > 1 fits in that many worker processes; the results are the same. ``screen`` is the duplicate
    screen of these tables when the caller has it already; without it, the screen runs (in ``jobs`` threads)
    while the workers fit, since on a large review it costs about as much as the fits.
    """
    given = screen
    fits, screen = _fit_all(review, analyses, run, jobs,
                            (lambda: given) if given is not None else lambda: duplicate_screen(review, jobs))
    results = [_analysis_result(review, analysis, index, fits) for index, analysis in enumerate(analyses)]
    rows = [RowsOfAnalysis(a.id, fits[(i, None)].used, fits[(i, None)].reasons) for i, a in enumerate(analyses)]
    excluded, counts = ledger(review, rows)
    variant_groups = [g for a in results for v in a.sensitivity for g in v.groups]
    records = text_rows(review.records)  # read once for the counts and the records behind each box
    flow = flow_counts(records, review.studies)
    pairs = tuple(duplicate_differences(review))
    included, excluded_reports = reference_list(review)
    return ReviewResults(
        review=review.review,
        settings=run.to_dict(), software=software_versions(), high_risk_studies=tuple(review.high_risk),
        studies=tuple({**s, "label": review.label[s["study_id"]]} for s in review.studies),
        patients=tuple({**p, "label": review.patient_label[p["patient_id"]]} for p in review.patients),
        treatments=tuple(review.treatments), analyses=tuple(results),
        quotes={key: tuple(quotes) for key, quotes in provenance_quotes(review, rows, variant_groups).items()},
        excluded_rows=tuple(excluded), row_counts=counts,
        duplicate_screen=screen,
        duplicate_differences=pairs,
        characteristics=patient_characteristics(review, (p for pair in pairs for p in pair.patients)),
        included_reports=included, excluded_reports=excluded_reports,
        certainty=certainty_of(results, review.certainty),
        prisma=PrismaResult.of(flow, records_behind_boxes(flow, records)),
        appraisal=tuple(appraisal_results(review)), dataset_warnings=tuple(warnings),
        unappraised=tuple(Unappraised(study, review.label_of(study), missing) for study, missing in review.unappraised))


def analyse_review(dataset: Dataset, analyses: Sequence[Analysis], run: RunSettings = RunSettings(),
                   jobs: int = 1) -> ReviewResults:
    """The analysis plan on a validated dataset, as typed results."""
    return analyse_tables(ReviewTables.of(dataset), analyses, run, jobs, dataset.warnings)


def analyse_step(dataset_json: str, plan_dir: str, outdir: str, *, sheets: str | None = None,
                 review_file: str | None = None, sources: str | None = None, run: RunSettings = RunSettings(),
                 releases: str | None = None, jobs: int = 1, strict: bool = False) -> tuple[ReviewResults, list[str]]:
    """The ``metacalc analyse`` step: validate ``sheets`` (a review folder, or its sheets) with its review file
    and sources (found as ``metacalc.data.review_folder.locate`` finds them, unless named) into ``dataset_json``,
    or read it (review included) when ``sheets`` is None; run the plan, write the tables into ``outdir``.
    Nothing is written on a UserError (a problem of the review file, the sheets, the sources or the plan: all
    are checked before anything is written). ``strict``: a pair of patients that may be one patient counted
    twice, undecided by the reviewer, is such a problem too. ``releases`` is the review's folder of named
    versions (``metacalc release``): the change log compares with the latest. Returns the results and the
    files written.
    """
    from metacalc.data.dataset import Dataset, load_dataset
    from metacalc.errors import UserError
    from metacalc.data.review_file import load_review
    from metacalc.data.review_folder import locate
    from metacalc.review.plan import load_plan

    if sheets is not None:
        located = locate(sheets, review_file, sources)
        review = load_review(located.review_file)
        analyses = load_plan(plan_dir, review)
        dataset = load_dataset(located.sheets, review=review, sources=located.sources)
    else:
        dataset = Dataset.from_json(dataset_json)
        analyses = load_plan(plan_dir, dataset.review)
    tables = ReviewTables.of(dataset)
    screen = None  # by default screened while the fits run (analyse_tables)
    if strict:  # refused before anything is written or fitted
        screen = duplicate_screen(tables, jobs)
        if screen.undecided():
            raise UserError(undecided_pairs(tables, screen, dataset.source))
    if sheets is not None:
        dataset.to_json(dataset_json)
    warnings = dataset.warnings
    # The analyses read the tables as rows: the dataset's frames are let go before the fits and their results
    # (at 100,000 patients they are several hundred megabytes of the step's peak).
    del dataset
    results = analyse_tables(tables, analyses, run, jobs, warnings, screen)
    if releases is not None:
        files = None
        if sheets is not None:
            files = review_inputs(os.path.dirname(os.path.abspath(releases)), located.review_file, located.sheets,
                                  located.sources, plan_dir)
        results = replace(results, changes_since_release=changes_since(latest_release(releases), results, files))
    return results, write_results(results, outdir)
