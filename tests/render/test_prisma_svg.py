"""The PRISMA 2020 flow diagram: every count in its box, laid out and coloured as the template, sized for a
journal column, self-contained, escaped, the same bytes in every format from the same counts."""

import os
import re
import xml.etree.ElementTree as ET

import pytest

from metacalc.data.prisma_flow import PrismaCounts, flow_counts, records_behind_boxes
from metacalc.render.prisma import (HEADER_COLOUR, OTHER_COLOUR, PHASE_COLOUR, prisma_figure, prisma_svg,
                                    write_prisma)
from records_log import DB, EXPECTED, EXPECTED_LINES, OTHER, known_log, studies_frame

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


def box_texts(svg_text):
    """box id -> its text (lines joined by spaces), its lines, and the link and tooltip of each box."""
    root = ET.fromstring(svg_text)
    groups = {group.get("id"): group for group in root.iter(f"{SVG}g") if group.get("id", "").startswith("prisma-")}
    boxes = {}
    for group_id, group in groups.items():
        match = re.fullmatch(r"prisma-diagram-(.+)", group_id)
        if not match or re.search(r"-line-\d+$", group_id):
            continue
        box_id = match.group(1)
        lines, number = [], 1
        while f"{group_id}-line-{number}" in groups:
            line_group = groups[f"{group_id}-line-{number}"]
            lines.append("".join(line_group.find(f"{SVG}a").itertext()).strip())
            assert line_group.find(f"{SVG}a").get(XLINK) == group.find(f"{SVG}a").get(XLINK)  # the text links too
            number += 1
        link = group.find(f"{SVG}a")
        boxes[box_id] = {"lines": lines, "text": " ".join(lines), "href": link.get(XLINK),
                         "title": group.find(f"{SVG}title").text}
    return boxes


@pytest.mark.parametrize("width", ["single", "double"])
def test_every_number_is_in_its_box_of_the_svg(width):
    counts = flow_counts(known_log().frame(), studies_frame())
    boxes = box_texts(prisma_svg(counts, width=width))
    for box_id, n in EXPECTED.items():
        assert f"(n = {n})" in boxes[box_id]["text"], (box_id, boxes[box_id]["text"])
        assert boxes[box_id]["href"] == f"#prisma-{box_id}"
        assert boxes[box_id]["title"].endswith("(click for the list of records)")
    for box_id, lines in EXPECTED_LINES.items():
        text = boxes[box_id]["text"]
        for line in lines:
            assert line in text, (box_id, line, text)
    assert boxes["included-studies"]["text"] == "Studies included in review (n = 4)"
    assert boxes["included-reports"]["text"] == "Reports of included studies (n = 5)"
    # the other-methods arm has no screening in this log: its screening boxes are not drawn
    assert "other_methods-screened" not in boxes
    assert "other_methods-removed" not in boxes


def test_svg_is_as_wide_as_its_column_and_self_contained():
    counts = flow_counts(known_log().frame(), studies_frame())
    for width, points in (("single", 3.35 * 72), ("double", 6.9 * 72)):
        svg = prisma_svg(counts, link_prefix="#flow-", width=width)
        root = ET.fromstring(svg)
        assert float(root.get("width").removesuffix("pt")) == pytest.approx(points, abs=0.01)
        assert root.get("viewBox").split()[2] == root.get("width").removesuffix("pt")
        # every link stays on the report's page, in the same window; nothing is loaded from elsewhere
        links = [element.get(XLINK) for element in root.iter() if element.get(XLINK)]
        assert links and all(link.startswith("#") for link in links)
        assert "target=" not in svg
        assert "<image" not in svg
        assert "#flow-included-studies" in svg
        texts = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
        assert {"Identification", "Screening", "Included"} <= texts


def _filled(fig):
    """(face colour, text inside) of every filled shape of the diagram: headers, phase bars, boxes."""
    from matplotlib.colors import to_hex

    ax = fig.axes[0]
    shapes = []
    for patch in ax.patches:
        if not hasattr(patch, "get_bbox") or type(patch).__name__ == "FancyArrowPatch":
            continue
        box = patch.get_bbox()
        inside = [t.get_text() for t in ax.texts
                  if box.x0 <= t.get_position()[0] <= box.x1 and box.y0 <= t.get_position()[1] <= box.y1]
        shapes.append((to_hex(patch.get_facecolor()).upper(), " ".join(inside), patch.get_gid()))
    return shapes


def test_the_template_colours_mark_the_arms_and_the_phases():
    fig = prisma_figure(flow_counts(known_log().frame(), studies_frame()))
    shapes = _filled(fig)
    by_text = {text: colour for colour, text, _ in shapes}
    assert by_text["Identification of studies via databases and registers"] == HEADER_COLOUR.upper()
    assert by_text["Identification of studies via other methods"] == OTHER_COLOUR.upper()
    for phase in ("Identification", "Screening", "Included"):
        assert by_text[phase] == PHASE_COLOUR.upper()
    boxes = {gid.removeprefix("prisma-diagram-"): colour for colour, _, gid in shapes if gid}
    assert boxes["other_methods-identified"] == boxes["other_methods-excluded"] == OTHER_COLOUR.upper()
    assert boxes["databases_registers-identified"] == boxes["included-studies"] == "#FFFFFF"


def test_in_one_column_side_boxes_hang_under_their_box():
    counts = flow_counts(known_log().frame(), studies_frame())

    def place(width, box_id):
        fig = prisma_figure(counts, width)
        patch = next(p for p in fig.axes[0].patches if p.get_gid() == f"prisma-diagram-{box_id}")
        return patch.get_bbox()

    for width in ("single", "double"):
        main, side = place(width, "databases_registers-screened"), place(width, "databases_registers-excluded-screening")
        if width == "double":  # the template: the excluded records to the right of the screened ones
            assert side.x0 > main.x1 and side.y0 == main.y0
        else:  # both arms in 3.35 in: under it, set in, so that each line still holds 20 characters
            assert side.y0 > main.y1 and main.x0 < side.x0 < main.x1


def test_previous_version_boxes():
    log = known_log()
    log.add(1, **DB, previous_review="yes", study_id="s0")
    log.add(1, **DB, previous_review="yes", study_id="s0b")  # another report of study s0
    studies = studies_frame(("s0", "s0b", "s1", "s2", "s3", "s4", "s5"), {"s5": "s4", "s0b": "s0"})
    counts = flow_counts(log.frame(), studies)
    assert counts.is_update
    expected = {"previous-studies": 1, "previous-reports": 2, "new-studies": 4, "new-reports": 5,
                "included-studies": 5, "included-reports": 7}
    for width in ("single", "double"):
        boxes = box_texts(prisma_svg(counts, width=width))
        for box_id, n in expected.items():
            assert counts.boxes()[box_id].n == n, box_id
            assert f"(n = {n})" in boxes[box_id]["text"], box_id
        assert "Total studies included in review (n = 5)" in boxes["included-studies"]["text"]
    # previous records are not part of this version's search flow
    assert counts.databases_registers.identified.n == 20


def test_every_format_is_deterministic_and_the_svg_escaped(tmp_path):
    log = known_log()
    log.rows[0]["citation"] = "<script>alert('x')</script> & Co"
    for row in log.rows[-3:]:
        row["exclusion_reason"] = "<script> alert </script>"
    log.add(1, **OTHER, source_type="website", source="A & B <b>", retrieved="no")
    counts = flow_counts(log.frame(), studies_frame())
    svg = prisma_svg(counts)
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "A &amp; B &lt;b&gt;" in svg
    boxes = box_texts(svg)  # still well-formed XML
    assert "<script> alert </script> (n = 3)" in boxes["other_methods-excluded"]["text"]
    assert "A & B <b> (n = 1)" in boxes["other_methods-identified"]["text"]
    formats = ("svg", "pdf", "png")
    os.makedirs(tmp_path / "a")
    os.makedirs(tmp_path / "b")
    first = write_prisma(str(tmp_path / "a" / "prisma.svg"), counts, formats)
    second = write_prisma(str(tmp_path / "b" / "prisma.svg"), flow_counts(log.frame(), studies_frame()), formats)
    assert [os.path.basename(p) for p in first] == ["prisma.svg", "prisma.pdf", "prisma.png"]
    for a, b in zip(first, second):
        assert open(a, "rb").read() == open(b, "rb").read(), a
    assert open(first[0], "rb").read() == svg.encode("utf-8")
    pdf = open(first[1], "rb").read()
    assert pdf.startswith(b"%PDF") and b"/URI" not in pdf  # the PDF stands alone: no links into the report
    assert b"/CreationDate" not in pdf and b"Matplotlib" not in pdf
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []
    listing = records_behind_boxes(counts, log.frame())
    assert listing["databases_registers-included"][0]["citation"] == "<script>alert('x')</script> & Co"


def test_the_diagram_is_drawn_the_same_from_the_counts_json_form():
    counts = flow_counts(known_log().frame(), studies_frame())
    assert prisma_svg(PrismaCounts.from_json(counts.to_dict(), counts.layout())) == prisma_svg(counts)


def test_bundled_review_draws(bundled_copy):
    import pandas as pd

    def read(name):
        return pd.read_csv(os.path.join(bundled_copy, "extraction_sheets", f"{name}.csv"), dtype=str,
                           keep_default_na=False)

    records = read("records")
    counts = flow_counts(records, read("studies"))
    boxes = box_texts(prisma_svg(counts))
    # the counts the log implies, recounted here straight from the rows
    other = records[records["arm"] == "other_methods"]
    assert counts.other_methods.identified.n == len(other)
    assert f"Total (n = {len(other)})" in boxes["other_methods-identified"]["text"]
    removed = (other["removed_before_screening"] != "").sum()
    assert f"Duplicate records removed (n = {removed})" in boxes["other_methods-removed"]["text"]
    included = records[records["eligibility"] == "include"]
    assert f"(n = {len(included)})" in boxes["included-reports"]["text"]
    studies = read("studies").set_index("study_id")["duplicate_of"]
    distinct = {studies.get(s) or s for s in included["study_id"]}
    assert f"Studies included in review (n = {len(distinct)})" in boxes["included-studies"]["text"]


@pytest.mark.parametrize("width", ["single", "double"])
@pytest.mark.parametrize("update", [False, True])
def test_every_line_fits_its_box_at_7_pt_or_more(width, update):
    """Both arms (and the previous version's column) in one or two journal columns: every line of text stays
    inside its box and inside the figure, at least 7 pt, and no text runs over another."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    log, studies = known_log(), studies_frame()
    if update:
        log.add(1, **DB, previous_review="yes", study_id="s0")
        studies = studies_frame(("s0", "s1", "s2", "s3", "s4", "s5"), {"s5": "s4"})
    fig = prisma_figure(flow_counts(log.frame(), studies), width)
    fig.set_dpi(72)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    assert fig.get_size_inches()[0] == {"single": 3.35, "double": 6.9}[width]
    boxes = {p.get_gid(): p.get_window_extent(renderer) for p in fig.axes[0].patches if p.get_gid()}
    texts = [(t, t.get_window_extent(renderer)) for t in fig.findobj(Text) if t.get_text().strip()]
    assert len(texts) > 40
    for text, extent in texts:
        assert text.get_fontsize() >= 7 and text.get_fontfamily() == ["DejaVu Sans"]
        assert extent.x0 >= 0 and extent.x1 <= fig.bbox.x1, text.get_text()
        gid = text.get_gid() or ""
        if "-line-" in gid:
            box = boxes[gid.rsplit("-line-", 1)[0]]
            assert box.x0 <= extent.x0 and extent.x1 <= box.x1 + 0.5, (gid, text.get_text(), extent, box)
            assert box.y0 - 0.5 <= extent.y0 and extent.y1 <= box.y1 + 0.5, (gid, text.get_text())
    for i, (a, first) in enumerate(texts):
        for b, second in texts[i + 1:]:
            overlap = min(first.x1, second.x1) - max(first.x0, second.x0), min(first.y1, second.y1) - max(
                first.y0, second.y0)
            assert min(overlap) <= 0.5, (a.get_text(), b.get_text())
