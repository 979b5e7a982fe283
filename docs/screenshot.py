"""Make docs/report-screenshot.png from a run's report directory, the way the README shows it.

    python docs/screenshot.py reports/ecarplug-ac-cpt-ocpp [docs/report-screenshot.png]

The report.json is re-rendered with its long tables trimmed for the picture (15 configuration
keys, 8 test cases, the details of the first 2; the README's caption says so, and the case
details' cut is said on the picture), then headless Chromium (as
``harness.report.pdf`` finds it) takes the page at 825 px wide. The page's height is read first
(one ``--dump-dom`` run with a script that writes ``scrollHeight`` into the title), so the picture
ends where the page does.
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.report import html, pdf

WIDTH = 825
KEYS, CASES, DETAILS = 15, 8, 2
ARTICLE = re.compile(r'<article class="case".*?</article>\n?', re.DOTALL)


def page(data: dict, base: Path) -> str:
    """report.html of ``data`` with the long tables cut: the configuration comparison's rows (not
    the configuration read, which would show the rest as not reported), the cases, the details."""
    view = html.view({**data, "test_cases": data["test_cases"][:CASES]}, base)
    view["configuration"] = view["configuration"][:KEYS]
    return fewer_details(html.environment().get_template("report.html.j2").render(
        css=html.stylesheet("report.css"), **view))


def fewer_details(text: str) -> str:
    """The first DETAILS case articles, and a line saying how many more the report has."""
    articles = ARTICLE.findall(text)
    if len(articles) <= DETAILS:
        return text
    first = text.index(articles[DETAILS])
    last = text.index(articles[-1]) + len(articles[-1])
    note = (f'<p class="note">({len(articles) - DETAILS} more case details trimmed for the '
            'picture)</p>\n')
    return text[:first] + note + text[last:]


def chromium(browser: str, profile: Path, *args: str) -> str:
    return subprocess.run([browser, *pdf.FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=True).stdout


def main(directory: Path, out: Path) -> None:
    browser = pdf.find_chromium()
    if browser is None:
        sys.exit("screenshot: no Chromium found (apt-get install chromium, or OCPP_HARNESS_CHROMIUM)")
    text = page(json.loads((directory / "report.json").read_text()), directory)
    where = directory / "screenshot.html"  # beside report.json, so its relative links resolve
    measure = text.replace("</body>", "<script>document.title = 'H=' + "
                           "document.documentElement.scrollHeight;</script></body>")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            where.write_text(measure)
            dom = chromium(browser, Path(tmp) / "p1", f"--window-size={WIDTH},1000",
                           "--dump-dom", where.resolve().as_uri())
            height = int(re.search(r"<title>H=(\d+)</title>", dom).group(1))
            where.write_text(text)
            chromium(browser, Path(tmp) / "p2", f"--window-size={WIDTH},{height}",
                     "--hide-scrollbars", f"--screenshot={out.resolve()}", where.resolve().as_uri())
        finally:
            where.unlink(missing_ok=True)
    print(f"{out}: {WIDTH} x {height}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "docs/report-screenshot.png"))
