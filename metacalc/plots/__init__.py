"""Figures, saved so that the same inputs give byte-identical files."""

import os
import tempfile

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


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_figure(fig, svg_path, png_path=None, dpi=150):
    """Write ``fig`` as SVG (and PNG) atomically: a temporary file renamed into place."""
    import matplotlib.pyplot as plt

    use_reproducible_backend()
    targets = [(svg_path, "svg", {"Date": None})]
    if png_path:
        targets.append((png_path, "png", {"Software": None}))
    for path, fmt, metadata in targets:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=f".{fmt}.tmp")
        os.close(fd)
        try:
            fig.savefig(tmp, format=fmt, metadata=metadata, dpi=dpi, bbox_inches="tight")
            # mkstemp creates 0600 files; give the figure the permissions a plain open() would.
            os.chmod(tmp, 0o666 & ~_current_umask())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    plt.close(fig)
