"""The device's PICS (Protocol Implementation Conformance Statement), loaded from TOML and checked.

Every key the harness reads is listed here. Unknown tables and keys, wrong types and missing
required keys are a :class:`PicsError` naming the file and the dotted key, so a typo in a PICS
never silently turns a test case into N/A. All problems of a file are reported at once.

[dut]
  sut                 "cs" | "csms", required. cs: the device is a charge point (the harness is the
                      central system); csms: the device is a central system.
  vendor, model       required, non-empty strings. For sut "cs" they are what the charge point
                      sends in BootNotification, so at most 20 characters (CiString20).
  firmware_version    required, non-empty; for sut "cs" at most 50 characters (CiString50).
  charge_point_id     required: the identity on the wire (last segment of the WebSocket URL path),
                      so no "/", "?", "#", whitespace or control characters.
  csms_url            sut "csms": required, ws:// or wss:// (wss:// for security profiles 2 and 3).
                      Port 0 ("ws://127.0.0.1:0/ocpp") means the embedded simulator picks one.
  serial_number       optional; for sut "cs" at most 25 characters (CiString25).
  vendor_keys         optional array of [configuration] key names that are the vendor's own
                      although they look like a standard key (the lint below lets them through).
[features]
  profiles            required, OCPP names: Core, FirmwareManagement, LocalAuthListManagement,
                      Reservation, SmartCharging, RemoteTrigger. Core is required (no 1.6
                      certificate without it); no duplicates.
  connectors          integer >= 1, default 1.
  fixed_cable         boolean, default false (a socket: the EV driver plugs in the cable).
                      Shorthand of cable = "fixed"; when both are given they must agree.
  cable               the connectors' hardware (every connector alike), default
                      "socket_with_lock" (or "fixed" when fixed_cable = true):
                      "socket_with_lock": a socket whose cable lock holds the plug while charging;
                        UnlockConnector is answered Unlocked (OCPP 1.6 section 5.18).
                      "socket_without_lock": a socket with no cable lock; UnlockConnector is
                        answered NotSupported ("Charge Point has no connector lock", section 7.44),
                        the cases needing a lock (TC_024, TC_030) are N/A.
                      "fixed": a cable fixed to the charge point (no lock; NotSupported).
  unplug_at_ev        sockets only: what the rig's ``unplug`` (the EV side disconnected) does to
                      the cable, default "cable_leaves":
                      "cable_leaves": the cable leaves with the EV unless the charge point holds
                        it locked (UnlockConnectorOnEVSideDisconnect = false on a locking socket);
                        with nothing left at the connector the charge point may go from Charging
                        straight to Available, or through Finishing (section 4.9 allows both).
                      "cable_stays": the cable stays in the socket (the rig disconnects the EV end
                        only); the charge point reports Finishing until it is taken out.
  backup_power        boolean, optional: true, the charge point keeps running long enough after a
                      power cut to stop its transactions (TC_032_1 applies, TC_032_2 is N/A);
                      false, it goes down at once (TC_032_1 N/A). Absent: not declared, the harness
                      watches which one happens and judges that branch.
  communication       non-empty string, default "Ethernet" (free text, e.g. "WiFi", "LTE").
  rfid_readers        integer >= 0, default 1 (0: test cases presenting an idTag locally are N/A).
  authorization_cache boolean, default false.
  local_auth_list     boolean, default: whether LocalAuthListManagement is in profiles; true
                      without that profile is an error.
  reserve_connector_zero  boolean, default false; true needs the Reservation profile.
  file_transfer_protocols  array of HTTP, HTTPS, FTP, FTPS, SFTP; required when
                      FirmwareManagement is claimed (it decides which download URLs the harness
                      offers), otherwise default [].
[timing]              seconds; positive, finite int or float
  response_timeout    required: how long a peer may take to answer a CALL.
  triggered_function_timeout  required: time from a trigger (TriggerMessage, ChangeAvailability,
                      ...) to the request it causes.
  remote_start_response  required for sut "cs": RemoteStartTransaction.req -> .conf.
  authorize_response  required for sut "csms": Authorize.req -> .conf.
  boot_timeout        default 120: a reboot or power cycle until BootNotification.
  max_time_deviation  default 4 (OCTT's default): tolerance of observed intervals and schedules.
[id_tags]             idTags (CiString20: 1 to 20 characters, compared case-insensitively, so
                      no two may be equal ignoring case)
  valid, invalid      required.
  valid2, expired, blocked, parent  optional; test cases needing one are N/A without it.
[security]            optional table (OCPP 1.6 security whitepaper)
  profile             0 (none, default), 1 (basic auth), 2 (TLS + basic auth), 3 (TLS + client
                      certificate).
  basic_auth_password required for profiles 1 and 2. Never shown: not in repr(), the report or a
                      wire log.
  ca_file, cert_file, key_file  paths, relative to the PICS file; they must exist (what they hold
                      is checked before the first case, harness.startup). sut "cs"
                      (harness = TLS server): cert_file and key_file (both or neither) for
                      profiles 2 and 3, ca_file for 3 (to verify client certificates); when left
                      out, the run's own PKI (harness/pki.py, certificates in the report's pki/
                      folder) serves a server certificate signed by its CSMS root, which the
                      device must trust, and verifies client certificates with its CAs. sut
                      "csms" (harness = TLS client): cert_file and key_file for 3 (both or
                      neither; neither only against the embedded simulator, whose run makes
                      them); ca_file optional (default: system trust store).
  key_password        optional: the passphrase of an encrypted key_file. Never shown, as
                      basic_auth_password; without it an encrypted key is a usage error (the
                      harness never prompts for it).
  supported_profiles  sut "cs": array of the security profiles (1 to 3) the charge point can be
                      switched to besides ``profile``; default [] (only ``profile``). A profile
                      below ``profile`` is an error (no downgrade, white paper 2.4). TC_083_CS
                      upgrades to ``profile`` + 1 when it is listed, and is N/A otherwise.
  cipher_suites       sut "cs": array of the white paper's TLS 1.2 suites the charge point
                      offers, IANA names: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                      TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_AES_128_GCM_SHA256,
                      TLS_RSA_WITH_AES_256_GCM_SHA384; default the two ECDHE_ECDSA ones.
                      TC_086_CS makes one handshake per suite listed, its server offering that
                      suite only.
[files]               optional: the harness's file servers (firmware download, diagnostics upload;
                      started only by the cases that need them, on ephemeral ports)
  address             the address they listen on and put in the URLs the charge point is given;
                      default "127.0.0.1" (loopback). A real charge point needs one it can reach.
  firmware            sut "cs": path (relative to the PICS) of a firmware image the charge point
                      installs; default: a generated image (what the embedded simulator takes).
  invalid_firmware    sut "cs": path of an image it must refuse to install (TC_044_3); default:
                      a generated image whose content is not a firmware ("INVALID ...").
  transfer_timeout    seconds, default 60: bound of one download or upload, from the
                      UpdateFirmware / GetDiagnostics request to the status that ends it.
[lab]                 optional: the test laboratory's block of the report, as the certificates
                      print it; every key a non-empty string, shown "not stated" when absent
  test_laboratory     the laboratory ("Korea Smart Grid Association")
  location            where the laboratory is ("Seoul, Korea")
  test_execution_location  where the tests ran ("TaeSeongConTech (Anyang, Korea)")
  report_reference    the report's reference ("KSGA-OCPP1.6TEST-045-2024")
  tester              who ran the tests (named in the Statement of Approval)
[operator]            optional: the person at the bench (--ocpp-driver prompt), apart from the
                      device's timings
  timeout             seconds, default 120: how long the operator has for one action (plug in,
                      present a card, make the central system send an operation). The prompt
                      ends earlier when the wire shows the action took effect.
[harness]             optional, sut "csms": the identity of the charge point the harness plays,
                      sent in its BootNotification (never the [dut] central system's vendor).
  vendor              default "OCPPHarness" (CiString20).
  model               default "HarnessChargePoint" (CiString20).
  firmware_version    default the harness's version (CiString50).
  serial_number       optional (CiString25).
[configuration]       optional: the device's configuration keys as declared (GetConfiguration
                      names, CiString50). Values are kept as strings, as on the wire (CiString500):
                      TOML strings as written, booleans as "true" / "false", integers and finite
                      floats as their decimal text, arrays of strings joined with "," (OCPP's
                      comma separated lists). If NumberOfConnectors or SupportedFeatureProfiles is
                      declared it must agree with [features]. Standard keys (harness/ocpp_keys.py)
                      must hold a value of their type (boolean, integer, a comma separated list
                      within its ...MaxLength); a key that nearly is a standard one
                      (HeartBeatInterval) is an error unless listed in dut.vendor_keys.

File paths (security.*_file, files.firmware, files.invalid_firmware) must resolve inside the PICS
file's folder: a PICS cannot make the harness read, serve or send any other file of the machine
(``../lab/secret.key``, ``/etc/hostname``) unless the user says so (``load(allow_paths=True)``,
the ``--ocpp-allow-paths`` option). A PICS nested deeper than the TOML reader goes is a
:class:`PicsError`, not a crash.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

PROFILES = ("Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation",
            "SmartCharging", "RemoteTrigger")
FILE_TRANSFER_PROTOCOLS = ("HTTP", "HTTPS", "FTP", "FTPS", "SFTP")
CABLES = ("socket_with_lock", "socket_without_lock", "fixed")
UNPLUG_AT_EV = ("cable_leaves", "cable_stays")
SUTS = ("cs", "csms")

_SIM_DIR = Path(__file__).parent / "sim"


class PicsError(ValueError):
    """The PICS cannot be used. ``problems`` holds one line per problem, each naming the key."""

    def __init__(self, source: str | Path, problems: list[str]):
        self.source = str(source)
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{self.source}: {p}" for p in problems))


@dataclass(frozen=True)
class Dut:
    sut: Literal["cs", "csms"]
    vendor: str
    model: str
    firmware_version: str
    charge_point_id: str
    csms_url: str | None = None
    serial_number: str | None = None
    vendor_keys: tuple[str, ...] = ()
    """Configuration keys of the vendor's own that look like standard ones (the lint lets them
    through)."""


@dataclass(frozen=True)
class Features:
    profiles: tuple[str, ...]
    connectors: int
    fixed_cable: bool
    communication: str
    rfid_readers: int
    authorization_cache: bool
    local_auth_list: bool
    reserve_connector_zero: bool
    file_transfer_protocols: tuple[str, ...]
    cable: str = "socket_with_lock"
    """One of :data:`CABLES`; ``fixed_cable`` is ``cable == "fixed"``."""
    unplug_at_ev: str = "cable_leaves"
    """One of :data:`UNPLUG_AT_EV` (sockets; "cable_leaves" for a fixed cable, where the cable
    stays at the charge point but nothing is left in a socket)."""
    backup_power: bool | None = None
    """None: not declared."""

    @property
    def has_lock(self) -> bool:
        """The connectors have a cable lock (a socket with lock)."""
        return self.cable == "socket_with_lock"

    @property
    def unlock_answer(self) -> str:
        """The UnlockConnector.conf status of an existing connector whose lock opens: Unlocked,
        or NotSupported without a lock (OCPP 1.6 section 7.44)."""
        return "Unlocked" if self.has_lock else "NotSupported"

    def unused_actions(self) -> frozenset[str]:
        """Driver actions this hardware never needs (a case's code may name them on a branch
        the model does not take): remove_cable unless the cable stays in a socket."""
        if self.cable != "fixed" and self.unplug_at_ev == "cable_stays":
            return frozenset()
        return frozenset({"remove_cable"})

    def nothing_left_after_unplug(self, unlock_on_ev_side_disconnect: bool) -> bool:
        """Whether, once the EV side is disconnected (the rig's ``unplug``) and the transaction
        stopped, nothing stays in the socket: then Charging -> Available is as right as
        Charging -> Finishing -> Available (OCPP 1.6 section 4.9). A locking socket keeps the cable
        when UnlockConnectorOnEVSideDisconnect is false; a cable_stays rig leaves it in."""
        if self.cable == "fixed":
            return True
        if self.unplug_at_ev == "cable_stays":
            return False
        return not (self.has_lock and not unlock_on_ev_side_disconnect)


@dataclass(frozen=True)
class Timing:
    response_timeout: float
    triggered_function_timeout: float
    remote_start_response: float | None
    authorize_response: float | None
    boot_timeout: float = 120.0
    max_time_deviation: float = 4.0


@dataclass(frozen=True)
class IdTags:
    valid: str
    valid2: str | None
    invalid: str
    expired: str | None
    blocked: str | None
    parent: str | None


WHITE_PAPER_CIPHER_SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}
"""The TLS 1.2 suites of the OCPP 1.6 security white paper: IANA name -> OpenSSL name."""
DEFAULT_CIPHER_SUITES = tuple(WHITE_PAPER_CIPHER_SUITES)[:2]
"""security.cipher_suites when the PICS names none: the ECDHE_ECDSA pair."""


@dataclass(frozen=True)
class Security:
    profile: int = 0
    basic_auth_password: str | None = field(default=None, repr=False)
    """A secret: kept out of repr() (and so out of tracebacks and pytest's assertion output)."""
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    key_password: str | None = field(default=None, repr=False)
    """The passphrase of an encrypted ``key_file``; a secret, as ``basic_auth_password``."""
    supported_profiles: tuple[int, ...] = ()
    """Profiles the charge point can be switched to besides ``profile`` (TC_083_CS)."""
    cipher_suites: tuple[str, ...] = DEFAULT_CIPHER_SUITES
    """The white paper TLS 1.2 suites the charge point offers, IANA names (TC_086_CS)."""


@dataclass(frozen=True)
class Files:
    address: str = "127.0.0.1"
    firmware: str | None = None
    invalid_firmware: str | None = None
    transfer_timeout: float = 60.0


@dataclass(frozen=True)
class Lab:
    test_laboratory: str | None = None
    location: str | None = None
    test_execution_location: str | None = None
    report_reference: str | None = None
    tester: str | None = None


@dataclass(frozen=True)
class Operator:
    timeout: float = 120.0


@dataclass(frozen=True)
class HarnessIdentity:
    """The charge point the harness plays (SUT csms): what its BootNotification says."""
    vendor: str = "OCPPHarness"
    model: str = "HarnessChargePoint"
    firmware_version: str = ""
    serial_number: str | None = None


def _harness_version() -> str:
    from harness import __version__
    return __version__


@dataclass(frozen=True)
class Pics:
    dut: Dut
    features: Features
    timing: Timing
    id_tags: IdTags
    security: Security
    # A read-only view; left out of the hash because mappings are not hashable.
    configuration: Mapping[str, str] = field(hash=False)
    source: Path
    files: Files = Files()
    operator: Operator = Operator()
    lab: Lab = Lab()
    harness: HarnessIdentity = HarnessIdentity()

    def supports(self, profile: str) -> bool:
        """Whether the device claims ``profile``. An unknown name raises, so that a typo in a test
        case cannot quietly mark it N/A."""
        if profile not in PROFILES:
            raise ValueError(f"unknown feature profile {profile!r}; OCPP 1.6 names: "
                             + ", ".join(PROFILES))
        return profile in self.features.profiles


def default_path(sut: str) -> Path:
    """The PICS of the embedded reference simulator playing ``sut``."""
    if sut not in SUTS:
        raise ValueError(f"sut must be one of {', '.join(SUTS)}, got {sut!r}")
    return _SIM_DIR / f"default_{sut}.toml"


# --- checking --------------------------------------------------------------------------------

class _Wrong(Exception):
    """A value breaks a rule; the message says how (when "expected X, found Y" is not enough)."""


_MISSING = object()
"""A key that could not be read (absent or wrong): dependent checks are skipped."""


@dataclass(frozen=True)
class _Check:
    expected: str
    convert: Callable[[Any], Any]
    """Returns the value to keep; raises TypeError for a wrong type, _Wrong for a broken rule."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {int: "an integer", float: "a float", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), f"a {type(value).__name__}")


def _show(value: Any) -> str:
    text = repr(value)
    return f"{text if len(text) <= 60 else text[:57] + '...'} ({_kind(value)})"


def _string(*, max_len: int | None = None, pred: Callable[[str], str | None] | None = None,
            what: str = "a non-empty string") -> _Check:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError
        if not value:
            raise _Wrong(f"expected {what}, found an empty string")
        if max_len is not None and len(value) > max_len:
            raise _Wrong(f"at most {max_len} characters, found {len(value)} in {value!r}")
        problem = pred(value) if pred else None
        if problem:
            raise _Wrong(problem)
        return value
    return _Check(what, convert)


def _choice(options: tuple[str, ...]) -> _Check:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError
        if value not in options:
            raise _Wrong(f"expected one of {', '.join(map(repr, options))}, found {value!r}"
                         + _did_you_mean(value, options))
        return value
    return _Check("one of " + ", ".join(map(repr, options)), convert)


def _bool() -> _Check:
    def convert(value: Any) -> bool:
        if not isinstance(value, bool):
            raise TypeError
        return value
    return _Check("a boolean (true or false)", convert)


def _int(lo: int, hi: int | None = None) -> _Check:
    what = f"an integer >= {lo}" if hi is None else f"an integer from {lo} to {hi}"

    def convert(value: Any) -> int:
        # bool is an int subclass in Python; TOML's true is not a number.
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError
        if value < lo or (hi is not None and value > hi):
            raise _Wrong(f"expected {what}, found {value}")
        return value
    return _Check(what, convert)


def _seconds() -> _Check:
    what = "a positive number of seconds (integer or float)"

    def convert(value: Any) -> float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TypeError
        # TOML has inf and nan; neither is a usable timeout.
        if not math.isfinite(value) or value <= 0:
            raise _Wrong(f"expected {what}, found {value}")
        return float(value)
    return _Check(what, convert)


def _names(options: tuple[str, ...], label: str) -> _Check:
    what = f"an array of {label} names ({', '.join(options)})"

    def convert(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError
        for name in value:
            if name not in options:
                raise _Wrong(f"unknown {label} {name!r}{_did_you_mean(name, options)}; "
                             f"expected names from {', '.join(options)}")
        dupes = sorted({n for n in value if value.count(n) > 1})
        if dupes:
            raise _Wrong(f"{', '.join(dupes)} listed more than once")
        return tuple(value)
    return _Check(what, convert)


def _profiles() -> _Check:
    what = "an array of security profiles (integers 1 to 3)"

    def convert(value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise TypeError
        wrong = [v for v in value if not 1 <= v <= 3]
        if wrong:
            raise _Wrong(f"expected {what}, found {wrong}")
        if len(set(value)) != len(value):
            raise _Wrong(f"a profile listed more than once in {value}")
        return tuple(sorted(value))
    return _Check(what, convert)


def _did_you_mean(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _identity_problem(value: str) -> str | None:
    bad = sorted({c for c in value if c in "/?#" or c.isspace() or not c.isprintable()})
    if bad:
        return (f"the charge point identity is the last segment of the URL path, so it cannot "
                f"contain {', '.join(map(repr, bad))}; found {value!r}")
    return None


def _ws_url_problem(value: str) -> str | None:
    if not value.startswith(("ws://", "wss://")):
        return f"expected a ws:// or wss:// URL, found {value!r}"
    return None


class _Reader:
    """Collects problems while reading tables, so that a PICS gets all its errors in one go."""

    def __init__(self, source: Path, data: dict):
        self.source, self.data = source, data
        self.problems: list[str] = []
        self.allow_paths = False

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def table(self, name: str, known: tuple[str, ...], required: bool = True) -> dict | None:
        """The table's keys, or None when it is missing or not a table (reported once, here: its
        keys are then not reported one by one)."""
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(name, "required table is missing")
                return None
            return {}
        if not isinstance(value, dict):
            self.problem(name, f"expected a table, found {_show(value)}")
            return None
        for key in value:
            if key not in known:
                self.problem(f"{name}.{key}", f"unknown key{_did_you_mean(key, known)}; "
                             f"known keys in [{name}]: {', '.join(known)}")
        return value

    def get(self, table: str, values: dict | None, key: str, check: _Check, *,
            required: bool = False, default: Any = None) -> Any:
        dotted = f"{table}.{key}"
        if values is None:
            return _MISSING if required else default
        if key not in values:
            if required:
                self.problem(dotted, f"required key is missing; expected {check.expected}")
                return _MISSING
            return default
        value = values[key]
        try:
            return check.convert(value)
        except TypeError:
            self.problem(dotted, f"expected {check.expected}, found {_show(value)}")
        except _Wrong as exc:
            self.problem(dotted, str(exc))
        return _MISSING


_TABLES = {
    "dut": ("sut", "vendor", "model", "firmware_version", "charge_point_id", "csms_url",
            "serial_number", "vendor_keys"),
    "features": ("profiles", "connectors", "fixed_cable", "cable", "unplug_at_ev",
                 "backup_power", "communication", "rfid_readers", "authorization_cache",
                 "local_auth_list", "reserve_connector_zero", "file_transfer_protocols"),
    "timing": ("response_timeout", "triggered_function_timeout", "remote_start_response",
               "authorize_response", "boot_timeout", "max_time_deviation"),
    "id_tags": ("valid", "valid2", "invalid", "expired", "blocked", "parent"),
    "security": ("profile", "basic_auth_password", "ca_file", "cert_file", "key_file",
                 "key_password", "supported_profiles", "cipher_suites"),
    "files": ("address", "firmware", "invalid_firmware", "transfer_timeout"),
    "operator": ("timeout",),
    "lab": ("test_laboratory", "location", "test_execution_location", "report_reference",
            "tester"),
    "harness": ("vendor", "model", "firmware_version", "serial_number"),
}


def load(path: str | Path, *, allow_paths: bool = False) -> Pics:
    """Read and check the PICS at ``path``. Raises :class:`PicsError` listing every problem.

    ``allow_paths``: file paths may point outside the PICS file's folder."""
    source = Path(path)
    try:
        with source.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise PicsError(source, [f"cannot read the PICS: {exc.strerror or exc}"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PicsError(source, [f"not valid TOML: {exc}"]) from exc
    except RecursionError:
        raise PicsError(source, ["not a usable PICS: arrays or tables nested deeper than the "
                                 "TOML reader goes (a PICS needs at most two levels)"]) from None
    try:
        return _check(source, data, allow_paths)
    except RecursionError:
        raise PicsError(source, ["not a usable PICS: a value nested too deep to be checked (a "
                                 "PICS needs at most two levels)"]) from None


def _check(source: Path, data: dict, allow_paths: bool) -> Pics:
    r = _Reader(source, data)
    r.allow_paths = allow_paths
    for name in data:
        if name not in _TABLES and name != "configuration":
            r.problem(name, f"unknown table{_did_you_mean(name, [*_TABLES, 'configuration'])}; "
                      f"known tables: {', '.join([*_TABLES, 'configuration'])}")
    dut = _read_dut(r)
    features = _read_features(r)
    timing = _read_timing(r, dut.get("sut"))
    id_tags = _read_id_tags(r)
    security = _read_security(r, dut, source)
    configuration = _read_configuration(r, features, dut.get("vendor_keys"))
    files = _read_files(r, source)
    t = r.table("operator", _TABLES["operator"], required=False)
    operator = {"timeout": r.get("operator", t, "timeout", _seconds(), default=120.0)}
    t = r.table("lab", _TABLES["lab"], required=False)
    lab = {key: r.get("lab", t, key, _string(), default=None) for key in _TABLES["lab"]}
    harness = _read_harness(r)
    if r.problems:
        raise PicsError(source, r.problems)
    return Pics(dut=Dut(**dut), features=Features(**features), timing=Timing(**timing),
                id_tags=IdTags(**id_tags), security=Security(**security),
                configuration=MappingProxyType(configuration), source=source.resolve(),
                files=Files(**files), operator=Operator(**operator), lab=Lab(**lab),
                harness=HarnessIdentity(**harness))


def _read_harness(r: _Reader) -> dict:
    t = r.table("harness", _TABLES["harness"], required=False)
    defaults = HarnessIdentity(firmware_version=_harness_version())
    out = {
        "vendor": r.get("harness", t, "vendor", _string(max_len=20), default=defaults.vendor),
        "model": r.get("harness", t, "model", _string(max_len=20), default=defaults.model),
        "firmware_version": r.get("harness", t, "firmware_version", _string(max_len=50),
                                  default=defaults.firmware_version),
        "serial_number": r.get("harness", t, "serial_number", _string(max_len=25)),
    }
    return {k: (getattr(defaults, k) if v is _MISSING else v) for k, v in out.items()}


def _path(r: _Reader, key: str, value: str, source: Path) -> str:
    """``value`` resolved against the PICS folder; a problem when it does not exist or, unless
    paths are allowed, when it leaves the folder."""
    folder = source.parent.resolve()
    resolved = (folder / value).resolve()
    if not r.allow_paths and not resolved.is_relative_to(folder):
        r.problem(key, f"{value!r} resolves to {str(resolved)!r}, outside the PICS folder "
                  f"{str(folder)!r}; a PICS may only name files beside it (the harness reads, "
                  f"serves or sends them), unless --ocpp-allow-paths is given")
    elif not resolved.is_file():
        r.problem(key, f"file {str(resolved)!r} does not exist")
    return str(resolved)


def _read_dut(r: _Reader) -> dict:
    t = r.table("dut", _TABLES["dut"])
    sut = r.get("dut", t, "sut", _choice(SUTS), required=True)
    cs = sut == "cs"
    # For a charge point these are the BootNotification fields, bounded by their CiString sizes.
    out = {
        "sut": sut,
        "vendor": r.get("dut", t, "vendor", _string(max_len=20 if cs else None), required=True),
        "model": r.get("dut", t, "model", _string(max_len=20 if cs else None), required=True),
        "firmware_version": r.get("dut", t, "firmware_version",
                                  _string(max_len=50 if cs else None), required=True),
        "charge_point_id": r.get("dut", t, "charge_point_id",
                                 _string(pred=_identity_problem), required=True),
        "csms_url": r.get("dut", t, "csms_url", _string(pred=_ws_url_problem, what="a ws:// or "
                          "wss:// URL"), required=sut == "csms"),
        "serial_number": r.get("dut", t, "serial_number", _string(max_len=25 if cs else None)),
        "vendor_keys": r.get("dut", t, "vendor_keys", _key_names(), default=()),
    }
    return out


def _key_names() -> _Check:
    what = "an array of configuration key names"

    def convert(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise TypeError
        return tuple(value)
    return _Check(what, convert)


def _read_features(r: _Reader) -> dict:
    t = r.table("features", _TABLES["features"])
    g = lambda key, check, **kw: r.get("features", t, key, check, **kw)  # noqa: E731
    profiles = g("profiles", _names(PROFILES, "feature profile"), required=True)
    if profiles is not _MISSING and "Core" not in profiles:
        r.problem("features.profiles", f"Core is required (every OCPP 1.6 certificate includes "
                  f"it), found {list(profiles)}")
        profiles = _MISSING
    claims = (lambda p: p in profiles) if profiles is not _MISSING else (lambda p: None)

    local_auth_list = g("local_auth_list", _bool(), default=bool(claims("LocalAuthListManagement")))
    if local_auth_list is True and claims("LocalAuthListManagement") is False:
        r.problem("features.local_auth_list", "true, but features.profiles does not claim "
                  "LocalAuthListManagement")
    reserve_zero = g("reserve_connector_zero", _bool(), default=False)
    if reserve_zero is True and claims("Reservation") is False:
        r.problem("features.reserve_connector_zero", "true, but features.profiles does not claim "
                  "Reservation")
    protocols = g("file_transfer_protocols", _names(FILE_TRANSFER_PROTOCOLS, "protocol"),
                  required=bool(claims("FirmwareManagement")), default=())
    cable, fixed, unplug = _read_cable(r, t)
    return {
        "profiles": profiles,
        "connectors": g("connectors", _int(1), default=1),
        "fixed_cable": fixed,
        "cable": cable,
        "unplug_at_ev": unplug,
        "backup_power": g("backup_power", _bool(), default=None),
        "communication": g("communication", _string(), default="Ethernet"),
        "rfid_readers": g("rfid_readers", _int(0), default=1),
        "authorization_cache": g("authorization_cache", _bool(), default=False),
        "local_auth_list": local_auth_list,
        "reserve_connector_zero": reserve_zero,
        "file_transfer_protocols": protocols,
    }


def _read_cable(r: _Reader, t: dict | None) -> tuple[Any, Any, Any]:
    """features.cable, fixed_cable (its shorthand) and unplug_at_ev, which must agree."""
    g = lambda key, check, **kw: r.get("features", t, key, check, **kw)  # noqa: E731
    fixed = g("fixed_cable", _bool(), default=None)
    cable = g("cable", _choice(CABLES), default=None)
    unplug = g("unplug_at_ev", _choice(UNPLUG_AT_EV), default=None)
    if cable is None:
        cable = "fixed" if fixed else "socket_with_lock"
    if isinstance(fixed, bool) and isinstance(cable, str) and fixed != (cable == "fixed"):
        r.problem("features.fixed_cable", f"{str(fixed).lower()} disagrees with features.cable = "
                  f"{cable!r} (fixed_cable = true is cable = 'fixed'); give one of the two")
    if isinstance(unplug, str) and cable == "fixed":
        r.problem("features.unplug_at_ev", f"{unplug!r}, but features.cable is 'fixed': a fixed "
                  "cable stays at the charge point; unplug_at_ev describes a socket's cable")
    fixed = cable == "fixed" if isinstance(cable, str) else fixed
    return cable, False if fixed is None else fixed, unplug or "cable_leaves"


def _read_timing(r: _Reader, sut: Any) -> dict:
    t = r.table("timing", _TABLES["timing"])
    s = _seconds()
    return {
        "response_timeout": r.get("timing", t, "response_timeout", s, required=True),
        "triggered_function_timeout": r.get("timing", t, "triggered_function_timeout", s,
                                            required=True),
        "remote_start_response": r.get("timing", t, "remote_start_response", s,
                                       required=sut == "cs"),
        "authorize_response": r.get("timing", t, "authorize_response", s, required=sut == "csms"),
        "boot_timeout": r.get("timing", t, "boot_timeout", s, default=120.0),
        "max_time_deviation": r.get("timing", t, "max_time_deviation", s, default=4.0),
    }


def _read_id_tags(r: _Reader) -> dict:
    t = r.table("id_tags", _TABLES["id_tags"])
    tag = _string(max_len=20, what="an idTag of 1 to 20 characters (CiString20)")
    out = {key: r.get("id_tags", t, key, tag, required=key in ("valid", "invalid"))
           for key in _TABLES["id_tags"]}
    # idTags are case-insensitive: "ABC" and "abc" are the same card to the device.
    seen: dict[str, str] = {}
    for key, value in out.items():
        if isinstance(value, str):
            if value.casefold() in seen:
                r.problem(f"id_tags.{key}", f"{value!r} is the same idTag as "
                          f"id_tags.{seen[value.casefold()]} (idTags compare case-insensitively)")
            else:
                seen[value.casefold()] = key
    return out


def _read_security(r: _Reader, dut: dict, source: Path) -> dict:
    t = r.table("security", _TABLES["security"], required=False)
    profile = r.get("security", t, "profile", _int(0, 3), default=0)
    out = {"profile": profile,
           "basic_auth_password": r.get("security", t, "basic_auth_password", _string(),
                                        required=profile in (1, 2)),
           "key_password": r.get("security", t, "key_password", _string(), required=False),
           "supported_profiles": r.get("security", t, "supported_profiles", _profiles(),
                                       default=()),
           "cipher_suites": r.get("security", t, "cipher_suites",
                                  _names(tuple(WHITE_PAPER_CIPHER_SUITES), "cipher suite"),
                                  default=DEFAULT_CIPHER_SUITES)}
    others = out["supported_profiles"]
    if isinstance(profile, int) and isinstance(others, tuple):
        lower = [p for p in others if p < profile]
        if lower:
            r.problem("security.supported_profiles",
                      f"{lower} is below security.profile {profile}: a charge point does not go "
                      "to a lower security profile (OCPP 1.6 security white paper 2.4)")
    server = dut.get("sut") == "cs"  # the harness is the TLS server when the device is a CP
    # As TLS server the harness has its own per-run PKI; a lab's files, when given, go together.
    # As TLS client on profile 3 the harness needs its charge point certificate: required at the
    # start of a run against a device of yours (harness/plugin.py); the embedded simulator's run
    # makes one with its PKI. Given, the two go together.
    pair = isinstance(t, dict) and ("cert_file" in t or "key_file" in t)
    needs = {
        "ca_file": False,
        "cert_file": profile in (2, 3) and pair if server else profile == 3 and pair,
        "key_file": profile in (2, 3) and pair if server else profile == 3 and pair,
    }
    for key, required in needs.items():
        value = r.get("security", t, key, _string(what="a file path"), required=required)
        if isinstance(value, str):
            value = _path(r, f"security.{key}", value, source)
        out[key] = value
    url = dut.get("csms_url")
    if isinstance(url, str) and isinstance(profile, int) and dut.get("sut") == "csms":
        scheme = "wss://" if profile >= 2 else "ws://"
        if not url.startswith(scheme):
            r.problem("dut.csms_url", f"security.profile {profile} needs a {scheme} URL, "
                      f"found {url!r}")
    return {k: (None if v is _MISSING else v) for k, v in out.items()}


def _read_files(r: _Reader, source: Path) -> dict:
    t = r.table("files", _TABLES["files"], required=False)
    out = {"address": r.get("files", t, "address", _string(what="a host name or IP address"),
                            default="127.0.0.1"),
           "transfer_timeout": r.get("files", t, "transfer_timeout", _seconds(), default=60.0)}
    for key in ("firmware", "invalid_firmware"):
        value = r.get("files", t, key, _string(what="a file path"))
        if isinstance(value, str):
            value = _path(r, f"files.{key}", value, source)
        out[key] = value
    return {k: (Files.__dataclass_fields__[k].default if v is _MISSING else v)
            for k, v in out.items()}


def _config_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Wrong(f"expected a finite number, found {value}")
        return repr(value)
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        if any("," in v for v in value):
            raise _Wrong("an item of a comma separated list cannot contain ','")
        text = ",".join(value)
    else:
        raise TypeError
    if len(text) > 500:
        raise _Wrong(f"at most 500 characters (CiString500), found {len(text)}")
    return text


def _read_configuration(r: _Reader, features: dict, vendor_keys: Any = ()) -> dict[str, str]:
    # Any key name is allowed here, so the table is read directly rather than through r.table.
    t = r.data.get("configuration", {})
    if not isinstance(t, dict):
        r.problem("configuration", f"expected a table, found {_show(t)}")
        return {}
    check = _Check("a string, boolean, integer, float or array of strings", _config_value)
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key in t:
        if len(key) > 50:
            r.problem(f"configuration.{key}", f"a configuration key has at most 50 characters "
                      f"(CiString50), found {len(key)}")
            continue
        if key.casefold() in seen:
            r.problem(f"configuration.{key}", f"the same key as configuration."
                      f"{seen[key.casefold()]} (configuration keys compare case-insensitively)")
            continue
        seen[key.casefold()] = key
        value = r.get("configuration", t, key, check)
        if value is not _MISSING:
            out[key] = value
    _lint_configuration(r, out, vendor_keys if isinstance(vendor_keys, tuple) else ())
    _cross_check(r, out, features)
    return out


def _lint_configuration(r: _Reader, config: dict[str, str], vendor_keys: tuple[str, ...]) -> None:
    """Standard keys with values of their type; no key that nearly is a standard one
    (harness/ocpp_keys.py states the rules)."""
    from harness import ocpp_keys

    for key, value in config.items():
        if key in vendor_keys:
            continue
        meant = ocpp_keys.near_standard_key(key)
        if meant is not None:
            r.problem(f"configuration.{key}", f"not an OCPP 1.6 configuration key; did you mean "
                      f"{meant}? (a vendor's own key goes in dut.vendor_keys)")
            continue
        problem = ocpp_keys.value_problem(key, value, config)
        if problem:
            r.problem(f"configuration.{key}", f"expected {problem}")


def _cross_check(r: _Reader, config: dict[str, str], features: dict) -> None:
    """The same fact declared twice must agree, or a test case would judge against the wrong one."""
    n = config.get("NumberOfConnectors")
    connectors = features["connectors"]
    if n is not None and isinstance(connectors, int) and n != str(connectors):
        r.problem("configuration.NumberOfConnectors", f"{n!r} disagrees with features.connectors "
                  f"= {connectors}")
    declared = config.get("SupportedFeatureProfiles")
    if declared is not None and isinstance(features["profiles"], tuple):
        names = {p.strip() for p in declared.split(",") if p.strip()}
        if names != set(features["profiles"]):
            r.problem("configuration.SupportedFeatureProfiles", f"{declared!r} disagrees with "
                      f"features.profiles = {list(features['profiles'])}")
