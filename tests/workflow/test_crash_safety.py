"""A run killed at any point, or failing, never leaves a report that looks current; a plain rerun recovers.

Each scenario starts from the complete outputs of a first run, edits the analysis plan (so that every job must
run again), kills the run when a given file appears, and checks what is left: either a complete set of
outputs (the previous run's or the new one's) beside index.html, or no index.html. A plain `snakemake` (no
--unlock, no --rerun-incomplete) must then give outputs byte-identical to a run that was never interrupted.
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest
from runs import copy_tree, differences, files_under, snakemake, snakemake_command

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the job's process through /proc")

PLAN_EDIT = ("analyses/response_per_drug.yaml", "title: Response per therapy", "title: Response per drug")
LOGS = ("logs",)  # logs name times and differ between runs; everything else must be identical


def edit_plan(workdir):
    path = workdir / PLAN_EDIT[0]
    text = path.read_text(encoding="utf-8")
    assert PLAN_EDIT[1] in text
    path.write_text(text.replace(PLAN_EDIT[1], PLAN_EDIT[2]), encoding="utf-8")


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """The review folder after one complete run."""
    workdir = copy_tree(tmp_path_factory.mktemp("previous") / "review")
    run = snakemake(workdir)
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir


@pytest.fixture(scope="module")
def expected(previous, tmp_path_factory):
    """The outputs of the edited review after a run that nobody interrupted."""
    workdir = tmp_path_factory.mktemp("expected") / "review"
    shutil.copytree(previous, workdir, symlinks=True)
    edit_plan(workdir)
    run = snakemake(workdir)
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir / "reports"


def job_processes(group):
    """PIDs of the `metacalc` job processes in the run's process group (the job, not Snakemake)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
            if os.getpgid(int(entry)) == group and b"metacalc" in argv and b"-m" in argv:
                found.append(int(entry))
        except (OSError, ProcessLookupError):
            continue
    return found


def group_alive(group):
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def run_and_kill(workdir, trigger, victim, timeout=300):
    """Start a plain `snakemake`, SIGKILL ``victim`` ("snakemake", "job" or "all") once ``trigger`` exists,
    then wait until no process of the run is left (a job whose Snakemake was killed runs on to its end)."""
    process = subprocess.Popen(snakemake_command(), cwd=workdir, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    group, deadline, killed = process.pid, time.monotonic() + timeout, False
    while time.monotonic() < deadline and process.poll() is None:
        if (workdir / trigger).exists():
            if victim == "all":
                os.killpg(group, signal.SIGKILL)
            elif victim == "snakemake":
                process.kill()
            else:
                jobs = job_processes(group)
                if not jobs:
                    time.sleep(0.005)
                    continue
                for pid in jobs:
                    os.kill(pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    process.wait(timeout=max(deadline - time.monotonic(), 1))
    while group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    return killed


def outputs(reports):
    """The outputs beside index.html, as (path, bytes): what must be one complete set."""
    return {path: (reports / path).read_bytes() for path in files_under(reports, skip=LOGS)}


MID_REPORT = "reports/manuscript_tables/tables.xlsx"  # written before tables.docx, then index.html
SCENARIOS = [
    # (what has appeared when the run is killed, what is killed)
    ("reports/logs/analyse.log", "snakemake"),  # analyse has just started; its job runs on without Snakemake
    ("reports/dataset.json", "all"),            # half-way through analyse: validated, not yet analysed
    ("reports/dataset.json", "job"),            # the job dies, Snakemake sees it fail
    ("reports/logs/report.log", "all"),         # the report is being rendered
    (MID_REPORT, "job"),                        # the tables for a manuscript half written, the report not yet
    ("reports/index.html", "snakemake"),        # the report is written, Snakemake not yet done
]


@pytest.mark.parametrize("trigger,victim", SCENARIOS, ids=[f"{v}-at-{os.path.basename(t)}" for t, v in SCENARIOS])
def test_a_killed_run_leaves_no_stale_report_and_a_plain_rerun_recovers(previous, expected, tmp_path, trigger,
                                                                          victim):
    workdir = tmp_path / "review"
    shutil.copytree(previous, workdir, symlinks=True)
    edit_plan(workdir)
    killed = run_and_kill(workdir, trigger, victim)
    if trigger == MID_REPORT:  # the Word file takes a second to build: the job is always caught there
        assert killed

    reports = workdir / "reports"
    if (reports / "index.html").exists():
        left = outputs(reports)
        assert left in (outputs(previous / "reports"), outputs(expected)), "index.html beside a mixed set"

    rerun = snakemake(workdir)  # plain: no --unlock, no --rerun-incomplete
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-3000:]
    assert differences(expected, reports, skip=LOGS) == {}


def test_a_first_run_killed_half_way_recovers_to_the_clean_outputs(previous, tmp_path):
    workdir = copy_tree(tmp_path / "review")
    assert run_and_kill(workdir, "reports/dataset.json", "all")
    assert not (workdir / "reports" / "index.html").exists()
    rerun = snakemake(workdir)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-3000:]
    assert differences(previous / "reports", workdir / "reports", skip=LOGS) == {}


def test_a_failed_run_removes_the_report_and_every_undeclared_file(previous, tmp_path):
    workdir = tmp_path / "review"
    shutil.copytree(previous, workdir, symlinks=True)
    (workdir / "reports" / "tables" / "notes-of-mine.txt").write_text("not declared", encoding="utf-8")
    plan = workdir / "analyses" / "response_per_class.yaml"
    plan.write_text(plan.read_text(encoding="utf-8") + "groupby: drug\n", encoding="utf-8")
    run = snakemake(workdir)
    assert run.returncode != 0
    assert "analyses/response_per_class.yaml:(top level): Additional properties are not allowed" in run.stderr
    assert "No report: the run failed (logs in reports/logs/)." in run.stderr
    # Left: the logs only (the change log's baseline is a release, outside the outputs: nothing to keep here).
    assert files_under(workdir / "reports", skip=LOGS) == []


def test_a_second_run_is_refused_while_the_first_is_alive(tmp_path):
    """Clearing a killed run's lock must never clear the lock of a run that is alive."""
    workdir = copy_tree(tmp_path / "review")
    go = tmp_path / "go"
    held = tmp_path / "held-metacalc"  # the first run's jobs wait for `go`: it is alive while the second starts
    held.write_text(f"#!/bin/sh\nwhile [ ! -e {shlex.quote(str(go))} ]; do sleep 0.05; done\n"
                    f"exec {shlex.quote(sys.executable)} -m metacalc \"$@\"\n", encoding="utf-8")
    held.chmod(0o755)
    first = subprocess.Popen(snakemake_command() + ["--config", f"metacalc_command={held}"], cwd=workdir,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while not (workdir / "reports" / "logs" / "analyse.log").exists() and time.monotonic() < deadline:
            assert first.poll() is None
            time.sleep(0.01)
        second = snakemake(workdir, "--config", f"metacalc_command={held}", timeout=120)
        assert second.returncode != 0 and "Directory cannot be locked" in second.stdout + second.stderr
    finally:
        go.touch()
        output, _ = first.communicate(timeout=300)
    assert first.returncode == 0, output[-3000:]
    assert (workdir / "reports" / "index.html").exists()
