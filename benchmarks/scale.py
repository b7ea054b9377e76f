"""Scale series: synthetic reviews of growing size run through the whole workflow from clean.

    .venv/bin/python benchmarks/scale.py --sizes 1000 10000            # prints the table (make bench records it)

For each size, `metacalc synthesize DIR --patients N --therapies 50 --seed 1` (not timed), then `snakemake -c2`
in that review folder from clean under `/usr/bin/time -v`: wall and CPU seconds (user + system of the whole
run, jobs included), the peak memory of the largest process, the sizes of what the jobs hand each other
(dataset.json, results.json) and of the report (index.html, provenance.csv), and the time headless Chromium
takes to load the report and lay it out (`page.goto` to the load event, then a forced layout; Chromium's own
start is not counted). A run that does not finish within --timeout seconds is stopped (its whole process group)
and recorded as such. Targets (issue 13): 100,000 patients and 50 therapies in < 60 s on 2 cores, peak < 1.5 GB,
HTML < 25 MB that Chromium renders in < 10 s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)
CHROMIUM = "/usr/bin/chromium"
TARGETS = {"seconds": 60.0, "memory_mb": 1536.0, "html_mb": 25.0, "render_seconds": 10.0}


def synthesize(folder: str, patients: int, therapies: int, seed: int) -> None:
    if not os.path.exists(folder):
        subprocess.run([os.path.join(BIN, "metacalc"), "synthesize", folder, "--patients", str(patients),
                        "--therapies", str(therapies), "--seed", str(seed)], check=True, capture_output=True)


def timed(command: list[str], cwd: str, timeout: float) -> dict:
    """Wall seconds, CPU seconds (user + system with children, from /usr/bin/time -v) and peak memory of the
    largest process; None for a run stopped at ``timeout``."""
    start = time.perf_counter()
    process = subprocess.Popen(["/usr/bin/time", "-v", *command], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"finished": False, "wall": time.perf_counter() - start}
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)} in {cwd}\n{err[-4000:]}")

    def field(name: str) -> float:
        match = re.search(rf"{re.escape(name)}: ([\d.:]+)", err)
        return float(match.group(1)) if match else float("nan")

    return {"finished": True, "wall": wall, "cpu": field("User time (seconds)") + field("System time (seconds)"),
            "memory_mb": field("Maximum resident set size (kbytes)") / 1024}


def render_seconds(html: str) -> float | None:
    """Seconds headless Chromium takes from navigation to the report laid out (None without Chromium)."""
    if not os.path.exists(CHROMIUM):
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(f"file://{os.path.abspath(html)}", wait_until="load", timeout=600_000)
            page.evaluate("document.body.getBoundingClientRect().height")  # forces the layout of the whole page
            return time.perf_counter() - start
        finally:
            browser.close()


def megabytes(path: str) -> float | None:
    return os.path.getsize(path) / 1e6 if os.path.exists(path) else None


def scale_run(workdir: str, patients: int, therapies: int = 50, seed: int = 1, cores: int = 2,
              timeout: float = 600.0) -> dict:
    """One size of the series, from clean."""
    folder = os.path.join(workdir, f"synthetic_{patients}")
    synthesize(folder, patients, therapies, seed)
    for name in ("reports", ".snakemake"):
        shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
    result = {"patients": patients, "therapies": therapies, "cores": cores,
              **timed([os.path.join(BIN, "snakemake"), f"-c{cores}"], folder, timeout)}
    reports = os.path.join(folder, "reports")
    for key, path in (("dataset_mb", "dataset.json"), ("results_mb", os.path.join("tables", "results.json")),
                      ("html_mb", "index.html"), ("provenance_mb", "provenance.csv")):
        result[key] = megabytes(os.path.join(reports, path))
    pairs = os.path.join(reports, "tables", "duplicate_pairs.csv")
    # pairs of patients the duplicate screen lists: chance pairs above its fixed threshold grow with the square
    # of the patients, and so do the screen's time and the results' size
    result["pairs"] = sum(1 for _ in open(pairs, encoding="utf-8")) - 1 if os.path.exists(pairs) else None
    result["render_seconds"] = render_seconds(os.path.join(reports, "index.html")) if result["finished"] else None
    return result


def _value(value: float | None, unit: str, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f} {unit}"


def table(rows: list[dict]) -> list[str]:
    lines = ["| patients | therapies | finished | wall | CPU (user + system) | peak memory, largest process | "
             "dataset.json | results.json | index.html | provenance.csv | Chromium load + layout | "
             "duplicate pairs listed |",
             "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r['patients']:,} | {r['therapies']} | {'yes' if r['finished'] else 'no, stopped'} | "
            f"{_value(r['wall'], 's')} | {_value(r.get('cpu'), 's')} | {_value(r.get('memory_mb'), 'MB', 0)} | "
            f"{_value(r['dataset_mb'], 'MB')} | {_value(r['results_mb'], 'MB')} | {_value(r['html_mb'], 'MB')} | "
            f"{_value(r['provenance_mb'], 'MB')} | {_value(r['render_seconds'], 's')} | "
            f"{'-' if r.get('pairs') is None else format(r['pairs'], ',')} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--therapies", type=int, default=50)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--workdir", default=None, help="keep the synthetic reviews here (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="metacalc-scale-") as tmp:
        workdir = args.workdir or tmp
        rows = []
        for size in args.sizes:
            rows.append(scale_run(workdir, size, args.therapies, cores=args.cores, timeout=args.timeout))
            print("\n".join(table(rows[-1:])), flush=True)
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
