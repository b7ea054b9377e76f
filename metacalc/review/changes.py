"""What changed since the last run: every headline number of this run beside the one the last run wrote.

The comparison is made on the JSON documents (results.json of both runs), by the numbers' names, so that a
history written by an earlier version of metacalc still compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metacalc.review.document import Change, ChangeLog
from metacalc.review.results import Headline


def flatten_numbers(results: Mapping[str, Any]) -> dict[str, Any]:
    """Every headline number as 'analysis / variant / group / field' -> value."""
    flat = {}
    for analysis in results.get("analyses", []):
        kind = analysis["kind"]
        for group in analysis["groups"]:
            for key, value in Headline.of_group(group, kind).to_dict().items():
                flat[f"{analysis['id']} / main / {group['group']} / {key}"] = value
        for variant in analysis.get("sensitivity", []):
            for row in variant["rows"]:
                for key, value in (row["variant"] or {}).items():
                    flat[f"{analysis['id']} / {variant['id']} / {row['group']} / {key}"] = value
    return flat


def changes_since(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> ChangeLog:
    """Numbers that changed, appeared or disappeared between two results documents."""
    if previous is None:
        return ChangeLog(previous_run=False)
    before, after = flatten_numbers(previous), flatten_numbers(current)
    changes = []
    # the main analyses first, then the sensitivity variants
    for key in sorted(set(before) | set(after), key=lambda k: (k.split(" / ")[1] != "main", k)):
        old, new = before.get(key, "absent"), after.get(key, "absent")
        if old != new:
            changes.append(Change(key, old, new))
    return ChangeLog(previous_run=True, changes=tuple(changes))
