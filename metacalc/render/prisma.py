"""The PRISMA 2020 flow diagram as SVG, laid out as the published template (Page MJ et al. BMJ 2021;372:n71).

The counts come from the results (counted from the records log by ``metacalc.data.prisma_flow``); this module
only draws them. Every box links to the report's list of the records behind it.
"""

from __future__ import annotations

import re
import textwrap
from xml.sax.saxutils import escape, quoteattr

from metacalc.data.prisma_flow import Box, PrismaCounts
from metacalc.files import write_atomic
from metacalc.review.words import ARM_TITLES

NBSP = "\u00a0"

FONT_FAMILY = "Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif"
FONT_SIZE = 12
LINE_HEIGHT = 15
CHARS_PER_LINE = 44  # fits the box width in the widest of the listed fonts
BOX_WIDTH = 270
PHASE_WIDTH = 28
GAP_X = 34
GAP_Y = 26
PAD = 8
MARGIN = 10


def _wrap(text: str, indent: int = 0) -> list[str]:
    """Lines of at most CHARS_PER_LINE characters; leading spaces mark indentation (continuations deeper)."""
    prefix = "  " * indent
    # keep "(n = 12)" on one line: textwrap does not break at no-break spaces
    text = re.sub(r"\(n = (\d+)\)", "(n\u00a0=\u00a0\\1)", text)
    lines = textwrap.wrap(text, CHARS_PER_LINE - len(prefix) - 2, break_long_words=True,
                          break_on_hyphens=False) or [""]
    return [prefix + lines[0]] + [prefix + "  " + line for line in lines[1:]]


def _lines(label: str, n: int, details: tuple[str, ...] | list[str] = ()) -> list[str]:
    lines = _wrap(f"{label} (n = {n})")
    for detail in details:
        lines.extend(_wrap(detail, indent=1))
    return lines


def _box_texts(counts: PrismaCounts) -> dict[str, tuple[list[str], str]]:
    """box_id -> (lines of text, tooltip) of every drawn box."""
    texts = {}
    for arm in counts.arms():
        lines = ["Records identified from:"]
        for type_box in arm.identified.parts:
            lines.extend(_wrap(f"{type_box.label} (n = {type_box.n})", indent=1))
            for source in type_box.parts:
                lines.extend(_wrap(f"{source.label} (n = {source.n})", indent=2))
        lines.append(f"Total (n = {arm.identified.n})")
        texts[arm.identified.box_id] = (lines, f"{arm.identified.n} records identified")

        lines = [f"Records removed before screening (n = {arm.removed.n}):"]
        for part in arm.removed.parts:
            lines.extend(_wrap(f"{part.label} (n = {part.n})", indent=1))
        texts[arm.removed.box_id] = (lines, f"{arm.removed.n} records removed before screening")
        texts[arm.screened.box_id] = (_lines("Records screened", arm.screened.n),
                                      f"{arm.screened.n} records screened on title and abstract")
        texts[arm.excluded_at_screening.box_id] = (
            _lines("Records excluded", arm.excluded_at_screening.n,
                   [f"{p.label} (n = {p.n})" for p in arm.excluded_at_screening.parts]),
            f"{arm.excluded_at_screening.n} records excluded at screening")
        texts[arm.sought.box_id] = (_lines("Reports sought for retrieval", arm.sought.n),
                                    f"{arm.sought.n} reports sought for retrieval")
        texts[arm.not_retrieved.box_id] = (_lines("Reports not retrieved", arm.not_retrieved.n),
                                           f"{arm.not_retrieved.n} reports whose full text was not retrieved")
        texts[arm.assessed.box_id] = (_lines("Reports assessed for eligibility", arm.assessed.n),
                                      f"{arm.assessed.n} full-text reports assessed for eligibility")
        lines = [f"Reports excluded (n = {arm.excluded.n})" + (":" if arm.excluded.parts else "")]
        for part in arm.excluded.parts:
            lines.extend(_wrap(f"{part.label} (n = {part.n})", indent=1))
        texts[arm.excluded.box_id] = (lines, f"{arm.excluded.n} reports excluded after full-text assessment")
    for box in (counts.previous_studies, counts.previous_reports, counts.new_studies, counts.new_reports,
                counts.studies, counts.reports):
        if box is not None:
            texts[box.box_id] = (_lines(box.label, box.n), f"{box.label}: {box.n}")
    return texts


def _svg_box(box_id: str, x: float, y: float, width: float, lines: list[str], tooltip: str, link_prefix: str,
             height: float | None = None, bold: bool = False) -> tuple[str, float]:
    height = height or (len(lines) * LINE_HEIGHT + 2 * PAD)
    out = [f'<g id="prisma-diagram-{escape(box_id)}" class="prisma-box">',
           f'<a href={quoteattr(link_prefix + box_id)}>',
           f"<title>{escape(tooltip)} (click for the list of records)</title>",
           f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="#ffffff" stroke="#000000" '
           'stroke-width="1"/>']
    weight = ' font-weight="bold"' if bold else ""
    out.append(f'<text x="{x + PAD}" y="{y + PAD}"{weight}>')
    for number, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" "))
        out.append(f'<tspan x="{x + PAD + 5 * indent}" dy="{LINE_HEIGHT if number else FONT_SIZE}">'
                   f"{escape(line.strip().replace(NBSP, ' '))}</tspan>")
    out.append("</text></a></g>")
    return "\n".join(out), height


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#000000" stroke-width="1.2" '
            'marker-end="url(#prisma-arrowhead)"/>')


def prisma_svg(counts: PrismaCounts, link_prefix: str = "#prisma-") -> str:
    """The PRISMA 2020 flow diagram as SVG text, laid out as the published template.

    Every box is a link (``link_prefix`` + box id) to the report's list of the records behind it and
    carries a <title> tooltip. Black on white, system fonts, no external resources; the same counts give
    the same bytes. An arm without any record (e.g. no database was searched) is left out, as authors of
    the template do; the other arm then flows straight into the included box.
    """
    texts = _box_texts(counts)
    arms = [arm for arm in counts.arms() if arm.identified.n] or [counts.databases_registers]
    columns = (["previous"] if counts.is_update else []) + [
        f"{arm.arm}:{side}" for arm in arms for side in ("main", "side")]
    left = MARGIN + PHASE_WIDTH + GAP_X / 2
    x_of = {name: left + i * (BOX_WIDTH + GAP_X) for i, name in enumerate(columns)}
    width = x_of[columns[-1]] + BOX_WIDTH + MARGIN

    def height_of(box: Box | None) -> int:
        assert box is not None  # every box drawn exists (the update boxes only in an update)
        return len(texts[box.box_id][0]) * LINE_HEIGHT + 2 * PAD

    # rows: boxes side by side in a row share its height
    row_boxes: dict[str, list[Box]] = {"identified": [], "screened": [], "sought": [], "assessed": []}
    for arm in arms:
        row_boxes["identified"] += [arm.identified] + ([arm.removed] if arm.has_screening else [])
        if arm.has_screening:
            row_boxes["screened"] += [arm.screened, arm.excluded_at_screening]
        row_boxes["sought"] += [arm.sought, arm.not_retrieved]
        row_boxes["assessed"] += [arm.assessed, arm.excluded]
    header_height = 2 * LINE_HEIGHT + 2 * PAD
    header_y = MARGIN
    y = header_y + header_height + GAP_Y
    row_y, row_h = {}, {}
    for name, boxes in row_boxes.items():
        if not boxes:
            continue
        row_y[name] = y
        row_h[name] = max(height_of(box) for box in boxes)
        if name == "identified" and counts.is_update:
            row_h[name] = max(row_h[name], height_of(counts.previous_studies) + height_of(counts.previous_reports))
        y += row_h[name] + GAP_Y
    stack: list[tuple[Box | None, Box | None]] = [(counts.studies, counts.reports)]
    if counts.is_update:
        stack.append((counts.new_studies, counts.new_reports))
    included_y = y
    included_h = max(height_of(s) + height_of(r) for s, r in stack)
    height = included_y + included_h + MARGIN

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}" '
        'role="img" aria-labelledby="prisma-diagram-title">',
        '<title id="prisma-diagram-title">PRISMA 2020 flow diagram</title>',
        '<defs><marker id="prisma-arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#000000"/>'
        "</marker></defs>",
        f'<rect x="0" y="0" width="{width:g}" height="{height:g}" fill="#ffffff"/>',
    ]

    def label(x: float, y: float, w: float, h: float, text: str, rotate: bool = False, stroke: str = "1") -> None:
        cx, cy = x + w / 2, y + h / 2
        turn = f' transform="rotate(-90 {cx:g} {cy:g})"' if rotate else ""
        parts.append(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="#ffffff" stroke="#000000" '
                     f'stroke-width="{stroke}"/>')
        parts.append(f'<text x="{cx:g}" y="{cy:g}" text-anchor="middle" dominant-baseline="central" '
                     f'font-weight="bold"{turn}>{escape(text)}</text>')

    # phase labels on the left, as in the template
    screening_rows = [name for name in ("screened", "sought", "assessed") if name in row_y]
    screening_top = row_y[screening_rows[0]]
    screening_bottom = row_y[screening_rows[-1]] + row_h[screening_rows[-1]]
    for text, top, h in (("Identification", row_y["identified"], row_h["identified"]),
                         ("Screening", screening_top, screening_bottom - screening_top),
                         ("Included", included_y, included_h)):
        label(MARGIN, top, PHASE_WIDTH, h, text, rotate=True)

    # headers over each arm (and the previous-version column)
    if counts.is_update:
        label(x_of["previous"], header_y, BOX_WIDTH, header_height, "Previous studies")
    for arm in arms:
        label(x_of[f"{arm.arm}:main"], header_y, 2 * BOX_WIDTH + GAP_X, header_height, ARM_TITLES[arm.arm],
              stroke="1.5")

    def box(b: Box | None, column: str, y: float, h: float) -> None:
        assert b is not None
        lines, tooltip = texts[b.box_id]
        parts.append(_svg_box(b.box_id, x_of[column], y, BOX_WIDTH, lines, tooltip, link_prefix, height=h)[0])

    def arrow_right(column: str, row: str) -> None:
        mid = row_y[row] + row_h[row] / 2
        parts.append(_arrow(x_of[column] + BOX_WIDTH, mid, x_of[column] + BOX_WIDTH + GAP_X, mid))

    def arrow_down(column: str, y_from: float, y_to: float) -> None:
        x = x_of[column] + BOX_WIDTH / 2
        parts.append(_arrow(x, y_from, x, y_to))

    for arm in arms:
        main, side = f"{arm.arm}:main", f"{arm.arm}:side"
        pairs = [("identified", arm.identified, arm.removed if arm.has_screening else None)]
        if arm.has_screening:
            pairs.append(("screened", arm.screened, arm.excluded_at_screening))
        pairs += [("sought", arm.sought, arm.not_retrieved), ("assessed", arm.assessed, arm.excluded)]
        for number, (row, main_box, side_box) in enumerate(pairs):
            box(main_box, main, row_y[row], row_h[row])
            if side_box is not None:
                box(side_box, side, row_y[row], row_h[row])
                arrow_right(main, row)
            if number + 1 < len(pairs):
                arrow_down(main, row_y[row] + row_h[row], row_y[pairs[number + 1][0]])

    # included: the first arm flows down into it; another arm joins from the right
    into = f"{arms[0].arm}:main"
    assessed_bottom = row_y["assessed"] + row_h["assessed"]
    arrow_down(into, assessed_bottom, included_y)
    join_y = included_y + included_h / 2
    for arm in arms[1:]:
        bx = x_of[f"{arm.arm}:main"] + BOX_WIDTH / 2
        parts.append(f'<polyline points="{bx:g},{assessed_bottom:g} {bx:g},{join_y:g} '
                     f'{x_of[into] + BOX_WIDTH:g},{join_y:g}" fill="none" stroke="#000000" stroke-width="1.2" '
                     'marker-end="url(#prisma-arrowhead)"/>')
    if counts.is_update:
        # new studies under the arms; totals under the previous version, fed by both
        new_h = height_of(counts.new_studies)
        box(counts.new_studies, into, included_y, new_h)
        box(counts.new_reports, into, included_y + new_h, included_h - new_h)
        previous_h = height_of(counts.previous_studies)
        box(counts.previous_studies, "previous", row_y["identified"], previous_h)
        box(counts.previous_reports, "previous", row_y["identified"] + previous_h, row_h["identified"] - previous_h)
        arrow_down("previous", row_y["identified"] + row_h["identified"], included_y)
        parts.append(_arrow(x_of[into], join_y, x_of["previous"] + BOX_WIDTH, join_y))
        total_column = "previous"
    else:
        total_column = into
    studies_h = height_of(counts.studies)
    box(counts.studies, total_column, included_y, studies_h)
    box(counts.reports, total_column, included_y + studies_h, included_h - studies_h)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_prisma_svg(path: str, counts: PrismaCounts, link_prefix: str = "#prisma-") -> str:
    """Write the diagram to ``path`` atomically (temporary file renamed into place)."""
    write_atomic(path, prisma_svg(counts, link_prefix=link_prefix))
    return path
