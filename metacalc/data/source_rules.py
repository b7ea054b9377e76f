"""Every quote found in the source document it cites: the check that makes provenance a fact, not a claim.

A review keeps the full texts of its reports (or the reviewer's transcriptions of them) in ``sources/``. A
quote is searched, after whitespace normalisation (any run of spaces, tabs and line breaks is one space), in
the ``source_document`` of the study its row belongs to (study -> patient -> treatment, study -> aggregate),
or in the file of ``sources/`` that its ``location`` names before ": " (e.g. ``smith2012.txt: Discussion``),
for a fact one report quotes from another. A quote that is not found is reported with the closest passage of
the document, so that a typo can be told from an invented sentence.

Fast on large reviews: each document is read and normalised once, and a quote is a substring test; only the
quotes that are not found pay for the fuzzy search of the closest passage.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from metacalc.data.problems import Collector, show

if TYPE_CHECKING:
    import pandas as pd

WHITESPACE = re.compile(r"\s+")
# A location that starts with a file name ("smith2012.txt: Discussion") names the document the quote is from.
NAMED_DOCUMENT = re.compile(r"^([^\s:/\\]+\.[A-Za-z0-9]{1,5}): ")
SHOWN = 120  # characters of a quote or passage shown in a message


def normalise(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"


def closest_passage(quote: str, text: str) -> tuple[str, float]:
    """The passage of ``text`` most like ``quote`` (normalised InDel similarity of the best alignment, 0-100)."""
    from rapidfuzz import fuzz

    alignment = fuzz.partial_ratio_alignment(quote, text)
    if alignment is None:
        return "", 0.0
    start, end = alignment.dest_start, alignment.dest_end
    # Widen to whole words: the alignment may cut a word in two.
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end].strip(), alignment.score


class Sources:
    """The review's source documents, read and normalised once each, with their reading problems."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.names = set(os.listdir(folder)) if os.path.isdir(folder) else set()
        self.texts: dict[str, str | None] = {}
        self.unreadable: dict[str, str] = {}  # name -> why it cannot be read, in the words of a message

    def text(self, name: str) -> str | None:
        """The normalised text of one document (None when it cannot be read: ``why_unreadable`` says why)."""
        if name not in self.texts:
            path = os.path.join(self.folder, name)
            try:
                with open(path, encoding="utf-8") as handle:
                    self.texts[name] = normalise(handle.read())
            except UnicodeDecodeError:
                self.texts[name], self.unreadable[name] = None, "not UTF-8 text"
            except OSError as error:
                # A folder of the document's name (or a broken link, no permission) is not an encoding problem.
                self.texts[name] = None
                self.unreadable[name] = ("a folder, not a text file" if os.path.isdir(path)
                                         else f"cannot be read ({error.strerror or error.__class__.__name__})")
        return self.texts[name]

    def why_unreadable(self, name: str) -> str:
        return self.unreadable.get(name, "not UTF-8 text")


def check_sources(frames: dict[str, pd.DataFrame], files: dict[str, str], usable: dict[str, bool], folder: str,
                  out: Collector) -> None:
    """Every study's source document is in ``folder`` and every quote is found in the document it cites."""
    if not usable["quotes"] or not usable["studies"] or frames["quotes"].empty:
        return
    if not os.path.isdir(folder):
        out.add(folder, None, "", f"no sources folder (got no {folder}/, expected the full texts of the reports, "
                                  "where every quote is checked; each study's source_document names its file)")
        return
    sources = Sources(folder)
    studies, studies_file = frames["studies"], files["studies"]
    document_of: dict[str, str] = {}  # study_id -> its source document, when there is one to search
    # Columns as lists: iterating a pandas text column costs a few µs a cell, a list a few ns.
    for row, study, name in zip(studies.index.tolist(), studies["study_id"].tolist(),
                                studies["source_document"].tolist()):
        if not isinstance(study, str) or not isinstance(name, str):
            continue
        if name not in sources.names:
            out.add(studies_file, int(row), "source_document", _missing_document(name, sources))
        elif sources.text(name) is None:
            out.add(studies_file, int(row), "source_document",
                    f"{sources.why_unreadable(name)} (got {show(name)}, expected a UTF-8 text file in {folder}/)")
        else:
            document_of[study] = name
    known = set(studies["study_id"].dropna())
    with_document = {s for s, name in zip(studies["study_id"], studies["source_document"]) if isinstance(name, str)}
    study_of = _study_of_rows(frames)
    quotes, file = frames["quotes"], files["quotes"]
    blank_reported: set[str] = set()
    for row, table, row_id, quote, location in zip(quotes.index.tolist(), quotes["table"].tolist(),
                                                   quotes["row_id"].tolist(), quotes["quote"].tolist(),
                                                   quotes["location"].tolist()):
        if not isinstance(quote, str) or out.has(file, int(row), "row_id") or out.has(file, int(row), "column"):
            continue
        named = NAMED_DOCUMENT.match(location) if isinstance(location, str) else None
        if named:
            name = named.group(1)
            if name not in sources.names:
                out.add(file, int(row), "location", _missing_document(name, sources, named_in="location"))
                continue
        else:
            study = study_of.get((table, row_id))
            if study is None or study not in known:
                continue  # the row or its study does not exist: reported by the rules of references
            if study not in with_document:
                if study not in blank_reported:
                    blank_reported.add(study)
                    rows = studies.index[studies["study_id"] == study]
                    out.add(studies_file, int(rows[0]) if len(rows) else None, "source_document",
                            f"no source document for the quotes of study {study} (got blank, expected a file name "
                            f"in {folder}/, where its quotes are checked)")
                continue
            if study not in document_of:
                continue  # its document is missing or unreadable: reported on the study's row
            name = document_of[study]
        text = sources.text(name)
        if text is None:
            out.add(file, int(row), "location",
                    f"{sources.why_unreadable(name)} (got {show(name)}, expected a UTF-8 text file)")
            continue
        wanted = normalise(quote)
        if wanted and wanted not in text:
            passage, score = closest_passage(wanted, text)
            near = (f"closest passage ({score:.0f}% alike): \"{_clip(passage)}\"" if passage
                    else "no similar passage")
            out.add(file, int(row), "quote", f"not found in {name} (got \"{_clip(wanted)}\", expected the words of "
                                             f"the source document, whitespace aside; {near})")


def _missing_document(name: str, sources: Sources, named_in: str = "") -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(sources.names), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    where = f" named in the {named_in}" if named_in else ""
    return f"source document not found (got {show(name)}{where}, expected a file in {sources.folder}/{hint})"


def _study_of_rows(frames: dict[str, pd.DataFrame]) -> dict[tuple[str, str], str]:
    """(table, row id) -> the study the row belongs to, for every quotable table."""
    owner: dict[tuple[str, str], str] = {}
    for study in frames["studies"]["study_id"].dropna():
        owner[("studies", study)] = study
    patients = frames["patients"]
    # Columns as lists (tolist), not iterated: a pandas column hands out its cells one call at a time.
    study_of_patient = dict(zip(patients["patient_id"].tolist(), patients["study_id"].tolist()))
    for patient, study in study_of_patient.items():
        if isinstance(patient, str) and isinstance(study, str):
            owner[("patients", patient)] = study
    treatments = frames["treatments"]
    for treatment, patient in zip(treatments["treatment_id"].tolist(), treatments["patient_id"].tolist()):
        study = study_of_patient.get(patient)
        if isinstance(treatment, str) and isinstance(study, str):
            owner[("treatments", treatment)] = study
    aggregates = frames["aggregates"]
    for aggregate, study in zip(aggregates["aggregate_id"].tolist(), aggregates["study_id"].tolist()):
        if isinstance(aggregate, str) and isinstance(study, str):
            owner[("aggregates", aggregate)] = study
    return owner
