"""A stand-in for a cluster scheduler (like `sbatch`), for the cluster-executor test.

    python local_scheduler.py submit LEDGER RULE MEM_MB THREADS JOBSCRIPT

`submit` starts the job script as a separate, detached process and prints its job id at once, as a scheduler
does; the job then runs on its own, and when it ends one JSON line is appended to LEDGER: the rule, the memory
and threads it declared, its exit status, and the peak resident memory of its largest process.
"""

import json
import os
import resource
import subprocess
import sys


def submit(ledger, rule, mem_mb, threads, jobscript):
    with open(f"{ledger}.{rule}.out", "ab") as output:
        job = subprocess.Popen([sys.executable, __file__, "run", ledger, rule, mem_mb, threads, jobscript],
                               stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                               start_new_session=True)
    print(f"local-{job.pid}")


def run(ledger, rule, mem_mb, threads, jobscript):
    status = subprocess.call(["bash", jobscript])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kilobytes on Linux
    record = {"rule": rule, "mem_mb": int(mem_mb), "threads": int(threads), "status": status,
              "pid": os.getpid(), "peak_mb": round(peak_mb, 1)}
    with open(ledger, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    return status


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    sys.exit({"submit": submit, "run": run}[command](*arguments))
