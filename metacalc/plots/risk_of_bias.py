"""Risk-of-bias figures in the manner of robvis (McGuinness & Higgins, Res Synth Methods 2021;12:55-61).

The traffic-light plot shows studies x items with the overall judgement; the summary plot stacks the share
of studies per answer for each item. Every answer has its own symbol and marker shape as well as its
colour, so the figures read in greyscale and for colour-blind readers.

Answers map to robvis judgements: yes -> low concern, no -> high concern, unclear -> no information,
not applicable -> grey; the overall judgement low / moderate / high -> low / some concerns / high.
"""

# robvis "cochrane" colours; "colourblind" uses the Okabe-Ito colours of metacalc.plots.PALETTE.
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
LEVEL_LABEL = {"low": "Yes / low", "moderate": "Moderate (overall)", "high": "No / high", "unclear": "Unclear",
               "not applicable": "Not applicable"}
ANSWER_LABEL = {"yes": "Yes (low concern)", "no": "No (high concern)", "unclear": "Unclear",
                "not applicable": "Not applicable"}


def _palette(palette):
    if palette not in PALETTES:
        raise ValueError(f"unknown palette {palette!r} (expected one of {', '.join(PALETTES)})")
    return PALETTES[palette]


def traffic_light_plot(appraisal, overall, tool, palette="cochrane", labels=None):
    """Studies x items of ``tool`` as coloured symbols, with the overall judgement as the last column.

    ``labels`` maps study_id to the name shown (e.g. "Pérez Pampín 2011"); study_id otherwise.
    Returns a matplotlib Figure (save it with ``metacalc.plots.save_figure``).
    """
    from metacalc.plots import use_reproducible_backend

    use_reproducible_backend()
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from metacalc.review.appraisal import TOOLS, appraisal_table

    colours = _palette(palette)
    spec = TOOLS[tool]
    table = appraisal_table(appraisal, overall, tool)
    labels = labels or {}
    studies = list(table["study_id"])
    columns = list(spec.item_ids) + ["overall"]
    n_rows, n_cols = len(studies), len(columns)

    fig, ax = plt.subplots(figsize=(1.6 + 0.62 * n_cols + 2.6, 1.2 + 0.5 * max(n_rows, 1)))
    # One marker collection per judgement (not one artist per cell): drawing cost grows with artists.
    cells = {level: [] for level in LEVEL_STYLE}
    for row_index, (_, row) in enumerate(table.iterrows()):
        y = n_rows - 1 - row_index
        for col_index, column in enumerate(columns):
            value = row[column]
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
    ax.set_yticklabels([labels.get(s, s) for s in reversed(studies)])
    ax.axvline(n_cols - 1.5, color="#000000", linewidth=0.8)
    ax.hlines([y - 0.5 for y in range(n_rows + 1)], -0.6, n_cols - 0.4, color="#DDDDDD", linewidth=0.5, zorder=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    ax.set_title(spec.name, fontsize=10, pad=28)

    key = "\n".join(f"{item.item}: {item.short_label}"
                    for item in spec.items)
    ax.text(1.02, 0.0 if n_rows < 6 else 0.35, key, transform=ax.transAxes, fontsize=8, va="bottom", ha="left")
    handles = []
    for level in ("low", "moderate", "high", "unclear", "not applicable"):
        symbol, marker = LEVEL_STYLE[level]
        handles.append(Line2D([], [], marker=marker, linestyle="", markersize=10, markerfacecolor=colours[level],
                              markeredgecolor="#000000", label=f"{symbol}  {LEVEL_LABEL[level]}"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8,
              title="Judgement", title_fontsize=8)
    return fig


def summary_plot(appraisal, tool, palette="cochrane", overall=None):
    """Stacked bars, robvis style: for each item, the share of studies giving each answer (unweighted).

    With ``overall``, a last bar shows the share of studies per overall judgement.
    """
    from metacalc.plots import use_reproducible_backend

    use_reproducible_backend()
    import matplotlib.pyplot as plt

    from metacalc.review.appraisal import ANSWERS, JUDGEMENTS, TOOLS, answer_shares, appraisal_table

    colours = _palette(palette)
    spec = TOOLS[tool]
    shares = answer_shares(appraisal, tool)
    bars = [(f"{item.item}. {item.short_label}", {ANSWER_LEVEL[a]: shares.loc[item.item, a] for a in ANSWERS})
            for item in spec.items]
    if overall is not None:
        judgements = [j for j in appraisal_table(appraisal, overall, tool)["overall"] if j]
        if judgements:
            bars.append(("Overall", {j: judgements.count(j) / len(judgements) for j in JUDGEMENTS}))
    order = ("low", "moderate", "high", "unclear", "not applicable")

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
            hatch = {"high": "///", "unclear": "..", "not applicable": "xx"}.get(level)
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
    ax.set_title(spec.name, fontsize=10)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colours[level], edgecolor="#000000",
                     hatch={"high": "///", "unclear": "..", "not applicable": "xx"}.get(level),
                     label=f"{LEVEL_STYLE[level][0]} {LEVEL_LABEL[level]}") for level in order]
    fig.subplots_adjust(bottom=0.85 / fig_height, top=1 - 0.35 / fig_height)
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=5, frameon=False, fontsize=8)
    return fig
