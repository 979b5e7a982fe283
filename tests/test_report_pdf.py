"""report.pdf from a real run: `--ocpp-pdf full` at the end of a pytest run of a few cases against
the simulator, `python -m harness report DIR --pdf summary` afterwards, the pages looked at as
images and text with pypdfium2 (page count, page 1 not blank, the certificate header, the case ids,
the footer with the report reference and "Page 1 of N"). The renderer tests skip, saying why,
only where no Chromium is found (.ci/run installs Debian's chromium); the missing-renderer path
runs everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.report import pdf

ROOT = Path(__file__).resolve().parents[1]
CASES = ("test_tc_003_charging_plugin_first.py", "test_tc_019_retrieve_configuration.py",
         "test_tc_021_change_configuration.py")
HOSTILE_REF = 'R-1"}</style><b>x'
"""A report reference that would end the footer's CSS string, its rule and the style element."""

chromium = pytest.mark.skipif(pdf.find_chromium() is None,
                              reason="no Chromium (/usr/bin/chromium or on PATH): "
                                     "apt-get install chromium")


def _case_files() -> list[str]:
    found = {p.name: p for p in (ROOT / "testcases/cs/core").glob("test_tc_0*.py")}
    return [str(found[name]) for name in CASES]


def _pics(directory: Path) -> Path:
    """The simulator's PICS with a [lab] block whose report reference is markup and CSS."""
    text = (ROOT / "harness/sim/default_cs.toml").read_text()
    assert "[lab]" not in text
    path = directory / "lab.toml"
    path.write_text(text + f"\n[lab]\ntest_laboratory = \"Bench Lab\"\n"
                           f"report_reference = {json.dumps(HOSTILE_REF)}\n")
    return path


def _run(pytester: pytest.Pytester, out: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", *_case_files(), "--ocpp-pics", str(_pics(pytester.path)),
        "--ocpp-report", str(out), f"--rootdir={ROOT}", *args, timeout=150)


def _pages(path: Path) -> list[tuple[str, float]]:
    """(text, share of non-white pixels) per page."""
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 (the [test] extra)")
    document = pdfium.PdfDocument(str(path))
    try:
        pages = []
        for page in document:
            text = page.get_textpage().get_text_range()
            pixels = bytes(page.render(scale=0.5, grayscale=True).buffer)
            light = len(pixels.translate(None, bytes(range(200))))  # the bytes >= 200 stay
            inked = 1 - light / max(1, len(pixels))
            pages.append((text, inked))
        return pages
    finally:
        document.close()


@chromium
def test_a_real_run_writes_a_full_pdf_and_the_report_command_a_summary(pytester, tmp_path):
    out = tmp_path / "out"
    result = _run(pytester, out, "--ocpp-pdf", "full")
    result.assert_outcomes(passed=3)
    stdout = result.stdout.str()
    assert "report.pdf: rendering the full layout ..." in stdout
    line = next(x for x in stdout.splitlines() if x.startswith("report.pdf: ") and "page" in x)
    full = _pages(out / "report.pdf")
    assert line.startswith(f"report.pdf: {len(full)} pages, "), line
    assert pdf.count_pages((out / "report.pdf").read_bytes()) == len(full)

    summary = subprocess.run([sys.executable, "-m", "harness", "report", str(out), "--pdf",
                              "summary"], capture_output=True, text=True, timeout=150, cwd=ROOT)
    assert summary.returncode == 0, summary.stderr
    pages = _pages(out / "report.pdf")
    assert f"report.pdf: {len(pages)} pages, " in summary.stdout
    assert 2 <= len(pages) <= 4, f"the summary of 3 cases has {len(pages)} pages"
    assert len(full) > len(pages), "the annex adds pages"
    first, inked = pages[0]
    assert inked > 0.02, f"page 1 is nearly blank ({inked:.1%} of its pixels inked)"
    assert "OCPP 1.6" in first and "abstract of test report" in first
    assert "Test Result Summary" in first
    assert "Page 1 of " in first and HOSTILE_REF in first, first[-300:]  # the footer, escaped
    text = "\n".join(t for t, _ in pages)
    for case in ("TC_003_CS", "TC_019_CS", "TC_021_CS"):
        assert case in text
    assert "Statement of Approval" in text and "Annex" not in text
    assert "Annex B: test case evidence" in "\n".join(t for t, _ in full)
    assert not (out / ".report-print.html").exists()


def test_without_a_renderer_one_line_says_how_and_the_verdicts_stay(pytester, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv(pdf.ENV, str(tmp_path / "no-chromium"))
    out = tmp_path / "out"
    result = _run(pytester, out, "--ocpp-pdf", "summary", "-k", "TC_019")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    said = [x for x in result.stdout.str().splitlines() if x.startswith("report.pdf")]
    assert said[-1].startswith("report.pdf not written: no Chromium (")
    assert "apt-get install chromium" in said[-1] and "--pdf summary" in said[-1]
    assert not (out / "report.pdf").exists() and (out / "report.json").is_file()
    again = subprocess.run([sys.executable, "-m", "harness", "report", str(out), "--pdf", "full"],
                           capture_output=True, text=True, timeout=60, cwd=ROOT,
                           env={**os.environ, pdf.ENV: str(tmp_path / "no-chromium")})
    assert again.returncode == 2 and "report.pdf not written: no Chromium" in again.stdout


def test_an_interrupted_run_says_how_to_make_the_pdf_later_and_renders_none(pytester, tmp_path):
    from test_report_run import INTERRUPTED

    pytester.makepyfile(test_cases=INTERRUPTED.format(stop="raise KeyboardInterrupt"))
    out = tmp_path / "out"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ocpp-sut", "cs",
                                           "--ocpp-report", str(out), "--ocpp-pdf", "full",
                                           timeout=110)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    said = [x for x in result.stdout.str().splitlines() if x.startswith("report.pdf")]
    assert said == [f"report.pdf: not rendered, the run was interrupted; `python -m harness "
                    f"report {out} --pdf full` makes it from what ran"]
    assert not (out / "report.pdf").exists() and (out / "report.json").is_file()


def test_the_report_command_without_a_report_json_exits_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "harness", "report", str(tmp_path), "--pdf",
                           "summary"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "report.json" in done.stderr


@pytest.mark.parametrize("layout", [["--pdf"], []])
def test_the_report_command_takes_the_summary_by_default(tmp_path, layout):
    """`python -m harness report DIR --pdf` (or without --pdf) is the summary, not a usage error."""
    from harness.__main__ import build_parser

    args = build_parser().parse_args(["report", str(tmp_path), *layout])
    assert args.pdf == "summary"


def test_the_footer_string_cannot_leave_css():
    escaped = pdf.css_string(HOSTILE_REF + "\\\n")
    assert all(ch.isalnum() or ch in " \\" for ch in escaped)
    assert pdf.css_string("Report A-1, run") == "Report A\\00002d 1\\00002c  run"


def _fake_browser(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-chromium"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _data(tmp_path: Path) -> dict:
    from test_report_html import _report  # a report with a wire log, as the HTML tests use

    return _report(tmp_path).to_json()


def test_a_failing_renderer_is_one_line_with_its_last_words(tmp_path):
    browser = _fake_browser(tmp_path, 'echo "starting" >&2\necho "boom: no display" >&2\nexit 3\n')
    said: list[str] = []
    (tmp_path / "out").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(pdf.ENV, browser)
        assert pdf.write_reporting(_data(tmp_path), tmp_path / "out", "summary", said.append) \
            is None
    assert said == ["report.pdf: rendering the summary layout ...",
                    f"report.pdf not written: {browser} exited 3: boom: no display"]
    assert not (tmp_path / "out" / "report.pdf").exists()
    assert not (tmp_path / "out" / ".report-print.html").exists()


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status  # a zombie is dead, only not yet reaped


def test_a_hanging_renderer_is_stopped_at_the_bound_with_its_children(tmp_path):
    import time

    pidfile = tmp_path / "child.pid"
    browser = _fake_browser(tmp_path, f"sleep 60 &\necho $! > {pidfile}\nsleep 60\n")
    (tmp_path / "out").mkdir()
    started = time.monotonic()
    with pytest.raises(pdf.PdfError, match=r"did not finish within 0\.5 s"):
        pdf.write(_data(tmp_path), tmp_path / "out", "full", chromium=browser, timeout=0.5)
    assert time.monotonic() - started < 5
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "a renderer child outlived the timeout"


@pytest.mark.parametrize("mode", ["summary", "full"])
def test_the_print_layout_escapes_the_device_and_puts_the_annex_last(tmp_path, mode):
    from test_report_html import HOSTILE

    data = _data(tmp_path)
    data["lab"] = {"report_reference": HOSTILE_REF}
    page = pdf.render_html(data, mode, tmp_path)
    assert HOSTILE not in page and HOSTILE_REF not in page  # the vendor, the frames, the footer
    assert "&lt;script&gt;" in page
    order = [page.index(f'id="{s}"') for s in ("summary", "performance", "configuration",
                                               "cases", "approval")]
    assert order == sorted(order)
    if mode == "summary":
        assert "annex-" not in page and "<svg" not in page
    else:  # samples and diagrams only after the certificate's pages
        assert order[-1] < page.index('id="annex-samples"') < page.index('id="annex-cases"')
        assert page.index("<svg") > page.index('id="annex-cases"')


def test_the_result_line_names_the_chromium_and_warns_when_it_draws_no_footer(tmp_path):
    browser = _fake_browser(tmp_path, """for a in "$@"; do case "$a" in
  --version) echo "Chromium 120.0.6099.224 built on Debian"; exit 0;;
  --print-to-pdf=*) out="${a#--print-to-pdf=}";;
esac; done
printf '%%PDF-1.4\\n1 0 obj << /Type /Page /Parent 2 0 R >> endobj\\n2 0 obj << /Type /Pages >> endobj\\n' > "$out"
""")
    (tmp_path / "out").mkdir()
    made = pdf.write(_data(tmp_path), tmp_path / "out", "summary", chromium=browser)
    assert made.line().startswith("report.pdf: 1 page, ")
    assert made.line().endswith("s (Chromium 120.0.6099.224, summary; Chromium 120.0.6099.224 "
                                "draws no page footer (page numbers, report reference): 131 or "
                                "later does)")


def test_a_report_directory_that_cannot_be_written_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(pdf.ENV, _fake_browser(tmp_path, "exit 0\n"))  # a renderer is there
    said: list[str] = []
    missing = tmp_path / "gone"  # the page beside report.html cannot be written there
    assert pdf.write_reporting(_data(tmp_path), missing, "summary", said.append) is None
    assert said[-1] == f"report.pdf not written: {missing / '.report-print.html'}: " \
                       "No such file or directory", said
