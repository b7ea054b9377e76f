"""Every speed target of issue 13 measured in one run, side by side: `make bench`.

    .venv/bin/python benchmarks/bench.py                           # = make bench; writes benchmarks/bench_results.md
    .venv/bin/python benchmarks/bench.py --sizes 1000 10000        # a shorter scale series

1. The statistical engine through the command line against R's metafor, net of start-up (benchmarks/meta_engine.py:
   1,000 PLO-REML fits vs `rma` + `confint`, 200 GLMM fits vs `rma.glmm`; skipped without Rscript).
2. The bundled review's workflow, `snakemake -c1` from clean, against its floor (benchmarks/workflow.py).
3. The scale series: synthetic reviews of --sizes patients through the workflow from clean on 2 cores, with time,
   peak memory, what the jobs hand each other and the report's size and rendering time (benchmarks/scale.py).

The details of each part (all runs, where the time goes, each job's memory) stay in that script's own results
file; this one records the ratios against their targets, with the command and the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import meta_engine  # noqa: E402  (the benchmarks are scripts beside this one)
import scale  # noqa: E402
import workflow  # noqa: E402

RESULTS = HERE / "bench_results.md"
# Everything below this line of the results file is written by hand (what the figures mean, what stands in the
# way of a target) and kept when the benchmark rewrites the figures above it.
NOTES = "<!-- notes: kept by bench.py -->"


def engine(repeats: int) -> dict[str, dict]:
    executable = shutil.which("metacalc", path=os.path.dirname(sys.executable))
    rscript = shutil.which("Rscript")
    reml_rows, glmm_rows = meta_engine.generate(1000, 200)
    with tempfile.TemporaryDirectory() as name:
        measured = {task: meta_engine.measure(task, rows, Path(name), executable, rscript, repeats)
                    for task, rows in (("reml", reml_rows), ("glmm", glmm_rows))}
    out = {}
    for task, m in measured.items():
        label, _, target = meta_engine.TASKS[task]
        row = {"label": label, "target": target, "metacalc": meta_engine.net(m["metacalc"], "cpu")}
        if "metafor" in m:
            row["metafor"] = meta_engine.net(m["metafor"], "cpu")
            row["ratio"] = row["metafor"] / max(row["metacalc"], 1e-9)
        out[task] = row
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed command (medians or best)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds a scale run may take before it is stopped")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    started = dt.datetime.now(dt.UTC)

    engine_rows = engine(args.repeat)
    print("engine:", {k: round(v.get("ratio", float("nan")), 1) for k, v in engine_rows.items()}, flush=True)
    with tempfile.TemporaryDirectory(prefix="metacalc-bench-") as tmp:
        workdir = os.path.join(tmp, "repo")
        workflow.copy_tree(workdir)
        bundled = workflow.bundled(workdir, args.repeat)
        print(f"workflow: ratio {bundled['ratio']:.2f} wall, {bundled['ratio_cpu']:.2f} CPU", flush=True)
        series = []
        for size in args.sizes:
            series.append(scale.scale_run(tmp, size, timeout=args.timeout))
            print("\n".join(scale.table(series[-1:])[2:]), flush=True)

    largest = series[-1] if series else None
    lines = [
        "# Speed targets of issue 13, measured in one run",
        "",
        f"- rerun: `make bench` (= `.venv/bin/python benchmarks/bench.py --sizes {' '.join(map(str, args.sizes))} "
        f"--repeat {args.repeat}`)",
        f"- date: {started.strftime('%Y-%m-%d %H:%M UTC')}, {(dt.datetime.now(dt.UTC) - started).seconds // 60} min",
        f"- machine: {meta_engine.cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average (1 min) {load_before[0]:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after (a shared machine: CPU seconds are the figures to read)",
        "",
        "| target | measured | target value | met |",
        "|---|---|---|---|",
    ]
    for row in engine_rows.values():
        if "ratio" in row:
            lines.append(f"| command line vs metafor, {row['label']} (CPU, net of start-up) | **{row['ratio']:.1f}x** "
                         f"({row['metafor']:.2f} s vs {row['metacalc']:.3f} s) | >= {row['target']}x | "
                         f"{'yes' if row['ratio'] >= row['target'] else 'no'} |")
        else:
            lines.append(f"| command line vs metafor, {row['label']} | metacalc {row['metacalc']:.3f} s; Rscript not "
                         "found | - | - |")
    lines.append(f"| bundled review, `snakemake -c1` from clean / floor | **{bundled['ratio_cpu']:.2f}** CPU "
                 f"({bundled['run_cpu']:.2f} s vs {bundled['floor_cpu']:.2f} s), {bundled['ratio']:.2f} wall | <= 1.6 | "
                 f"{'yes' if bundled['ratio_cpu'] <= 1.6 else 'no'} (CPU) |")
    lines.append(f"| the same on 2 cores, `snakemake -c2` / floor | {bundled['two_cores_cpu'] / bundled['floor_cpu']:.2f} "
                 f"CPU, **{bundled['two_cores'] / bundled['floor']:.2f}** wall ({bundled['two_cores']:.2f} s vs "
                 f"{bundled['floor']:.2f} s) | <= 1.6 | {'yes' if bundled['two_cores'] <= 1.6 * bundled['floor'] else 'no'}"
                 " (wall) |")
    lines.append(f"| the same with the figures as SVG only (`--config figure_formats=[svg]`) / floor | "
                 f"**{bundled['svg_only_cpu'] / bundled['floor_cpu']:.2f}** CPU ({bundled['svg_only_cpu']:.2f} s) | "
                 f"<= 1.6 | {'yes' if bundled['svg_only_cpu'] <= 1.6 * bundled['floor_cpu'] else 'no'} (CPU) |")
    if largest is not None:
        done = largest["finished"]
        for key, name, unit in (("wall", "time from clean, 2 cores", "s"), ("memory_mb", "peak memory", "MB"),
                                ("html_mb", "index.html", "MB"), ("render_seconds", "Chromium load + layout", "s")):
            target = scale.TARGETS["seconds" if key == "wall" else key]
            value = largest.get(key)
            shown = "-" if value is None else f"{value:.1f} {unit}"
            if key == "wall" and not done:
                shown = f"not finished in {value:.0f} s (stopped)"
            met = "-" if value is None or not done else ("yes" if value < target else "no")
            lines.append(f"| synthetic review, {largest['patients']:,} patients: {name} | {shown} | < {target:g} {unit} "
                         f"| {met} |")
    lines += ["", "## Scale series (`snakemake -c2` from clean in each synthetic review folder)", "",
              *scale.table(series), ""]
    previous = Path(args.output).read_text(encoding="utf-8") if Path(args.output).exists() else ""
    if NOTES in previous:
        lines += [NOTES + previous.split(NOTES, 1)[1].rstrip("\n")]
    Path(args.output).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
