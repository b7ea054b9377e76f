"""Validation of a large review, and its share spent finding every quote in its source document.

    .venv/bin/python benchmarks/validate.py [--patients 10000] [--therapies 50] [--repeats 3]

Writes a synthetic review folder (`metacalc synthesize`: about 88,000 quotes and a source document per report),
then times, best of --repeats in this process: the whole validation (`load_dataset`), the quote check alone
(`check_sources` on the validated tables), and the closest-passage search that a quote not found pays for.
Results go to benchmarks/validate_results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date

HERE = os.path.dirname(os.path.abspath(__file__))


def best(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10000)
    parser.add_argument("--therapies", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from metacalc.cli import main as metacalc
    from metacalc.data import load_dataset
    from metacalc.data.problems import Collector
    from metacalc.data.review_file import load_review
    from metacalc.data.source_rules import check_sources, closest_passage
    from metacalc.data.validate import check_sheets

    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "review")
        metacalc(["synthesize", folder, "--patients", str(args.patients), "--therapies", str(args.therapies)])
        review = load_review(os.path.join(folder, "review.yaml"))
        sheets, sources = os.path.join(folder, "extraction_sheets"), os.path.join(folder, "sources")
        dataset = load_dataset(folder)
        quotes, documents = len(dataset.quotes), len(os.listdir(sources))
        whole = best(lambda: load_dataset(folder), args.repeats)
        checked = check_sheets(sheets, review=review, sources=sources)
        assert checked.frames is not None and not checked.out.problems
        frames, files = checked.frames, checked.files
        usable = {name: True for name in frames}
        quote_check = best(lambda: check_sources(frames, files, usable, sources, Collector()), args.repeats)
    # a real full text (the bundled review's longest source), for what a quote that is not found costs
    path = max((os.path.join(HERE, "..", "sources", n) for n in os.listdir(os.path.join(HERE, "..", "sources"))),
               key=os.path.getsize)
    with open(path, encoding="utf-8") as handle:
        text = " ".join(handle.read().split())
    miss = best(lambda: closest_passage("the patient developed this condition under the use of an other drug", text),
                args.repeats)

    lines = [
        "# Validation of a large review, with every quote found in its source document",
        "",
        f"{date.today().isoformat()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.1f}; best of {args.repeats}, wall time in one process.",
        "",
        f"    .venv/bin/python benchmarks/validate.py --patients {args.patients} --therapies {args.therapies}",
        "",
        f"Synthetic review (`metacalc synthesize`): {args.patients:,} patients, {quotes:,} quotes, {documents:,} source "
        "documents (one per report, holding its quotes).",
        "",
        "| step | time |",
        "|---|---|",
        f"| whole validation (`load_dataset`: read, type, every rule, derived values) | {whole:.2f} s |",
        f"| of which: every quote found in its document (`check_sources`) | {quote_check:.2f} s "
        f"({1e6 * quote_check / quotes:.1f} µs a quote) |",
        f"| a quote not found: the closest passage of a {len(text):,}-character full text (`closest_passage`) | "
        f"{1e3 * miss:.1f} ms |",
        "",
    ]
    text = "\n".join(lines)
    results = os.path.join(HERE, "validate_results.md")
    with open(results, encoding="utf-8") as handle:
        kept = handle.read()
    # benchmarks/validate_messages.py keeps its table below its marker, which this run leaves as it is
    marker = "<!-- benchmarks/validate_messages.py -->"
    tail = "\n" + kept[kept.index(marker):] if marker in kept else ""
    with open(results, "w", encoding="utf-8") as handle:
        handle.write(text + tail)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
