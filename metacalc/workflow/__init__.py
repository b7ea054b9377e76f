"""The review workflow (Snakemake), shipped with metacalc: ``Snakefile``, ``rules/``, and
``schemas/config.schema.yaml`` (every setting, its default and its meaning).

A review folder runs it through Snakemake's ``module`` directive, so that nothing is copied and every review
runs the workflow of the installed metacalc (editable or not). Its ``Snakefile`` (written by ``metacalc
init``; the repository root's is the same) reads::

    from metacalc.workflow import finished, snakefile

    configfile: "config.yaml"

    module review:
        snakefile: snakefile()
        config: config

    use rule * from review

    rule default:
        default_target: True
        input: rules.all.input

    onsuccess:
        finished(config, log, success=True)

    onerror:
        finished(config, log, success=False)

The target rule and the handlers are there, not in the module, because Snakemake takes the default target and
``onsuccess``/``onerror`` from the main Snakefile only.

The files live in the repository's ``snakemake/`` folder, where a Snakemake user looks for a workflow
(``snakemake/workflow/``: ``Snakefile``, ``rules/``, ``schemas/config.schema.yaml``; ``snakemake/skeleton/``: the
files of a new review), and ship inside the package as the data-only packages ``metacalc.workflow.files`` and
``metacalc.workflow.skeleton`` (pyproject.toml maps them): a wheel holds them beside this module, an editable
install finds them in the source tree. Either way they are found as the import system finds those packages, so
there is one way to locate them.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import sys
from collections.abc import Iterable, Mapping
from typing import Any

WORKFLOW_FILES = "metacalc.workflow.files"  # snakemake/workflow/ in the source tree
SKELETON_FILES = "metacalc.workflow.skeleton"  # snakemake/skeleton/


@functools.cache
def folder(package: str) -> str:
    """The folder of a data-only package of the workflow's files, wherever this installation keeps it."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        raise RuntimeError(f"{package} is not installed with metacalc (reinstall it: pip install metacalc)")
    return os.path.abspath(locations[0])


def workflow_folder() -> str:
    """The workflow: ``Snakefile``, ``rules/``, ``schemas/``."""
    return folder(WORKFLOW_FILES)


def skeleton_folder() -> str:
    """The files of a new review, which ``metacalc init`` copies."""
    return folder(SKELETON_FILES)


def snakefile() -> str:
    """The path of the workflow's Snakefile, for a review folder's ``module`` directive."""
    return os.path.join(workflow_folder(), "Snakefile")


def schema_path() -> str:
    """The workflow's config schema (every setting with its default and meaning)."""
    return os.path.join(workflow_folder(), "schemas", "config.schema.yaml")


def finished(config: Mapping[str, Any], logs: Iterable[str] | str | None, success: bool) -> None:
    """What the end of a run says: keep Snakemake's own log beside the jobs' logs (the terminal shows only the
    progress summary), and where the report is, or that there is none."""
    outdir = config.get("outdir", "reports")
    destination = os.path.join(outdir, "logs", "snakemake.log")
    for path in [logs] if isinstance(logs, str) else (logs or ()):
        if path and os.path.exists(path):
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            shutil.copyfile(path, destination)
    if success:
        print(f"Report: {outdir}/index.html (logs in {outdir}/logs/)", file=sys.stderr)
    elif not os.path.exists(os.path.join(outdir, "index.html")):
        # removed when analyse started, or by Snakemake with a failed report
        print(f"No report: the run failed (logs in {outdir}/logs/).", file=sys.stderr)


def review_config(folder: str = ".") -> dict[str, Any]:
    """A review folder's workflow settings: its config.yaml (when it has one) completed with the schema's
    defaults, paths joined to the folder. What the workflow would run with (without --config overrides)."""
    import yaml

    from metacalc.errors import UserError

    with open(schema_path(), encoding="utf-8") as handle:
        properties = yaml.safe_load(handle)["properties"]
    path = os.path.join(folder, "config.yaml")
    values: dict[str, Any] = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            values = yaml.safe_load(handle) or {}
        if not isinstance(values, dict):
            raise UserError([f"{path}: not a mapping of settings (got {type(values).__name__})"])
    unknown = sorted(set(values) - set(properties))
    if unknown:
        raise UserError([f"{path}:{key}: unknown setting (got {key}, expected one of: {', '.join(properties)})"
                         for key in unknown])
    config = {key: values.get(key, spec.get("default")) for key, spec in properties.items()}
    for key in ("review", "sheets", "sources", "analyses", "outdir", "releases"):
        config[key] = os.path.normpath(os.path.join(folder, config[key]))
    return config
