"""Named versions of a review (``metacalc release NAME``): what the report's "Changes since version NAME"
compares with.

A release is one file, ``releases/NAME/release.json`` inside the review folder, meant to be committed with the
review: the hash of every input file (review file, sheets, sources, analysis plan), the reports and patients by
label, the PRISMA counts and the numbers of every analysis (its main groups without per-study rows, and the
headline numbers of its sensitivity variants). It holds no wall-clock time: the same inputs give the same bytes.
The user may give a ``label`` (e.g. "searches to March 2027"), which is kept as given. Releases are numbered in
the order they were made (``sequence``); the latest is the one with the highest number.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from metacalc.errors import UserError
from metacalc.files import write_atomic
from metacalc.review.document import ReviewResults

RELEASES = "releases"
RELEASE_FILE = "release.json"
RELEASE_FORMAT = 1
JSON = dict[str, Any]


def file_digests(folder: str, paths: Iterable[str]) -> dict[str, str]:
    """path relative to ``folder`` (with /) -> sha256 of the file's bytes."""
    out = {}
    for path in paths:
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        out[os.path.relpath(path, folder).replace(os.sep, "/")] = digest
    return dict(sorted(out.items()))


def review_inputs(folder: str, review_file: str | None, sheets: str, sources: str | None, plan: str) -> dict[str, str]:
    """The digests of a review's input files (as the workflow's rules list them), relative to its ``folder``."""
    def files_in(directory: str | None, suffixes: tuple[str, ...] | None = None) -> list[str]:
        if not directory or not os.path.isdir(directory):
            return []
        return [os.path.join(directory, name) for name in sorted(os.listdir(directory))
                if os.path.isfile(os.path.join(directory, name)) and not name.startswith(".")
                and (suffixes is None or name.lower().endswith(suffixes))]

    paths = [review_file] if review_file and os.path.isfile(review_file) else []
    paths += [sheets] if os.path.isfile(sheets) else files_in(sheets, (".csv", ".xlsx"))
    paths += files_in(sources) + files_in(plan, (".yaml", ".yml"))
    return file_digests(folder, paths)


def inputs_digest(files: Mapping[str, str]) -> str:
    """One hash of every input file (names and contents): equal exactly when no input changed."""
    return hashlib.sha256("".join(f"{name}\0{digest}\n" for name, digest in sorted(files.items())).encode()).hexdigest()


def summary(results: ReviewResults) -> JSON:
    """What a release keeps of the results, and what the change log compares: reports and patients by label,
    PRISMA counts, the main groups of every analysis (numbers, no per-study rows) and the variants' headlines."""
    label = {s["study_id"]: s["label"] for s in results.studies}
    analyses = []
    for analysis in results.analyses:
        analyses.append({
            "id": analysis.id, "title": analysis.title, "kind": analysis.kind,
            "groups": [group.numbers_only().to_dict() for group in analysis.groups],
            "sensitivity": [{"id": variant.id, "label": variant.label,
                             "rows": [{"group": row.group, "variant": None if row.variant is None else
                                       row.variant.to_dict()} for row in variant.rows]}
                            for variant in analysis.sensitivity]})
    return {
        "reports": [{"study_id": s["study_id"], "label": label[s["study_id"]]} for s in results.studies],
        "patients": [{"patient_id": p["patient_id"], "study_id": p["study_id"], "label": label.get(p["study_id"], "")}
                     for p in results.patients],
        "prisma": [{"box": box.box_id, "label": box.label, "n": box.n} for box in results.prisma.boxes],
        "settings": dict(results.settings),
        "analyses": analyses,
    }


def release_document(results: ReviewResults, name: str, files: Mapping[str, str], sequence: int,
                     label: str | None = None) -> JSON:
    return {"format": RELEASE_FORMAT, "name": name, "label": label, "sequence": sequence,
            "metacalc": results.software.get("metacalc"),
            "inputs": {"sha256": inputs_digest(files), "files": dict(files)}, **summary(results)}


def check_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\\" in name or name != name.strip():
        raise UserError([f"release name: not a folder name (got {name!r}, expected e.g. v1 or living)"])


def read_release(path: str) -> JSON:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        raise UserError([f"{path}: not a readable release ({error})"]) from None
    if not isinstance(document, dict) or document.get("format") != RELEASE_FORMAT:
        raise UserError([f"{path}: not a release of this version of metacalc (got format "
                         f"{document.get('format') if isinstance(document, dict) else None}, expected "
                         f"{RELEASE_FORMAT}); make it again with `metacalc release`"])
    return document


def releases_in(directory: str) -> list[JSON]:
    """Every release under ``directory`` (releases/), oldest first."""
    if not os.path.isdir(directory):
        return []
    found = [read_release(os.path.join(directory, name, RELEASE_FILE)) for name in sorted(os.listdir(directory))
             if os.path.isfile(os.path.join(directory, name, RELEASE_FILE))]
    return sorted(found, key=lambda r: (r.get("sequence", 0), r.get("name", "")))


def latest_release(directory: str | None) -> JSON | None:
    """The latest named version under ``directory``, or None when there is none (or no directory)."""
    found = releases_in(directory) if directory else []
    return found[-1] if found else None


def write_release(directory: str, results: ReviewResults, name: str, files: Mapping[str, str],
                  label: str | None = None) -> tuple[str, JSON]:
    """Write ``directory``/NAME/release.json (replacing a release of that name, which becomes the latest)."""
    check_name(name)
    others = [r for r in releases_in(directory) if r.get("name") != name]
    sequence = max((r.get("sequence", 0) for r in others), default=0) + 1
    document = release_document(results, name, files, sequence, label)
    path = os.path.join(directory, name, RELEASE_FILE)
    write_atomic(path, json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n")
    return path, document

