"""Where the analyse and report steps spend their time on a review folder: CPU seconds per stage, in one process
(fits with jobs = 1, the cycle collector set as the command line sets it), and the peak memory so far after
each stage.

    .venv/bin/metacalc synthesize /tmp/r30k --patients 30000 --therapies 50 --seed 1
    .venv/bin/python benchmarks/analyse_stages.py /tmp/r30k /tmp/r30k-out      # prints one line per stage

Stages: validation (load_dataset), the tables as rows (ReviewTables), the duplicate screen (building the scorer;
the bound and scoring), dataset.json written and read, the fits (analyse_tables), results.json and the CSV tables,
the figures, and results.json read back as the report job reads it.
"""
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
folder, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
T = {}
def stage(name, f):
    t = time.process_time(); r = f(); T[name] = time.process_time() - t
    print(f"{name:28s} {T[name]:7.2f} s  rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:7.0f} MB", flush=True)
    return r
from metacalc.cli import collect_garbage_seldom
collect_garbage_seldom()  # as the command line does
from metacalc.data.review_folder import locate
from metacalc.data.review_file import load_review
from metacalc.review.plan import load_plan
from metacalc.data.dataset import load_dataset, Dataset
from metacalc.review.tables import ReviewTables
from metacalc.review.patient_duplicates import DuplicateScorer
from metacalc.review.run import analyse_tables
from metacalc.review.results_io import write_results, read_results
from metacalc.render.figures import render_figures
located = locate(folder, None, None)
review = load_review(located.review_file)
analyses = load_plan(os.path.join(folder, "analyses"), review)
ds = stage("validate (load_dataset)", lambda: load_dataset(located.sheets, review=review, sources=located.sources))
tables = stage("ReviewTables.of", lambda: ReviewTables.of(ds))
scorer = stage("screen: build scorer", lambda: DuplicateScorer(tables.patients, tables.treatments, tables.studies, tables.quotes, tables.records))
screen = stage("screen: bound + score", lambda: scorer.screen(tables.duplicate_decisions))
stage("dataset.to_json", lambda: ds.to_json(os.path.join(out, "dataset.json")))
stage("dataset.from_json", lambda: Dataset.from_json(os.path.join(out, "dataset.json")))
results = stage("analyse_tables (jobs=1)", lambda: analyse_tables(tables, analyses, jobs=1, screen=screen))
stage("write_results", lambda: write_results(results, os.path.join(out, "tables")))
stage("render_figures", lambda: render_figures(results, os.path.join(out, "figures")))
stage("read_results (report job)", lambda: read_results(os.path.join(out, "tables", "results.json")))
print("total", round(sum(T.values()), 1))
