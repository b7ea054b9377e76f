"""How figures look and are saved: the colour palette, the backend settings that make SVG deterministic, and
saving cropped to the content so that the same inputs give byte-identical files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metacalc.files import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Fixed so that SVG ids (and so the file bytes) do not change between runs.
SVG_HASH_SALT = "metacalc"

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


def use_reproducible_backend() -> None:
    """Select the non-interactive backend and the settings that make SVG output deterministic."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = SVG_HASH_SALT
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, smaller, escaped by matplotlib
    matplotlib.rcParams["font.family"] = "DejaVu Sans"


def tight_box(fig: Figure, fmt: str, dpi: int = 150) -> Any:
    """The box (in inches, padded) that ``savefig(bbox_inches="tight")`` crops to, measured without drawing.

    savefig's "tight" draws the whole figure once just to measure it, then draws it again to write it: half of
    the time spent saving. Our figures place every artist when they are built (no layout engine, no legend
    placed at draw time), so the extents can be read straight from a renderer of the output format (its own
    text metrics, at the dpi savefig uses), giving the same box and the same file bytes with one draw.
    """
    import io

    import matplotlib

    if fig.get_layout_engine() is not None:
        return "tight"  # a layout engine positions axes only while drawing
    width, height = fig.get_size_inches()
    saved_dpi = fig.dpi
    renderer: Any
    try:
        if fmt == "svg":
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
    return box.padded(pad, pad)


def save_figure(fig: Figure, svg_path: str, png_path: str | None = None, dpi: int = 150) -> None:
    """Write ``fig`` as SVG (and PNG) atomically, cropped to its content: a temporary file renamed into place."""
    import matplotlib.pyplot as plt

    use_reproducible_backend()
    targets: list[tuple[str, str, dict[str, Any]]] = [(svg_path, "svg", {"Date": None})]
    if png_path:
        targets.append((png_path, "png", {"Software": None}))
    for path, fmt, metadata in targets:
        box = tight_box(fig, fmt, dpi)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=metadata, dpi=dpi, bbox_inches=box)
    plt.close(fig)
