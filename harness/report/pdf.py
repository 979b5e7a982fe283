"""report.pdf: the print layout (templates/report-print.html.j2, its own stylesheet) rendered by
headless Chromium.

Two modes: ``summary``, the certificate-like abstract (header, lab block, Test Result Summary,
performance, Test Configuration, the case list with verdicts and reasons, Statement of Approval),
and ``full``, the same followed by an annex (every measurement sample; per case the sequence
diagram and the frames the verdict rests on). The footer carries the report reference and
"Page n of N".

Why Chromium and not WeasyPrint (measured on the full charge-point example, 101 cases, README
"PDF"): WeasyPrint 70 took 130 s for the header and 5 of the cases of the screen page and never
finished the whole (its line breaker is quadratic on ``word-break: break-all`` text, the wire
frames), and it ignores CSS on inline SVG (the diagrams lose their red cited frames); Chromium
prints the same pages in seconds with the SVG as on screen. Chromium is a system package, found
as tests/test_report_browser.py finds it (``/usr/bin/chromium``, else on PATH; or the path in
the environment variable OCPP_HARNESS_CHROMIUM); page margin
boxes (the footer) need version 131 or later.

Nothing here changes a verdict: a missing or failing renderer is one line on the terminal.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.report import html

MODES = ("none", "summary", "full")
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome",
              "google-chrome-stable")
INSTALL_HINT = "apt-get install chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-pdf-header-footer")
"""As the browser test starts it; without the background-networking flags Chromium tries to reach
Google's hosts at every start. The page's own footer replaces Chromium's header and footer."""
TIMEOUT_S = 300.0
"""Bound on one rendering (the full example's full mode takes tens of seconds on 2 loaded cores)."""
REASON_LIMIT = 240
"""Characters of a reason shown in the case list (the annex and report.html have them whole)."""


@dataclass(frozen=True)
class Made:
    path: Path
    pages: int
    seconds: float
    renderer: str

    def line(self) -> str:
        return (f"{self.path.name}: {self.pages} page{'s' * (self.pages != 1)}, "
                f"{self.seconds:.1f} s ({self.renderer})")


class PdfError(Exception):
    """The PDF could not be made; the message is one line for the terminal."""


ENV = "OCPP_HARNESS_CHROMIUM"
"""A Chromium elsewhere: its path (only that one is tried; a path that is not an executable
means no renderer)."""


def find_chromium() -> str | None:
    chosen = os.environ.get(ENV)
    for name in (chosen,) if chosen is not None else CANDIDATES:
        found = shutil.which(name)  # an absolute path too, when it is an executable file
        if found:
            return found
    return None


def css_string(text: str) -> str:
    """``text`` as the inside of a CSS double-quoted string, every character that is not a
    letter, digit or space written as a hex escape (its terminating space is eaten by the CSS
    parser, so a real space after it stays): whatever a PICS or a device put in it cannot
    end the string, the rule or the style element."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == " ") else f"\\{ord(ch):06x} "
                   for ch in text)


def reference(data: dict) -> str:
    """The footer's report reference: PICS [lab] report_reference, else the product and run."""
    lab = data.get("lab") or {}
    dut = data.get("dut") or {}
    product = " ".join(str(dut.get(k) or "") for k in ("vendor", "model", "firmware_version"))
    ref = lab.get("report_reference")
    head = f"Report {ref}" if ref else f"OCPP 1.6 test report, {product.strip()}"
    return f"{head}, run {data.get('started') or '-'}"


def render_html(data: dict, mode: str, base: Path | None = None) -> str:
    if mode not in MODES[1:]:
        raise ValueError(f"PDF mode must be summary or full, got {mode!r}")
    css = html.stylesheet("report-print.css")
    return html.environment().get_template("report-print.html.j2").render(
        css=css, mode=mode, footer_left=css_string(reference(data)),
        reason_limit=REASON_LIMIT, max_arrows=html.MAX_ARROWS,
        profile_short=PROFILE_SHORT, **html.view(data, base))


PROFILE_SHORT = {"FirmwareManagement": "Firmware", "SmartCharging": "Smart Charging",
                 "LocalAuthListManagement": "Local List", "RemoteTrigger": "Remote Trigger"}
"""The case list's profile column, narrow enough to leave the name and reason their width."""

_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def count_pages(pdf: bytes) -> int:
    """Page objects of a PDF as Chromium (Skia) writes it: no object streams, one
    ``/Type /Page`` per page. The test checks it against pypdfium2."""
    return len(_PAGE.findall(pdf))


def write(data: dict, directory: Path, mode: str, *, chromium: str | None = None,
          timeout: float = TIMEOUT_S) -> Made:
    """``directory``/report.pdf from the report.json content ``data``, in ``mode``. Raises
    PdfError with a one-line reason (no renderer, Chromium failed or timed out)."""
    browser = chromium or find_chromium()
    if browser is None:
        where = os.environ.get(ENV) or "/usr/bin/chromium, or chromium on PATH"
        raise PdfError(f"report.pdf not written: no Chromium ({where}); install it with "
                       f"`{INSTALL_HINT}`, then `python -m harness report {directory} "
                       f"--pdf {mode}`")
    directory = Path(directory)
    target = directory / "report.pdf"
    started = time.monotonic()
    text = render_html(data, mode, directory)
    with tempfile.TemporaryDirectory(prefix="ocpp-pdf-") as tmp:
        # The page sits beside report.html, so its relative links (wire logs) resolve the same.
        page = directory / ".report-print.html"
        partial = Path(tmp) / "report.pdf"
        page.write_text(text, encoding="utf-8")
        try:
            returncode, said = _print(browser, page, partial, Path(tmp), timeout)
        finally:
            page.unlink(missing_ok=True)
        if returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
            last = (said.strip().splitlines() or ["no output"])[-1][:200]
            raise PdfError(f"report.pdf not written: {browser} exited {returncode}: {last}")
        body = partial.read_bytes()
        tmp_target = target.with_suffix(".pdf.tmp")
        tmp_target.write_bytes(body)
        os.replace(tmp_target, target)
    version, major = chromium_version(browser)
    note = "" if major is None or major >= FOOTER_SINCE else (
        f"; {version} draws no page footer (page numbers, report reference): "
        f"{FOOTER_SINCE} or later does")
    return Made(target, count_pages(body), time.monotonic() - started,
                f"{version}, {mode}{note}")


FOOTER_SINCE = 131
"""The first Chromium that draws CSS page margin boxes (the footer)."""


def chromium_version(browser: str) -> tuple[str, int | None]:
    """("Chromium 156.0.8078.114", 156) from ``--version`` (bounded; the name of the file when
    it does not say)."""
    try:
        said = subprocess.run([browser, "--version"], capture_output=True, text=True,
                              timeout=10, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        said = ""
    found = re.search(r"([A-Za-z][\w ]*?)\s+(\d+)((?:\.\d+)*)", said)
    if not found:
        return Path(browser).name, None
    return f"{found.group(1)} {found.group(2)}{found.group(3)}", int(found.group(2))


def _print(browser: str, page: Path, pdf: Path, tmp: Path, timeout: float) -> tuple[int, str]:
    """Run Chromium once in its own process group, with a new empty profile; on the timeout (or
    an interrupt) the whole group is killed, so no renderer child outlives it. Its stderr goes to
    a file, not a pipe, so a child holding the pipe open cannot stall the wait."""
    log = tmp / "chromium.log"
    with open(log, "wb") as err:
        try:
            proc = subprocess.Popen(
                [browser, *FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--print-to-pdf={pdf}",
                 page.resolve().as_uri()],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                start_new_session=True)
        except OSError as exc:
            raise PdfError(f"report.pdf not written: {browser} could not start: "
                           f"{exc.strerror or exc}") from None
        try:
            returncode = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PdfError(f"report.pdf not written: {browser} did not finish within "
                           f"{timeout:g} s") from None
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return returncode, log.read_text(errors="replace")


def write_reporting(data: dict, directory: Path, mode: str,
                    say: Callable[[str], None]) -> Made | None:
    """:func:`write` with its progress and outcome said through ``say``, one line each; never
    raises for a renderer problem (the run's verdicts do not depend on the PDF)."""
    say(f"report.pdf: rendering the {mode} layout ...")
    try:
        made = write(data, directory, mode)
    except PdfError as exc:
        say(str(exc))
        return None
    except OSError as exc:  # the report directory cannot be written
        say(f"report.pdf not written: {exc.filename or directory}: {exc.strerror or exc}")
        return None
    except Exception as exc:  # noqa: BLE001 -- a bug in the print layout; report.html stands
        say(f"report.pdf not written: the print layout failed: {exc!r}")
        return None
    say(made.line())
    return made
