"""What `metacalc validate` prints for a sheet with a problem on every row: its size, and the time it takes.

    .venv/bin/python benchmarks/validate_messages.py [--rows 480000] [--label after] [--record]

Writes the small test review (tests/fixtures/small_review) with ROWS extra patients, each with five cells that
are wrong (a number that is text, four values outside their lists), then runs `metacalc validate` once, as a
user does (a new process, messages to a file), and reports wall time, peak memory and the size of the output.
With --record the row is added to the table in benchmarks/validate_results.md (kept across runs of
benchmarks/validate.py), under LABEL. Run the same command on an older checkout (PYTHONPATH=that checkout) for
the "before" row.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "validate_results.md")
SMALL_REVIEW = os.path.join(HERE, "..", "tests", "fixtures", "small_review")
# Where validate.py's part of the results file ends: what follows is this script's.
MARKER = "<!-- benchmarks/validate_messages.py -->"


def bad_rows(rows: int) -> str:
    # age is not a number; sex, lupus_panniculitis, distribution and calcium_normal are not in their lists
    return "".join(f"bad{i},alpha2011,abc,femal,,,,maybe,everywhere,perhaps\n" for i in range(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=480_000)
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--record", action="store_true", help="add the result to benchmarks/validate_results.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "review")
        shutil.copytree(SMALL_REVIEW, folder)
        with open(os.path.join(folder, "sheets", "patients.csv"), "a", encoding="utf-8") as handle:
            handle.write(bad_rows(args.rows))
        output = os.path.join(tmp, "messages.txt")
        start = time.perf_counter()
        with open(output, "wb") as messages:
            code = subprocess.call([sys.executable, "-c", "import sys; from metacalc.cli import main; "
                                                          "sys.exit(main(['validate', 'sheets']))"],
                                   cwd=folder, stdout=subprocess.DEVNULL, stderr=messages)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        size = os.path.getsize(output)
        with open(output, "rb") as handle:
            lines = handle.read().count(b"\n")
    assert code == 1, f"validate exited {code}, expected 1 (problems found)"
    row = (f"| {args.label} | {args.rows:,} | {wall:.1f} s | {peak:,.0f} MiB | {lines:,} | "
           f"{size / 1e6:,.2f} MB | {os.getloadavg()[0]:.1f} |")
    print(row)
    if args.record:
        record(row, args.rows)


def record(row: str, rows: int) -> None:
    with open(RESULTS, encoding="utf-8") as handle:
        text = handle.read()
    if MARKER not in text:
        text = text.rstrip("\n") + "\n\n" + "\n".join([
            MARKER,
            "## Messages of a sheet with a problem on every row",
            "",
            f"{date.today().isoformat()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}; one run "
            "each, `metacalc validate` in a new process, messages to a file; the load average at the end of the run.",
            "",
            f"    .venv/bin/python benchmarks/validate_messages.py --rows {rows} --label LABEL --record",
            "",
            "The small test review with that many extra patients, each with five wrong cells.",
            "",
            "| code | rows | wall time | peak memory | lines printed | printed | load |",
            "|---|---|---|---|---|---|---|",
        ]) + "\n"
    with open(RESULTS, "w", encoding="utf-8") as handle:
        handle.write(text.rstrip("\n") + "\n" + row + "\n")


if __name__ == "__main__":
    main()
