# Helpers of the workflow (kept apart from the rules, as Snakemake's linter asks).

import fcntl
import glob
import hashlib
import os
import shlex
import sys


def review_files(path):
    """The review file as an input (absent: the review has none, and validation says so)."""
    return [path] if os.path.isfile(path) else []


def sheet_files(path):
    """The sheets as inputs, so that editing one reruns the workflow (and adding one too)."""
    if os.path.isfile(path):
        return [path]
    return sorted(glob.glob(os.path.join(path, "*.csv")) + glob.glob(os.path.join(path, "*.xlsx")))


def source_files(path):
    """The source documents as inputs: the quotes are checked against them, so editing one reruns analyse."""
    if not os.path.isdir(path):
        return []
    return sorted(os.path.join(path, name) for name in os.listdir(path)
                  if os.path.isfile(os.path.join(path, name)) and not name.startswith("."))


def plan_files(path):
    return sorted(glob.glob(os.path.join(path, "*.yaml")) + glob.glob(os.path.join(path, "*.yml")))


def release_files(path):
    """The named versions as inputs (releases/NAME/release.json): a new release reruns analyse."""
    return sorted(glob.glob(os.path.join(path, "*", "release.json")))


def code_fingerprint():
    """Hash of the installed metacalc sources and of this workflow's files (in an editable install they are
    outside the package, in snakemake/workflow/): Snakemake does not see changes inside a package, so a change
    of code reaches rerun detection through this param."""
    import metacalc
    from metacalc.workflow import workflow_folder

    digest = hashlib.sha256()
    for root in (os.path.dirname(metacalc.__file__), workflow_folder()):
        for folder, dirs, files in sorted(os.walk(root)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".yaml", ".csv", ".j2", ".css", ".json", ".smk")) or name == "Snakefile":
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, root).encode())
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
    return f"{metacalc.__version__}+{digest.hexdigest()[:16]}"


def metacalc_command():
    """metacalc as run by each job: the configured command, or this Python with `-m metacalc`."""
    return config.get("metacalc_command") or f"{shlex.quote(sys.executable)} -m metacalc"


def booleans_from_command_line(config, schema_path):
    """`--config knha=true` arrives as the string "true" (Snakemake reads only True/False as booleans): accept
    true/false in any case for the options the schema declares boolean, so the documented example works."""
    import yaml

    with open(schema_path, encoding="utf-8") as handle:
        properties = yaml.safe_load(handle).get("properties", {})
    for key, spec in properties.items():
        value = config.get(key)
        if spec.get("type") == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
            config[key] = value.lower() == "true"


_RUN_LOCK = []  # the open lock file, held for the life of the main Snakemake process


def clear_stale_locks(workflow):
    """Remove the lock a killed run left behind, so that a plain rerun needs no `--unlock`.

    Snakemake's locks are plain files that outlive a SIGKILL. This process takes an OS lock (flock) on
    .snakemake/metacalc-run.lock, which the kernel releases when its holder dies however it dies: if it can be
    taken, no other run of this workflow is alive here, and Snakemake's lock files are stale. If it cannot,
    another run is in progress and Snakemake's own lock refuses this one, as it should.
    """
    if not workflow.is_main_process:  # a job's own Snakemake (cluster executors) leaves locks to the main one
        return
    os.makedirs(".snakemake", exist_ok=True)
    handle = open(os.path.join(".snakemake", "metacalc-run.lock"), "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return
    _RUN_LOCK.append(handle)
    for stale in glob.glob(os.path.join(".snakemake", "locks", "*.lock")):
        os.remove(stale)


def patient_count(sheets):
    """Patients in the extraction sheets (data rows of patients.csv, or of a workbook's patients sheet),
    counted without validating them: the memory each job declares grows with it."""
    if os.path.isdir(sheets):
        path = os.path.join(sheets, "patients.csv")
        if not os.path.exists(path):
            return 0
        with open(path, "rb") as handle:
            return max(sum(1 for line in handle if line.strip()) - 1, 0)
    if sheets.endswith(".xlsx") and os.path.exists(sheets):
        import openpyxl

        workbook = openpyxl.load_workbook(sheets, read_only=True)
        try:
            return max((workbook["patients"].max_row or 1) - 1, 0) if "patients" in workbook.sheetnames else 0
        finally:
            workbook.close()
    return 0


def memory_mb(step):
    """The memory a step declares to Snakemake and to a cluster scheduler: the rule in config.schema.yaml."""
    sizing = config["memory_mb"][step]
    return int(sizing["base"] + sizing["per_1000_patients"] * PATIENTS / 1000)
