"""report.html in a real browser: headless Chromium (Debian's ``chromium``) loads a generated
report, runs no script the device sent, prints it to PDF and saves screenshots (screen and print
layout). Skips, saying why, where /usr/bin/chromium is absent (.ci/run installs it as root)."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest

from harness.report.writer import write_report

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
DEVICE_MARKUP = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file() or not CHROMIUM.stat().st_mode & 0o111,
                                reason="/usr/bin/chromium is absent (apt-get install chromium)")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()  # a new, empty profile for every start
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def report_html(tmp_path: Path) -> Path:
    from test_report_html import _report  # the same report the rendering tests check

    report = _report(tmp_path)
    report.test_cases[0].reason += " " + DEVICE_MARKUP
    report.dut["model"] = DEVICE_MARKUP
    write_report(report, tmp_path / "out")
    return tmp_path / "out" / "report.html"


def test_chromium_renders_the_report_and_runs_no_device_markup(tmp_path, report_html):
    dom = chromium(tmp_path, "--dump-dom", report_html.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    # Had the device's markup become an element, its handler would have marked the body.
    assert 'data-pwned="1"' not in dom.stdout
    assert "&lt;img src=x" in dom.stdout and "<img" not in dom.stdout
    for section in ("summary", "performance", "configuration", "cases"):
        assert f'id="{section}"' in dom.stdout


def test_screenshots_of_screen_and_print_layout(tmp_path, report_html):
    screen = tmp_path / "screen.png"
    shot = chromium(tmp_path, "--window-size=1200,2400", "--hide-scrollbars",
                    f"--screenshot={screen}", report_html.as_uri())
    assert shot.returncode == 0 and screen.is_file(), shot.stderr[-2000:]
    assert png_size(screen) == (1200, 2400)
    # A blank page compresses to a few kB; a rendered report with tables and diagrams does not.
    assert screen.stat().st_size > 40_000

    # The print layout: the page's print rules applied to the screen, at A4 width (96 dpi).
    printed = report_html.with_name("print.html")
    printed.write_text(report_html.read_text().replace("@media print", "@media all"))
    paper = tmp_path / "print.png"
    shot = chromium(tmp_path, "--window-size=794,2200", "--hide-scrollbars",
                    f"--screenshot={paper}", printed.as_uri())
    assert shot.returncode == 0 and paper.is_file(), shot.stderr[-2000:]
    assert png_size(paper) == (794, 2200) and paper.stat().st_size > 30_000

    pdf = tmp_path / "report.pdf"
    made = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    report_html.as_uri())
    assert made.returncode == 0 and pdf.is_file(), made.stderr[-2000:]
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert pages >= 2, f"the printed report has {pages} page(s); the sections start new pages"
