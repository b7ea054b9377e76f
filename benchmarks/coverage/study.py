"""Coverage study of interval methods on case-report-shaped data (issue 10 item 1).

    nice .venv/bin/python benchmarks/coverage/study.py            # full study, writes benchmarks/coverage/results/
    .venv/bin/python benchmarks/coverage/study.py --quick --out DIR   # a few scenarios, a few replicates (seconds)

Pooled proportions (proportions.py) and mean / median time to onset (times.py). Every scenario draws its data
from its own random stream, numpy's default_rng(SeedSequence([SEED, crc32(scenario key)])), so a scenario's
numbers do not depend on which other scenarios run, on their order or on the number of worker processes; the
CSV tables are byte-identical between runs. results.md adds the date, machine, versions and runtime.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import math
import os
import platform
import sys
import time
import zlib
from pathlib import Path

# one thread per worker process: the machine's cores go to the worker processes, not to BLAS
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import proportion_coverage as proportions  # noqa: E402
import coverage_tables as tables  # noqa: E402
import time_coverage as times  # noqa: E402

SEED = 20261201
FULL = {"prop_reps": 1000, "time_reps": 4000, "n_boot": 999}
QUICK = {"prop_reps": 40, "time_reps": 200, "n_boot": 199}


def scenario_seed(key: str) -> np.random.SeedSequence:
    return np.random.SeedSequence([SEED, zlib.crc32(key.encode())])


def _run(task):
    kind, scenario, settings = task
    seed = scenario_seed(scenario.key)
    if kind == "prop":
        return proportions.simulate(scenario, settings["prop_reps"], seed)
    return times.simulate(scenario, settings["time_reps"], seed, settings["n_boot"])


def _cost(task):
    """Rough cost for scheduling the longest tasks first (GLMM fits with series dominate)."""
    kind, scenario, settings = task
    if kind == "prop":
        return scenario.design.k * (10 if scenario.design.series else 1)
    return scenario.n * settings["n_boot"] / 200


def run(quick: bool, workers: int) -> tuple[dict, dict]:
    settings = QUICK if quick else FULL
    tasks = [("prop", s, settings) for s in proportions.scenarios(quick)]
    tasks += [("time", s, settings) for s in times.scenarios(quick)]
    order = sorted(range(len(tasks)), key=lambda i: -_cost(tasks[i]))
    started, cpu_before = time.perf_counter(), _cpu_seconds()
    if workers > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers) as pool:
            done = pool.map(_run, [tasks[i] for i in order], chunksize=1)
            pool.close()
            pool.join()  # reaped workers count in this process's children CPU time
    else:
        done = [_run(tasks[i]) for i in order]
    timing = {"wall": time.perf_counter() - started, "cpu": _cpu_seconds() - cpu_before}
    results = {r["key"]: r for r in done}
    return {"tasks": tasks, "results": results, "settings": settings}, timing


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children: on a shared machine the wall
    time depends on the other users, the CPU time much less."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _environment() -> dict:
    import scipy

    return {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def write_csv(path: Path, rows: list[dict]) -> None:
    from metacalc.files import write_atomic

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(path, buffer.getvalue())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few scenarios and replicates (a smoke test)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="folder for the tables")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="worker processes (default 2)")
    args = parser.parse_args(argv)
    from metacalc.files import write_atomic

    run_data, timing = run(args.quick, max(1, args.workers))
    args.out.mkdir(parents=True, exist_ok=True)
    prop_rows, time_rows, diagnostics, branches = tables.flatten(run_data)
    write_csv(args.out / "proportions.csv", prop_rows)
    write_csv(args.out / "times.csv", time_rows)
    write_csv(args.out / "glmm_tau2.csv", diagnostics)
    write_csv(args.out / "auto_branches.csv", branches)
    command = "nice .venv/bin/python benchmarks/coverage/study.py" + (" --quick" if args.quick else "")
    markdown = tables.markdown(prop_rows, time_rows, diagnostics, branches, run_data["settings"],
                               _environment() | {"runtime": f"{timing['wall']:.0f} s wall, {timing['cpu']:.0f} s CPU, "
                                                            f"{args.workers} worker processes",
                                                 "command": command})
    write_atomic(args.out / "results.md", markdown)
    print(f"coverage study: {len(run_data['tasks'])} scenarios in {timing['wall']:.1f} s "
          f"({timing['cpu']:.1f} s CPU); tables in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
