"""Workflow benchmark: the bundled review against its floor, the memory of each job, a synthetic review.

    .venv/bin/python benchmarks/workflow.py            # or: make bench
    .venv/bin/python benchmarks/workflow.py --repeat 5 --output benchmarks/workflow_results.md

1. Bundled review: wall time of `snakemake -c1` from clean (no reports/, no .snakemake/) in a copy of the
   repository tree, as a ratio to the floor = `snakemake -n` + one `python -c "import ..."` of the stack the
   workflow needs (the least any Snakemake + Python pipeline pays). Floor and run alternate, --repeat times
   each, in one process; medians. Target <= 1.6.
2. Snakemake's idle wait: three trivial `touch` jobs with the default `--max-jobs-per-timespan 100/1s` and with
   the profile's `100/0s`.
3. Memory of each job as a cluster sees it: the bundled review and synthetic reviews of --memory-patients
   (default 1,000 and 10,000) patients run through snakemake-executor-plugin-cluster-generic with the local
   stand-in scheduler of tests/workflow/local_scheduler.py, `--cores 4` (so analyse runs its 4 worker
   processes). Each job's declared mem_mb against its measured peaks: the largest process (getrusage, as
   /usr/bin/time -v) and the whole process tree (sum of Pss, sampled every 20 ms).
4. Synthetic review (`metacalc synthesize --patients 10000 --therapies 50 --seed 1`): the whole workflow with
   `snakemake -c2` from clean; wall time (target < 60 s) and peak memory of the largest process, from
   /usr/bin/time -v when present, else from getrusage of the children.
"""

import argparse
import json
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
# The repository root is a review folder: its workflow files and the bundled review (the workflow itself is in
# the installed metacalc, used through Snakemake's module directive).
WORKFLOW_FILES = ("Snakefile", "config.yaml", "profiles", "review.yaml", "sources", "analyses", "extraction_sheets")
SCHEDULER = os.path.join(ROOT, "tests", "workflow", "local_scheduler.py")
STACK_IMPORT = ("import metacalc, metacalc.data, pandera.pandas, pandas, numpy, scipy.stats, scipy.optimize, "
                "matplotlib.pyplot, jinja2, yaml")


def cpu_of_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command, cwd):
    """Wall time of ``command`` and its result; the CPU time it used (with its children) is in ``.cpu``."""
    cpu, start = cpu_of_children(), time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    done.cpu = cpu_of_children() - cpu
    return elapsed, done


def copy_tree(destination):
    os.makedirs(destination)
    for name in WORKFLOW_FILES:
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(destination, name),
                            ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        else:
            shutil.copy(source, destination)


def clean(workdir):
    for name in ("reports", ".snakemake"):
        shutil.rmtree(os.path.join(workdir, name), ignore_errors=True)


def bundled(workdir, repeat):
    """Floor and whole run alternately, so that a change of load on the machine touches both alike."""
    measures = {name: [] for name in ("dry_run", "import", "floor", "run", "waiting_run", "dry_run_cpu",
                                      "import_cpu", "floor_cpu", "run_cpu", "waiting_run_cpu", "two_cores",
                                      "two_cores_cpu", "svg_only", "svg_only_cpu")}
    for _ in range(repeat):
        clean(workdir)
        dry, dry_done = run([SNAKEMAKE, "-n", "-c1"], workdir)
        stack, stack_done = run([sys.executable, "-c", STACK_IMPORT], workdir)
        clean(workdir)
        whole, whole_done = run([SNAKEMAKE, "-c1"], workdir)
        clean(workdir)  # the same run with Snakemake's default job-rate timer, which the profile replaces
        waiting, waiting_done = run([SNAKEMAKE, "-c1", "--max-jobs-per-timespan", "100/1s"], workdir)
        clean(workdir)  # on both cores: the fits and the figures' files in two worker processes
        two, two_done = run([SNAKEMAKE, "-c2"], workdir)
        clean(workdir)  # the figures as SVG only (the report's own), without the manuscript's PDF and PNG
        svg, svg_done = run([SNAKEMAKE, "-c1", "--config", "figure_formats=[svg]"], workdir)
        for name, value in (("dry_run", dry), ("import", stack), ("floor", dry + stack), ("run", whole),
                            ("waiting_run", waiting), ("dry_run_cpu", dry_done.cpu),
                            ("import_cpu", stack_done.cpu), ("floor_cpu", dry_done.cpu + stack_done.cpu),
                            ("run_cpu", whole_done.cpu), ("waiting_run_cpu", waiting_done.cpu),
                            ("two_cores", two), ("two_cores_cpu", two_done.cpu), ("svg_only", svg),
                            ("svg_only_cpu", svg_done.cpu)):
            measures[name].append(value)
    result = {name: statistics.median(values) for name, values in measures.items()}
    result["ratio"] = result["run"] / result["floor"]
    result["ratio_cpu"] = result["run_cpu"] / result["floor_cpu"]
    result["runs"], result["floors"] = measures["run"], measures["floor"]
    return result


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
            "report", "reports/tables/results.json", "--figures", "reports/figures", "--output", "reports/index.html"],
    }
    times = {}
    for name, command in steps.items():
        wall, done = run(command, workdir)
        times[name] = (wall, done.cpu)
    trivial = os.path.join(tmp, "trivial")
    os.makedirs(trivial)
    with open(os.path.join(trivial, "Snakefile"), "w", encoding="utf-8") as handle:
        handle.write(TRIVIAL_WORKFLOW)
    trials = {"100/1s": [], "100/0s": []}  # alternately, medians of 5 runs each
    for _ in range(5):
        for limit, results in trials.items():
            for name in ("a", "b", "c"):
                if os.path.exists(os.path.join(trivial, name)):
                    os.remove(os.path.join(trivial, name))
            wall, done = run([SNAKEMAKE, "-c1", "--max-jobs-per-timespan", limit], trivial)
            results.append((wall, done.cpu))
    for limit, results in trials.items():
        setting = "Snakemake's default" if limit == "100/1s" else "the profile's setting"
        times[f"Snakemake running 3 `touch` jobs, `--max-jobs-per-timespan {limit}` ({setting}; median of 5)"] = (
            statistics.median(wall for wall, _ in results), statistics.median(cpu for _, cpu in results))
    clean(workdir)
    return times


def synthetic_config(workdir, patients, therapies, seed):
    """--config values that point the workflow at a synthetic review folder (written once)."""
    folder = os.path.join(workdir, f"synthetic_{patients}")
    if not os.path.exists(folder):
        run([sys.executable, "-m", "metacalc", "synthesize", folder, "--patients", str(patients), "--therapies",
             str(therapies), "--seed", str(seed)], workdir)
    # its own analysis plan: the bundled review's names fields (subgroups) that a synthetic review has not
    return [f"sheets={folder}/extraction_sheets", f"review={folder}/review.yaml", f"sources={folder}/sources",
            f"analyses={folder}/analyses"]


def memory(workdir, patients, therapies, seed):
    """Each job's declared mem_mb and measured peaks, run as cluster jobs (see the module docstring)."""
    rows = []
    for size in [None, *patients]:
        clean(workdir)
        config = []
        if size is not None:
            config = ["--config", *synthetic_config(workdir, size, therapies, seed)]
        ledger = os.path.join(workdir, f"ledger-{size or 'bundled'}.jsonl")
        submit = f"{sys.executable} {SCHEDULER} submit {ledger} {{rule}} {{resources.mem_mb}} {{threads}}"
        run([SNAKEMAKE, "--cores", "4", "--jobs", "1", "--executor", "cluster-generic",
             "--cluster-generic-submit-cmd", submit, "--seconds-between-status-checks", "1", *config], workdir)
        with open(ledger, encoding="utf-8") as handle:
            for line in handle:
                job = json.loads(line)
                rows.append({"review": "bundled" if size is None else f"synthetic, {size:,} patients", **job})
    clean(workdir)
    return rows


def peak_memory_mb(text):
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return int(match.group(1)) / 1024 if match else None


def synthetic(workdir, patients, therapies, seed, cores):
    config = synthetic_config(workdir, patients, therapies, seed)
    clean(workdir)
    command = [SNAKEMAKE, f"-c{cores}", "--config", *config, "outdir=reports"]
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


def memory_rule():
    """The memory rule of the review's config.yaml, as text for the results file."""
    import yaml

    with open(os.path.join(ROOT, "config.yaml"), encoding="utf-8") as handle:
        rules = yaml.safe_load(handle)["memory_mb"]
    return "; ".join(f"{step}: {rule['base']} + {rule['per_1000_patients']} per 1,000 patients"
                     for step, rule in rules.items())


def markdown(bundled_result, synthetic_result, times, memory_rows, args):
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
        f"Median of {args.repeat} runs, floor and runs alternately. Floor = `snakemake -n` + "
        f"`python -c \"{STACK_IMPORT}\"`. CPU seconds (user + system, with child processes) are what a busy "
        "machine changes least; the idle wait the profile removes shows only in wall time.",
        "",
        "| measure | wall seconds | CPU seconds |",
        "|---|---|---|",
        f"| `snakemake -n` | {b['dry_run']:.2f} | {b['dry_run_cpu']:.2f} |",
        f"| import of the stack | {b['import']:.2f} | {b['import_cpu']:.2f} |",
        f"| floor (sum) | {b['floor']:.2f} | {b['floor_cpu']:.2f} |",
        f"| `snakemake -c1` from clean (jobs analyse, report, remember) | {b['run']:.2f} | {b['run_cpu']:.2f} |",
        f"| **ratio (target <= 1.6)** | **{b['ratio']:.2f}** | **{b['ratio_cpu']:.2f}** |",
        f"| the same run with Snakemake's default `--max-jobs-per-timespan 100/1s` | {b['waiting_run']:.2f} | "
        f"{b['waiting_run_cpu']:.2f} |",
        f"| its ratio to the floor | {b['waiting_run'] / b['floor']:.2f} | "
        f"{b['waiting_run_cpu'] / b['floor_cpu']:.2f} |",
        f"| `snakemake -c2` from clean (fits and figure files in 2 worker processes) | {b['two_cores']:.2f} | "
        f"{b['two_cores_cpu']:.2f} |",
        f"| its ratio to the floor | {b['two_cores'] / b['floor']:.2f} | {b['two_cores_cpu'] / b['floor_cpu']:.2f} |",
        f"| `snakemake -c1 --config figure_formats=[svg]` (no PDF or PNG) | {b['svg_only']:.2f} | "
        f"{b['svg_only_cpu']:.2f} |",
        f"| its ratio to the floor | {b['svg_only'] / b['floor']:.2f} | {b['svg_only_cpu'] / b['floor_cpu']:.2f} |",
        "",
        f"All runs (s): {', '.join(f'{x:.2f}' for x in b['runs'])}; floors (s): "
        f"{', '.join(f'{x:.2f}' for x in b['floors'])}.",
        "",
        "Where the time goes (one run each):",
        "",
        "| part | wall seconds | CPU seconds |",
        "|---|---|---|",
        *[f"| {name} | {wall:.2f} | {cpu:.2f} |" for name, (wall, cpu) in times.items()],
        "",
        "## Memory of each job, run as cluster jobs",
        "",
        f"Rule (config.yaml, `memory_mb`): {memory_rule()}. Synthetic reviews with {args.therapies} "
        f"therapies (seed {args.seed}); `--cores 4`, so analyse runs with 4 worker processes.",
        "",
        "| review | job | threads | declared mem_mb | peak, largest process (MB) | peak, whole job (MB) | covered | "
        "seconds |",
        "|---|---|---|---|---|---|---|---|",
        *[f"| {r['review']} | {r['rule']} | {r['threads']} | {r['mem_mb']} | {r['peak_mb']:.0f} | "
          f"{r['tree_peak_mb']:.0f} | {'yes' if max(r['peak_mb'], r['tree_peak_mb']) <= r['mem_mb'] else '**no**'} "
          f"| {r['seconds']:.1f} |" for r in memory_rows],
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
    parser.add_argument("--memory-patients", type=int, nargs="*", default=[1000, 10000],
                        help="sizes of the synthetic reviews whose jobs' memory is measured")
    parser.add_argument("--output", default=os.path.join(ROOT, "benchmarks", "workflow_results.md"))
    parser.add_argument("--bundled-only", action="store_true",
                        help="only the bundled review against its floor (prints it; writes nothing)")
    args = parser.parse_args(argv)
    if args.bundled_only:
        with tempfile.TemporaryDirectory(prefix="metacalc-bench-") as tmp:
            copy_tree(os.path.join(tmp, "repo"))
            print(json.dumps(bundled(os.path.join(tmp, "repo"), args.repeat), indent=1))
        return
    with tempfile.TemporaryDirectory(prefix="metacalc-bench-") as tmp:
        workdir = os.path.join(tmp, "repo")
        copy_tree(workdir)
        bundled_result = bundled(workdir, args.repeat)
        print(f"bundled: run {bundled_result['run']:.2f} s, floor {bundled_result['floor']:.2f} s, "
              f"ratio {bundled_result['ratio']:.2f} (CPU {bundled_result['ratio_cpu']:.2f})", flush=True)
        times = breakdown(workdir, tmp)
        memory_rows = memory(workdir, args.memory_patients, args.therapies, args.seed)
        for row in memory_rows:
            print(f"memory: {row['review']}, {row['rule']}: declared {row['mem_mb']} MB, peak {row['peak_mb']:.0f} "
                  f"MB (process) / {row['tree_peak_mb']:.0f} MB (job)", flush=True)
        synthetic_result = synthetic(workdir, args.patients, args.therapies, args.seed, args.cores)
        print(f"synthetic: {synthetic_result['wall']:.1f} s, peak {synthetic_result['memory_mb']:.0f} MB", flush=True)
    text = markdown(bundled_result, synthetic_result, times, memory_rows, args)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
