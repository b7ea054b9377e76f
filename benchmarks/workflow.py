"""Workflow benchmark: the bundled review against its floor, and a synthetic review of 10,000 patients.

    .venv/bin/python benchmarks/workflow.py            # or: make bench
    .venv/bin/python benchmarks/workflow.py --repeat 5 --output benchmarks/workflow_results.md

1. Bundled review: wall time of `snakemake -c1` from clean (no reports/, no .snakemake/) in a copy of the
   repository tree, as a ratio to the floor = `snakemake -n` + one `python -c "import ..."` of the stack the
   workflow needs (the least any Snakemake + Python pipeline pays). Median of --repeat runs each. Target <= 2.
2. Synthetic review (`metacalc synthesize --patients 10000 --therapies 50 --seed 1`): the whole workflow with
   `snakemake -c2` from clean; wall time (target < 60 s) and peak memory of the largest process (target < 1 GB),
   from /usr/bin/time -v when present, else from getrusage of the children.
"""

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
SNAKEMAKE = os.path.join(BIN, "snakemake")
WORKFLOW_FILES = ("Snakefile", "snakemake", "profiles", "analyses", "extraction_sheets")
STACK_IMPORT = ("import metacalc, metacalc.data, pandera.pandas, pandas, numpy, scipy.stats, scipy.optimize, "
                "matplotlib.pyplot, jinja2, yaml")


def run(command, cwd, timed=True):
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return elapsed, done


def copy_tree(destination):
    os.makedirs(destination)
    for name in WORKFLOW_FILES:
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(destination, name))
        else:
            shutil.copy(source, destination)


def clean(workdir):
    for name in ("reports", ".snakemake"):
        shutil.rmtree(os.path.join(workdir, name), ignore_errors=True)


def bundled(workdir, repeat):
    floors, runs, dry_runs, imports = [], [], [], []
    for _ in range(repeat):
        clean(workdir)
        dry, _ = run([SNAKEMAKE, "-n", "-c1"], workdir)
        stack, _ = run([sys.executable, "-c", STACK_IMPORT], workdir)
        clean(workdir)
        whole, _ = run([SNAKEMAKE, "-c1"], workdir)
        dry_runs.append(dry)
        imports.append(stack)
        floors.append(dry + stack)
        runs.append(whole)
    floor, whole = statistics.median(floors), statistics.median(runs)
    return {
        "dry_run": statistics.median(dry_runs),
        "import": statistics.median(imports),
        "floor": floor,
        "run": whole,
        "ratio": whole / floor,
        "runs": runs,
        "floors": floors,
    }


TRIVIAL_WORKFLOW = """
rule all:
    input: "c"
rule a:
    output: "a"
    shell: "touch {output}"
rule b:
    input: "a"
    output: "b"
    shell: "touch {output}"
rule c:
    input: "b"
    output: "c"
    shell: "touch {output}"
"""


def breakdown(workdir, tmp):
    """Where the time goes: each step's command run directly, and Snakemake's own cost per job."""
    clean(workdir)
    metacalc = [sys.executable, "-m", "metacalc"]
    steps = {
        "analyse (validates the sheets and draws the figures too)": metacalc + [
            "analyse", "reports/dataset.json", "--sheets", "extraction_sheets", "--outdir", "reports/tables",
            "--figures", "reports/figures"],
        "report": metacalc + [
            "report", "reports/tables/results.json", "--dataset", "reports/dataset.json", "--figures",
            "reports/figures", "--output", "reports/index.html"],
    }
    times = {name: run(command, workdir)[0] for name, command in steps.items()}
    trivial = os.path.join(tmp, "trivial")
    os.makedirs(trivial)
    with open(os.path.join(trivial, "Snakefile"), "w", encoding="utf-8") as handle:
        handle.write(TRIVIAL_WORKFLOW)
    dry, _ = run([SNAKEMAKE, "-n", "-c1"], trivial)
    whole, _ = run([SNAKEMAKE, "-c1"], trivial)
    # A fixed cost of running jobs at all, not a cost per job: 1, 3 or 6 trivial jobs take about the same.
    times["Snakemake running 3 `touch` jobs, beyond its dry run"] = whole - dry
    clean(workdir)
    return times


def peak_memory_mb(text):
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return int(match.group(1)) / 1024 if match else None


def synthetic(workdir, patients, therapies, seed, cores):
    sheets = os.path.join(workdir, "synthetic_sheets")
    run([sys.executable, "-m", "metacalc", "synthesize", sheets, "--patients", str(patients), "--therapies",
         str(therapies), "--seed", str(seed)], workdir)
    clean(workdir)
    command = [SNAKEMAKE, f"-c{cores}", "--config", f"sheets={sheets}", "outdir=reports"]
    if os.path.exists("/usr/bin/time"):
        elapsed, done = run(["/usr/bin/time", "-v"] + command, workdir)
        memory = peak_memory_mb(done.stderr)
        how = "/usr/bin/time -v (largest process)"
    else:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        elapsed, _ = run(command, workdir)
        memory = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        how = "getrusage(RUSAGE_CHILDREN).ru_maxrss"
    size = os.path.getsize(os.path.join(workdir, "reports", "index.html")) / 1e6
    return {"wall": elapsed, "memory_mb": memory, "memory_how": how, "html_mb": size, "cores": cores}


def markdown(bundled_result, synthetic_result, times, args):
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("n/a",) * 3
    b, s = bundled_result, synthetic_result
    lines = [
        "# Workflow benchmark",
        "",
        "Rerun with `make bench` (or `.venv/bin/python benchmarks/workflow.py --repeat "
        f"{args.repeat}`). Measured on {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average at the end {', '.join(f'{x:.2f}' for x in load)} "
        "(other processes on the machine inflate wall times).",
        "",
        "## Bundled review: `snakemake -c1` from clean vs the floor",
        "",
        f"Median of {args.repeat} runs. Floor = `snakemake -n` + `python -c \"{STACK_IMPORT}\"`.",
        "",
        "| measure | seconds |",
        "|---|---|",
        f"| `snakemake -n` | {b['dry_run']:.2f} |",
        f"| import of the stack | {b['import']:.2f} |",
        f"| floor (sum) | {b['floor']:.2f} |",
        f"| `snakemake -c1` from clean (2 jobs: analyse, report) | {b['run']:.2f} |",
        f"| **ratio (target <= 2)** | **{b['ratio']:.2f}** |",
        "",
        f"All runs (s): {', '.join(f'{x:.2f}' for x in b['runs'])}; floors (s): "
        f"{', '.join(f'{x:.2f}' for x in b['floors'])}.",
        "",
        "Where the time goes (one run each):",
        "",
        "| part | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.2f} |" for name, seconds in times.items()],
        "",
        f"## Synthetic review: {args.patients} patients, {args.therapies} therapies (seed {args.seed})",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| wall time, `snakemake -c{s['cores']}` from clean | {s['wall']:.1f} s | < 60 s |",
        f"| peak memory ({s['memory_how']}) | {s['memory_mb']:.0f} MB | < 1024 MB |",
        f"| size of reports/index.html | {s['html_mb']:.1f} MB | |",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--patients", type=int, default=10000)
    parser.add_argument("--therapies", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--output", default=os.path.join(ROOT, "benchmarks", "workflow_results.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="metacalc-bench-") as tmp:
        workdir = os.path.join(tmp, "repo")
        copy_tree(workdir)
        bundled_result = bundled(workdir, args.repeat)
        print(f"bundled: run {bundled_result['run']:.2f} s, floor {bundled_result['floor']:.2f} s, "
              f"ratio {bundled_result['ratio']:.2f}", flush=True)
        times = breakdown(workdir, tmp)
        synthetic_result = synthetic(workdir, args.patients, args.therapies, args.seed, args.cores)
        print(f"synthetic: {synthetic_result['wall']:.1f} s, peak {synthetic_result['memory_mb']:.0f} MB", flush=True)
    text = markdown(bundled_result, synthetic_result, times, args)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
