"""The therapy vocabulary: names as reports write them -> canonical drug -> drug class.

The vocabulary is data (``therapy_vocabulary.csv``), extended per review by an optional
``vocabulary.csv`` among the extraction sheets. Matching ignores case and runs of whitespace, so
"Intralesional  Corticosteroids" finds "intralesional corticosteroids"; misspellings that real reports
contain ("bisphosphate", "cefriaxone", "Wafarin") are entries of their own, never guessed.
"""

import csv
import difflib
from dataclasses import dataclass
from importlib import resources


def normalise_name(name):
    return " ".join(str(name).split()).lower()


@dataclass(frozen=True)
class Vocabulary:
    entries: dict  # normalised name -> (drug, drug_class)

    def lookup(self, name):
        """(drug, drug_class) for a therapy name, or None when the name is unknown."""
        return self.entries.get(normalise_name(name))

    def suggest(self, name, n=3):
        """The closest known names, for an error message about an unknown one."""
        return difflib.get_close_matches(normalise_name(name), list(self.entries), n=n, cutoff=0.6)

    @property
    def drugs(self):
        return sorted({drug for drug, _ in self.entries.values()})

    @property
    def drug_classes(self):
        return sorted({drug_class for _, drug_class in self.entries.values()})


def bundled_rows():
    """Rows (name, drug, drug_class) of the bundled vocabulary."""
    text = resources.files("metacalc.data").joinpath("therapy_vocabulary.csv").read_text(encoding="utf-8")
    return [(r["name"], r["drug"], r["drug_class"]) for r in csv.DictReader(text.splitlines())]


def build_vocabulary(extra_rows=()):
    """The bundled vocabulary, extended (and where a name repeats, overridden) by a review's rows."""
    entries = {}
    for name, drug, drug_class in list(bundled_rows()) + list(extra_rows):
        entries[normalise_name(name)] = (drug.strip(), drug_class.strip())
    # A canonical drug name is always a valid way to write the therapy.
    for drug, drug_class in list(entries.values()):
        entries.setdefault(normalise_name(drug), (drug, drug_class))
    return Vocabulary(entries)
