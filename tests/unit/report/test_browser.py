"""The report in a real browser: headless Debian chromium driven by Playwright (no browser
download: executable_path). Every plotly chart must draw (its div holds an SVG with a trace), the
page must log no console error, and nothing may be fetched from outside the file. Under CI a
missing chromium fails the test; elsewhere it skips (`make setup` installs chromium as root).
The screenshot goes to out/screenshots/ (git-ignored)."""
from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from report_zone import DEMO_SUMMARY, step_report

from aml.demo import report

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# What works on this project's machines (and CI's, as root): no sandbox, no GPU, no network chatter.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "out" / "screenshots"
DRAWN = ("() => [...document.querySelectorAll('.js-plotly-plot')].map("
         "el => el.querySelectorAll('svg.main-svg .trace').length)")


@pytest.fixture(scope="module")
def chromium():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        message = f"{CHROMIUM} is missing: `make setup` installs Debian's chromium (as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def _open(chromium, path: Path, profile: Path, screenshot: str) -> tuple[int, list[int], list[str], list[str]]:
    """The page in chromium: its charts (Plotly.newPlot calls), the traces each drew, the console
    errors and the URLs it tried to fetch; a full-page screenshot in SCREENSHOTS."""
    from playwright.sync_api import sync_playwright

    charts = path.read_text().count("Plotly.newPlot(")
    errors, fetched = [], []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=chromium,
                                                       args=FLAGS, headless=True,
                                                       viewport={"width": 1200, "height": 900})
        try:
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route(lambda url: not url.startswith("file:"), lambda route: (fetched.append(route.request.url),
                                                                                 route.abort()))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_function(f"() => ({DRAWN})().filter(n => n > 0).length === {charts}", timeout=20_000)
            drawn = page.evaluate(DRAWN)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
        finally:
            context.close()
    return charts, drawn, errors, fetched


def test_every_chart_draws_without_console_errors(chromium, zone_dir, tmp_path):
    path = report.write_html(DEMO_SUMMARY, zone_dir, date(2025, 3, 1), date(2025, 3, 10), tmp_path)
    charts, drawn, errors, fetched = _open(chromium, path, tmp_path / "profile", "report.png")
    assert len(drawn) == charts == 7 and all(n > 0 for n in drawn)
    assert errors == [] and fetched == []


def test_the_daily_pipeline_steps_report_draws_without_console_errors(chromium, zone_dir, tmp_path):
    """The Report step's report.html (from Athena's result CSVs, report_zone.step_report)."""
    _, page = step_report(zone_dir, "2025-03-05")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    charts, drawn, errors, fetched = _open(chromium, path, tmp_path / "profile", "daily_report.png")
    assert len(drawn) == charts == 4 and all(n > 0 for n in drawn)
    assert errors == [] and fetched == []
