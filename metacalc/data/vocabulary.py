"""The therapy vocabulary: names as reports write them -> canonical drug -> drug class.

The vocabulary is data (``therapy_vocabulary.csv``), extended per review by its review file's ``vocabulary``
list (``metacalc.data.review_file``). Matching ignores case and runs of whitespace, so "Intralesional
Corticosteroids" finds "intralesional corticosteroids"; a misspelling that a review's reports print is an entry
of its own (in that review's additions), never guessed.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources


def normalise_name(name: object) -> str:
    return " ".join(str(name).split()).lower()


@dataclass(frozen=True)
class Vocabulary:
    entries: dict[str, tuple[str, str]]  # normalised name -> (drug, drug_class)

    def lookup(self, name: object) -> tuple[str, str] | None:
        """(drug, drug_class) for a therapy name, or None when the name is unknown."""
        return self.entries.get(normalise_name(name))

    def suggest(self, name: object, n: int = 3) -> list[str]:
        """The closest known names, for an error message about an unknown one."""
        return difflib.get_close_matches(normalise_name(name), list(self.entries), n=n, cutoff=0.6)

    @property
    def drugs(self) -> list[str]:
        return sorted({drug for drug, _ in self.entries.values()})

    @property
    def drug_classes(self) -> list[str]:
        return sorted({drug_class for _, drug_class in self.entries.values()})


def bundled_rows() -> list[tuple[str, str, str]]:
    """Rows (name, drug, drug_class) of the bundled vocabulary."""
    text = resources.files("metacalc.data").joinpath("therapy_vocabulary.csv").read_text(encoding="utf-8")
    return [(r["name"], r["drug"], r["drug_class"]) for r in csv.DictReader(text.splitlines())]


def build_vocabulary(extra_rows: Iterable[tuple[str, str, str]] = ()) -> Vocabulary:
    """The bundled vocabulary, extended (and where a name repeats, overridden) by a review's rows."""
    entries: dict[str, tuple[str, str]] = {}
    for name, drug, drug_class in list(bundled_rows()) + list(extra_rows):
        entries[normalise_name(name)] = (drug.strip(), drug_class.strip())
    # A canonical drug name is always a valid way to write the therapy.
    for drug, drug_class in list(entries.values()):
        entries.setdefault(normalise_name(drug), (drug, drug_class))
    return Vocabulary(entries)
