"""Figures for manuscripts: every figure of the bundled review, PRISMA included, at each journal column width
(single 3.35 in, double 6.9 in) is exactly as wide as its column, no text in it is smaller than 7 pt at that
size, no text runs off the figure or over another text, one font family throughout, and every format (SVG, PDF,
PNG at 300 or 600 dpi) is written with fixed metadata: the same results give the same bytes."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from metacalc.render import figures as figures_module
from metacalc.render.figures import FigureOptions, render_figures
from metacalc.render.style import COLUMNS, FONT_FAMILY, MIN_FONT_SIZE

WIDTHS = {"single": 3.35, "double": 6.9}


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def measure(fig):
    """What a reader of the printed figure gets: the figure's width, and each text with its size, family and
    extent (in points, the figure's own coordinates), measured from a drawn figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(72)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = []
    for text in _texts(fig):
        box = text.get_window_extent(renderer)
        texts.append({"text": text.get_text(), "size": text.get_fontsize(), "family": text.get_fontfamily(),
                      "box": (box.x0, box.y0, box.x1, box.y1)})
    return {"width": fig.get_size_inches()[0], "texts": texts}


@pytest.fixture(scope="module")
def drawn(bundled_results, tmp_path_factory):
    """Every figure at both widths: its measurements (before saving) and the files written."""
    from metacalc.render import prisma, style

    out = {}
    real_save, real_prisma = style.save_figure, prisma.prisma_figure
    for width in WIDTHS:
        measured = {}

        def save(fig, svg_path, *args, **kwargs):
            measured.setdefault(svg_path.rsplit("/", 1)[-1].removesuffix(".svg"), measure(fig))
            return real_save(fig, svg_path, *args, **kwargs)

        def prisma_figure(*args, **kwargs):
            fig = real_prisma(*args, **kwargs)
            measured.setdefault("prisma", measure(fig))
            return fig

        folder = tmp_path_factory.mktemp(f"figures-{width}")
        mp = pytest.MonkeyPatch()
        mp.setattr(style, "save_figure", save)
        mp.setattr(prisma, "prisma_figure", prisma_figure)
        try:
            render_figures(bundled_results, str(folder), FigureOptions(width=width))
        finally:
            mp.undo()
        out[width] = (measured, folder)
    return out


def test_every_figure_is_drawn_at_both_widths(drawn):
    single, double = drawn["single"][0], drawn["double"][0]
    assert set(single) == set(double)
    kinds = {name.split("-")[0] for name in single}
    assert kinds >= {"prisma", "rob", "overview", "forest", "cumulative", "onset"}


@pytest.mark.parametrize("width", WIDTHS)
def test_each_figure_is_as_wide_as_its_column_with_every_text_at_least_7_pt_inside_it(drawn, width):
    measured, _ = drawn[width]
    assert COLUMNS[width].width == WIDTHS[width]
    for name, figure in measured.items():
        assert figure["width"] == pytest.approx(WIDTHS[width]), name
        right_edge = WIDTHS[width] * 72
        for text in figure["texts"]:
            assert text["size"] >= MIN_FONT_SIZE, (name, text["text"], text["size"])
            assert text["family"] == [FONT_FAMILY], (name, text["text"], text["family"])
            x0, _, x1, _ = text["box"]
            assert x0 >= -0.5 and x1 <= right_edge + 0.5, (name, text["text"], x0, x1, right_edge)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_text_runs_over_another(drawn, width):
    measured, _ = drawn[width]
    for name, figure in measured.items():
        boxes = [(t["text"], t["box"]) for t in figure["texts"]]
        for i, (a, (ax0, ay0, ax1, ay1)) in enumerate(boxes):
            for b, (bx0, by0, bx1, by1) in boxes[i + 1:]:
                overlap_x = min(ax1, bx1) - max(ax0, bx0)
                overlap_y = min(ay1, by1) - max(ay0, by0)
                assert overlap_x <= 0.5 or overlap_y <= 0.5, (name, a, b)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_files_are_the_column_width_in_every_format(drawn, width):
    _, folder = drawn[width]
    manifest = json.loads((folder / "figures.json").read_text(encoding="utf-8"))["figures"]
    points = WIDTHS[width] * 72
    for entry in manifest:
        assert set(entry["files"]) == {"svg", "pdf", "png"} and entry["file"] == entry["files"]["svg"]
        assert entry["width"] == width and entry["dpi"] == 300
        svg_text = (folder / entry["files"]["svg"]).read_text(encoding="utf-8")
        svg = ET.fromstring(svg_text)
        assert float(svg.get("width").removesuffix("pt")) == pytest.approx(points, abs=0.01), entry["id"]
        assert svg.get("viewBox").split()[2] == svg.get("width").removesuffix("pt")  # 1 user unit = 1 pt
        sizes = [float(size) for size in re.findall(r"font-size: ([\d.]+)px", svg_text)]
        assert sizes and min(sizes) >= MIN_FONT_SIZE, (entry["id"], min(sizes))  # as written, in points
        assert set(re.findall(r"font-family: ([^;\"]+)", svg_text)) == {"'DejaVu Sans'"}, entry["id"]
        pdf = (folder / entry["files"]["pdf"]).read_bytes()
        box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert float(box.group(1)) == pytest.approx(points, abs=0.01), entry["id"]
        png = (folder / entry["files"]["png"]).read_bytes()
        assert int.from_bytes(png[16:20], "big") == round(WIDTHS[width] * 300), entry["id"]  # IHDR width


def test_pdf_embeds_the_one_font_family_as_truetype(drawn):
    _, folder = drawn["double"]
    for path in folder.glob("*.pdf"):
        pdf = path.read_bytes()
        fonts = set(re.findall(rb"/BaseFont /(?:[A-Z]{6}\+)?([A-Za-z-]+)", pdf))
        assert fonts and all(font.startswith(b"DejaVuSans") for font in fonts), (path.name, fonts)
        assert b"/FontFile2" in pdf and b"/Type3" not in pdf, path.name  # TrueType, never Type 3


def test_same_results_give_the_same_bytes_in_every_format_at_600_dpi_in_one_process_or_two(bundled_results,
                                                                                          tmp_path):
    options = FigureOptions(dpi=600, width="single")
    render_figures(bundled_results, str(tmp_path / "a"), options)
    render_figures(bundled_results, str(tmp_path / "b"), options, jobs=2)  # written by two worker processes
    first = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert first == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert {name.rsplit(".", 1)[1] for name in first} == {"svg", "pdf", "png", "json"}
    for name in first:
        data = (tmp_path / "a" / name).read_bytes()
        assert data == (tmp_path / "b" / name).read_bytes(), name
        assert b"Matplotlib" not in data and b"CreationDate" not in data, name  # no version, no time
    png = (tmp_path / "a" / "prisma.png").read_bytes()
    assert int.from_bytes(png[16:20], "big") == round(3.35 * 600)
    assert b"pHYs" in png and int.from_bytes(png[png.index(b"pHYs") + 4:][:4], "big") == round(600 / 0.0254)


def test_svg_only_writes_no_other_format(bundled_results, tmp_path):
    render_figures(bundled_results, str(tmp_path), FigureOptions(formats=("svg",)))
    assert {p.suffix for p in tmp_path.iterdir()} == {".svg", ".json"}
    manifest = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))["figures"]
    assert all(entry["files"] == {"svg": entry["file"]} and "dpi" not in entry for entry in manifest)


@pytest.mark.parametrize("options, problem", [
    (FigureOptions(formats=("pdf", "png")), "--formats: got pdf,png"),
    (FigureOptions(formats=("svg", "tiff")), "--formats: got svg,tiff"),
    (FigureOptions(dpi=150), "--dpi: got 150, expected one of 300, 600"),
    (FigureOptions(width="triple"), "--width: got triple, expected one of single, double"),
])
def test_options_that_cannot_be_drawn_are_refused(options, problem):
    assert any(p.startswith(problem) for p in options.problems())
    assert not FigureOptions().problems()


def test_no_figure_carries_a_title_or_method_text(drawn):
    """Titles, legends and the method live in the report (numbered figures); the figures hold data only."""
    manifest_titles = json.loads((drawn["double"][1] / "figures.json").read_text(encoding="utf-8"))["figures"]
    titles = {entry["title"] for entry in manifest_titles}
    assert all(entry.get("title") and entry.get("legend") for entry in manifest_titles), manifest_titles
    for width in WIDTHS:
        for name, figure in drawn[width][0].items():
            for text in figure["texts"]:
                assert not text["text"].startswith(("Method:", "Each row:", "Dots:")), (name, text["text"])
                assert "Why this method" not in text["text"] and text["text"] not in titles, (name, text["text"])
    assert figures_module.FigureOptions().width == "double"
