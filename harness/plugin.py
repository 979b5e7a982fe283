"""The pytest front end: options, markers, fixtures, N/A selection from the PICS, verdicts, results.

Inert unless the collected tests include conformance test cases (``@case``): the harness's own
tests run with this plugin loaded and need no PICS.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from harness import pics as pics_module
from harness.startup import host_port
from harness import timing
from harness.lag import LagMonitor
from harness.bench import BenchOptions, make_bench
from harness import waivers as waivers_module
from harness.cases import CaseInfo
from harness.profiles import FUNCTIONALITIES, PROFILE_MARKERS, PSEUDO_PROFILES
from harness.report.model import CaseResult, RunReport, utc_now
from harness.report.writer import pics_block, read_configuration_at_end, write_report
from harness.session import HarnessError
from harness.verdicts import Mismatch
from harness.wirelog import WireLog

RUN_KEY = pytest.StashKey["OcppRun"]()
RESULT_KEY = pytest.StashKey[CaseResult]()
_WIRE_KEY = pytest.StashKey[str]()
_SESSION_KEY = pytest.StashKey[Any]()
_BLOCKED_KEY = pytest.StashKey[str]()
"""The root case a BLOCKED case was not run because of."""
BLOCKED_PREFIX = "not run: "
"""The skip reason of a BLOCKED case starts so (DESIGN 2.3: not run, device stuck)."""

MAX_REASON = 2000
"""Characters of a verdict's reason kept in the report; the wire log keeps everything."""


def bounded(text: str, limit: int = MAX_REASON) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut; secrets masked."""
    from harness.wirelog import redact

    text = redact(text)
    if len(text) <= limit:
        return text
    note = f" ... [{len(text) - limit + 80:,} more characters cut; the wire log has everything]"
    return text[: limit - 80] + note


def summarise_violations(violations: list, shown: int = 5) -> str:
    """The first violations in full, then a count per rule of the rest: a device that broke a
    rule 30,000 times gives a few lines, not 30,000."""
    lines = [str(v) for v in violations[:shown]]
    rest = violations[shown:]
    if rest:
        counts: dict[str, int] = {}
        for violation in rest:
            for finding in violation.findings:
                counts[finding.rule] = counts.get(finding.rule, 0) + 1
        by_rule = ", ".join(f"{rule} x {n:,}" for rule, n in
                            sorted(counts.items(), key=lambda kv: -kv[1])[:10])
        lines.append(f"... and {len(rest):,} more violations (from wire log line "
                     f"{rest[0].line}: {by_rule})")
    return "\n".join(lines)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ocpp", "OCPP 1.6J conformance")
    group.addoption("--ocpp-sut", choices=("cs", "csms"), default=None,
                    help="the side under test: cs = a charge point (the harness is the central "
                         "system), csms = a central system (the harness is a charge point). "
                         "Default: the PICS [dut] sut.")
    group.addoption("--ocpp-pics", default=None, metavar="PATH",
                    help="the device's PICS (TOML). Default: the embedded simulator's PICS.")
    group.addoption("--ocpp-dut", choices=("sim", "external"), default="sim",
                    help="sim: the harness starts its own reference simulator as the device; "
                         "external: a real device. Default: sim.")
    group.addoption("--ocpp-listen", default="127.0.0.1:9000", metavar="HOST:PORT",
                    help="SUT cs, external: where the harness's central system listens; charge "
                         "points connect to ws://HOST:PORT/<any path>/<chargePointId>. "
                         "Default: 127.0.0.1:9000 (loopback only).")
    group.addoption("--ocpp-connect-timeout", type=float, default=120.0, metavar="SECONDS",
                    help="SUT cs, external: how long the run waits for the charge point's first "
                         "connection before the first case starts (a charger switched on after "
                         "the harness, or backing off between attempts). Default: 120.")
    group.addoption("--ocpp-csms-url", default=None, metavar="URL",
                    help="SUT csms, external: the CSMS endpoint; the harness appends "
                         "/<chargePointId>. Default: the PICS [dut] csms_url.")
    group.addoption("--ocpp-driver", default=None, metavar="SPEC",
                    help="how manual / operator actions are done: prompt, http://HOST:PORT[/base],"
                         " python:package.module:attribute, sim. Default: sim with --ocpp-dut "
                         "sim, else prompt.")
    group.addoption("--ocpp-operator-timeout", default=None, type=float, metavar="SECONDS",
                    help="--ocpp-driver prompt: how long the operator has for one action (plug "
                         "in, present a card ...), apart from the device's timings. Default: the "
                         "PICS [operator] timeout, else 120.")
    group.addoption("--ocpp-report", default="reports", metavar="DIR",
                    help="where report.json and the wire logs go. Default: reports/.")
    group.addoption("--ocpp-pdf", choices=("none", "summary", "full"), default="none",
                    help="also write report.pdf at the end of the run (headless Chromium): "
                         "summary = the certificate-like abstract (3-4 pages), full = summary "
                         "and an annex of the evidence (samples, sequence diagrams). Afterwards: "
                         "python -m harness report DIR --pdf summary|full. Default: none.")
    group.addoption("--ocpp-allow-paths", action="store_true", default=False,
                    help="let the PICS name files outside its own folder (security.*_file, "
                         "files.firmware ...). Default: refused, so that a PICS cannot make the "
                         "harness serve or send any file of the machine.")
    group.addoption("--ocpp-duplicate-connection", choices=("refuse", "replace"),
                    default="refuse",
                    help="SUT cs: a second connection with the device's id while its first is "
                         "open and answers pings (a finding either way): refuse the newcomer "
                         "(1008) or close the old one. Default: refuse.")
    group.addoption("--ocpp-sim-fault", action="append", default=[], metavar="NAME[:k=v,...]",
                    help="--ocpp-dut sim only: inject this fault into the embedded simulator "
                         "(repeatable; the simulator CLI's --fault syntax; see docs/faults.md).")
    group.addoption("--ocpp-strict", action="store_true", default=False,
                    help="a remark (a finding stricter than the official schemas + errata, or a "
                         "reading the specification does not force; see harness/severity.py) "
                         "fails the test case. Default: remarks are reported only.")
    group.addoption("--ocpp-waivers", default=None, metavar="FILE",
                    help="TOML file of known defects ([[waiver]] case, reason, expires): a "
                         "waived FAIL stays FAIL in the report but does not fail the run; a "
                         "waived case that passes does. Expired waivers are not applied "
                         "(warning). See harness/waivers.py.")


def pytest_configure(config: pytest.Config) -> None:
    for profile, marker in PROFILE_MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: OCPP 1.6 {profile} profile test case")
    for profile, marker in PSEUDO_PROFILES.items():
        config.addinivalue_line("markers", f"{marker}: {profile} test case (negative cases the "
                                           f"OCTT implies; outside the certificate's profiles)")
    for profile, marker in FUNCTIONALITIES.items():
        config.addinivalue_line("markers", f"{marker}: {profile} test case (OCPP 1.6 security "
                                           f"white paper; outside the certificate's profiles)")
    config.addinivalue_line("markers", "ocpp_case(info): an OCTT test case (set by harness.cases.case)")
    # Third-party noise the person at the bench cannot act on: pyftpdlib's import of the
    # deprecated asynchat / asyncore (Python 3.11).
    for module in ("asynchat", "asyncore"):
        config.addinivalue_line("filterwarnings",
                                f"ignore:The {module} module is deprecated:DeprecationWarning")


class OcppRun:
    """What one pytest run of conformance test cases shares."""

    def __init__(self, config: pytest.Config):
        self.config = config
        option = config.getoption
        pics_path = option("--ocpp-pics")
        try:
            if pics_path is None:
                sut = option("--ocpp-sut") or "cs"
                pics_path = pics_module.default_path(sut)
            self.pics = pics_module.load(pics_path, allow_paths=option("--ocpp-allow-paths"))
        except (pics_module.PicsError, OSError) as exc:
            raise pytest.UsageError(str(exc)) from None
        from harness.wirelog import secret
        secret(self.pics.security.basic_auth_password)
        secret(self.pics.security.key_password)
        self.sut = option("--ocpp-sut") or self.pics.dut.sut
        if self.sut != self.pics.dut.sut:
            raise pytest.UsageError(
                f"--ocpp-sut {self.sut} but the PICS {pics_path} describes a "
                f"{'charge point' if self.pics.dut.sut == 'cs' else 'central system'} "
                f"(dut.sut = {self.pics.dut.sut!r})")
        try:
            host, port = host_port(option("--ocpp-listen"), default_host="")
        except ValueError:
            host, port = "", 0
        if not host:
            raise pytest.UsageError(f"--ocpp-listen must be HOST:PORT, got {option('--ocpp-listen')!r}")
        dut = option("--ocpp-dut")
        sim_faults = tuple(option("--ocpp-sim-fault"))
        _check_sim_faults(sim_faults, dut, self.sut)
        security = self.pics.security
        if self.sut == "csms" and dut != "sim" and security.profile == 3 \
                and not security.cert_file:
            raise pytest.UsageError(
                f"{pics_path}: security.profile 3 needs security.cert_file and key_file, the "
                "client certificate of the harness's charge point (the central system must "
                "trust its CA); only against the embedded simulator (--ocpp-dut sim) does the "
                "run's PKI make one")
        self.options = BenchOptions(
            sut=self.sut, dut=dut, listen=(host, int(port)), csms_url=option("--ocpp-csms-url"),
            driver=option("--ocpp-driver") or ("sim" if dut == "sim" else "prompt"),
            sim_faults=sim_faults, duplicate=option("--ocpp-duplicate-connection"),
            pki_dir=Path(option("--ocpp-report")) / "pki")
        self.strict = bool(option("--ocpp-strict"))
        self.waivers: waivers_module.Waivers | None = None
        if option("--ocpp-waivers"):
            try:
                self.waivers = waivers_module.load(option("--ocpp-waivers"))
            except waivers_module.WaiverError as exc:
                raise pytest.UsageError(str(exc)) from None
        self.report_dir = Path(option("--ocpp-report"))
        self.pdf_mode: str = option("--ocpp-pdf") or "none"
        operator_timeout = option("--ocpp-operator-timeout")
        if operator_timeout is not None and not 0 < operator_timeout < float("inf"):
            raise pytest.UsageError(f"--ocpp-operator-timeout must be a positive number of "
                                    f"seconds, got {operator_timeout:g}")
        self.operator_timeout: float = operator_timeout or self.pics.operator.timeout
        self.report = RunReport(
            dut={"vendor": self.pics.dut.vendor, "model": self.pics.dut.model,
                 "firmware_version": self.pics.dut.firmware_version,
                 "charge_point_id": self.pics.dut.charge_point_id, "pics": str(self.pics.source),
                 "pics_sha256": _sha256(self.pics.source)},
            sut=self.sut, started=utc_now(), declared_profiles=tuple(self.pics.features.profiles)
            + (("Security",) if self.pics.security.profile else ()),
            pics=pics_block(self.pics),  # configuration: read from the device, not the PICS
            lab=dict(vars(self.pics.lab)) if hasattr(self.pics, "lab") else {})
        self.bench: Any = None
        self.selected = 0
        self.summarizing = False
        """True once pytest prints its summary (its lines then carry the verdict word)."""
        """How many cases the run holds once -k / -m deselected (for "[3/88]")."""
        self.lag = LagMonitor()
        """The harness's own lag and time per frame (harness/lag.py), started with the bench: a
        timing taken or a deadline reached while it lagged is not judged against the device."""
        self.timing = timing.Recorder(self.pics.timing, self.sut, lag=self.lag)
        """The run's recorder, given to the bench's session (Session.timing), through which test
        cases declare triggered requests (harness.timing.triggered)."""

    def harness_figures(self) -> None:
        """The report's ``harness`` block: the loop's worst lag, the time per frame."""
        self.report.harness = self.lag.to_json(self.timing.unreliable_count())

    def device_state(self, session: Any) -> None:
        """SUT cs: what the harness left on the charge point (reservations, profiles, changed
        keys), written for the next run against it (harness.states.idle.STATE_FILE)."""
        from harness.states.idle import STATE_FILE, TRACKER

        track = session.stash.get(TRACKER) if session is not None else None
        if track is None:
            return
        import json
        path = self.report_dir / STATE_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(track.leftovers(self.pics.dut.charge_point_id), indent=1))
        except OSError:
            pass  # a report directory that cannot be written is reported by the report itself

    def record(self, result: CaseResult) -> None:
        self.report.test_cases.append(result)
        self.report.measurements = self.timing.measurements()
        self.harness_figures()
        # Written after every case: an interrupted run still leaves the report of what ran.
        self.report.finished = utc_now()
        write_report(self.report, self.report_dir)  # report.json and report.html
        if self.sut == "cs" and self.bench is not None:
            self.device_state(self.bench.session)


def _sha256(path: Path) -> str:
    """The PICS file's SHA-256: the report names exactly which declaration it was run against."""
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def _check_sim_faults(faults: tuple[str, ...], dut: str, sut: str) -> None:
    """A usage error now, not a harness error at the first case, for a fault that cannot apply."""
    if not faults:
        return
    from harness.sim.faults import FaultError, Faults

    if dut != "sim":
        raise pytest.UsageError("--ocpp-sim-fault injects faults into the embedded simulator; it "
                                "needs --ocpp-dut sim")
    try:
        Faults("cp" if sut == "cs" else "csms", faults)
    except FaultError as exc:
        raise pytest.UsageError(f"--ocpp-sim-fault: {exc}") from None


def _applicable(run: OcppRun, items: list[pytest.Item]) -> dict[str, dict[str, Any]]:
    """Per profile, the cases known for the SUT (collected, or declared in the same test
    packages) and those of them the PICS does not make N/A: what "Pass" and "partial" count."""
    from harness.cases import package_cases

    known = {info.id: info for info in (_case_of(item) for item in items) if info is not None}
    modules = {id(m): m for item in items if (m := getattr(item, "module", None)) is not None}
    for info in package_cases(modules.values()):
        known.setdefault(info.id, info)
    out: dict[str, dict[str, Any]] = {p: {"total": 0, "applicable": []}
                                      for p in (*PROFILE_MARKERS, *FUNCTIONALITIES)}
    for info in known.values():
        if info.sut != run.sut or info.profile not in out:
            continue
        out[info.profile]["total"] += 1
        if info.not_applicable(run.pics) is None:
            out[info.profile]["applicable"].append(info.id)
    return out


def _warn_waivers(run: OcppRun, case_ids: set[str]) -> None:
    """Expired waivers and waivers naming no collected case: a warning each (harness.waivers)."""
    import warnings

    if run.waivers is None:
        return
    for waiver in run.waivers.expired:
        warnings.warn(pytest.PytestWarning(
            f"--ocpp-waivers {run.waivers.source}: the waiver of {waiver.case} expired on "
            f"{waiver.expires.isoformat()}; it is not applied ({waiver.reason})"))
    for waiver in run.waivers.unknown(case_ids):
        warnings.warn(pytest.PytestWarning(
            f"--ocpp-waivers {run.waivers.source}: waiver {waiver.entry} names {waiver.case}, "
            f"which no collected test case has"))


def _case_of(item: pytest.Item) -> CaseInfo | None:
    marker = item.get_closest_marker("ocpp_case")
    return marker.args[0] if marker else None


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselect: "applicable" is the whole set
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    cases = [item for item in items if _case_of(item) is not None]
    if not cases:
        return
    run = OcppRun(config)
    if not config.option.collectonly:
        # The set-up's problems before the first case, as a usage error (exit code 4) and
        # before any report exists: none of them is the device's.
        from harness import startup

        problems = startup.check(run.pics, run.options)
        if problems:
            raise pytest.UsageError("\n".join(problems))
    config.stash[RUN_KEY] = run
    run.report.applicable = _applicable(run, cases)
    _warn_waivers(run, {i for item in cases for i in (_case_of(item).id, *_case_of(item).aliases)})
    selected, deselected = [], []
    for item in items:
        info = _case_of(item)
        if info is None:
            selected.append(item)
            continue
        if info.sut != run.sut:
            deselected.append(item)
            continue
        selected.append(item)
        item.extra_keyword_matches.update({info.id, *info.aliases})
        reason = info.not_applicable(run.pics)
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"N/A: {reason}"))
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.hookimpl(trylast=True)  # after -k / -m: how many cases this run will show
def pytest_collection_finish(session: pytest.Session) -> None:
    run = session.config.stash.get(RUN_KEY, None)
    if run is not None:
        run.selected = sum(1 for item in session.items if _case_of(item) is not None)
        tr = session.config.pluginmanager.getplugin("terminalreporter")
        if tr is not None and session.config.get_verbosity() <= 0:
            tr.showfspath = False  # a line per case instead of file names and dots


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """JUnit XML (--junitxml) names an OCTT case by its id and name, "TC_001_CS Cold Boot Charge
    Point", so CI dashboards list the cases as the certificates and the OCTT do."""
    from _pytest.junitxml import xml_key  # what pytest's own record_xml_attribute uses

    info = _case_of(item)
    xml = item.config.stash.get(xml_key, None)
    if info is not None and xml is not None:
        xml.node_reporter(item.nodeid).add_attribute("name", f"{info.id} {info.name}")


def _run(config: pytest.Config) -> OcppRun:
    try:
        return config.stash[RUN_KEY]
    except KeyError:
        raise pytest.UsageError("the OCPP fixtures are for conformance test cases (@case)") from None


@pytest.fixture(scope="session")
def pics(request: pytest.FixtureRequest) -> pics_module.Pics:
    """The device's PICS."""
    return _run(request.config).pics


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def bench(request: pytest.FixtureRequest):
    """The harness's endpoint, the device (or its simulator) and the driver, for the whole run."""
    from harness.drivers import PromptDriver, make_driver

    run = _run(request.config)
    bench = make_bench(run.pics, run.options)
    bench.notify = _status_writer(request.config)  # listening, connected, refused ...
    bench.session.timing = run.timing  # from the start: the boot's heartbeat interval counts
    bench.session.lag = run.lag
    run.lag.start()
    bench.session.strict = run.strict  # --ocpp-strict: a remark in a frame is a violation
    await bench.start()
    capture = request.config.pluginmanager.getplugin("capturemanager")
    bench.driver = make_driver(run.options.driver, sim_target=bench.sim, capture_manager=capture)
    if isinstance(bench.driver, PromptDriver):
        # The person at the bench gets the operator's time, and is not asked to confirm what
        # the wire already shows.
        bench.driver.operator_timeout = run.operator_timeout
        bench.driver.watch(bench.session)
        bench.driver.features = run.pics.features
    # Every driver action goes into the wire log of the case under way (event "driver").
    bench.driver.recorder = bench.session.record_event
    # What the rig says it can do, once: a case needing more is N/A before it starts.
    await bench.driver.load_capabilities(timeout=run.pics.timing.response_timeout)
    await _first_connection(request, bench, run)
    run.bench = bench
    yield bench
    if run.sut == "cs" and bench.session.link is None:
        # Not once connected: nothing to read, and no reason to wait the response timeout for it.
        run.report.configuration_source["end_of_run_error"] = (
            "the charge point did not connect to the harness in this run")
    elif run.sut == "cs":
        # The report's OCPP configuration is what the device says, read while it is connected.
        await read_configuration_at_end(
            run.report, bench.session, run.pics.timing.response_timeout,
            run.report_dir / "wire" / "END_OF_RUN_GetConfiguration.jsonl")
    await bench.driver.close()
    await bench.stop()
    run.lag.stop()


async def _first_connection(request: pytest.FixtureRequest, bench: Any, run: OcppRun) -> None:
    """SUT cs, external: wait (--ocpp-connect-timeout) for the charge point to connect before the
    first case, so that the first case does not pay for a charger switched on after the harness
    or backing off between refused attempts. Not connected by then: the cases say so themselves."""
    from harness.session import DeviceTimeout, ProtocolViolation

    timeout = request.config.getoption("--ocpp-connect-timeout")
    if run.sut != "cs" or run.options.dut != "external" or bench.session.connected or not timeout \
            or timeout <= 0:
        return
    host, port = run.options.listen
    # The bench's status line: the terminal reporter's own write_line is captured in a fixture,
    # and the line came out only after the run, under 'Captured stdout setup'.
    bench.notify(f"waiting up to {timeout:g} s for the charge point "
                 f"{run.pics.dut.charge_point_id} to connect to ws://{host}:{port}/... "
                 f"(--ocpp-connect-timeout)")
    try:
        await bench.session.wait_connected(timeout)
    except (DeviceTimeout, ProtocolViolation):
        pass  # refused attempts included: the first case's wire log and verdict say so


@pytest.fixture(scope="session")
def driver(bench: Any) -> Any:
    """Performs the manual actions of a test case (plug in, present a card, power-cycle ...)."""
    return bench.driver


async def _rig_can_do(request: pytest.FixtureRequest, driver: Any, pics: Any) -> None:
    """N/A before the case starts when it needs an action the rig declared it cannot do. Actions
    the PICS hardware model rules out (remove_cable unless the cable stays in the socket) are not
    needed, whatever branch of the code names them."""
    from harness.drivers.base import OPTIONAL_ACTIONS
    from harness.drivers.needs import needed_actions

    function = getattr(request.node, "function", None)
    if function is None:
        return
    if not driver.capabilities_known:  # the rig was not reachable yet (started after the harness)
        await driver.load_capabilities(timeout=pics.timing.response_timeout)
    if driver.declared is None:
        return
    unused = pics.features.unused_actions() if pics is not None else frozenset()
    missing = driver.cannot(needed_actions(function).actions - OPTIONAL_ACTIONS - unused)
    if missing:
        pytest.skip(f"N/A: the case needs the driver action{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)}, which the rig does not declare among its capabilities "
                    f"({', '.join(sorted(driver.declared)) or 'none'})")


async def _device_session(request: pytest.FixtureRequest, bench: Any):
    run = _run(request.config)
    await _rig_can_do(request, bench.driver, run.pics)
    info = _case_of(request.node)
    case_id = info.id if info else request.node.name
    path = run.report_dir / "wire" / f"{case_id}.jsonl"
    wirelog = WireLog(path)
    request.node.stash[_WIRE_KEY] = str(path)
    session = bench.session
    session.begin(wirelog)
    if hasattr(bench.driver, "case_title"):
        bench.driver.case_title = f"{case_id} {info.name}" if info else case_id
    run.timing.begin_case(case_id, str(path))
    run.lag.case = case_id
    request.node.stash[_SESSION_KEY] = session
    try:
        yield session
    finally:
        run.lag.case = None
        run.timing.end_case()
        session.end()
        wirelog.close()


@pytest_asyncio.fixture(loop_scope="session")
async def cp(request: pytest.FixtureRequest, bench: Any):
    """The charge point under test, as the harness's central system sees it, idle.

    Every case starts from an idle charge point, whatever the previous case left (a failed case
    must not fail the next ones). When it cannot be brought idle the case that finds it is
    INCONCLUSIVE, and every later case is BLOCKED by the case that left it so (skipped, "not run:
    the device stayed Preparing (connector 1) since TC_004_2_CS failed"), after a cheap re-check
    each (the device may have recovered), not another clean-up each."""
    from contextlib import aclosing

    from harness.drivers.base import acting_for
    from harness.states.idle import NotIdle, Stuck, idle, observe, recheck

    run = _run(request.config)
    if run.sut != "cs":
        raise pytest.UsageError("the cp fixture is for test cases of a charge point (SUT cs)")
    track = observe(bench.session, run.pics)  # what came since the last case, before begin()
    if not track.started:
        # What an earlier run against this charge point left on it is undone before the first
        # case (harness.states.idle.STATE_FILE).
        from harness.states.idle import STATE_FILE
        import json
        try:
            left = json.loads((run.report_dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            left = None
        track.adopt(left, run.pics.dut.charge_point_id)
    info = _case_of(request.node)
    async with aclosing(_device_session(request, bench)) as sessions:
        async for session in sessions:
            stuck = track.stuck
            if stuck is not None and not await recheck(session, run.pics):
                request.node.stash[_BLOCKED_KEY] = stuck.root
                pytest.skip(stuck.blocked_reason())
            waited = _waited_in_vain(session, run)
            if waited is not None:
                request.node.stash[_BLOCKED_KEY] = waited.id
                pytest.skip(f"{BLOCKED_PREFIX}the charge point has not connected to the harness "
                            f"once in this run; {waited.id} waited for it (INCONCLUSIVE)")
            try:
                with acting_for("idle"):  # the driver lines say it is not the case's own step
                    await idle(session, bench.driver, run.pics)
            except NotIdle as exc:
                root = _last_case_run(run)
                found_by = info.id if info else request.node.name
                track.stuck = Stuck(exc.stays, root.id if root else found_by,
                                    root.verdict if root else "INCONCLUSIVE", found_by)
                if root is not None:
                    exc.reason = (f"{exc.reason} (the device was left so by {root.id}, which "
                                  f"{track.stuck.how}; later cases are BLOCKED until it is idle "
                                  f"again)")
                    exc.args = (exc.reason,)
                raise
            yield session


def _waited_in_vain(session: Any, run: OcppRun) -> CaseResult | None:
    """The case that waited the PICS boot_timeout for a charge point of which no connection
    attempt has reached the harness in this run (INCONCLUSIVE): later cases are BLOCKED by it at
    once instead of each waiting again (a charge point dialling another port: 101 cases x 3 min
    and more). Checked again before every case: a charge point that connects, or whose attempts
    arrive (refused: each case FAILs them, naming the rule), runs the next one."""
    if session.link is not None or session.attempted:
        return None
    return next((r for r in run.report.test_cases if r.verdict == "INCONCLUSIVE"), None)


def _last_case_run(run: OcppRun) -> CaseResult | None:
    """The last case that ran on the device (not N/A, not BLOCKED): the one that left it dirty."""
    for result in reversed(run.report.test_cases):
        if result.verdict not in ("N/A", "BLOCKED"):
            return result
    return None


@pytest_asyncio.fixture(loop_scope="session")
async def csms(request: pytest.FixtureRequest, bench: Any):
    """The central system under test, as the harness's charge point sees it."""
    if _run(request.config).sut != "csms":
        raise pytest.UsageError("the csms fixture is for test cases of a central system (SUT csms)")
    async for session in _device_session(request, bench):
        yield session


def _counted_remarks(item: pytest.Item) -> None:
    """What the session counts over a case, each summarised in one remark whatever the verdict:
    the device's flow (OCPP-J 4.1.1; a flood past the bound is also a violation) and its second
    connections."""
    session = item.stash.get(_SESSION_KEY, None)
    if session is None:
        return
    for summary in (session.flow.summary(), session.duplicates.summary()):
        if summary and summary not in session.remarks:
            session.remarks.append(summary)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A device violation seen in the background (not raised by a step) still fails the case;
    N/A discovered at run time (the device answered NotSupported) becomes a skip."""
    from harness.verdicts import NotApplicable

    try:
        result = yield
    except NotApplicable as exc:
        pytest.skip(f"N/A: {exc.reason}")
    finally:
        _counted_remarks(item)
    session = item.stash.get(_SESSION_KEY, None)
    if session is not None and session.violations:
        raise AssertionError("the device broke the protocol:\n" +
                             summarise_violations(session.violations))
    if session is not None and session.harness_errors:
        raise HarnessError("\n".join(session.harness_errors))
    run_ = item.config.stash.get(RUN_KEY, None)
    if session is not None and session.remarks and run_ is not None and run_.strict:
        raise AssertionError("remarks, failing under --ocpp-strict:\n" +
                             "\n".join(session.remarks))
    run = item.config.stash.get(RUN_KEY, None)
    too_slow = run.timing.failures() if run is not None and session is not None else []
    if too_slow:
        # A PICS timing sample over its declared value fails the case it was taken in.
        raise AssertionError("\n".join(too_slow))
    lagged = run.timing.unreliable() if run is not None and session is not None else []
    if lagged:
        # Over its value, but taken while the harness lagged: not the device's failure.
        from harness.verdicts import Inconclusive
        raise Inconclusive("\n".join(lagged))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    info = _case_of(item)
    run = item.config.stash.get(RUN_KEY, None)
    if info is None or run is None:
        return report
    report.ocpp_case = info.id  # type: ignore[attr-defined]  -- for pytest_report_teststatus
    verdict = _verdict(report, call)
    if verdict is None:
        return report
    report.ocpp_verdict = verdict  # type: ignore[attr-defined]
    if verdict == "INCONCLUSIVE":
        report.outcome = "failed"
    if verdict in ("FAIL", "INCONCLUSIVE") and _brief(item.config):
        # The device's failure or a precondition not reached: the reason says it all; a
        # traceback through harness source would only bury it (-v or --tb shows it).
        report.longrepr = _reason(report, call)
    existing = item.stash.get(RESULT_KEY, None)
    if existing is not None:
        # A teardown problem after a passing call still spoils the case.
        if existing.verdict == "PASS" and verdict in ("FAIL", "ERROR"):
            existing.verdict, existing.reason = verdict, bounded(_reason(report, call))
            existing.symptom = _symptom(verdict, call)
        return report
    result = CaseResult(info.id, info.name, info.profile, verdict, bounded(_reason(report, call)),
                        round(report.duration, 3), item.stash.get(_WIRE_KEY, None),
                        blocked_by=item.stash.get(_BLOCKED_KEY, None) if verdict == "BLOCKED"
                        else None, symptom=_symptom(verdict, call))
    item.stash[RESULT_KEY] = result
    session = item.stash.get(_SESSION_KEY, None)
    if session is not None and report.when == "call":
        result.remarks = [bounded(text) for text in session.remarks[:20]]
        # JUnit XML reads the properties when the case's teardown is reported.
        item.user_properties.extend(("ocpp_remark", text) for text in result.remarks)
    _apply_waiver(run, result, report)
    if result.waiver is not None:
        item.user_properties.append(("ocpp_waiver", f"{result.waiver['status']}: "
                                     f"{result.waiver['reason']} (until {result.waiver['expires']})"))
    return report


def _apply_waiver(run: OcppRun, result: CaseResult, report: pytest.TestReport) -> None:
    """harness.waivers rules 2-4: the verdict stays; only pytest's outcome follows the waiver."""
    waiver = run.waivers.get(result.id) if run.waivers is not None else None
    if waiver is None:
        return
    if result.verdict == "FAIL":
        result.waiver = waiver.to_json(waivers_module.WAIVED)
        report.outcome = "skipped"
        report.wasxfail = f"waived until {waiver.expires.isoformat()}: {waiver.reason}"
    elif result.verdict == "PASS":
        result.waiver = waiver.to_json(waivers_module.UNEXPECTED_PASS)
        report.outcome = "failed"
        report.longrepr = (f"unexpected PASS: {result.id} is waived until "
                           f"{waiver.expires.isoformat()} ({waiver.reason}) but passed; remove "
                           f"the waiver from {run.waivers.source}")
    else:
        result.waiver = waiver.to_json(waivers_module.NOT_APPLIED)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    started = time.monotonic()
    result = yield
    run = item.config.stash.get(RUN_KEY, None)
    case_result = item.stash.get(RESULT_KEY, None)
    if run is not None and case_result is not None:
        case_result.duration_s = round(time.monotonic() - started, 3)
        run.record(case_result)
        _write_case_line(item.config, run, case_result)
    return result


# --- the terminal: one line per case, status lines, the result ---------------------------------

_MARKUP = {"PASS": {"green": True}, "FAIL": {"red": True, "bold": True},
           "INCONCLUSIVE": {"yellow": True, "bold": True}, "ERROR": {"purple": True, "bold": True},
           "N/A": {"cyan": True}, "BLOCKED": {"yellow": True}}


def _brief(config: pytest.Config) -> bool:
    """The default terminal: a line per case, no tracebacks but for harness ERRORs."""
    return config.get_verbosity() <= 0 and config.getoption("tbstyle", "auto") == "auto"


def _status_writer(config: pytest.Config) -> Any:
    """A function writing one status line ("ocpp: listening on ...") to the terminal, seen also
    while a test case runs under pytest's capture."""
    from contextlib import nullcontext

    tr = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")

    def write(text: str) -> None:
        if tr is None:
            return
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            tr.ensure_newline()
            tr.write_line(f"ocpp: {text}", cyan=True)
            tr.flush()
    return write


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """A conformance case prints no pytest letter: its line is written when it ends."""
    if getattr(report, "ocpp_case", None) is None:
        return None
    if report.passed and report.when != "call":
        return "", "", ""
    category = "error" if report.failed and report.when != "call" else report.outcome
    if report.skipped and hasattr(report, "wasxfail"):
        category = "xfailed"  # a waived FAIL (harness.waivers): pytest's expected failure
    run = config.stash.get(RUN_KEY, None)
    word = getattr(report, "ocpp_verdict", "") or ""
    if config.get_verbosity() > 0 or (run is not None and run.summarizing):
        # pytest's own verbose lines and its short summary say the verdict, one word per state.
        return category, "", (word, _MARKUP.get(word, {}))
    return category, "", ""


def _write_case_line(config: pytest.Config, run: OcppRun, result: CaseResult) -> None:
    tr = config.pluginmanager.getplugin("terminalreporter")
    if tr is None or config.get_verbosity() > 0:
        return
    total = run.selected or len(run.report.test_cases)
    done = len(run.report.test_cases)
    reason = first_line(result.reason.removeprefix("N/A: "))
    what = f"{'harness error: ' if result.verdict == 'ERROR' else ''}{reason}" if reason \
        else result.name
    if result.waiver is not None and result.waiver["status"] == "waived":
        what = f"waived ({result.waiver['reason']}): {what}"
    elif result.waiver is not None and result.waiver["status"] == "unexpected-pass":
        what = f"unexpected PASS of a waived case ({result.waiver['reason']})"
    tr.ensure_newline()
    tr.write(f"[{done:>{len(str(total))}}/{total}] {result.id:<15} ")
    tr.write(f"{result.verdict:<12}", **_MARKUP.get(result.verdict, {}))
    tr.write(f" {result.duration_s:6.1f} s  {_clip(what, 160)}\n", flush=True)


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _verdict(report: pytest.TestReport, call: pytest.CallInfo) -> str | None:
    from harness.verdicts import Inconclusive, lagged_timeout

    if report.when == "setup" and report.skipped:
        if _skip_reason(report).startswith(BLOCKED_PREFIX):
            return "BLOCKED"
        return "N/A" if _skip_reason(report).startswith("N/A") else "ERROR"
    if report.when == "call" and report.passed:
        return "PASS"
    if report.skipped:
        return "N/A" if _skip_reason(report).startswith("N/A") else "ERROR"
    if report.failed:
        excinfo = call.excinfo
        if excinfo is not None and (excinfo.errisinstance(Inconclusive)
                                    or lagged_timeout(excinfo.value) is not None):
            return "INCONCLUSIVE"
        if report.when == "call" and excinfo is not None and excinfo.errisinstance(AssertionError) \
                and not excinfo.errisinstance(HarnessError):
            return "FAIL"
        return "ERROR"
    return None


def _symptom(verdict: str, call: pytest.CallInfo) -> dict | None:
    """A FAIL's structured symptom (harness.verdicts.Mismatch), for report.json and the fault
    catalogue; None for a failure worded only in prose."""
    if verdict != "FAIL" or call.excinfo is None or not isinstance(call.excinfo.value, Mismatch):
        return None
    return call.excinfo.value.symptom()


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "")


def _reason(report: pytest.TestReport, call: pytest.CallInfo) -> str:
    if report.passed:
        return ""
    if report.skipped:
        return _skip_reason(report)
    if call.excinfo is not None:
        from harness.verdicts import Inconclusive, lagged_timeout

        exc = call.excinfo.value
        if isinstance(exc, Inconclusive):
            return exc.reason
        lagged = lagged_timeout(exc)
        if lagged is not None:
            step = plain_reason(str(exc))
            return lagged.reason if exc is lagged or step in lagged.reason else \
                f"{lagged.reason}; then: {step}"
        if isinstance(exc, AssertionError) and not isinstance(exc, HarnessError):
            return plain_reason(str(exc)) or "an assertion of the test case did not hold"
        return f"{call.excinfo.typename}: {exc}"  # the harness's: its class helps the fix
    return str(report.longrepr)


def plain_reason(text: str) -> str:
    """A FAIL's reason as the test case worded it: pytest's assertion rewriting appends
    "assert not [...]" and "+  where ..." lines to the message; they repeat it in Python."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if i and line.startswith("assert "):
            return "\n".join(lines[:i]).rstrip()
    return text.strip()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = session.config.stash.get(RUN_KEY, None)
    if run is None:
        return
    run.report.finished = utc_now()
    run.report.measurements = run.timing.measurements()
    run.harness_figures()
    collected = sum(1 for item in session.items if _case_of(item) is not None)
    run.report.complete = exitstatus != pytest.ExitCode.INTERRUPTED and \
        len(run.report.test_cases) >= collected
    write_report(run.report, run.report_dir, final=True)
    if run.pdf_mode != "none":
        from harness.report import pdf

        tr = session.config.pluginmanager.getplugin("terminalreporter")
        say = (lambda text: tr.write_line(text)) if tr is not None else print
        if exitstatus == pytest.ExitCode.INTERRUPTED:  # the user asked to stop: not 30 s more
            say(f"report.pdf: not rendered, the run was interrupted; `python -m harness report "
                f"{run.report_dir} --pdf {run.pdf_mode}` makes it from what ran")
        else:  # a missing or failing renderer is one line; the verdicts and exit code stay
            pdf.write_reporting(run.report.to_json(), run.report_dir, run.pdf_mode, say)


@pytest.hookimpl(tryfirst=True)  # before junitxml's own unconfigure forgets the file
def pytest_unconfigure(config: pytest.Config) -> None:
    """JUnit XML with one mapping of the verdicts and their properties (harness/report/junit.py)."""
    import os

    run = config.stash.get(RUN_KEY, None)
    xmlpath = getattr(config.option, "xmlpath", None)
    if run is None or not xmlpath or config.option.collectonly:
        return
    path = os.path.normpath(os.path.abspath(os.path.expanduser(os.path.expandvars(xmlpath))))
    if not os.path.isfile(path):
        return
    from harness.report import junit

    try:
        junit.normalise(path, {c.id: c for c in run.report.test_cases})
    except Exception as exc:  # noqa: BLE001 -- pytest's file stays as written; say so
        import sys

        print(f"--junitxml {path}: the OCPP verdicts could not be written into it: {exc!r}",
              file=sys.stderr)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The run's result in the words of the report: the certificate line, one line per profile
    with the counts behind it, and where the report is."""
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    tr = terminalreporter
    run.summarizing = True
    results = run.report.profile_results()
    certificate = run.report.certificate()
    tr.write_sep("=", "OCPP 1.6 result")
    tr.write_line(f"certificate: {certificate} ({run.report.certificate_note()})",
                  bold=True, green=certificate != "None", yellow=certificate == "None")
    for profile, r in results.items():
        if r["result"] == "N/A" and not r["declared"]:
            continue
        tr.write_line(f"  {profile:<24} {r['result']:<10} {profile_counts(r)}",
                      red=r["result"] == "Fail", green=r["result"] == "Pass",
                      yellow=r["result"] == "Incomplete")
    robustness = run.report.robustness()
    if robustness["counts"]:
        counts = ", ".join(f"{n} {v}" for v, n in robustness["counts"].items())
        tr.write_line(f"  {'Robustness':<24} {robustness['result']:<10} {counts} (outside the "
                      f"certificate)", red=robustness["result"] == "Fail",
                      green=robustness["result"] == "Pass")
    for name, f in run.report.functionalities().items():
        if f["result"] == "N/A" and not f["declared"]:
            continue
        tr.write_line(f"  {name:<24} {f['result']:<10} {profile_counts(f)} (outside the "
                      f"certificate)", red=f["result"] == "Fail", green=f["result"] == "Pass",
                      yellow=f["result"] == "Incomplete")
    remarks, waived = run.report.remarks(), run.report.waived()
    if remarks["total"]:
        tr.write_line(f"remarks: {remarks['total']} in {len(remarks['cases'])} case(s) "
                      f"({', '.join(remarks['cases'])}); not FAILs"
                      + ("" if run.strict else " (--ocpp-strict makes them FAILs)"))
    for w in waived:
        tr.write_line(f"waiver: {w['id']} {w['verdict']} ({w['status']}): {w['reason']} "
                      f"(until {w['expires']})", yellow=True)
    html = run.report_dir / "report.html"
    tr.write_line(f"report: {html} (report.json and wire/ beside it)")


def profile_counts(r: dict[str, Any]) -> str:
    """The figures behind a profile's word: "1 PASS, 1 FAIL, 1 harness ERROR, 49 not run"."""
    words = {"ERROR": "harness ERROR"}
    parts = [f"{n} {words.get(v, v)}" for v, n in r["counts"].items() if v != "BLOCKED"]
    if r["not_run"]:
        parts.append(f"{r['not_run']} not run" + (f" ({r['blocked']} BLOCKED)" if r["blocked"]
                                                  else ""))
    return ", ".join(parts) or "no case"
