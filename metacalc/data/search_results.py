"""Reading database search exports: RIS, PubMed/MEDLINE (``.nbib`` or ``.txt``) and CSV, to plain records.

Every format becomes the same thing, a ``SearchRecord`` per hit with the line it starts on, so that the
record log (``record_matching``) and every message after this step are format-blind.

- **RIS** is parsed by rispy (tag names and multi-line values as the RIS specification has them). rispy is
  lenient: it drops a record that never ends and reads stray text as a continuation, so the file's structure
  (``TY`` opens a record, ``ER`` closes it) is checked here first, with line numbers.
- **MEDLINE** (what PubMed's "Save: PubMed format" and "Send to: citation manager" write) is a simple tagged
  format: a tag padded to four characters, ``- ``, the value, continuation lines indented by six spaces, a
  blank line between records. It is read here (about 40 lines) rather than through Biopython, which would
  bring a large dependency for it and could not say which line is wrong.
- **CSV** (PubMed, Scopus, Embase, Covidence exports...): columns are found by header name, case-insensitive,
  with the common variants (``Article Title``, ``PubMed ID``, ``Publication Year``...); comma, semicolon
  and tab delimiters are recognised from the header line.

Problems are collected for the whole file and raised together as one ``UserError``, each line
``FILE:LINE: what is wrong (got X, expected Y)``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass

from metacalc.errors import UserError

FORMATS = ("ris", "medline", "csv")
MAX_AUTHORS_IN_CITATION = 6  # Vancouver style: six authors, then "et al."


@dataclass(frozen=True)
class SearchRecord:
    """One hit of a search export, as the database described it (blank = ``None``)."""

    line: int                  # line of the file where the record starts (CSV: where its row starts)
    title: str | None = None
    authors: tuple = ()        # Vancouver form, e.g. ("Tristano AG", "Villarroel JL")
    year: int | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None     # normalised by ``normalise_doi``
    pmid: str | None = None

    @property
    def first_author(self) -> str | None:
        return self.authors[0] if self.authors else None

    def citation(self) -> str:
        """A Vancouver-style citation: ``Authors. Title. Journal. Year;Volume(Issue):Pages.``"""
        parts = []
        if self.authors:
            names = list(self.authors[:MAX_AUTHORS_IN_CITATION])
            if len(self.authors) > MAX_AUTHORS_IN_CITATION:
                names.append("et al")
            parts.append(", ".join(names))
        if self.title:
            parts.append(self.title.rstrip(" ."))
        if self.journal:
            parts.append(self.journal.rstrip(" ."))
        where = str(self.year) if self.year is not None else ""
        if self.volume:
            where += (";" if where else "") + self.volume + (f"({self.issue})" if self.issue else "")
        if self.pages:
            where += (":" if where else "") + self.pages
        if where:
            parts.append(where)
        return ". ".join(parts) + "." if parts else ""


# ------------------------------------------------------------------ normalising identifiers and names

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d|2100)(?!\d)")
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")


def normalise_doi(text: str | None) -> str | None:
    """``https://doi.org/10.1007/ABC`` -> ``10.1007/abc`` (DOIs are case-insensitive); ``None`` for blank."""
    if text is None:
        return None
    value = _DOI_PREFIX.sub("", text.strip()).strip().rstrip(".").lower()
    return value or None


def is_doi(value: str) -> bool:
    return bool(_DOI.match(value))


def year_of(text: str | None) -> int | None:
    """The first plausible year (1800-2100) in a date such as ``2006 Jan`` or ``2006/01/15/``."""
    if not text:
        return None
    found = _YEAR.search(text)
    return int(found.group(1)) if found else None


def vancouver_name(author: str) -> str:
    """``Tristano, Antonio G.`` or ``Tristano A.G.`` -> ``Tristano AG``; other forms are kept as written."""
    author = " ".join(author.split()).strip(" ,;")
    if "," in author:
        surname, _, given = author.partition(",")
        initials = "".join(part[0].upper() for part in re.split(r"[\s.\-]+", given) if part and part[0].isalpha())
        return f"{surname.strip()} {initials}".strip()
    words = author.split(" ")
    if len(words) > 1 and _INITIALS.match(words[-1]):
        return " ".join(words[:-1] + [words[-1].replace(".", "").replace("-", "")])
    return author


def surname_key(author: str | None) -> str | None:
    """The surname of a Vancouver-form name, folded for comparison: ``Pérez Pampín E`` -> ``perez pampin``."""
    if not author:
        return None
    words = vancouver_name(author).split(" ")
    if len(words) > 1 and _INITIALS.match(words[-1]):
        words = words[:-1]
    return fold(" ".join(words)) or None


_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics a single space."""
    if text.isascii():  # no accents to remove (ASCII has no decompositions): most text, read a character less
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_NOT_ALPHANUMERIC.sub(" ", plain).split())


# ------------------------------------------------------------------ reading a file

def read_search_export(path: str | os.PathLike) -> tuple[str, list[SearchRecord]]:
    """Read a search export and return (format, records); the format is recognised from the content.

    Raises ``UserError`` listing every problem of the file, one located line each.
    """
    file = os.fspath(path)
    if not os.path.isfile(file):
        raise UserError([f"{file}: no such file (expected a RIS, MEDLINE or CSV export of a database search)"])
    with open(file, "rb") as handle:
        data = handle.read()
    text = _decode(file, data)
    if not text.strip():
        raise UserError([f"{file}: empty file (got {len(data)} bytes, expected a RIS, MEDLINE or CSV export)"])
    kind = detect_format(file, text)
    reader = {"ris": parse_ris, "medline": parse_medline, "csv": parse_csv}[kind]
    records, problems = reader(text, file)
    if not problems and not records:
        problems.append(f"{file}: no records (got a {kind.upper()} export without any, expected at least one record)")
    if problems:
        raise UserError(problems)
    return kind, records


def _decode(file, data):
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start:error.start + 1].hex().upper()
        raise UserError([f"{file}:{line}: not valid UTF-8 (got byte 0x{bad}, expected UTF-8 text; export the "
                         "search results as UTF-8)"]) from None


def detect_format(file: str, text: str) -> str:
    """``ris``, ``medline`` or ``csv``, from the first non-blank line (the file name is only a hint)."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    if re.match(r"^TY  -", first):
        return "ris"
    if re.match(r"^PMID- ", first):
        return "medline"
    if file.lower().endswith((".csv", ".tsv")) or _csv_fields(first):
        return "csv"
    shown = first[:60] + ("..." if len(first) > 60 else "")
    raise UserError([f"{file}:1: not a search export (got \"{shown}\", expected a RIS file starting 'TY  - ', "
                     "a MEDLINE/PubMed file starting 'PMID- ', or a CSV file with a title, DOI or PMID column)"])


# ------------------------------------------------------------------ the checks every format shares

def _record(file, line, problems, *, title=None, authors=(), year=None, journal=None, volume=None, issue=None,
            pages=None, doi=None, pmid=None, where=None):
    """A SearchRecord from raw field text, or None with the problems added (``where`` names a CSV column)."""
    def at(field):
        column = where.get(field) if where else None
        return f"{file}:{line}:{column}" if column else f"{file}:{line}"

    clean = {k: (" ".join(v.split()) or None) if isinstance(v, str) else v
             for k, v in dict(title=title, journal=journal, volume=volume, issue=issue, pages=pages).items()}
    ok = True
    doi = normalise_doi(doi)
    if doi is not None and not is_doi(doi):
        problems.append(f"{at('doi')}: not a DOI (got \"{doi}\", expected 10.NNNN/suffix, e.g. 10.1007/s10067-005-1100-5)")
        ok = False
    pmid = pmid.strip() if pmid else None
    if pmid and not pmid.isdigit():
        problems.append(f"{at('pmid')}: not a PMID (got \"{pmid}\", expected digits, e.g. 16041464)")
        ok = False
    number = None
    if year is not None and str(year).strip():
        number = year_of(str(year))
        if number is None:
            problems.append(f"{at('year')}: not a year (got \"{str(year).strip()}\", expected a year from 1800 to 2100)")
            ok = False
    if not (clean["title"] or doi or pmid):
        problems.append(f"{file}:{line}: record without a title, DOI or PMID (got none of them, expected at least one "
                        "to identify the record)")
        ok = False
    if not ok:
        return None
    names = tuple(vancouver_name(a) for a in authors if a and a.strip())
    return SearchRecord(line=line, authors=names, year=number, doi=doi, pmid=pmid or None, **clean)


# ------------------------------------------------------------------ RIS

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")


def parse_ris(text: str, file: str) -> tuple[list[SearchRecord], list[str]]:
    """Records and problems of a RIS file: structure checked line by line, fields read by rispy."""
    import rispy

    records: list[SearchRecord] = []
    problems: list[str] = []
    lines = text.split("\n")
    start = None  # line number of the open record's TY
    chunk: list[str] = []
    for number, line in enumerate(lines, start=1):
        tag = _RIS_TAG.match(line)
        if start is None:
            if tag and tag.group(1) == "TY":
                start, chunk = number, [line]
            elif line.strip():
                got = line.strip()[:60]
                problems.append(f"{file}:{number}: text outside a record (got \"{got}\", expected 'TY  - ' opening a "
                                "record)")
            continue
        if tag and tag.group(1) == "TY":
            problems.append(f"{file}:{number}: a new record starts before the one on line {start} ended (got 'TY  - ', "
                            "expected 'ER  - ' first)")
            start, chunk = number, [line]
            continue
        chunk.append(line)
        if tag and tag.group(1) == "ER":
            entry = rispy.loads("\n".join(chunk))[0]
            record = _ris_record(entry, file, start, problems)
            if record is not None:
                records.append(record)
            start, chunk = None, []
    if start is not None:
        problems.append(f"{file}:{start}: the record opened here never ends (got the end of the file, expected "
                        "'ER  - '; is the file truncated?)")
    return records, problems


def _first(entry, *names):
    for name in names:
        value = entry.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value and str(value).strip():
            return str(value).strip()
    return None


_PUBMED_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d+)")


def _ris_pmid(entry):
    """RIS has no PMID tag: PubMed-derived files put it in AN (with DB/DP naming PubMed/MEDLINE) or in a URL."""
    database = (_first(entry, "name_of_database", "database_provider") or "").lower()
    accession = _first(entry, "accession_number")
    if accession and ("pubmed" in database or "medline" in database):
        return accession.removeprefix("PMID:").strip()
    for url in entry.get("urls", []) or []:
        found = _PUBMED_URL.search(url)
        if found:
            return found.group(1)
    return None


def _ris_record(entry, file, line, problems):
    authors = list(entry.get("authors", []) or []) or list(entry.get("first_authors", []) or [])
    start, end = _first(entry, "start_page"), _first(entry, "end_page")
    pages = f"{start}-{end}" if start and end and end != start else start
    doi = _first(entry, "doi")
    if doi is None:
        doi = next((u for u in entry.get("urls", []) or [] if "doi.org/" in u), None)
    return _record(file, line, problems,
                   title=_first(entry, "title", "primary_title"),
                   authors=authors,
                   year=_first(entry, "year", "publication_year", "date"),
                   journal=_first(entry, "secondary_title", "journal_name", "alternate_title3", "alternate_title2",
                                  "alternate_title1"),
                   volume=_first(entry, "volume"), issue=_first(entry, "number"), pages=pages,
                   doi=doi, pmid=_ris_pmid(entry))


# ------------------------------------------------------------------ MEDLINE (PubMed format)

_MEDLINE_TAG = re.compile(r"^([A-Z][A-Z0-9 ]{1,3})-(?: (.*))?$")
_MEDLINE_CONTINUATION = "      "


def parse_medline(text: str, file: str) -> tuple[list[SearchRecord], list[str]]:
    """Records and problems of a MEDLINE file (PubMed's .nbib / "PubMed format" .txt)."""
    records: list[SearchRecord] = []
    problems: list[str] = []
    fields: dict[str, list[str]] = {}
    start = None
    last = None

    def close():
        if start is not None:
            record = _medline_record(fields, file, start, problems)
            if record is not None:
                records.append(record)

    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            close()
            fields, start, last = {}, None, None
            continue
        tag = _MEDLINE_TAG.match(line)
        if tag:
            name = tag.group(1).strip()
            if start is None:
                start = number
            fields.setdefault(name, []).append((tag.group(2) or "").strip())
            last = name
        elif line.startswith(_MEDLINE_CONTINUATION) and last is not None:
            fields[last][-1] = f"{fields[last][-1]} {line.strip()}"
        else:
            got = line.strip()[:60]
            problems.append(f"{file}:{number}: not a MEDLINE line (got \"{got}\", expected 'TAG - value' or a "
                            "continuation indented by six spaces)")
    close()
    return records, problems


def _medline_doi(fields):
    # LID and AID hold several identifiers, each followed by its kind in brackets: "10.1007/... [doi]".
    for value in fields.get("LID", []) + fields.get("AID", []):
        if value.endswith("[doi]"):
            return value[: -len("[doi]")].strip()
    return None


def _medline_record(fields, file, line, problems):
    def one(*tags):
        for tag in tags:
            if fields.get(tag):
                return fields[tag][0]
        return None

    title = one("TI", "BTI")
    if title and title.startswith("[") and title.rstrip(".").endswith("]"):
        title = title.rstrip(".")[1:-1]  # MEDLINE brackets titles translated into English
    return _record(file, line, problems, title=title, authors=fields.get("AU") or fields.get("FAU") or [],
                   year=one("DP"), journal=one("TA", "JT"), volume=one("VI"), issue=one("IP"), pages=one("PG"),
                   doi=_medline_doi(fields), pmid=one("PMID"))


# ------------------------------------------------------------------ CSV

# Header names as exports write them (PubMed, Scopus, Embase, Web of Science, Covidence, Zotero), folded.
CSV_COLUMNS = {
    "title": ("title", "article title", "document title", "primary title", "ti", "title of article"),
    "doi": ("doi", "digital object identifier", "do", "doi link"),
    "pmid": ("pmid", "pubmed id", "pubmed", "pubmed identifier", "medline pmid", "pm id", "pubmedid", "pubmed_id"),
    "year": ("year", "publication year", "pub year", "py", "year published", "publication date", "pubyear"),
    "authors": ("authors", "author", "author names", "author s", "au", "author list"),
    "first_author": ("first author",),
    "journal": ("journal", "journal title", "source title", "journal book", "source", "publication title",
                "secondary title", "so", "jt"),
    "volume": ("volume", "vl"),
    "issue": ("issue", "number", "is"),
    "pages": ("pages", "page", "pg"),
    "page_start": ("page start", "start page", "sp"),
    "page_end": ("page end", "end page", "ep"),
}
_CSV_LOOKUP = {variant: field for field, variants in CSV_COLUMNS.items() for variant in variants}
_IDENTIFYING = ("title", "doi", "pmid")


def _delimiter(header_line):
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_fields(header_line):
    cells = next(csv.reader([header_line], delimiter=_delimiter(header_line)), [])
    return [f for f in (_CSV_LOOKUP.get(fold(c)) for c in cells) if f in _IDENTIFYING]


def _split_authors(text):
    if ";" in text:
        return [a for a in text.split(";") if a.strip()]
    # "Tristano AG, Villarroel JL" (PubMed, Embase): commas separate authors written surname-initials.
    return [a for a in text.split(",") if a.strip()]


def parse_csv(text: str, file: str) -> tuple[list[SearchRecord], list[str]]:
    """Records and problems of a CSV export; columns are found by (folded) header name."""
    lines = text.split("\n")
    header_line = next((line for line in lines if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(header_line), strict=True)
    problems: list[str] = []
    rows = []
    try:
        previous = 0
        for cells in reader:
            rows.append((previous + 1, cells))
            previous = reader.line_num
    except csv.Error as error:
        return [], [f"{file}:{reader.line_num}: malformed CSV (got {error}, expected quotes to be closed and doubled "
                    "inside quoted cells)"]
    rows = [(n, cells) for n, cells in rows if any(c.strip() for c in cells)]
    if not rows:
        return [], []
    header_number, header = rows[0]
    where: dict[str, int] = {}
    for position, name in enumerate(header):
        field = _CSV_LOOKUP.get(fold(name))
        if field and field not in where:
            where[field] = position
    if not any(field in where for field in _IDENTIFYING):
        got = ", ".join(h.strip() for h in header if h.strip())[:200] or "no names"
        return [], [f"{file}:{header_number}: no title, DOI or PMID column (got columns: {got}; expected a column "
                    "named Title, DOI or PMID, or a common variant such as Article Title or PubMed ID)"]
    names = {field: header[position].strip() for field, position in where.items()}
    records: list[SearchRecord] = []
    for number, cells in rows[1:]:
        def cell(field):
            position = where.get(field)
            return cells[position].strip() or None if position is not None and position < len(cells) else None

        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            problems.append(f"{file}:{number}: too many cells (got {len(cells)}, expected {len(header)} as in the "
                            "header; is a delimiter unquoted?)")
            continue
        authors = _split_authors(cell("authors")) if cell("authors") else ([cell("first_author")] if cell("first_author") else [])
        pages = cell("pages")
        if pages is None and cell("page_start"):
            pages = cell("page_start") + (f"-{cell('page_end')}" if cell("page_end") else "")
        record = _record(file, number, problems, title=cell("title"), authors=authors, year=cell("year"),
                         journal=cell("journal"), volume=cell("volume"), issue=cell("issue"), pages=pages,
                         doi=cell("doi"), pmid=cell("pmid"), where=names)
        if record is not None:
            records.append(record)
    return records, problems
