"""The workflow runs unchanged under a cluster executor (snakemake-executor-plugin-cluster-generic).

A local stand-in for the scheduler (local_scheduler.py) starts every submitted job as a separate, detached
process, as `sbatch` would on a cluster; the outputs must be byte-identical to a local run, and every job's
declared memory must cover the peak it reached.
"""

import json
import os
import shlex
import sys

import pytest
from runs import copy_tree, differences, snakemake

pytest.importorskip("snakemake_executor_plugin_cluster_generic")

SCHEDULER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "local_scheduler.py")


def test_cluster_jobs_give_the_outputs_of_a_local_run(tmp_path):
    local = copy_tree(tmp_path / "local")
    run = snakemake(local)
    assert run.returncode == 0, run.stderr[-3000:]

    cluster = copy_tree(tmp_path / "cluster")
    ledger = tmp_path / "ledger.jsonl"
    submit = " ".join(shlex.quote(part) for part in (sys.executable, SCHEDULER, "submit", str(ledger))) + (
        " {rule} {resources.mem_mb} {threads}")
    run = snakemake(cluster, "--executor", "cluster-generic", "--cluster-generic-submit-cmd", submit,
                    "--jobs", "2", "--seconds-between-status-checks", "1")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]

    jobs = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
    assert sorted(job["rule"] for job in jobs) == ["analyse", "report"]
    assert len({job["pid"] for job in jobs} | {os.getpid()}) == len(jobs) + 1
    for job in jobs:
        assert job["status"] == 0
        assert 0 < job["peak_mb"] <= job["mem_mb"] and job["tree_peak_mb"] <= job["mem_mb"], job
    assert differences(local / "reports", cluster / "reports", skip=("logs",)) == {}
