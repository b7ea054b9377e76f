"""The PRISMA 2020 flow diagram: every count in its box, laid out as the template, self-contained, escaped."""

import os
import xml.etree.ElementTree as ET

from metacalc.data.prisma_flow import PrismaCounts, flow_counts, records_behind_boxes
from metacalc.render.prisma import prisma_svg, write_prisma_svg
from records_log import DB, EXPECTED, EXPECTED_LINES, OTHER, known_log, studies_frame

SVG = "{http://www.w3.org/2000/svg}"


def box_texts(svg_text):
    """box id -> its text, lines joined by newlines; also the link and tooltip of each box."""
    root = ET.fromstring(svg_text)
    boxes = {}
    for group in root.iter(f"{SVG}g"):
        box_id = group.get("id", "")
        if not box_id.startswith("prisma-diagram-"):
            continue
        link = group.find(f"{SVG}a")
        lines = ["".join(tspan.itertext()) for tspan in link.iter(f"{SVG}tspan")]
        # wrapped lines of one entry continue on the next tspan; join them to compare whole entries
        boxes[box_id[len("prisma-diagram-"):]] = {
            "lines": lines,
            "text": " ".join(lines),
            "href": link.get("href"),
            "title": link.find(f"{SVG}title").text,
        }
    return boxes


def test_every_number_is_in_its_box_of_the_svg():
    counts = flow_counts(known_log().frame(), studies_frame())
    boxes = box_texts(prisma_svg(counts))
    for box_id, n in EXPECTED.items():
        assert f"(n = {n})" in boxes[box_id]["text"], (box_id, boxes[box_id]["text"])
        assert boxes[box_id]["href"] == f"#prisma-{box_id}"
        assert boxes[box_id]["title"]
    for box_id, lines in EXPECTED_LINES.items():
        text = boxes[box_id]["text"]
        for line in lines:
            assert line in text, (box_id, line, text)
    assert boxes["included-studies"]["lines"] == ["Studies included in review (n = 4)"]
    assert boxes["included-reports"]["lines"] == ["Reports of included studies (n = 5)"]
    # the other-methods arm has no screening in this log: its screening boxes are not drawn
    assert "other_methods-screened" not in boxes
    assert "other_methods-removed" not in boxes


def test_svg_layout_is_sized_and_self_contained():
    svg = prisma_svg(flow_counts(known_log().frame(), studies_frame()), link_prefix="#flow-")
    root = ET.fromstring(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {width:g} {height:g}"
    for rect in root.iter(f"{SVG}rect"):
        assert float(rect.get("x")) + float(rect.get("width")) <= width
        assert float(rect.get("y")) + float(rect.get("height")) <= height
    assert "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "#flow-included-studies" in svg
    texts = [t for t in root.iter(f"{SVG}text") if t.text]
    assert {"Identification", "Screening", "Included"} <= {t.text for t in texts}


def test_previous_version_boxes():
    log = known_log()
    log.add(1, **DB, previous_review="yes", study_id="s0")
    log.add(1, **DB, previous_review="yes", study_id="s0b")  # another report of study s0
    studies = studies_frame(("s0", "s0b", "s1", "s2", "s3", "s4", "s5"), {"s5": "s4", "s0b": "s0"})
    counts = flow_counts(log.frame(), studies)
    assert counts.is_update
    expected = {"previous-studies": 1, "previous-reports": 2, "new-studies": 4, "new-reports": 5,
                "included-studies": 5, "included-reports": 7}
    boxes = box_texts(prisma_svg(counts))
    for box_id, n in expected.items():
        assert counts.boxes()[box_id].n == n, box_id
        assert f"(n = {n})" in boxes[box_id]["text"], box_id
    assert "Total studies included in review (n = 5)" in boxes["included-studies"]["text"]
    # previous records are not part of this version's search flow
    assert counts.databases_registers.identified.n == 20


def test_svg_is_deterministic_and_escaped(tmp_path):
    log = known_log()
    log.rows[0]["citation"] = "<script>alert('x')</script> & Co"
    log.rows[-1]["exclusion_reason"] = "<script>alert('x')</script>"
    log.rows[-2]["exclusion_reason"] = "<script>alert('x')</script>"
    log.rows[-3]["exclusion_reason"] = "<script>alert('x')</script>"
    log.add(1, **OTHER, source_type="website", source="A & B <b>", retrieved="no")
    counts = flow_counts(log.frame(), studies_frame())
    svg = prisma_svg(counts)
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert('x')&lt;/script&gt; (n = 3)" in svg
    assert "A &amp; B &lt;b&gt; (n = 1)" in svg
    boxes = box_texts(svg)  # still well-formed XML
    assert "<script>alert('x')</script> (n = 3)" in boxes["other_methods-excluded"]["text"]
    first = write_prisma_svg(tmp_path / "a.svg", counts)
    second = write_prisma_svg(tmp_path / "b.svg", flow_counts(log.frame(), studies_frame()))
    assert open(first, "rb").read() == open(second, "rb").read() == svg.encode("utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
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
