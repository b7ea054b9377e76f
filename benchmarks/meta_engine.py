"""Benchmark metacalc's command line against R's metafor on the same generated data, side by side in one run.

    .venv/bin/python benchmarks/meta_engine.py            # writes benchmarks/meta_engine_results.md
    .venv/bin/python benchmarks/meta_engine.py --quick    # smaller batches, for a smoke test

Two batches, generated once with a fixed seed and given to both programs as one CSV (dataset, events, totals):
* 1,000 inverse-variance random-effects fits on the logit (PLO, REML, k = 20 studies each):
  ``metacalc meta proportions FILE --by dataset --method iv --format json --output OUT`` against a loop of
  metafor's ``rma()`` + ``confint()`` (the fields the command writes: estimate, SE, CI, tau² with its Q-profile
  interval, I², H², Q; metacalc also writes the prediction interval and every study's interval and weight);
* 200 binomial-normal GLMM fits (k = 5..30, single-patient reports mixed with series): the same command with
  ``--method glmm`` against a loop of ``rma.glmm(measure="PLO")`` (lme4::glmer, nAGQ = 7).

Each program runs as a whole process, as a user runs it. "Net of start-up" is the time of the whole batch minus
the time of a batch of one dataset, on each side, so that start-up, imports and reading the file cancel out.
Times are CPU seconds of the process (user + system, from wait4) -- on a busy shared machine wall time also
counts other people's work -- and wall seconds beside them; each is the best of several runs. The two programs'
numbers are compared (maximum relative differences). Without Rscript the R part is skipped with a note.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "meta_engine_results.md"
SEED = 20261121
TASKS = {  # label, metacalc options, target speed-up
    "reml": ("PLO-REML, k = 20, vs rma + confint", ["--method", "iv", "--measure", "PLO", "--tau2", "REML"], 20),
    "glmm": ("GLMM (rma.glmm PLO)", ["--method", "glmm"], 25),
}


def generate(n_reml: int, n_glmm: int, seed: int = SEED) -> tuple[list, list]:
    """Rows (dataset, events, totals) of the two batches; GLMM datasets always have a case series with an event
    and a non-event somewhere, so that both programs have a finite maximum to find."""
    rng = np.random.default_rng(seed)
    reml = []
    for d in range(n_reml):
        n = rng.integers(5, 101, size=20)
        p = 1 / (1 + np.exp(-(rng.uniform(-2, 1) + rng.uniform(0, 1) * rng.standard_normal(20))))
        x = rng.binomial(n, p)
        reml += [(d, int(a), int(b)) for a, b in zip(x, n)]
    glmm = []
    d = 0
    while d < n_glmm:
        k = int(rng.integers(5, 31))
        share_single = rng.choice([0.0, 0.3, 0.5])
        n = np.where(rng.uniform(size=k) < share_single, 1, rng.integers(2, 61, size=k))
        p = 1 / (1 + np.exp(-(rng.uniform(-1.5, 1.5) + rng.choice([0.3, 0.6, 1.0]) * rng.standard_normal(k))))
        x = rng.binomial(n, p)
        series = n > 1
        if not (np.any(x[series] > 0) and np.any(x[series] < n[series])):
            continue
        glmm += [(d, int(a), int(b)) for a, b in zip(x, n)]
        d += 1
    return reml, glmm


def write_csv(path: Path, rows: list) -> None:
    with open(path, "w") as f:
        f.write("dataset,events,totals\n")
        f.writelines(f"{d},{x},{n}\n" for d, x, n in rows)


def run(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one whole process."""
    start = dt.datetime.now().timestamp()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = dt.datetime.now().timestamp() - start
    stdout, stderr = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    process.stdout.close()  # type: ignore[union-attr]
    process.stderr.close()  # type: ignore[union-attr]
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{(stderr or stdout).decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def best(command: list[str], repeats: int) -> dict[str, float]:
    times = [run(command) for _ in range(repeats)]
    return {"wall": min(t[0] for t in times), "cpu": min(t[1] for t in times)}


def metacalc_command(executable: str, task: str, csv: Path, out: Path) -> list[str]:
    return [executable, "meta", "proportions", str(csv), "--events", "events", "--total", "totals", "--by", "dataset",
            "--format", "json", "--output", str(out), *TASKS[task][1]]


def read_metacalc(path: Path) -> dict[str, np.ndarray]:
    results = json.loads(path.read_text())
    def pick(r: dict, key: str) -> float:
        value = r["transformed"][key] if key in ("estimate", "se") else r[key]
        return np.nan if value is None else float(value)
    out = {key: np.array([pick(r, key) for r in results]) for key in ("estimate", "se", "tau2")}
    ci = [r["tau2_ci"] or [None, None] for r in results]
    out["tau2_lb"] = np.array([np.nan if c[0] is None else c[0] for c in ci], dtype=float)
    out["tau2_ub"] = np.array([np.nan if c[1] is None else c[1] for c in ci], dtype=float)
    return out


def read_metafor(path: Path) -> dict[str, np.ndarray]:
    table = np.genfromtxt(path, delimiter=",", names=True, dtype=float)
    return {key: np.atleast_1d(table[key]) for key in ("estimate", "se", "tau2", "tau2_lb", "tau2_ub")}


def agreement(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float | int]:
    """Maximum relative differences: the estimate relative to max(|estimate|, SE) (a pooled logit near 0 makes a
    plain relative difference meaningless), tau² and its bounds relative to max(value, 1e-6), the SE relative."""
    both = np.isfinite(a["estimate"]) & np.isfinite(b["estimate"])
    out: dict[str, float | int] = {"compared": int(both.sum()), "failed_metacalc": int((~np.isfinite(a["estimate"])).sum()),
                                   "failed_metafor": int((~np.isfinite(b["estimate"])).sum())}
    out["estimate"] = float(np.max(np.abs(a["estimate"][both] - b["estimate"][both])
                                   / np.maximum(np.abs(b["estimate"][both]), b["se"][both])))
    out["se"] = float(np.max(np.abs(a["se"][both] - b["se"][both]) / b["se"][both]))
    for key in ("tau2", "tau2_lb", "tau2_ub"):
        ok = both & np.isfinite(a[key]) & np.isfinite(b[key])
        out[key] = float(np.max(np.abs(a[key][ok] - b[key][ok]) / np.maximum(np.abs(b[key][ok]), 1e-6))) if ok.any() \
            else float("nan")
    return out


def in_process_seconds(task: str, rows: list) -> float:
    """The same fits inside one Python process (pool_proportions_many), for the record."""
    import time

    from metacalc.meta.proportions import pool_proportions_many

    data: dict[int, tuple[list, list]] = {}
    for d, x, n in rows:
        data.setdefault(d, ([], []))[0].append(x)
        data[d][1].append(n)
    options = {"method": "iv", "measure": "PLO", "tau2_method": "REML"} if task == "reml" else {"method": "glmm"}
    events, totals = [v[0] for v in data.values()], [v[1] for v in data.values()]
    pool_proportions_many(events[:1], totals[:1], **options)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        pool_proportions_many(events, totals, **options)
        times.append(time.perf_counter() - start)
    return min(times)


def versions(rscript: str | None) -> dict[str, str]:
    import scipy

    out = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__}
    if rscript:
        done = subprocess.run([rscript, "-e", ("cat(R.version.string, as.character(packageVersion('metafor')), "
                               "as.character(packageVersion('lme4')), sep='|')")], capture_output=True, text=True,
                              check=True)
        r, metafor, lme4 = done.stdout.strip().split("|")
        out.update({"R": r, "metafor": metafor, "lme4": lme4})
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure(task: str, rows: list, tmp: Path, executable: str, rscript: str | None, repeats: int) -> dict:
    csv_all, csv_one = tmp / f"{task}_all.csv", tmp / f"{task}_one.csv"
    first = rows[0][0]
    write_csv(csv_all, rows)
    write_csv(csv_one, [r for r in rows if r[0] == first])
    out = {"fits": len({r[0] for r in rows})}
    json_all, json_one = tmp / f"{task}_all.json", tmp / f"{task}_one.json"
    out["metacalc"] = {"all": best(metacalc_command(executable, task, csv_all, json_all), repeats),
                       "one": best(metacalc_command(executable, task, csv_one, json_one), repeats)}
    out["metacalc_results"] = read_metacalc(json_all)
    out["in_process"] = in_process_seconds(task, rows)
    if rscript:
        r_all, r_one = tmp / f"{task}_r_all.csv", tmp / f"{task}_r_one.csv"
        script = str(HERE / "meta_engine.R")
        out["metafor"] = {"all": best([rscript, script, task, str(csv_all), str(r_all)], 1),
                          "one": best([rscript, script, task, str(csv_one), str(r_one)], repeats)}
        out["agreement"] = agreement(out["metacalc_results"], read_metafor(r_all))
    return out


def _diff(value: float) -> str:
    return "-" if value != value else f"{value:.1e}"  # nan: no such interval (rma.glmm has no confint)


def net(side: dict, clock: str) -> float:
    return side["all"][clock] - side["one"][clock]


def report(args: argparse.Namespace, measured: dict, info: dict, rscript: str | None, load: str) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rerun = f".venv/bin/python benchmarks/meta_engine.py{' --quick' if args.quick else ''}"
    lines = [
        "# Meta-analysis engine benchmark: the metacalc command line vs metafor",
        "",
        f"- date: {now}",
        f"- machine: {cpu_model()}, nproc = {os.cpu_count()}, {platform.system()} {platform.release()}; load average "
        f"(1, 5, 15 min) before the run: {load} (a shared 2-core machine)",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        f"- rerun: `{rerun}` (seed {SEED}; best of {args.repeats} runs, metafor's full batches run once)",
        "",
        ("Both sides run as whole processes: `metacalc meta proportions FILE --by dataset --format json --output OUT` "
         "and `Rscript benchmarks/meta_engine.R` (a loop of `rma` + `confint`, or of `rma.glmm`). *Net of start-up* = "
         "time of the whole batch minus time of a batch of one dataset, so start-up, imports and reading the file "
         "cancel out. CPU = user + system seconds of the process; wall = elapsed seconds."),
        "",
    ]
    if not rscript:
        lines += ["**R part skipped: `Rscript` not found on PATH.** Only metacalc's times are shown.", ""]
    lines += ["| batch | fits | side | CPU: all | one | net | wall: all | one | net |", "|" + "---|" * 9]
    for task, m in measured.items():
        for side in ("metacalc", "metafor"):
            if side not in m:
                continue
            s = m[side]
            lines.append(f"| {TASKS[task][0]} | {m['fits']} | {side} | {s['all']['cpu']:.3f} s | {s['one']['cpu']:.3f} s | "
                         f"**{net(s, 'cpu'):.3f} s** | {s['all']['wall']:.3f} s | {s['one']['wall']:.3f} s | "
                         f"{net(s, 'wall'):.3f} s |")
    lines.append("")
    if rscript:
        lines += ["| batch | speed-up, CPU net of start-up | wall net of start-up | target | metacalc in-process "
                  "(pool_proportions_many) | datasets compared | max diff estimate | se | tau² | tau² CI lower | upper |",
                  "|" + "---|" * 11]
        for task, m in measured.items():
            cpu = net(m["metafor"], "cpu") / max(net(m["metacalc"], "cpu"), 1e-9)
            wall = net(m["metafor"], "wall") / max(net(m["metacalc"], "wall"), 1e-9)
            a = m["agreement"]
            target = TASKS[task][2]
            lines.append(
                f"| {TASKS[task][0]} | **{cpu:.1f}x** ({'met' if cpu >= target else 'NOT met'}) | {wall:.1f}x | "
                f"{target}x | {m['in_process']:.3f} s | {a['compared']} (metacalc failed {a['failed_metacalc']}, "
                f"metafor failed {a['failed_metafor']}) | {a['estimate']:.1e} | {a['se']:.1e} | {a['tau2']:.1e} | "
                f"{_diff(a['tau2_lb'])} | {_diff(a['tau2_ub'])} |")
        lines += ["", ("Differences: the estimate (logit) relative to max(|estimate|, SE), tau² and its bounds relative "
                  "to max(value, 1e-6), the SE relative. The GLMM differences are glmer's own optimiser tolerance (its "
                  "deviance is noisy at about 1e-6, see tests/meta/test_glmm.py); metacalc's optimum is tighter.")]
    lines.append("")
    text = "\n".join(lines)
    if not args.quick:
        RESULTS.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 REML and 20 GLMM fits; the results file is kept")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    executable = shutil.which("metacalc", path=str(Path(sys.executable).parent)) or shutil.which("metacalc")
    if executable is None:
        parser.error("no `metacalc` command found beside this Python or on PATH (make test installs it)")
    rscript = shutil.which("Rscript")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    n_reml, n_glmm = (100, 20) if args.quick else (1000, 200)
    reml_rows, glmm_rows = generate(n_reml, n_glmm)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        measured = {task: measure(task, rows, tmp, executable, rscript, args.repeats)
                    for task, rows in (("reml", reml_rows), ("glmm", glmm_rows))}
    print(report(args, measured, versions(rscript), rscript, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
