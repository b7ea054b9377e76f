"""CPU seconds of the fits of one review folder (``analyse_tables``, jobs = 1), run several times in one process,
and the SHA-256 of the results' JSON, so that a change meant to be faster can be shown to give the same results.

    .venv/bin/metacalc synthesize /tmp/syn10000 --patients 10000 --therapies 50
    .venv/bin/python benchmarks/fit_seconds.py /tmp/syn10000 2      # one line per run, then the hash

The first run also pays the one-off imports of the fits (scipy.stats, about 2 s); the duplicate screen is
computed once before the runs, as the analyse step hands it over.
"""
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from metacalc.data.dataset import load_dataset
from metacalc.data.review_file import load_review
from metacalc.data.review_folder import locate
from metacalc.review.duplicates import duplicate_screen
from metacalc.review.plan import load_plan
from metacalc.review.run import analyse_tables
from metacalc.review.tables import ReviewTables

folder = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
located = locate(folder, None, None)
review = load_review(located.review_file)
analyses = load_plan(os.path.join(folder, "analyses"), review)
tables = ReviewTables.of(load_dataset(located.sheets, review=review, sources=located.sources))
screen = duplicate_screen(tables)
for run in range(runs):
    start = time.process_time()
    results = analyse_tables(tables, analyses, jobs=1, screen=screen)
    print(f"analyse_tables run {run + 1}: {time.process_time() - start:.2f} s CPU", flush=True)
# in the order results.json holds them (key order included)
print("results sha256", hashlib.sha256(json.dumps(results.to_dict()).encode()).hexdigest())
