"""Sensitivity variants beside the main analysis: each group's headline numbers in both, side by side."""

from __future__ import annotations

from collections.abc import Sequence

from metacalc.review.results import Group, Headline, Kind, ProportionGroup, VariantRow


def headline(group: Group | None, kind: Kind) -> Headline | None:
    # The headline's numbers are the group's numbers only: not its per-patient and per-study rows, which a main
    # group of thousands of reports would turn into JSON for nothing.
    return None if group is None else Headline.of_group(group.numbers_only().to_dict(), kind)


def variant_rows(main_groups: Sequence[Group], variant_groups: Sequence[Group], kind: Kind) -> tuple[VariantRow, ...]:
    """Main estimate beside the variant's, per group (groups present in either)."""
    main = {g.group: g for g in main_groups}
    other = {g.group: g for g in variant_groups}
    rows = []
    for name in sorted(set(main) | set(other)):
        variant = other.get(name)
        notes = variant.lower_bounds if isinstance(variant, ProportionGroup) else ()
        rows.append(VariantRow(name, headline(main.get(name), kind), headline(variant, kind), tuple(notes)))
    return tuple(rows)
