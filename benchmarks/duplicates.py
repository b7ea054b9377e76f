"""Benchmark of the update helpers: scoring every pair of patients for duplicates, and importing a search.

    .venv/bin/python benchmarks/duplicates.py                       # writes benchmarks/duplicates_results.md
    .venv/bin/python benchmarks/duplicates.py --patients 1000 --output -

1. Duplicate patients: ``screen_patients`` on synthetic reviews (``metacalc synthesize --therapies 20
   --seed 1``) of 1,000, 10,000 and 100,000 patients, at the review's own threshold (``screening_threshold``):
   time to build the scorer, to find the pairs that could reach the threshold (the numpy bound) and to score
   them; pairs, pairs the bound looks at, candidates, pairs flagged. Brute force is timed on 1,000 patients
   only (a minute).
2. Records import: ``plan_import`` of a RIS export of 2,000 records (a tenth of them already in the log, with
   the DOI dropped and the title reworded slightly) into a log of 10,000 records that have titles.
"""

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def rows(frame):
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def review_tables(patients, workdir):
    from metacalc.data import load_dataset

    out = os.path.join(workdir, f"review{patients}")
    subprocess.run([os.path.join(BIN, "metacalc"), "synthesize", out, "--patients", str(patients),
                    "--therapies", "20", "--seed", "1"], check=True, capture_output=True)
    dataset = load_dataset(out)
    return {name: rows(getattr(dataset, name)) for name in ("patients", "treatments", "studies", "quotes", "records")}


def duplicates(patients, workdir, brute):
    import itertools

    from metacalc.review.duplicate_bound import BoundPlan
    from metacalc.review.patient_duplicates import DuplicateScorer, screening_threshold

    tables = review_tables(patients, workdir)
    start = time.perf_counter()
    scorer = DuplicateScorer(**tables)
    built = time.perf_counter()
    threshold = screening_threshold(len({p.study_id for p in scorer.patients}))
    candidates = scorer._above_bound(threshold)
    bounded = time.perf_counter()
    screen = scorer.screen(threshold=threshold)
    screened = time.perf_counter()
    plan = BoundPlan(scorer, threshold)
    looked_at = sum(len(rows) * len(cols) for rows, cols, _ in plan.blocks(plan.common_drugs()))
    line = {"patients": patients, "pairs": screen.pairs_scored, "looked_at": looked_at, "threshold": threshold,
            "candidates": len(candidates), "flagged": len(screen.pairs), "build": built - start,
            "bound": bounded - built, "screen": screened - bounded, "brute": None}
    if brute:
        start = time.perf_counter()
        ids = [(p["patient_id"], p["study_id"]) for p in tables["patients"]]
        found = {tuple(sorted((a, b))) for (a, sa), (b, sb) in itertools.combinations(ids, 2)
                 if sa != sb and scorer.score(a, b).score >= threshold}
        line["brute"] = time.perf_counter() - start
        line["same_as_brute"] = found == {(p.first, p.second) for p in screen.pairs if p.above_threshold}
    return line


def record_import(log_size=10_000, hits=2_000, seed=1):
    from metacalc.data.record_matching import plan_import
    from metacalc.data.search_results import SearchRecord

    rng = random.Random(seed)
    words = ("calcinosis cutis lupus systemic erythematosus dermatomyositis panniculitis diltiazem warfarin "
             "thiosulfate surgical excision universalis circumscripta case report series review treatment "
             "response outcome patient woman child adult chronic extensive subcutaneous nodules ulcer").split()

    def title():
        return " ".join(rng.choice(words) for _ in range(rng.randint(6, 14))).capitalize()

    log = [{"record_id": f"old{k}", "title": title(), "first_author": f"Author{rng.randint(1, 3000)} A",
            "year": str(rng.randint(1960, 2025)), "doi": f"10.1000/old{k}" if rng.random() < 0.5 else None}
           for k in range(log_size)]
    export = []
    for k in range(hits):
        if k % 10 == 0:  # already in the log: no DOI here, one word's letters swapped
            old = log[rng.randrange(log_size)]
            text = old["title"].replace("lupus", "lupsu", 1)
            export.append(SearchRecord(line=k, title=text, authors=(old["first_author"],), year=int(old["year"])))
        else:
            export.append(SearchRecord(line=k, title=title(), authors=(f"Author{rng.randint(1, 3000)} A",),
                                       year=rng.randint(1960, 2025), doi=f"10.1000/new{k}"))
    start = time.perf_counter()
    plan = plan_import(log, [], export, source="Bench", date="2026-01-01")
    elapsed = time.perf_counter() - start
    return {"log": log_size, "hits": hits, "seconds": elapsed, **plan.counts()}


def report(lines, imported):
    import numpy
    import rapidfuzz

    out = ["# Duplicate patients and records import", "",
           f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
           f"{platform.python_version()}, numpy {numpy.__version__}, rapidfuzz {rapidfuzz.__version__}. "
           "Rerun: `.venv/bin/python benchmarks/duplicates.py`.", "",
           "## Scoring every pair of patients (`screen_patients`, synthetic reviews, 20 therapies)", "",
           "| patients | pairs across reports | looked at by the bound | candidates after the bound | threshold | "
           "flagged | build the scorer | bound | score the candidates | brute force (every pair scored one by one) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for line in lines:
        brute = (f"{line['brute']:.1f} s (same pairs: {'yes' if line['same_as_brute'] else 'NO'})"
                 if line["brute"] is not None else "not run")
        out.append(f"| {line['patients']:,} | {line['pairs']:,} | {line['looked_at']:,} | {line['candidates']:,} | "
                   f"{line['threshold']:g} | {line['flagged']:,} | "
                   f"{line['build']:.2f} s | {line['bound']:.2f} s | {max(line['screen'] - line['bound'], 0):.2f} s | {brute} |")
    out += ["", "`screen_patients` = build + bound + scoring. The bound is exact for every term but a shared author "
            "or passage and a drug given at several doses (or with several outcomes) to one patient, where it takes "
            "the most they can add, so that about as many pairs are left to score as are flagged; its cheap terms "
            "(lookup tables, one matrix product for the drugs) come first, and the age and onset weights only for "
            "the pairs those leave in. It looks only at the pairs that two per-patient caps let through (the sex and "
            "country weight of the two patients' groups plus the most anything else could add; the rarer drugs "
            "drug by drug among their patients): 'looked at by the bound' counts them. The threshold rises with "
            "the reports (`screening_threshold`), so the pairs flagged by chance grow at most linearly. The machine is shared (2 cores, other jobs running): times vary by a factor of up to 3 "
            "between runs.", "", "## Importing a search (`plan_import`: matching against the log, ids, duplicates)", "",
            "| log records | export records | time | to screen | duplicates of the log | within the file |",
            "|---|---|---|---|---|---|",
            f"| {imported['log']:,} | {imported['hits']:,} | {imported['seconds']:.2f} s | {imported['to_screen']:,} | "
            f"{imported['duplicates_of_log']:,} | {imported['duplicates_within_file']:,} |", ""]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--output", default=os.path.join(ROOT, "benchmarks", "duplicates_results.md"),
                        help="results file, or - for the terminal")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        lines = [duplicates(n, workdir, brute=n <= 1000) for n in args.patients]
    text = report(lines, record_import())
    if args.output == "-":
        print(text)
    else:
        from metacalc.files import write_atomic

        write_atomic(args.output, text)
        print(text)


if __name__ == "__main__":
    main()
