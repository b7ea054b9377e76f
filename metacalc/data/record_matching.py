"""Matching search hits against the records log: which new records are duplicates, and of which record.

The rules, in order (the first that applies decides):

1. **DOI**: the same DOI (``normalise_doi``: lower case, no ``https://doi.org/`` prefix) is the same record.
2. **PMID**: the same PubMed identifier is the same record.
3. **Conflicting identifiers**: two records whose DOIs, or whose PMIDs, are both known and differ are not the
   same record, whatever their titles (an erratum, a reply or a second part often shares most of a title).
4. **Title**: titles folded (lower case, no accents, punctuation as spaces) whose similarity
   (``rapidfuzz.fuzz.ratio``, 0-100, one minus the normalised InDel distance) is at least
   ``TITLE_THRESHOLD`` = 95, provided that nothing contradicts them and something corroborates them:
   - the years, where both are known, differ by at most one (the online and the print year of one article);
   - the first authors' surnames, where both are known, are the same;
   - at least one of the two (year or first author) is known on both sides and agrees: a title alone is too
     weak (two reports in one year may both be called "A case report").
   95 lets through spelling variants (``Hypercalcaemia``/``Hypercalcemia``: 99), hyphens, a dropped article, a
   translated title's brackets; it stops titles that differ by a word (``Skin ulcers in a patient with systemic
   sclerosis`` against ``Digital skin ulcers in a patient with systemic sclerosis``: 92) - see
   tests/data/test_record_matching.py.

Records of the log that have only a ``citation`` (no ``title`` column, as reference lists are typed) are
matched on the citation's sentences (``Authors. Title. Journal...``): a title must match one sentence, or two
adjacent ones, as a whole, so that a title that begins another title does not match it. Their year is the
``year`` column, their first author the citation's opening name. Fields blank in a record are taken from
the report it names (``study_id`` -> studies table).

A match points at the record that is kept: when the matched record is itself a duplicate, at the record it
duplicates (``duplicate_of`` followed to its end), so that PRISMA counts each record once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from metacalc.data.search_results import SearchRecord, fold, normalise_doi, surname_key

TITLE_THRESHOLD = 95.0
YEAR_TOLERANCE = 1
MIN_TITLE_LENGTH = 12  # folded characters; shorter "titles" (e.g. "Letter") are not matched on

ARM = "databases_registers"


@dataclass(frozen=True)
class Reference:
    """What identifies a record, normalised for matching."""

    record_id: str
    doi: str | None = None
    pmid: str | None = None
    titles: tuple = ()          # folded title, or the folded sentences of a citation
    whole_title: bool = True    # False when ``titles`` are sentences of a citation
    author: str | None = None   # folded surname of the first author
    year: int | None = None


@dataclass(frozen=True)
class Match:
    record_id: str   # the record this one duplicates: the kept one
    rule: str        # "DOI", "PMID" or "title"
    detail: str      # the evidence in words
    matched: str     # the record actually matched (differs from record_id when that one is itself a duplicate)

    def note(self) -> str:
        """The sentence written to the log's notes column."""
        via = f"; matched {self.matched}, itself a duplicate of {self.record_id}" if self.matched != self.record_id else ""
        return f"duplicate of {self.record_id} by {self.rule} ({self.detail}{via})"


def cell_text(value) -> str | None:
    """A cell of a plain row as text, whitespace collapsed; None for blank, None, NaN or pandas.NA."""
    if type(value) is str:  # most cells: no NaN test, no str()
        return " ".join(value.split()) or None
    if value is None:
        return None
    try:
        if value != value:  # NaN
            return None
    except (TypeError, ValueError):  # pandas.NA and friends
        return None
    text = " ".join(str(value).split())
    return text or None


def _int(value) -> int | None:
    text = cell_text(value)
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


_SENTENCE_BREAK = re.compile(r"(?<=[.?!])\s+|\(\s*\d{4}[a-z]?\s*\)\s*")
_CITATION_AUTHOR = re.compile(r"^\s*([^,.(]+?)\s+[A-Z]{1,4}\b")


def citation_sentences(citation: str) -> tuple:
    """The folded sentences of a citation, and each pair of adjacent ones (a title may hold a full stop)."""
    parts = [fold(p) for p in _SENTENCE_BREAK.split(citation) if p and fold(p)]
    joined = [f"{a} {b}" for a, b in zip(parts, parts[1:])]
    return tuple(parts + joined)


def citation_first_author(citation: str) -> str | None:
    """``Tristano AG, Villarroel JL, ...`` -> ``tristano``; None when the citation does not open with a name."""
    found = _CITATION_AUTHOR.match(citation)
    return fold(found.group(1)) if found else None


def citation_authors(citation: str) -> tuple:
    """The folded surnames of a citation's author list: ``Tristano AG, Millan A. Title...`` -> (tristano, millan).

    Only names written surname-initials count, so a citation that opens with its title gives none.
    """
    opening = _SENTENCE_BREAK.split(citation, maxsplit=1)[0]
    names = []
    for part in opening.split(","):
        part = re.sub(r"\s+et al\.?$", "", part.strip().rstrip("."))
        found = _CITATION_AUTHOR.match(part)
        if found and found.group(0).strip() == part:
            names.append(fold(found.group(1)))
    return tuple(names)


def reference_of_row(row: Mapping, study: Mapping | None = None) -> Reference:
    """The Reference of a records-log row (dict of column -> value); blanks filled from its study's row."""
    study = study or {}

    def get(column):
        return cell_text(row.get(column)) or cell_text(study.get(column))

    title = get("title")
    citation = cell_text(row.get("citation"))
    titles: tuple = ()
    whole = True
    if title:
        titles = (fold(title),)
    elif citation:
        titles, whole = citation_sentences(citation), False
    author = surname_key(get("first_author")) or (citation_first_author(citation) if citation else None)
    return Reference(record_id=str(row["record_id"]), doi=normalise_doi(get("doi")), pmid=get("pmid"),
                     titles=tuple(t for t in titles if len(t) >= MIN_TITLE_LENGTH), whole_title=whole,
                     author=author, year=_int(row.get("year")) or _int(study.get("year")))


def reference_of_hit(record_id: str, hit: SearchRecord) -> Reference:
    title = fold(hit.title) if hit.title else ""
    return Reference(record_id=record_id, doi=hit.doi, pmid=hit.pmid,
                     titles=(title,) if len(title) >= MIN_TITLE_LENGTH else (), whole_title=True,
                     author=surname_key(hit.first_author), year=hit.year)


class Matcher:
    """An index of references: exact look-ups by DOI and PMID, and every title for rapidfuzz to search at once."""

    def __init__(self, references: Iterable[Reference] = (), kept: Mapping[str, str] | None = None):
        self.by_doi: dict[str, Reference] = {}
        self.by_pmid: dict[str, Reference] = {}
        self.titles: list[str] = []
        self.owners: list[Reference] = []   # the reference each title belongs to
        self.kept = dict(kept or {})
        for reference in references:
            self.add(reference)

    def add(self, reference: Reference, kept_as: str | None = None) -> None:
        """Index ``reference``; a match on it points at ``kept_as`` (default: the reference itself)."""
        if kept_as is not None:
            self.kept[reference.record_id] = kept_as
        if reference.doi:
            self.by_doi.setdefault(reference.doi, reference)
        if reference.pmid:
            self.by_pmid.setdefault(reference.pmid, reference)
        for title in reference.titles:
            self.titles.append(title)
            self.owners.append(reference)

    def _kept(self, record_id: str) -> str:
        seen = set()
        while self.kept.get(record_id, record_id) != record_id and record_id not in seen:
            seen.add(record_id)
            record_id = self.kept[record_id]
        return record_id

    def _found(self, old: Reference, rule: str, detail: str) -> Match:
        return Match(self._kept(old.record_id), rule, detail, matched=old.record_id)

    def match(self, new: Reference) -> Match | None:
        """The kept record that ``new`` duplicates, by the rules of this module; None for a new record."""
        from rapidfuzz import fuzz, process

        if new.doi and new.doi in self.by_doi:
            return self._found(self.by_doi[new.doi], "DOI", f"same DOI {new.doi}")
        if new.pmid and new.pmid in self.by_pmid:
            return self._found(self.by_pmid[new.pmid], "PMID", f"same PMID {new.pmid}")
        candidates = []
        for title in new.titles:
            # One call per title searches every indexed title in compiled code; the cut-off prunes by length.
            for _, score, position in process.extract(title, self.titles, scorer=fuzz.ratio,
                                                      score_cutoff=TITLE_THRESHOLD, limit=None):
                if corroborated(new, self.owners[position]):
                    candidates.append((-score, position))
        if not candidates:
            return None
        negative, position = min(candidates)  # the most similar title; among equals, the earliest in the log
        score, old = -negative, self.owners[position]
        detail = [f"titles {score:.0f}% similar"]
        if new.year is not None and old.year is not None:
            detail.append(f"year {new.year}" + (f" and {old.year}" if old.year != new.year else ""))
        if new.author and old.author:
            detail.append(f"first author {new.author}")
        return self._found(old, "title", ", ".join(detail))


def corroborated(new: Reference, old: Reference) -> bool:
    """Whether two records with similar titles may be one: no conflicting identifier, year or first author,
    and at least the year or the first author known on both sides (see the rules above)."""
    if (new.doi and old.doi and new.doi != old.doi) or (new.pmid and old.pmid and new.pmid != old.pmid):
        return False
    years_known = new.year is not None and old.year is not None
    if new.year is not None and old.year is not None and abs(new.year - old.year) > YEAR_TOLERANCE:
        return False
    authors_known = bool(new.author and old.author)
    if new.author and old.author and not _same_surname(new.author, old.author):
        return False
    return years_known or authors_known


def _same_surname(a: str, b: str) -> bool:
    # "perez pampin" and "perez" are one person written two ways (compound Spanish surnames): prefix on words.
    return a == b or a.startswith(b + " ") or b.startswith(a + " ")


# ------------------------------------------------------------------ planning an import

@dataclass(frozen=True)
class ImportedRow:
    """A new row of the records log and how it was matched (``match`` None: a unique record, to screen)."""

    values: dict
    line: int                   # where the hit starts in the export
    match: Match | None = None
    within_file: bool = False   # the match is an earlier hit of the same export


@dataclass(frozen=True)
class ImportPlan:
    rows: tuple = ()                # ImportedRow, in file order
    already_imported: tuple = ()    # ids of hits the log holds from an earlier import of the same search

    def counts(self) -> dict:
        duplicates = [r for r in self.rows if r.match is not None]
        within = sum(1 for r in duplicates if r.within_file)
        return {"added": len(self.rows), "to_screen": len(self.rows) - len(duplicates),
                "duplicates_of_log": len(duplicates) - within, "duplicates_within_file": within,
                "already_imported": len(self.already_imported)}

    def lines(self) -> list[str]:
        """What the import did, for the terminal."""
        n = self.counts()
        out = [f"{n['added']} records added: {n['to_screen']} to screen, {n['duplicates_of_log']} duplicates of "
               f"records already in the log, {n['duplicates_within_file']} duplicates within the file "
               "(duplicates have removed_before_screening = duplicate and duplicate_of)"]
        if self.already_imported:
            out.append(f"{n['already_imported']} records already in the log from an earlier import of this search "
                       "(same source, date and record): left as they are")
        return out


def slug(text: str) -> str:
    """``Embase (Ovid)`` -> ``embase_ovid``: the source part of a record id."""
    return "_".join(fold(text).split()) or "source"


def record_key(hit: SearchRecord) -> str:
    """The stable part of a record id: the PMID where known, else a short digest of what identifies the hit."""
    if hit.pmid:
        return f"pmid{hit.pmid}"
    identity = hit.doi or "|".join([fold(hit.title or ""), str(hit.year or ""), surname_key(hit.first_author) or ""])
    return hashlib.sha1(identity.encode("utf-8")).hexdigest()[:8]


def plan_import(log_rows: Sequence[Mapping], studies: Sequence[Mapping], hits: Sequence[SearchRecord],
                source: str, date: str, source_type: str = "database") -> ImportPlan:
    """The rows that importing ``hits`` adds to the records log ``log_rows`` (pure: nothing is written).

    Record ids read ``<source>_<date>_<key>`` (``medline_2026-03-01_pmid16041464``): the same export imported
    into the same log gives the same ids and rows. A hit whose id the log already holds was imported before
    (the same search imported twice) and is left alone, so a second import adds nothing and keeps the
    screening decisions made since. Every other hit is matched against the log and against the hits before
    it in the file; a match is added as a duplicate record pointing at the kept record.
    """
    study = {str(s["study_id"]): s for s in studies if cell_text(s.get("study_id"))}
    known_ids = {str(r["record_id"]) for r in log_rows if cell_text(r.get("record_id"))}
    kept = {str(r["record_id"]): str(r["duplicate_of"]) for r in log_rows
            if cell_text(r.get("record_id")) and cell_text(r.get("duplicate_of"))}
    matcher = Matcher((reference_of_row(r, study.get(cell_text(r.get("study_id")) or ""))
                       for r in log_rows if cell_text(r.get("record_id"))), kept=kept)
    prefix = f"{slug(source)}_{date}_"
    rows, already, ids = [], [], []
    for hit in hits:
        base = prefix + record_key(hit)
        record_id, n = base, 1
        while record_id in ids:  # the same hit twice in one file: _2, _3 in file order
            n += 1
            record_id = f"{base}_{n}"
        ids.append(record_id)
        if record_id in known_ids:
            already.append(record_id)
            continue
        reference = reference_of_hit(record_id, hit)
        found = matcher.match(reference)
        matcher.add(reference, kept_as=found.record_id if found else None)
        rows.append(ImportedRow(values=_log_values(record_id, hit, source, date, source_type, found),
                                line=hit.line, match=found, within_file=found is not None and found.record_id in ids))
    return ImportPlan(rows=tuple(rows), already_imported=tuple(already))


def _log_values(record_id, hit, source, date, source_type, found):
    return {
        "record_id": record_id,
        "arm": ARM,
        "source_type": source_type,
        "source": source,
        "search_date": date,
        "citation": hit.citation(),
        "first_author": hit.first_author,
        "title": hit.title,
        "doi": hit.doi,
        "pmid": hit.pmid,
        "year": str(hit.year) if hit.year is not None else None,
        "previous_review": "no",
        "duplicate_of": found.record_id if found else None,
        "removed_before_screening": "duplicate" if found else None,
        "notes": found.note() if found else None,
    }
