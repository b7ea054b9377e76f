"""A stand-in for a cluster scheduler (like `sbatch`), for the cluster-executor test and the memory benchmark.

    python local_scheduler.py submit LEDGER RULE MEM_MB THREADS JOBSCRIPT

`submit` starts the job script as a separate, detached process and prints its job id at once, as a scheduler
does; the job then runs on its own, and when it ends one JSON line is appended to LEDGER: the rule, the memory
and threads it declared, its exit status, its wall time, the peak resident memory of its largest process
(getrusage, what `/usr/bin/time -v` reports) and the peak memory of its whole process tree (the sum of the
proportional set sizes of the job's processes, sampled every 20 ms: what a scheduler's memory limit counts).
"""

import json
import os
import resource
import subprocess
import sys
import time


def submit(ledger, rule, mem_mb, threads, jobscript):
    with open(f"{ledger}.{rule}.out", "ab") as output:
        job = subprocess.Popen([sys.executable, __file__, "run", ledger, rule, mem_mb, threads, jobscript],
                               stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                               start_new_session=True)
    print(f"local-{job.pid}")


def _children():
    """Parent PID -> child PIDs, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    return children


def tree_memory_mb(root):
    """Sum of the proportional set sizes (Pss) of ``root`` and its descendants, in MB (0 without /proc)."""
    children, pending, total_kb = _children(), [root], 0
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
                total_kb += sum(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
        except (OSError, ValueError):
            continue
    return total_kb / 1024


def run(ledger, rule, mem_mb, threads, jobscript):
    start = time.perf_counter()
    job = subprocess.Popen(["bash", jobscript])
    tree_peak = 0.0
    while job.poll() is None:
        tree_peak = max(tree_peak, tree_memory_mb(job.pid))
        time.sleep(0.02)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kilobytes on Linux
    record = {"rule": rule, "mem_mb": int(mem_mb), "threads": int(threads), "status": job.returncode,
              "pid": os.getpid(), "seconds": round(time.perf_counter() - start, 2), "peak_mb": round(peak_mb, 1),
              "tree_peak_mb": round(tree_peak, 1)}
    with open(ledger, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    return job.returncode


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    sys.exit({"submit": submit, "run": run}[command](*arguments))
