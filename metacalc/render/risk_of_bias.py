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

from metacalc.render.layout import wrap
from metacalc.render.style import DEFAULT_COLUMN, Column, column, use_reproducible_backend
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


def _label_width(labels: list[str], font: float) -> float:
    """Inches the longest of ``labels`` takes (DejaVu Sans, about 0.6 em a character)."""
    return max((len(label) for label in labels), default=1) * 0.6 * font / 72


def traffic_light_plot(appraisal: ToolAppraisal, palette: str = "cochrane", title: bool = True,
                       width: str | Column = DEFAULT_COLUMN) -> Figure:
    """Reports x items of one tool as coloured symbols, with the overall judgement as the last column.

    Reports are named by their labels (e.g. "Pérez Pampín 2011"). The figure is as wide as the journal column
    ``width``: the key of the items and the legend of the judgements beside the grid when they fit (double), under
    it otherwise (single). Returns a matplotlib Figure (save it with ``metacalc.render.style.save_figure``).
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    use_reproducible_backend()
    col = column(width)
    font, small = col.font_size, col.small_font_size
    colours = _palette(palette)
    items = [item["item"] for item in appraisal.items]
    columns = items + ["overall"]
    n_rows, n_cols = len(appraisal.studies), len(columns)
    labels = [study.label for study in appraisal.studies]

    # widths in inches: report labels, the key (beside the grid when it fits), the grid of cells in what is left
    label_w = min(_label_width(labels, font), 0.3 * col.width) + 0.08
    label_chars = col.chars(label_w - 0.08, font)
    key_lines = [f"{item['item']}: {item['short_label']}" for item in appraisal.items]
    key_w = _label_width(key_lines, small) + 0.1
    margin = 0.04
    largest = 0.3  # inches: a cell of a double-column figure
    beside = margin + label_w + n_cols * largest + 0.15 + key_w + margin <= col.width
    room = col.width - 2 * margin - label_w - (0.15 + key_w if beside else 0.1)
    cell = min(largest, room / n_cols)
    grid_w = n_cols * cell
    upright = len("Overall") * 0.6 * font <= 1.6 * cell * 72  # the column headers fit upright over the cells
    header_h = (0.25 if upright else 0.42) + (0.25 if title else 0.0)
    grid_h = cell * max(n_rows, 1)
    line = 1.3 * small / 72
    key_h = line * len(key_lines)
    legend_columns = 5 if beside else 2  # the judgements' legend in one row under the grid, or two columns
    legend_h = 1.6 * small / 72 * (1 + -(-len(LEVEL_ORDER) // legend_columns)) + 0.05
    body_h = max(grid_h, key_h) if beside else grid_h + 0.15 + key_h
    height = header_h + body_h + 0.12 + legend_h
    fig = Figure(figsize=(col.width, height))
    grid_top = height - header_h
    ax = fig.add_axes(((margin + label_w) / col.width, (grid_top - grid_h) / height, grid_w / col.width,
                       grid_h / height))

    # One marker collection per judgement (not one artist per cell): drawing cost grows with artists.
    marker_area = (cell * 72 * 0.75) ** 2  # points squared: the marker fills three quarters of its cell
    symbol_size = max(small, cell * 72 * 0.45)
    cells: dict[str, list[tuple[int, int]]] = {level: [] for level in LEVEL_STYLE}
    for row_index, study in enumerate(appraisal.studies):
        y = n_rows - 1 - row_index
        for col_index, (column_name, value) in enumerate(zip(columns, study.answers + (study.overall,))):
            if not value:
                continue
            level = value if column_name == "overall" else ANSWER_LEVEL.get(value)
            if level is None:
                continue
            cells[level].append((col_index, y))
            symbol, _ = LEVEL_STYLE[level]
            ax.text(col_index, y, symbol, ha="center", va="center",
                    fontsize=max(small, symbol_size * 0.75) if len(symbol) > 1 else symbol_size,
                    fontweight="bold", color="#000000", zorder=3)
    for level, points in cells.items():
        if points:
            xs, ys = zip(*points)
            ax.scatter(xs, ys, s=marker_area, marker=LEVEL_STYLE[level][1], c=colours[level], edgecolors="#000000",
                       linewidths=0.6, zorder=2)
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(-0.5, max(n_rows, 1) - 0.5)
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels([c if c != "overall" else "Overall" for c in columns], fontsize=font,
                       rotation=0 if upright else 90)
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(["\n".join(wrap(label, label_chars, 2)) for label in reversed(labels)], fontsize=font,
                       linespacing=1.0)
    ax.axvline(n_cols - 1.5, color="#000000", linewidth=0.8)
    ax.hlines([y - 0.5 for y in range(n_rows + 1)], -0.5, n_cols - 0.5, color="#DDDDDD", linewidth=0.5, zorder=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0, pad=2)
    if title:  # the report names the tool in the legend instead
        ax.set_title(appraisal.name, fontsize=font + 1, pad=header_h * 72 - 0.25 * 72)

    handles = []
    for level in LEVEL_ORDER:
        symbol, marker = LEVEL_STYLE[level]
        handles.append(Line2D([], [], marker=marker, linestyle="", markersize=small + 1,
                              markerfacecolor=colours[level], markeredgecolor="#000000",
                              label=f"{symbol}  {LEVEL_LABELS[level]}"))
    key = "\n".join(key_lines)
    if beside:
        fig.text((margin + label_w + grid_w + 0.15) / col.width, grid_top / height, key, fontsize=small, va="top",
                 ha="left", linespacing=1.3)
    else:
        fig.text(margin / col.width, (grid_top - grid_h - 0.15) / height, key, fontsize=small, va="top", ha="left",
                 linespacing=1.3)
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(margin / col.width, 0.0), ncol=legend_columns,
               frameon=False, fontsize=small, title="Judgement", title_fontsize=small, borderaxespad=0,
               borderpad=0, handletextpad=0.3, columnspacing=1.0, alignment="left")
    return fig


def summary_plot(appraisal: ToolAppraisal, palette: str = "cochrane", title: bool = True,
                 width: str | Column = DEFAULT_COLUMN) -> Figure:
    """Stacked bars, robvis style: for each item, the share of reports giving each answer (unweighted), and a
    last bar with the share of reports per overall judgement when some are judged. As wide as the journal
    column ``width``."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    use_reproducible_backend()
    col = column(width)
    font, small = col.font_size, col.small_font_size
    colours = _palette(palette)
    bars = [(f"{item['item']}. {item['short_label']}", {ANSWER_LEVEL[a]: share for a, share in shares.items()})
            for item, shares in zip(appraisal.items, appraisal.answer_shares)]
    if appraisal.overall_shares:
        bars.append(("Overall", dict(appraisal.overall_shares)))
    order = LEVEL_ORDER

    margin = 0.04
    label_w = min(_label_width([label for label, _ in bars], small), 0.42 * col.width) + 0.08
    label_chars = col.chars(label_w - 0.08, small)
    bar_h = 0.26 if col.name == "double" else 0.24
    legend_columns = 5 if col.name == "double" else 2
    legend_h = (-(-len(order) // legend_columns)) * 1.5 * small / 72 + 0.1
    axis_h = 0.45
    top = 0.3 if title else 0.08
    height = top + bar_h * len(bars) + axis_h + legend_h
    fig = Figure(figsize=(col.width, height))
    ax = fig.add_axes(((margin + label_w) / col.width, (axis_h + legend_h) / height,
                       (col.width - 2 * margin - label_w - 0.1) / col.width, bar_h * len(bars) / height))
    percent_label = 0.08 if col.name == "double" else 0.16  # the shares too narrow for their text stay unlabelled
    for index, (label, parts) in enumerate(bars):
        y = len(bars) - 1 - index
        left = 0.0
        for level in order:
            share = parts.get(level, 0.0)
            if share <= 0:
                continue
            symbol, _ = LEVEL_STYLE[level]
            ax.barh(y, share * 100, left=left * 100, color=colours[level], edgecolor="#000000", linewidth=0.6,
                    hatch=HATCHES.get(level), height=0.7)
            if share >= percent_label:
                ax.text(left * 100 + share * 50, y, f"{symbol} {share * 100:.0f}%", ha="center", va="center",
                        fontsize=small, color="#000000",
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "#FFFFFF", "edgecolor": "none",
                              "alpha": 0.85})
            left += share
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels(["\n".join(wrap(label, label_chars, 2)) for label, _ in reversed(bars)], fontsize=small,
                       linespacing=1.0)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.5, len(bars) - 0.5)
    ax.tick_params(axis="x", labelsize=small)
    ax.set_xlabel("Share of studies (%)", fontsize=font)
    if title:
        ax.set_title(appraisal.name, fontsize=font + 1)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    handles = [Patch(facecolor=colours[level], edgecolor="#000000", hatch=HATCHES.get(level),
                     label=f"{LEVEL_STYLE[level][0]} {LEVEL_LABELS[level]}") for level in order]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=legend_columns, frameon=False,
               fontsize=small, borderaxespad=0.2, columnspacing=1.0, handletextpad=0.4)
    return fig
