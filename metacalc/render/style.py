"""How figures look and are saved: the journal column a figure is drawn for (its width and the font sizes that
stay legible at that physical size), one font family, the colour palette, the file formats with fixed metadata,
and saving cropped to the content so that the same inputs give byte-identical files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metacalc.files import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Fixed so that SVG ids (and so the file bytes) do not change between runs.
SVG_HASH_SALT = "metacalc"
# One family in every figure, PRISMA included: DejaVu Sans ships with matplotlib, so every machine draws (and
# measures) the same glyphs, and a PDF embeds the same font.
FONT_FAMILY = "DejaVu Sans"
# Journals ask for text of at least 6-8 pt at the printed size (BMJ, Elsevier, PLOS: 7-8 pt); no text of any
# figure is smaller than this, at the true width of its column.
MIN_FONT_SIZE = 7.0
FORMATS = ("svg", "pdf", "png")  # the report embeds the SVG; PDF and PNG are for the manuscript
DEFAULT_FORMATS = FORMATS
DPI_CHOICES = (300, 600)  # journals' resolution for line art with text: 300 dpi, some ask 600
DEFAULT_DPI = 300
# Fixed metadata: no date, and no version of the drawing library (which changes with an upgrade, not with the
# review); matplotlib would otherwise write its version as Creator/Producer/Software and the time of drawing.
CREATOR = "metacalc"
METADATA: dict[str, dict[str, Any]] = {
    "svg": {"Date": None, "Creator": CREATOR},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": CREATOR, "Producer": CREATOR},
    "png": {"Software": None},
}

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}


@dataclass(frozen=True)
class Column:
    """The journal column a figure is drawn for: its width in inches (the figure is drawn at this size, never
    scaled afterwards) and the font sizes, in points, of its body text and of its smallest text."""

    name: str
    width: float
    font_size: float
    small_font_size: float

    def chars(self, inches: float, font_size: float | None = None) -> int:
        """How many characters of DejaVu Sans (0.6 em on average, digits and capitals included) fit in
        ``inches`` at ``font_size``: what labels are wrapped to."""
        size = font_size or self.font_size
        return max(4, int(inches * 72 / (0.6 * size)))


# One column of a two-column journal page (85 mm) and the full text width (175 mm), as BMJ, Lancet, JAMA and
# Elsevier give them (single 80-90 mm, double 170-180 mm).
COLUMNS = {
    "single": Column("single", width=3.35, font_size=7.0, small_font_size=7.0),
    "double": Column("double", width=6.9, font_size=8.0, small_font_size=7.0),
}
DEFAULT_COLUMN = "double"


def column(name: str | Column) -> Column:
    """The column of a name ('single' or 'double'), or the column itself."""
    if isinstance(name, Column):
        return name
    if name not in COLUMNS:
        raise ValueError(f"unknown figure width {name!r} (expected one of {', '.join(COLUMNS)})")
    return COLUMNS[name]


def use_reproducible_backend() -> None:
    """Select the non-interactive backend and the settings that make every format deterministic."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = SVG_HASH_SALT
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, smaller, escaped by matplotlib
    # TrueType (Type 42) fonts in PDF, not Type 3: journals' checks (and Acrobat's preflight) refuse Type 3
    matplotlib.rcParams["pdf.fonttype"] = 42
    matplotlib.rcParams["font.family"] = FONT_FAMILY
    matplotlib.rcParams["mathtext.fontset"] = "dejavusans"  # τ², I² and the like in the same family
    _lean_pdf_fonts()


def _lean_pdf_fonts() -> None:
    """Embed fonts in PDF without their OpenType layout tables.

    matplotlib embeds a subset of each font in every PDF, and subsetting DejaVu Sans' large kerning and
    substitution tables (GPOS, GSUB, GDEF, kern) is half of the time of writing a PDF. A PDF viewer never reads
    them: matplotlib has already placed every glyph. fontTools has no public setting for the tables a subset
    drops by default, so its default list is extended (when it has one; otherwise PDFs are only slower).
    """
    from fontTools import subset

    defaults = getattr(subset.Options, "_drop_tables_default", None)
    if isinstance(defaults, list) and "GPOS" not in defaults:
        subset.Options._drop_tables_default = defaults + ["GPOS", "GSUB", "GDEF", "kern"]


def tight_box(fig: Figure, fmt: str, dpi: int = DEFAULT_DPI) -> Any:
    """The box (in inches, padded) to save: the figure's full width (its column) and the height of its content,
    measured without drawing.

    savefig's "tight" draws the whole figure once just to measure it, then draws it again to write it: half of
    the time spent saving. Our figures place every artist when they are built (no layout engine, no legend
    placed at draw time), so the extents can be read straight from a renderer of the output format (its own
    text metrics, at the dpi savefig uses), giving the same box and the same file bytes with one draw. The
    width is kept: a figure is as wide as its journal column; content running past an edge (a label wider than
    its layout allowed) widens the box rather than being cut off.
    """
    import io

    import matplotlib
    from matplotlib.transforms import Bbox

    if fig.get_layout_engine() is not None:
        return "tight"  # a layout engine positions axes only while drawing
    width, height = fig.get_size_inches()
    saved_dpi = fig.dpi
    renderer: Any
    try:
        if fmt in ("svg", "pdf"):
            from matplotlib.backends.backend_svg import RendererSVG

            fig.dpi = 72  # vector output is laid out at 72 dpi, as savefig does
            renderer = RendererSVG(width, height, io.StringIO(), image_dpi=dpi)
        else:
            from matplotlib.backends.backend_agg import RendererAgg

            fig.dpi = dpi
            renderer = RendererAgg(width * dpi, height * dpi, dpi)
        box = fig.get_tightbbox(renderer)
    finally:
        fig.dpi = saved_dpi
    pad = matplotlib.rcParams["savefig.pad_inches"]
    return Bbox([[min(0.0, box.x0), box.y0 - pad], [max(float(width), box.x1), box.y1 + pad]])


def _drop_links(fig: Figure) -> None:
    """Links point into the report, which embeds the SVG; a PDF or PNG stands alone, so it has none."""
    for artist in fig.findobj(lambda artist: artist.get_url() is not None):
        artist.set_url(None)


def figure_paths(svg_path: str, formats: Sequence[str]) -> list[tuple[str, str]]:
    """(format, path) of each file of a figure: the SVG's path with the format's extension."""
    stem = os.path.splitext(svg_path)[0]
    return [(fmt, f"{stem}.{fmt}") for fmt in formats]


def save_figure(fig: Figure, svg_path: str, formats: Sequence[str] = ("svg",), dpi: int = DEFAULT_DPI) -> list[str]:
    """Write ``fig`` in each of ``formats`` (beside ``svg_path``, with their own extensions) atomically, cropped
    to its content: a temporary file renamed into place. Returns the paths written.

    ``dpi`` is the resolution of the PNG (the vector formats embed no image). Metadata are fixed, so the same
    figure gives the same bytes in every format.
    """
    import matplotlib.pyplot as plt

    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ValueError(f"unknown figure format {unknown[0]!r} (expected one of {', '.join(FORMATS)})")
    use_reproducible_backend()
    written = []
    boxes: dict[str, Any] = {}
    for fmt, path in figure_paths(svg_path, sorted(formats, key=FORMATS.index)):
        if fmt != "svg":
            _drop_links(fig)
        measured = "vector" if fmt in ("svg", "pdf") else fmt  # PDF and SVG share their text metrics
        if measured not in boxes:
            boxes[measured] = tight_box(fig, fmt, dpi)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=METADATA[fmt], dpi=dpi, bbox_inches=boxes[measured])
        written.append(path)
    plt.close(fig)
    return written
