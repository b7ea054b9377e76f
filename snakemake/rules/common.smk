# Helpers of the workflow (kept apart from the rules, as Snakemake's linter asks).

import glob
import hashlib
import os
import shlex
import sys


def sheet_files(path):
    """The sheets as inputs, so that editing one reruns the workflow (and adding one too)."""
    if os.path.isfile(path):
        return [path]
    return sorted(glob.glob(os.path.join(path, "*.csv")) + glob.glob(os.path.join(path, "*.xlsx")))


def plan_files(path):
    return sorted(glob.glob(os.path.join(path, "*.yaml")) + glob.glob(os.path.join(path, "*.yml")))


def plan_ids(path):
    """Analysis ids, which name the tables; read with PyYAML only (the plan is validated by `metacalc analyse`)."""
    import yaml

    ids = []
    for name in plan_files(path):
        with open(name, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        if isinstance(document, dict) and isinstance(document.get("id"), str):
            ids.append(document["id"])
    return sorted(set(ids))


def code_fingerprint():
    """Hash of the installed metacalc sources: Snakemake does not see changes inside a package, so a change
    of code reaches rerun detection through this param."""
    import metacalc

    root = os.path.dirname(metacalc.__file__)
    digest = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(root)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".yaml", ".csv", ".j2", ".css", ".json")):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode())
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return f"{metacalc.__version__}+{digest.hexdigest()[:16]}"


def metacalc_command():
    """metacalc as run by each job: the configured command, or this Python with `-m metacalc`."""
    return config.get("metacalc_command") or f"{shlex.quote(sys.executable)} -m metacalc"
