"""Figures, saved so that the same inputs give byte-identical files."""

from metacalc.files import atomic_path

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


def use_reproducible_backend():
    """Select the non-interactive backend and the settings that make SVG output deterministic."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = SVG_HASH_SALT
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, smaller, escaped by matplotlib
    matplotlib.rcParams["font.family"] = "DejaVu Sans"


def save_figure(fig, svg_path, png_path=None, dpi=150):
    """Write ``fig`` as SVG (and PNG) atomically: a temporary file renamed into place."""
    import matplotlib.pyplot as plt

    use_reproducible_backend()
    targets = [(svg_path, "svg", {"Date": None})]
    if png_path:
        targets.append((png_path, "png", {"Software": None}))
    for path, fmt, metadata in targets:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=metadata, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
