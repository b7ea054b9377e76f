"""The report in real headless Chromium: no console errors, no network, figures drawn, headline numbers shown."""

import json
import os
import re

import pytest

from metacalc.pipeline import run_review
from metacalc.render.sentences import proportion_sentence
from metacalc.review.results import ProportionGroup

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does) to run the browser test",
)]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("browser") / "reports"
    review = os.path.join(ROOT, "tests", "fixtures", "golden", "review")  # a committed copy of the bundled review
    path = run_review(review, os.path.join(review, "analyses"), str(outdir),
                        title="Calcinosis cutis in systemic lupus erythematosus")
    with open(outdir / "tables" / "results.json", encoding="utf-8") as handle:
        return path, json.load(handle)


def test_report_in_chromium(report):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    path, results = report
    console_errors, page_errors, requests = [], [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto("file://" + os.path.abspath(path), wait_until="load")

            svgs = page.query_selector_all("svg")
            assert len(svgs) >= 5  # PRISMA, risk of bias (2 tools x 2), overview plots, time to onset
            for svg in svgs:
                box = svg.bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0
            for figure in page.query_selector_all("figure"):
                box = figure.bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0

            summary = re.sub(r"\s+", " ", page.inner_text("#summary"))
            per_drug = next(a for a in results["analyses"] if a["id"] == "response_per_drug")
            level = results["settings"]["level"]
            for group in per_drug["groups"]:  # a row of the summary-of-findings table per group
                sentence = proportion_sentence(ProportionGroup.from_dict(group), level, with_method=False)
                assert re.search(rf"{re.escape(group['group'])} sources\s+\d+ \(\d+\)\s+{re.escape(sentence)}",
                                 summary), (group["group"], summary)
            onset = next(a for a in results["analyses"] if a["kind"] == "time")
            median = onset["groups"][0]["summary"]["median"]
            assert f"a median of {median:.1f} years" in summary  # the plain-language summary
            means = sorted({c["reference"]["mean"] for c in onset["groups"][0]["comparisons"]
                            if c["reference"]["population"] in ("", None) or c["measure"] == onset["outcome"]})
            assert all(f"{m:g}" in summary for m in means)
            assert "very low" in summary  # the certainty of the evidence

            page.screenshot(path=os.path.join(os.path.dirname(path), "screenshot.png"), full_page=True)
        finally:
            browser.close()
    assert console_errors == [] and page_errors == []
    assert requests and all(url.startswith(("file://", "data:")) for url in requests), requests
    assert os.path.getsize(os.path.join(os.path.dirname(path), "screenshot.png")) > 10_000

