"""The PRISMA 2020 flow diagram, laid out and coloured as the published template (Page MJ et al. BMJ
2021;372:n71) and the PRISMA2020 R package (Haddaway et al. 2022): the arm of databases and registers under its
goldenrod header, the arm of other methods in grey, light steel blue phase bars (Identification, Screening,
Included) on the left, black-outlined boxes joined by arrows.

The counts come from the results (counted from the records log by ``metacalc.data.prisma_flow``); this module
only draws them, with matplotlib like every other figure: the same font, sized for a journal column, written as
SVG, PDF and PNG. In the SVG (which the report embeds) every box links to the report's list of the records
behind it and carries a tooltip.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from metacalc.data.prisma_flow import Box, PrismaCounts
from metacalc.files import write_atomic
from metacalc.render.style import DEFAULT_COLUMN, DEFAULT_DPI, Column, column, save_figure, tight_box
from metacalc.review.words import ARM_TITLES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NBSP = "\u00a0"

# The PRISMA2020 R package's colours (PRISMA_flowdiagram: title_colour "Goldenrod1", greybox_colour "Gainsboro",
# the phase bars "LightSteelBlue2"), which follow the template.
HEADER_COLOUR = "#FFC125"  # goldenrod1: the header of the databases and registers arm
OTHER_COLOUR = "#DCDCDC"  # gainsboro: the header and boxes of the other methods arm, and of the previous version
PHASE_COLOUR = "#BCD2EE"  # lightsteelblue2: the phase bars
LINE_COLOUR = "#000000"

MARGIN = 0.03  # inches, around the diagram
PHASE_WIDTH = 0.2  # the phase bars
GAP_X = 0.12  # between columns of boxes (the arrows to the side boxes run here)
GAP_Y = 0.13  # between rows of boxes
PAD = 0.045  # inside a box
LINE_SPACING = 1.22  # of the box text, in font sizes
INDENT = 0.07  # inches per level of a breakdown (sources, reasons)
MIN_CHARS = 20  # characters a line of a box must hold at least, or the arms' side boxes go under their boxes
TRUNK = 0.07  # inches from a column's left edge to the line the flow runs down, when side boxes hang under it
SIDE_INDENT = 0.16  # inches a side box hanging under its box is set in from the column's left edge


def _wrap(text: str, chars: int, indent: int = 0) -> list[tuple[int, str]]:
    """(indent, line) of ``text`` wrapped to ``chars`` characters; continuation lines one level deeper."""
    # keep "(n = 12)" on one line: textwrap does not break at no-break spaces
    text = re.sub(r"\(n = (\d+)\)", f"(n{NBSP}={NBSP}\\1)", text)
    width = max(chars - 2 * indent, 6)
    lines = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]
    return [(indent if number == 0 else indent + 1, line.replace(NBSP, " ")) for number, line in enumerate(lines)]


def _box_texts(counts: PrismaCounts, chars: int) -> dict[str, tuple[list[tuple[int, str]], str]]:
    """box_id -> (lines of text with their indentation, tooltip) of every box that can be drawn."""
    texts = {}

    def lines(label: str, n: int, details: Sequence[str] = ()) -> list[tuple[int, str]]:
        out = _wrap(f"{label} (n = {n})", chars)
        for detail in details:
            out.extend(_wrap(detail, chars, indent=1))
        return out

    for arm in counts.arms():
        identified = _wrap("Records identified from:", chars)
        for type_box in arm.identified.parts:
            identified.extend(_wrap(f"{type_box.label} (n = {type_box.n})", chars, indent=1))
            for source in type_box.parts:
                identified.extend(_wrap(f"{source.label} (n = {source.n})", chars, indent=2))
        identified.extend(_wrap(f"Total (n = {arm.identified.n})", chars))
        texts[arm.identified.box_id] = (identified, f"{arm.identified.n} records identified")
        removed = _wrap(f"Records removed before screening (n = {arm.removed.n}):", chars)
        for part in arm.removed.parts:
            removed.extend(_wrap(f"{part.label} (n = {part.n})", chars, indent=1))
        texts[arm.removed.box_id] = (removed, f"{arm.removed.n} records removed before screening")
        texts[arm.screened.box_id] = (lines("Records screened", arm.screened.n),
                                      f"{arm.screened.n} records screened on title and abstract")
        texts[arm.excluded_at_screening.box_id] = (
            lines("Records excluded", arm.excluded_at_screening.n,
                  [f"{p.label} (n = {p.n})" for p in arm.excluded_at_screening.parts]),
            f"{arm.excluded_at_screening.n} records excluded at screening")
        texts[arm.sought.box_id] = (lines("Reports sought for retrieval", arm.sought.n),
                                    f"{arm.sought.n} reports sought for retrieval")
        texts[arm.not_retrieved.box_id] = (lines("Reports not retrieved", arm.not_retrieved.n),
                                           f"{arm.not_retrieved.n} reports whose full text was not retrieved")
        texts[arm.assessed.box_id] = (lines("Reports assessed for eligibility", arm.assessed.n),
                                      f"{arm.assessed.n} full-text reports assessed for eligibility")
        excluded = _wrap(f"Reports excluded (n = {arm.excluded.n})" + (":" if arm.excluded.parts else ""), chars)
        for part in arm.excluded.parts:
            excluded.extend(_wrap(f"{part.label} (n = {part.n})", chars, indent=1))
        texts[arm.excluded.box_id] = (excluded, f"{arm.excluded.n} reports excluded after full-text assessment")
    for box in (counts.previous_studies, counts.previous_reports, counts.new_studies, counts.new_reports,
                counts.studies, counts.reports):
        if box is not None:
            texts[box.box_id] = (lines(box.label, box.n), f"{box.label}: {box.n}")
    return texts


class _Diagram:
    """The drawing surface: one axes over the whole figure in inches, y growing downwards."""

    def __init__(self, width: float, height: float, col: Column, link_prefix: str) -> None:
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(width, height))
        self.ax = self.figure.add_axes((0, 0, 1, 1))
        self.ax.set_xlim(0, width)
        self.ax.set_ylim(height, 0)
        self.ax.axis("off")
        self.col, self.link_prefix = col, link_prefix
        self.font = col.small_font_size
        self.line = LINE_SPACING * self.font / 72

    def box(self, box_id: str, x: float, y: float, w: float, h: float, lines: list[tuple[int, str]],
            fill: str = "#FFFFFF") -> None:
        from matplotlib.patches import Rectangle

        link = self.link_prefix + box_id
        self.ax.add_patch(Rectangle((x, y), w, h, facecolor=fill, edgecolor=LINE_COLOUR, lw=0.6, url=link,
                                    gid=f"prisma-diagram-{box_id}", clip_on=False))
        for number, (indent, line) in enumerate(lines):
            self.ax.text(x + PAD + indent * INDENT, y + PAD + number * self.line, line, ha="left", va="top",
                         fontsize=self.font, parse_math=False, url=link, clip_on=False,
                         gid=f"prisma-diagram-{box_id}-line-{number + 1}")

    def label(self, x: float, y: float, w: float, h: float, lines: list[str], fill: str, *,
              rotate: bool = False, rounded: bool = True) -> None:
        """A header or phase bar: filled, its text bold and centred (turned upright for a phase bar)."""
        from matplotlib.patches import FancyBboxPatch

        style = f"round,pad=0,rounding_size={min(w, h) * 0.2:.4f}" if rounded else "square,pad=0"
        self.ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle=style, facecolor=fill, edgecolor="none",
                                         clip_on=False))
        middle = (len(lines) - 1) / 2
        for number, line in enumerate(lines):
            offset = (number - middle) * self.line
            cx, cy = (x + w / 2 + offset, y + h / 2) if rotate else (x + w / 2, y + h / 2 + offset)
            self.ax.text(cx, cy, line, ha="center", va="center", rotation=90 if rotate else 0,
                         fontsize=self.font, fontweight="bold", parse_math=False, clip_on=False)

    def arrow(self, points: Sequence[tuple[float, float]]) -> None:
        """A line through ``points`` ending in an arrow head at the last one."""
        from matplotlib.patches import FancyArrowPatch
        from matplotlib.path import Path

        codes = [Path.MOVETO] + [Path.LINETO] * (len(points) - 1)
        self.ax.add_patch(FancyArrowPatch(path=Path(list(points), codes), arrowstyle="-|>,head_length=0.5,"
                                          "head_width=0.25", mutation_scale=8, color=LINE_COLOUR, lw=0.7,
                                          shrinkA=0, shrinkB=0, clip_on=False))


def _text_length(text: str, font: float, bold: bool = True) -> float:
    """Inches a line of text takes (DejaVu Sans: about 0.6 em a character, bold 0.68)."""
    return len(text) * (0.68 if bold else 0.6) * font / 72


def prisma_figure(counts: PrismaCounts, width: str | Column = DEFAULT_COLUMN,
                  link_prefix: str = "#prisma-") -> Figure:
    """The PRISMA 2020 flow diagram as a matplotlib Figure, as wide as the journal column ``width``.

    Every box is a link (``link_prefix`` + box id) to the report's list of the records behind it. An arm
    without any record (e.g. no database was searched) is left out, as authors of the template do; the other arm
    then flows straight into the included box. Where the template's side-by-side boxes would leave fewer than
    ``MIN_CHARS`` characters a line (both arms in one journal column), each arm is one column and its side boxes
    (records removed, excluded, not retrieved) branch off to the right under the box they leave, from the line
    that carries the flow down its left side.
    """
    from metacalc.render.style import use_reproducible_backend

    use_reproducible_backend()
    col = column(width)
    font = col.small_font_size
    line = LINE_SPACING * font / 72
    arms = [arm for arm in counts.arms() if arm.identified.n] or [counts.databases_registers]
    left = MARGIN + PHASE_WIDTH + GAP_X

    def layout(sides: tuple[str, ...]) -> tuple[list[str], float]:
        names = (["previous"] if counts.is_update else []) + [f"{arm.arm}:{side}" for arm in arms for side in sides]
        return names, (col.width - left - MARGIN - (len(names) - 1) * GAP_X) / len(names)

    columns, box_w = layout(("main", "side"))
    stacked = col.chars(box_w - 2 * PAD, font) < MIN_CHARS
    if stacked:
        columns, box_w = layout(("main",))
    x_of = {name: left + i * (box_w + GAP_X) for i, name in enumerate(columns)}
    side_w = box_w - SIDE_INDENT if stacked else box_w
    main_texts = _box_texts(counts, col.chars(box_w - 2 * PAD, font))
    side_texts = _box_texts(counts, col.chars(side_w - 2 * PAD, font))

    def lines_of(box: Box | None, side: bool = False) -> list[tuple[int, str]]:
        assert box is not None  # every box drawn exists (the update boxes only in an update)
        return (side_texts if side else main_texts)[box.box_id][0]

    def height_of(box: Box | None, side: bool = False) -> float:
        return len(lines_of(box, side)) * line + 2 * PAD

    def header_lines(text: str, w: float) -> list[str]:
        return textwrap.wrap(text, max(int(w * 72 / (0.68 * font)), 6), break_long_words=False) or [""]

    arm_w = box_w if stacked else 2 * box_w + GAP_X
    headers = {arm.arm: header_lines(ARM_TITLES[arm.arm], arm_w) for arm in arms}
    previous_header = header_lines("Previous studies", box_w) if counts.is_update else []
    header_h = max(len(lines) for lines in [*headers.values(), previous_header or [""]]) * line + 2 * PAD

    # rows: main boxes side by side share their height, and side boxes theirs; a phase bar's label must fit
    rows: dict[str, list[tuple[Box, Box | None]]] = {"identified": [], "screened": [], "sought": [], "assessed": []}
    for arm in arms:
        rows["identified"].append((arm.identified, arm.removed if arm.has_screening else None))
        if arm.has_screening:
            rows["screened"].append((arm.screened, arm.excluded_at_screening))
        rows["sought"].append((arm.sought, arm.not_retrieved))
        rows["assessed"].append((arm.assessed, arm.excluded))
    header_y = MARGIN
    y = header_y + header_h + GAP_Y
    row_y: dict[str, float] = {}
    main_h: dict[str, float] = {}
    side_h: dict[str, float] = {}
    row_h: dict[str, float] = {}
    for name, pairs in rows.items():
        if not pairs:
            continue
        row_y[name] = y
        main_h[name] = max(height_of(main) for main, _ in pairs)
        side_h[name] = max([height_of(side, True) for _, side in pairs if side is not None] or [0.0])
        if stacked:
            row_h[name] = main_h[name] + (GAP_Y + side_h[name] if side_h[name] else 0.0)
        else:
            main_h[name] = side_h[name] = row_h[name] = max(main_h[name], side_h[name])
        if name == "identified":
            needed = _text_length("Identification", font) + 2 * PAD
            if counts.is_update:
                needed = max(needed, height_of(counts.previous_studies) + height_of(counts.previous_reports))
            if needed > row_h[name]:
                grow = needed - row_h[name]
                row_h[name] = needed
                main_h[name] += grow
                side_h[name] += 0.0 if stacked else grow
        y += row_h[name] + GAP_Y
    stack: list[tuple[Box | None, Box | None]] = [(counts.studies, counts.reports)]
    if counts.is_update:
        stack.append((counts.new_studies, counts.new_reports))
    included_y = y
    included_h = max(max(height_of(s) + height_of(r) for s, r in stack), _text_length("Included", font) + 2 * PAD)
    screening_rows = [name for name in ("screened", "sought", "assessed") if name in row_y]
    screening_top = row_y[screening_rows[0]]
    screening_bottom = row_y[screening_rows[-1]] + row_h[screening_rows[-1]]
    height = included_y + included_h + MARGIN
    diagram = _Diagram(col.width, height, col, link_prefix)

    # phase bars on the left, as in the template
    for text, top, h in (("Identification", row_y["identified"], row_h["identified"]),
                         ("Screening", screening_top, screening_bottom - screening_top),
                         ("Included", included_y, included_h)):
        diagram.label(MARGIN, top, PHASE_WIDTH, h, [text], PHASE_COLOUR, rotate=True)
    # headers over each arm (and the previous-version column)
    if counts.is_update:
        diagram.label(x_of["previous"], header_y, box_w, header_h, previous_header, OTHER_COLOUR)
    for arm in arms:
        diagram.label(x_of[f"{arm.arm}:main"], header_y, arm_w, header_h, headers[arm.arm],
                      HEADER_COLOUR if arm.arm == "databases_registers" else OTHER_COLOUR)

    def box(b: Box | None, x: float, top: float, h: float, fill: str, side: bool = False) -> None:
        assert b is not None
        diagram.box(b.box_id, x, top, side_w if side else box_w, h, lines_of(b, side), fill=fill)

    def trunk_x(column_name: str) -> float:
        """Where the flow runs down a column: its middle, or its left side when side boxes hang under it."""
        return x_of[column_name] + (TRUNK if stacked and column_name != "previous" else box_w / 2)

    def down(column_name: str, y_from: float, y_to: float) -> None:
        diagram.arrow([(trunk_x(column_name), y_from), (trunk_x(column_name), y_to)])

    for arm in arms:
        fill = "#FFFFFF" if arm.arm == "databases_registers" else OTHER_COLOUR
        main = f"{arm.arm}:main"
        flow: list[tuple[str, Box, Box | None]] = [
            ("identified", arm.identified, arm.removed if arm.has_screening else None)]
        if arm.has_screening:
            flow.append(("screened", arm.screened, arm.excluded_at_screening))
        flow += [("sought", arm.sought, arm.not_retrieved), ("assessed", arm.assessed, arm.excluded)]
        for number, (row, main_box, side_box) in enumerate(flow):
            box(main_box, x_of[main], row_y[row], main_h[row], fill)
            if side_box is not None and stacked:
                top = row_y[row] + main_h[row] + GAP_Y
                box(side_box, x_of[main] + SIDE_INDENT, top, side_h[row], fill, side=True)
                mid = top + side_h[row] / 2
                diagram.arrow([(trunk_x(main), mid), (x_of[main] + SIDE_INDENT, mid)])
            elif side_box is not None:
                box(side_box, x_of[f"{arm.arm}:side"], row_y[row], side_h[row], fill, side=True)
                mid = row_y[row] + row_h[row] / 2
                diagram.arrow([(x_of[main] + box_w, mid), (x_of[f"{arm.arm}:side"], mid)])
            if number + 1 < len(flow):
                down(main, row_y[row] + main_h[row], row_y[flow[number + 1][0]])

    # included: the first arm flows down into it; another arm joins from the right
    into = f"{arms[0].arm}:main"
    last = "assessed"
    down(into, row_y[last] + main_h[last], included_y)
    join_y = included_y + included_h / 2
    for arm in arms[1:]:
        bx = trunk_x(f"{arm.arm}:main")
        diagram.arrow([(bx, row_y[last] + main_h[last]), (bx, join_y), (x_of[into] + box_w, join_y)])
    if counts.is_update:
        # new studies under the arms; totals under the previous version, fed by both
        new_h = height_of(counts.new_studies)
        box(counts.new_studies, x_of[into], included_y, new_h, "#FFFFFF")
        box(counts.new_reports, x_of[into], included_y + new_h, included_h - new_h, "#FFFFFF")
        previous_h = height_of(counts.previous_studies)
        box(counts.previous_studies, x_of["previous"], row_y["identified"], previous_h, "#FFFFFF")
        box(counts.previous_reports, x_of["previous"], row_y["identified"] + previous_h,
            row_h["identified"] - previous_h, "#FFFFFF")
        down("previous", row_y["identified"] + row_h["identified"], included_y)
        diagram.arrow([(x_of[into], join_y), (x_of["previous"] + box_w, join_y)])
        total_column = "previous"
    else:
        total_column = into
    studies_h = height_of(counts.studies)
    box(counts.studies, x_of[total_column], included_y, studies_h, "#FFFFFF")
    box(counts.reports, x_of[total_column], included_y + studies_h, included_h - studies_h, "#FFFFFF")
    return diagram.figure


def _with_tooltips(svg: str, tooltips: dict[str, str]) -> str:
    """Each box's tooltip as the <title> of its group (matplotlib writes none), saying that it is a link; and
    links that stay on the report's page (matplotlib opens every link in a new window)."""
    svg = re.sub(r'(xlink:href="#[^"]*") target="_blank"', r"\1", svg)

    def title(match: re.Match[str]) -> str:
        tooltip = tooltips.get(match.group(1))
        if tooltip is None:
            return match.group(0)
        return f"{match.group(0)}\n   <title>{escape(tooltip)} (click for the list of records)</title>"

    return re.sub(r'<g id="prisma-diagram-([^"]+?)">', title, svg)


def _svg_text(fig: Figure, counts: PrismaCounts, dpi: int) -> str:
    from metacalc.render.style import METADATA

    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata=METADATA["svg"], dpi=dpi, bbox_inches=tight_box(fig, "svg", dpi))
    tooltips = {box_id: tooltip for box_id, (_, tooltip) in _box_texts(counts, 40).items()}
    return _with_tooltips(buffer.getvalue().decode("utf-8"), tooltips)


def prisma_svg(counts: PrismaCounts, link_prefix: str = "#prisma-", width: str | Column = DEFAULT_COLUMN) -> str:
    """The diagram as SVG text: the same counts give the same bytes."""
    import matplotlib.pyplot as plt

    fig = prisma_figure(counts, width, link_prefix)
    try:
        return _svg_text(fig, counts, DEFAULT_DPI)
    finally:
        plt.close(fig)


def write_prisma(svg_path: str, counts: PrismaCounts, formats: Sequence[str] = ("svg",), dpi: int = DEFAULT_DPI,
                 width: str | Column = DEFAULT_COLUMN, link_prefix: str = "#prisma-") -> list[str]:
    """Write the diagram in each of ``formats`` (beside ``svg_path``) atomically; the SVG with its links and
    tooltips, the PDF and PNG without links (they stand alone). Returns the paths written."""
    fig = prisma_figure(counts, width, link_prefix)
    written = []
    if "svg" in formats:
        write_atomic(svg_path, _svg_text(fig, counts, dpi))
        written.append(svg_path)
    return written + save_figure(fig, svg_path, [fmt for fmt in formats if fmt != "svg"], dpi=dpi)
