"""Risk-of-bias figures in the manner of robvis (McGuinness & Higgins, Res Synth Methods 2021;12:55-61).

The traffic-light plot shows studies x items with the overall judgement; the summary plot stacks the share
of studies per answer for each item. Every answer has its own symbol and marker shape as well as its
colour, so the figures read in greyscale and for colour-blind readers.

Answers map to robvis judgements: yes -> low concern, no -> high concern, unclear -> no information,
not applicable -> grey; the overall judgement low / moderate / high -> low / some concerns / high. The figures
draw the appraisal as the results summarise it (``ToolAppraisal``): answers, shares and judgements are counted
there, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metacalc.review.document import ToolAppraisal
from metacalc.review.words import LEVEL_LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# robvis "cochrane" colours; "colourblind" (the default) uses the Okabe-Ito colours of metacalc.render.style.PALETTE.
DEFAULT_PALETTE = "colourblind"
PALETTES = {
    "cochrane": {"low": "#02C100", "moderate": "#E2DF07", "high": "#BF0000", "unclear": "#4EA1F7",
                 "not applicable": "#BBBBBB"},
    "colourblind": {"low": "#0072B2", "moderate": "#F0E442", "high": "#D55E00", "unclear": "#FFFFFF",
                    "not applicable": "#999999"},
}
ANSWER_LEVEL = {"yes": "low", "no": "high", "unclear": "unclear", "not applicable": "not applicable"}
# symbol written in the marker, marker shape
LEVEL_STYLE = {
    "low": ("+", "o"),
    "moderate": ("!", "D"),
    "high": ("\u2212", "s"),
    "unclear": ("?", "h"),
    "not applicable": ("NA", "o"),
}
LEVEL_ORDER = ("low", "moderate", "high", "unclear", "not applicable")
HATCHES = {"high": "///", "unclear": "..", "not applicable": "xx"}  # a pattern as well as a colour


def _palette(palette: str) -> dict[str, str]:
    if palette not in PALETTES:
        raise ValueError(f"unknown palette {palette!r} (expected one of {', '.join(PALETTES)})")
    return PALETTES[palette]


def traffic_light_plot(appraisal: ToolAppraisal, palette: str = "cochrane", title: bool = True) -> Figure:
    """Reports x items of one tool as coloured symbols, with the overall judgement as the last column.

    Reports are named by their labels (e.g. "Pérez Pampín 2011"). Returns a matplotlib Figure (save it with
    ``metacalc.render.style.save_figure``).
    """
    from metacalc.render.style import use_reproducible_backend

    use_reproducible_backend()
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    colours = _palette(palette)
    items = [item["item"] for item in appraisal.items]
    columns = items + ["overall"]
    n_rows, n_cols = len(appraisal.studies), len(columns)

    fig, ax = plt.subplots(figsize=(1.6 + 0.62 * n_cols + 2.6, 1.2 + 0.5 * max(n_rows, 1)))
    # One marker collection per judgement (not one artist per cell): drawing cost grows with artists.
    cells: dict[str, list[tuple[int, int]]] = {level: [] for level in LEVEL_STYLE}
    for row_index, study in enumerate(appraisal.studies):
        y = n_rows - 1 - row_index
        for col_index, (column, value) in enumerate(zip(columns, study.answers + (study.overall,))):
            if not value:
                continue
            level = value if column == "overall" else ANSWER_LEVEL.get(value)
            if level is None:
                continue
            cells[level].append((col_index, y))
            symbol, _ = LEVEL_STYLE[level]
            ax.text(col_index, y, symbol, ha="center", va="center", fontsize=9 if len(symbol) > 1 else 12,
                    fontweight="bold", color="#000000", zorder=3)
    for level, points in cells.items():
        if points:
            xs, ys = zip(*points)
            ax.scatter(xs, ys, s=430, marker=LEVEL_STYLE[level][1], c=colours[level], edgecolors="#000000",
                       linewidths=0.8, zorder=2)
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(-0.6, max(n_rows, 1) - 0.4)
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels([c if c != "overall" else "Overall"
                        for c in columns])
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels([study.label for study in reversed(appraisal.studies)])
    ax.axvline(n_cols - 1.5, color="#000000", linewidth=0.8)
    ax.hlines([y - 0.5 for y in range(n_rows + 1)], -0.6, n_cols - 0.4, color="#DDDDDD", linewidth=0.5, zorder=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    if title:  # the report names the tool in the legend instead
        ax.set_title(appraisal.name, fontsize=10, pad=28)

    key = "\n".join(f"{item['item']}: {item['short_label']}" for item in appraisal.items)
    ax.text(1.02, 0.0 if n_rows < 6 else 0.35, key, transform=ax.transAxes, fontsize=8, va="bottom", ha="left")
    handles = []
    for level in LEVEL_ORDER:
        symbol, marker = LEVEL_STYLE[level]
        handles.append(Line2D([], [], marker=marker, linestyle="", markersize=10, markerfacecolor=colours[level],
                              markeredgecolor="#000000", label=f"{symbol}  {LEVEL_LABELS[level]}"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8,
              title="Judgement", title_fontsize=8)
    return fig


def summary_plot(appraisal: ToolAppraisal, palette: str = "cochrane", title: bool = True) -> Figure:
    """Stacked bars, robvis style: for each item, the share of reports giving each answer (unweighted), and a
    last bar with the share of reports per overall judgement when some are judged."""
    from metacalc.render.style import use_reproducible_backend

    use_reproducible_backend()
    import matplotlib.pyplot as plt

    colours = _palette(palette)
    bars = [(f"{item['item']}. {item['short_label']}", {ANSWER_LEVEL[a]: share for a, share in shares.items()})
            for item, shares in zip(appraisal.items, appraisal.answer_shares)]
    if appraisal.overall_shares:
        bars.append(("Overall", dict(appraisal.overall_shares)))
    order = LEVEL_ORDER

    fig_height = 1.4 + 0.42 * len(bars)
    fig, ax = plt.subplots(figsize=(8.5, fig_height))
    for index, (label, parts) in enumerate(bars):
        y = len(bars) - 1 - index
        left = 0.0
        for level in order:
            width = parts.get(level, 0.0)
            if width <= 0:
                continue
            symbol, _ = LEVEL_STYLE[level]
            hatch = HATCHES.get(level)
            ax.barh(y, width * 100, left=left * 100, color=colours[level], edgecolor="#000000", linewidth=0.6,
                    hatch=hatch, height=0.7)
            if width >= 0.08:
                ax.text(left * 100 + width * 50, y, f"{symbol} {width * 100:.0f}%", ha="center", va="center",
                        fontsize=8, color="#000000",
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "#FFFFFF", "edgecolor": "none",
                              "alpha": 0.85})
            left += width
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([label for label, _ in reversed(bars)], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of studies (%)")
    if title:
        ax.set_title(appraisal.name, fontsize=10)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colours[level], edgecolor="#000000", hatch=HATCHES.get(level),
                     label=f"{LEVEL_STYLE[level][0]} {LEVEL_LABELS[level]}") for level in order]
    fig.subplots_adjust(bottom=0.85 / fig_height, top=1 - 0.35 / fig_height)
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=5, frameon=False, fontsize=8)
    return fig
