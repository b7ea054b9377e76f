"""The data dictionary of a review, generated from its effective schema (schema.yaml with the review file's
fields, words and response categories): rows for the template's README sheet and the markdown tables of the
review's extraction_sheets/README.md (between the GENERATED markers).

    python -m metacalc.data.dictionary extraction_sheets/README.md   # refresh the generated part (the review
                                                                     # file is the one of that review folder)
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from metacalc.data.schema import ColumnSpec, load_schema
from metacalc.files import write_atomic

if TYPE_CHECKING:
    from metacalc.data.review_file import Review

BEGIN = "<!-- BEGIN GENERATED: python -m metacalc.data.dictionary extraction_sheets/README.md -->"
END = "<!-- END GENERATED -->"
HEADINGS = ("table", "column", "type", "required", "allowed values", "needs a quote", "meaning")


def allowed(column: ColumnSpec) -> str:
    """What a column allows, in a few words: its values, its range, what it refers to."""
    if column.values:
        return " | ".join(column.values)
    if column.min is not None or column.max is not None:
        low = "" if column.min is None else f"{column.min:g}"
        high = "" if column.max is None else f"{column.max:g}"
        return f"{low} to {high}" if low and high else (f">= {low}" if low else f"<= {high}")
    if column.references:
        return f"a value of {column.references}"
    return ""


def dictionary_rows(review: Review | None = None) -> list[tuple[str, str, str, str, str, str, str]]:
    """(table, column, type, required, allowed, needs a quote, meaning) for every column."""
    rows = []
    for name, spec in load_schema(review).items():
        for c in spec.columns:
            kind = c.type + (" (derived)" if c.derived else "")
            required = "yes" if c.required else ""
            quoted = "yes" if spec.quoted and c.provenance and not c.derived else ""
            rows.append((name, c.name, kind, required, allowed(c), quoted, c.description))
    return rows


def dictionary_markdown(review: Review | None = None) -> str:
    lines = []
    rows = dictionary_rows(review)
    for name, spec in load_schema(review).items():
        status = "required" if spec.required else "optional (absent = empty)"
        key = f"; id column `{spec.id}`" if spec.id else ""
        lines += ["", f"### `{name}` — {spec.description}", "", f"File `{name}.csv` or sheet `{name}`: {status}{key}.", ""]
        if spec.unique_together:
            lines += [f"One row per {' x '.join(spec.unique_together)}.", ""]
        for check in spec.checks:
            lines.append(f"- rule: `{check.test}` when all of {', '.join(check.uses)} are filled ({check.message} is an error)")
        if spec.checks:
            lines.append("")
        lines.append("| column | type | required | allowed values | needs a quote | meaning |")
        lines.append("|---|---|---|---|---|---|")
        for row in rows:
            if row[0] == name:
                cells = [f"`{row[1]}`"] + [str(c).replace("|", "\\|") for c in row[2:]]
                lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "### Bundled therapy vocabulary (`metacalc/data/therapy_vocabulary.csv`)", "",
              "| drug class | drug | names accepted (case and spacing ignored) |", "|---|---|---|"]
    for (drug_class, drug), names in vocabulary_by_drug().items():
        lines.append(f"| {drug_class} | {drug} | {', '.join(names)} |")
    if review is not None and review.vocabulary:
        lines += ["", "### This review's additions to the vocabulary (`review.yaml`, `vocabulary`)", "",
                  "| name | drug | drug class |", "|---|---|---|"]
        lines += [f"| {name} | {drug} | {drug_class} |" for name, drug, drug_class in review.vocabulary]
    return "\n".join(lines[1:]) + "\n"


def vocabulary_by_drug() -> dict[tuple[str, str], list[str]]:
    """{(drug_class, drug): [names]} of the bundled vocabulary, sorted."""
    from metacalc.data.vocabulary import bundled_rows

    grouped: dict[tuple[str, str], list[str]] = {}
    for name, drug, drug_class in bundled_rows():
        grouped.setdefault((drug_class, drug), []).append(name)
    return {key: sorted(grouped[key]) for key in sorted(grouped)}


def refresh(readme_path: str) -> None:
    """Refresh the generated part of a review's extraction_sheets/README.md (its review file: the folder's)."""
    from metacalc.data.review_file import load_review
    from metacalc.data.review_folder import locate

    with open(readme_path, encoding="utf-8") as handle:
        text = handle.read()
    review = load_review(locate(os.path.dirname(os.path.abspath(readme_path))).review_file)
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    new = text[:start] + "\n" + dictionary_markdown(review) + text[end:]
    write_atomic(readme_path, new)


if __name__ == "__main__":
    refresh(sys.argv[1])
