"""Fault injection: named, realistic bugs a simulator can be told to have, so that the harness can
prove it catches each of them.

A fault is a registry entry (name, which simulator, one-line description, typed parameters). A
simulator holds a :class:`Faults` set; its code asks ``faults.get(name)`` at a few well-named hook
points, and the wire-level faults (the ones that only rewrite a frame) are applied in one place,
:meth:`Faults.rewrite`, so the normal code path stays free of them. ``docs/faults.md`` is generated
from this registry (``python -m harness.sim faults-doc``) and a test checks that the two agree.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from harness import clock

Side = Literal["cp", "csms", "both"]


class FaultError(ValueError):
    """An unknown fault or a bad parameter; the message says what is accepted."""


@dataclass(frozen=True)
class Param:
    name: str
    type: type
    default: Any
    help: str


@dataclass(frozen=True)
class FaultSpec:
    name: str
    side: Side
    description: str
    params: tuple[Param, ...] = ()
    legal: bool = False
    """Not a bug: a behaviour OCPP allows that the reference simulator does not show by default
    (a foreign device's other legal branch). The false-failure entries of the fidelity catalogue
    (harness/fidelity/legal.py) run the suites with these and must see no FAIL."""

    def applies_to(self, side: str) -> bool:
        return self.side in (side, "both")


def _p(name: str, type_: type, default: Any, help_: str) -> Param:
    return Param(name, type_, default, help_)


_ACTION = _p("action", str, "*", "OCPP action it applies to, * for every action")

REGISTRY: dict[str, FaultSpec] = {spec.name: spec for spec in (
    # --- wire level, either simulator --------------------------------------------------------
    FaultSpec("late_answer", "both", "answers the peer's CALLs late, after delay_ms",
              (_ACTION, _p("delay_ms", int, 2000, "delay before the answer, in ms"))),
    FaultSpec("no_answer", "both", "never answers the peer's CALLs of that action", (_ACTION,)),
    FaultSpec("callerror_instead_of_result", "both",
              "answers a CALLERROR where a CALLRESULT is due",
              (_ACTION, _p("code", str, "InternalError", "the CALLERROR code sent"))),
    FaultSpec("missing_field", "both", "leaves a field out of the payloads it sends for an action",
              (_p("action", str, "", "OCPP action (required)"),
               _p("field", str, "", "dotted path of the field, e.g. idTagInfo.status "
                                    "(required)"))),
    FaultSpec("extra_field", "both", "adds a field the schema does not know to an action's payloads",
              (_ACTION, _p("field", str, "vendorExtension", "name of the added field"),
               _p("value", str, "x", "its value"))),
    FaultSpec("wrong_value", "both", "sends a wrong value in one field of an action's payloads",
              (_p("action", str, "", "OCPP action (required)"),
               _p("field", str, "", "dotted path of the field (required)"),
               _p("value", str, "", "the value sent instead (a JSON literal is decoded: 5, true, "
                                    "\"x\")"))),
    FaultSpec("misspelt_error_code", "both",
              "spells CALLERROR codes the OCPP 2.0 way (FormatViolation, "
              "OccurrenceConstraintViolation)"),
    FaultSpec("callerror_codes_reversed", "both",
              "answers NotSupported where NotImplemented is due (an unknown action) and "
              "NotImplemented where NotSupported is due (a known action it does not support)"),
    FaultSpec("protocol_error_for_everything", "both",
              "answers every CALL it cannot take with CALLERROR ProtocolError, whatever the "
              "cause (unknown action, unsupported action, malformed payload)"),
    FaultSpec("stall_after_garbage", "both",
              "after a frame it cannot read (not JSON, an answer to no CALL) it answers no CALL "
              "any more on that connection (a parser left in a bad state)"),
    FaultSpec("timestamp_no_timezone", "both", "writes the timestamps of an action's payloads "
              "without a timezone (2024-05-01T10:00:00.000)", (_ACTION,)),
    FaultSpec("cistring_overlong", "both", "sends a CiString longer than its maximum length",
              (_p("action", str, "", "OCPP action (default: BootNotification for a charge point, "
                                     "Authorize for a CSMS)"),
               _p("field", str, "", "dotted path of the string (default: chargePointVendor / "
                                    "idTagInfo.parentIdTag)"),
               _p("length", int, 0, "length sent (default: the maximum + 1)"))),
    FaultSpec("duplicate_unique_id", "both", "reuses one uniqueId for every CALL it sends"),
    FaultSpec("garbage_frame", "both", "sends a frame that is not OCPP-J after each connection is "
              "opened (and once when injected while connected)",
              (_p("text", str, "this is not an OCPP-J frame", "the frame sent"),)),
    # --- reference charge point --------------------------------------------------------------
    FaultSpec("boot_ignore_interval", "cp", "retries a Pending/Rejected BootNotification after "
              "delay_ms instead of the interval the CSMS gave",
              (_p("delay_ms", int, 100, "retry delay, in ms"),)),
    FaultSpec("heartbeat_wrong_interval", "cp", "sends heartbeats at factor x the HeartbeatInterval",
              (_p("factor", float, 0.5, "multiplier applied to the interval"),)),
    FaultSpec("skip_status_notification", "cp", "never sends StatusNotification for one connector",
              (_p("connectorId", int, 0, "the connector left out (0: the charge point)"),)),
    FaultSpec("wrong_status", "cp", "reports one connector status as another",
              (_p("real", str, "Charging", "the status the connector is in"),
               _p("sent", str, "SuspendedEVSE", "the status reported instead"))),
    FaultSpec("wrong_transaction_id", "cp", "MeterValues and StopTransaction carry the "
              "transactionId plus offset",
              (_p("offset", int, 1, "added to the transactionId the CSMS gave"),)),
    FaultSpec("meter_values_wrong_interval", "cp", "samples meter values during a transaction at "
              "factor x the MeterValueSampleInterval",
              (_p("factor", float, 2.0, "multiplier applied to the interval"),)),
    FaultSpec("ignore_connection_timeout", "cp", "keeps an authorization waiting for the cable "
              "forever instead of ending it after ConnectionTimeOut"),
    FaultSpec("reauthorize_on_present", "cp", "reads an idTag presented again while it waits for "
              "the cable as a new authorization (Authorize.req again, ConnectionTimeOut restarted) "
              "instead of ending the authorization: only ConnectionTimeOut ends it (legal; many "
              "charge points do so)", legal=True),
    FaultSpec("firmware_reboot_late", "cp", "after FirmwareStatusNotification Installing, reboots "
              "only delay_ms later (a slow flash), then reports Installed (legal: OCPP bounds no "
              "installation time)",
              (_p("delay_ms", int, 8000, "time from Installing to the reboot, in ms"),),
              legal=True),
    FaultSpec("meter_values_out_of_order", "cp", "after a connection loss, sends the queued "
              "MeterValues newest first"),
    FaultSpec("ignore_config_change", "cp", "answers Accepted to ChangeConfiguration but keeps the "
              "old value", (_p("key", str, "*", "configuration key, * for every key"),)),
    FaultSpec("wrong_stop_reason", "cp", "StopTransaction carries another reason",
              (_p("reason", str, "Other", "the reason sent"),
               _p("when", str, "*", "the real reason it replaces, * for every reason"))),
    FaultSpec("accept_remote_start_connector_zero", "cp",
              "accepts a RemoteStartTransaction for connectorId 0 (and starts on connector 1)"),
    FaultSpec("unlock_unknown_connector", "cp",
              "answers Unlocked to UnlockConnector for a connector that does not exist"),
    FaultSpec("ignore_local_pre_authorize", "cp", "sends Authorize for an idTag it holds as "
              "Accepted although LocalPreAuthorize is true"),
    FaultSpec("reservation_expiry_shift", "cp", "ends a reservation offset_ms away from its "
              "expiryDate (a timer on the wrong clock, or a rounding of the expiry)",
              (_p("offset_ms", int, 2000, "added to the expiryDate (negative: ends early)"),)),
    FaultSpec("reservation_not_enforced", "cp", "reports the connector Reserved but lets any idTag "
              "use it"),
    FaultSpec("reservation_ignores_parent", "cp", "honours a reservation only for its idTag, never "
              "for another idTag with the reservation's parentIdTag"),
    FaultSpec("firmware_fake_download", "cp", "reports Downloading and Downloaded (and installs) "
              "without fetching the firmware from the location"),
    FaultSpec("diagnostics_fake_upload", "cp", "reports Uploading and Uploaded without sending the "
              "diagnostics file to the location"),
    FaultSpec("local_list_version_stuck", "cp", "accepts SendLocalList but GetLocalListVersion keeps "
              "reporting the version it had before"),
    FaultSpec("local_list_differential_as_full", "cp", "applies a Differential SendLocalList as a "
              "Full one: the idTags it does not name are dropped"),
    FaultSpec("local_list_version_not_checked", "cp", "accepts a Differential SendLocalList whose "
              "listVersion is not newer than the installed one (no VersionMismatch)"),
    FaultSpec("trigger_not_sent", "cp", "answers Accepted to TriggerMessage but never sends the "
              "requested message",
              (_p("requestedMessage", str, "*", "the message left out, * for every one"),)),
    FaultSpec("trigger_unknown_connector", "cp", "answers Accepted to a TriggerMessage for a "
              "connector that does not exist"),
    # --- reference charge point: security extension (harness/sim/cp/security.py) ------------
    FaultSpec("basic_auth_missing", "cp", "opens its connection without HTTP Basic credentials on "
              "security profile 1 or 2"),
    FaultSpec("basic_auth_wrong_user", "cp", "sends HTTP Basic credentials whose user is not its "
              "chargePointId (the id with -X appended)"),
    FaultSpec("authorization_key_not_applied", "cp", "accepts a new AuthorizationKey but keeps "
              "authenticating with the password it was delivered with"),
    FaultSpec("install_certificate_not_stored", "cp", "answers InstallCertificate Accepted without "
              "storing the certificate"),
    FaultSpec("certificate_hash_of_pem", "cp", "computes issuerNameHash over the certificate's PEM "
              "text instead of the DER issuer name (GetInstalledCertificateIds, DeleteCertificate)"),
    FaultSpec("delete_certificate_not_deleted", "cp", "answers DeleteCertificate Accepted but keeps "
              "the certificate"),
    FaultSpec("csr_wrong_cn", "cp", "puts another CN than its serial number in the CSR of "
              "SignCertificate (the serial with -X appended)"),
    FaultSpec("csr_weak_key", "cp", "makes a 1024-bit RSA key for the CSR of SignCertificate"),
    FaultSpec("accept_any_certificate_chain", "cp", "answers CertificateSigned Accepted without "
              "verifying the chain (and never uses it)"),
    FaultSpec("security_event_not_sent", "cp", "sends no SecurityEventNotification at all"),
    FaultSpec("security_profile_downgrade_accepted", "cp", "accepts a lower SecurityProfile "
              "(ChangeConfiguration), keeping its connection as it is"),
    FaultSpec("client_cert_missing", "cp", "presents no client certificate on security profile 3 "
              "(wss:// only)"),
    FaultSpec("certificate_signed_not_used", "cp", "answers CertificateSigned Accepted but keeps "
              "connecting with its old client certificate"),
    FaultSpec("stack_level_inverted", "cp", "among charging profiles of one purpose, the lowest "
              "stackLevel wins instead of the highest"),
    FaultSpec("composite_limits_shifted", "cp", "GetCompositeSchedule reports each period with "
              "the limit of the period before it (off by one period)"),
    FaultSpec("tx_default_skips_running_tx", "cp", "a TxDefaultProfile set while a transaction "
              "runs does not limit that transaction"),
    FaultSpec("composite_negative_sentinel", "cp", "GetCompositeSchedule reports a period where "
              "nothing limits the connector with limit -1 and numberPhases -1 (a firmware's "
              "internal 'no limit' sentinel leaking onto the wire)"),
    FaultSpec("clear_ignores_stack_level", "cp", "ClearChargingProfile by criteria ignores "
              "stackLevel and clears every stack level of the purpose"),
    # --- reference charge point: legal behaviour (not bugs) -----------------------------------
    FaultSpec("available_after_unplug", "cp", "when a transaction stops after an EV-side "
              "disconnect that left nothing at the connector (no lock holding the cable), goes "
              "straight to Available, without Finishing (OCPP 1.6 section 4.9 allows it)",
              legal=True),
    FaultSpec("reserve_zero_unreported", "cp", "a reservation of connector 0 changes no "
              "connector's status: the connector held for the idTag stays Available and refuses "
              "other idTags (section 5.13 asks for no StatusNotification)", legal=True),
    FaultSpec("exit_on_reset", "cp", "the firmware exits on Reset (after stopping its "
              "transactions): the connection drops without a WebSocket close, and its rig or "
              "supervisor starts it again after restart_ms",
              (_p("restart_ms", int, 3000, "time until the rig has restarted the firmware, in "
                                           "ms"),), legal=True),
    FaultSpec("connection_timeout_late", "cp", "a coarse timer: an authorization waiting for the "
              "cable ends delay_ms after ConnectionTimeOut (legal while within the PICS "
              "max_time_deviation)",
              (_p("delay_ms", int, 400, "added to ConnectionTimeOut, in ms"),), legal=True),
    FaultSpec("rig_without_fault_inputs", "cp", "the rig has no fault inputs: it declares none of "
              "report_fault, clear_fault, lock_failure, unlock_failure, local_list_failure among "
              "its capabilities and refuses them (the cases needing them are N/A)", legal=True),
    # --- reference CSMS -----------------------------------------------------------------------
    FaultSpec("accept_blocked_idtag", "csms", "answers Accepted for a Blocked idTag"),
    FaultSpec("accept_unknown_idtag", "csms", "answers Accepted for an unknown or Invalid idTag"),
    FaultSpec("reuse_transaction_id", "csms", "gives every transaction the same transactionId",
              (_p("transactionId", int, 1, "the id given every time"),)),
    FaultSpec("transaction_id_as_string", "csms", "sends the transactionId as a JSON string"),
    FaultSpec("wrong_current_time", "csms", "BootNotification and Heartbeat carry a currentTime "
              "off by offset_s", (_p("offset_s", int, 3600, "seconds added to the real time"),)),
    FaultSpec("expiry_in_past", "csms", "Accepted idTagInfo carries an expiryDate in the past"),
    FaultSpec("unsolicited_result", "csms", "sends a CALLRESULT that answers no CALL after every "
              "BootNotification answer"),
    FaultSpec("subprotocol_not_checked", "csms", "upgrades a connection whose handshake does not "
              "offer ocpp1.6 and keeps it open",
              (_p("mode", str, "echo", "echo: selects the first subprotocol offered; none: "
                                       "answers without Sec-WebSocket-Protocol"),)),
    FaultSpec("disconnect_after_boot", "csms",
              "closes the connection right after answering a BootNotification"),
    FaultSpec("drop_boots_under_storm", "csms",
              "an overloaded boot handler shedding load silently: never answers a "
              "BootNotification that arrives while more than threshold others arrived within the "
              "last window_ms (a boot storm after a blackout, a rolling restart)",
              (_p("threshold", int, 50, "BootNotifications answered per window"),
               _p("window_ms", int, 1000, "the sliding window, in ms"))),
    FaultSpec("basic_auth_not_checked", "csms", "on security profile 1/2, upgrades a "
              "connection whatever its HTTP Basic credentials (mode any: also none; present: any "
              "password, but credentials must be sent)",
              (_p("mode", str, "any", "any: no credentials accepted too; present: a wrong "
                                      "password accepted, none refused"),)),
    FaultSpec("server_cert_cn_not_fqdn", "csms", "on security profile 2/3, serves a certificate "
              "whose subject CN is a descriptive name, not its endpoint's FQDN (the SAN still "
              "names it, so the handshake verifies)"),
    FaultSpec("server_cert_expired", "csms", "on security profile 2/3, serves a server "
              "certificate that expired a day ago (not renewed)"),
    FaultSpec("client_cert_not_required", "csms", "on security profile 3, does not ask for a "
              "client certificate: any charge point that knows the URL connects"),
    FaultSpec("authorization_key_not_stored", "csms", "sends ChangeConfiguration "
              "AuthorizationKey but keeps checking the charge point's old password"),
    FaultSpec("authorization_key_plain", "csms", "sends a new AuthorizationKey as a plain "
              "password, not in hexadecimal (then checks the charge point against it)",
              (_p("value", str, "plain-password-key-1", "the key sent"),)),
    FaultSpec("tls12_ecdsa_suites_missing", "csms", "on security profile 2/3, its TLS 1.2 "
              "configuration leaves out the ECDHE_ECDSA suites although its certificate is EC "
              "(TLS 1.3 still connects)"),
    FaultSpec("accept_duplicate_identity", "csms",
              "keeps a charge point's open connection when a second one arrives with the same "
              "identity, and serves both (the default closes the old one: the newest wins)"),
    # --- reference CSMS: legal behaviour ------------------------------------------------------
    FaultSpec("boot_pending_first", "csms", "answers the first count BootNotifications of each "
              "connection Pending with a retry interval, then Accepted; with trigger_ms >= 0 it "
              "also sends TriggerMessage BootNotification that long after each Pending (legal: "
              "section 4.2, the charge point retries after interval or when triggered)",
              (_p("count", int, 1, "Pending answers per connection before Accepted"),
               _p("interval", int, 1, "the interval of a Pending answer, in s (0: the charge "
                                      "point chooses)"),
               _p("trigger_ms", int, -1, "TriggerMessage BootNotification this long after a "
                                         "Pending answer, in ms; -1: never")), legal=True),
    FaultSpec("heartbeat_interval_own", "csms", "an Accepted BootNotification carries its own "
              "heartbeat interval, not the PICS HeartbeatInterval (legal: the interval is the "
              "central system's to choose, section 4.2)",
              (_p("seconds", int, 45, "the interval given"),), legal=True),
    FaultSpec("idtaginfo_optional_fields", "csms", "every Accepted idTagInfo carries the optional "
              "expiryDate (a day ahead) and parentIdTag (the PICS parent idTag), and "
              "StopTransaction.conf carries the transaction's idTagInfo even when the request has "
              "no idTag (legal: optional fields of 7.25 IdTagInfo, 6.50)", legal=True),
    FaultSpec("requests_after_boot", "csms", "after every Accepted BootNotification sends, one "
              "after the other, GetConfiguration (all keys), ChangeConfiguration HeartbeatInterval "
              "(the interval it gave) and TriggerMessage StatusNotification (legal: a central "
              "system may send any request once it accepted the charge point; with on_pending=1 "
              "after a Pending answer too, which 4.2 names as what Pending is for)",
              (_p("on_pending", int, 0, "1: also after a Pending answer"),), legal=True),
    FaultSpec("trigger_after_boot", "csms", "after every Accepted BootNotification sends "
              "TriggerMessage Heartbeat and TriggerMessage MeterValues for connector 1, and takes "
              "no operator command for that charge point until the triggered messages came "
              "(legal: after Accepted the charge point SHALL send them, 5.17; a back end that "
              "syncs time and meter first)", legal=True),
    FaultSpec("remote_start_without_connector", "csms", "sends RemoteStartTransaction without "
              "connectorId, whatever it was asked (legal: connectorId is optional, 6.33; the "
              "charge point chooses)", legal=True),
)}


@dataclass
class ActiveFault:
    spec: FaultSpec
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"name": self.spec.name, "params": dict(self.params)}


def parse_cli(text: str) -> tuple[str, dict[str, str]]:
    """``name`` or ``name:key=value,key=value`` as given to ``--fault``."""
    name, _, rest = text.partition(":")
    params: dict[str, str] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise FaultError(f"--fault {text!r}: expected key=value, found {item!r}")
        params[key.strip()] = value.strip()
    return name.strip(), params


def _convert(spec: FaultSpec, param: Param, value: Any) -> Any:
    if param.type is str:
        if isinstance(value, str):
            return value
        raise FaultError(f"fault {spec.name}: {param.name} must be a string, got {value!r}")
    if isinstance(value, bool):
        raise FaultError(f"fault {spec.name}: {param.name} must be a number, got {value!r}")
    try:
        return param.type(value)
    except (TypeError, ValueError):
        raise FaultError(f"fault {spec.name}: {param.name} must be "
                         f"{'an integer' if param.type is int else 'a number'}, got {value!r}")


class Faults:
    """The faults active in one simulator."""

    def __init__(self, side: Literal["cp", "csms"], initial: Any = ()):
        self.side = side
        self._active: dict[str, ActiveFault] = {}
        for item in initial:
            if isinstance(item, str):
                self.inject(*parse_cli(item))
            elif isinstance(item, tuple):
                self.inject(item[0], dict(item[1]))
            else:
                raise FaultError(f"a fault is a name, 'name:k=v' or (name, params), got {item!r}")

    @classmethod
    def names(cls, side: str) -> list[str]:
        return [name for name, spec in REGISTRY.items() if spec.applies_to(side)]

    def inject(self, name: str, params: dict[str, Any] | None = None) -> ActiveFault:
        spec = REGISTRY.get(name)
        if spec is None or not spec.applies_to(self.side):
            raise FaultError(f"unknown fault {name!r} for the "
                             f"{'charge point' if self.side == 'cp' else 'CSMS'}; known: "
                             + ", ".join(self.names(self.side)))
        params = dict(params or {})
        known = {p.name: p for p in spec.params}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise FaultError(f"fault {name}: unknown parameter(s) {', '.join(unknown)}; accepted: "
                             + (", ".join(known) or "none"))
        values = {p.name: _convert(spec, p, params[p.name]) if p.name in params else p.default
                  for p in spec.params}
        if name in ("missing_field", "wrong_value") and not (values["action"] and values["field"]):
            raise FaultError(f"fault {name}: action and field are required")
        if name == "cistring_overlong":
            default = ("BootNotification", "chargePointVendor", 20) if self.side == "cp" else \
                ("Authorize", "idTagInfo.parentIdTag", 20)
            values["action"] = values["action"] or default[0]
            values["field"] = values["field"] or default[1]
            values["length"] = values["length"] or default[2] + 1
        fault = ActiveFault(spec, values)
        self._active[name] = fault
        return fault

    def clear(self, name: str | None = None) -> None:
        if name is None:
            self._active.clear()
        else:
            self._active.pop(name, None)

    def get(self, name: str) -> dict[str, Any] | None:
        """The parameters of fault ``name`` when it is active, else None."""
        fault = self._active.get(name)
        return fault.params if fault is not None else None

    def for_action(self, name: str, action: str) -> dict[str, Any] | None:
        params = self.get(name)
        if params is None or params.get("action", "*") not in ("*", action):
            return None
        return params

    def to_json(self) -> list[dict]:
        return [fault.to_json() for fault in self._active.values()]

    def __bool__(self) -> bool:
        return bool(self._active)

    # --- the wire-level hook: one place that rewrites what a simulator sends --------------------

    def rewrite(self, action: str, payload: dict) -> dict:
        """The payload of a CALL or CALLRESULT for ``action`` as the active faults would send it."""
        if not self._active:
            return payload
        out = copy.deepcopy(payload)
        if (p := self.for_action("missing_field", action)) is not None:
            _pop_path(out, p["field"])
        if (p := self.for_action("wrong_value", action)) is not None:
            _set_path(out, p["field"], _literal(p["value"]))
        if (p := self.for_action("extra_field", action)) is not None:
            out[p["field"]] = p["value"]
        if (p := self.for_action("cistring_overlong", action)) is not None:
            current = _get_path(out, p["field"])
            if isinstance(current, str) and current:  # only a string that is there grows
                _set_path(out, p["field"], (current * p["length"])[:p["length"]])
        if self.for_action("timestamp_no_timezone", action) is not None:
            out = _strip_zones(out)
        return out

    def error_code(self, code: str) -> str:
        if self.get("protocol_error_for_everything") is not None:
            return "ProtocolError"
        if self.get("callerror_codes_reversed") is not None:
            code = {"NotImplemented": "NotSupported", "NotSupported": "NotImplemented"}.get(code,
                                                                                          code)
        if self.get("misspelt_error_code") is not None:
            return {"FormationViolation": "FormatViolation",
                    "OccurenceConstraintViolation": "OccurrenceConstraintViolation"}.get(code, code)
        return code


def _literal(text: str) -> Any:
    import json
    try:
        return json.loads(text)
    except ValueError:
        return text


def _split(path: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def _get_path(obj: Any, path: str) -> Any:
    for part in _split(path):
        try:
            obj = obj[part]
        except (KeyError, IndexError, TypeError):
            return None
    return obj


def _parent(obj: Any, path: str, create: bool) -> tuple[Any, str | int] | None:
    parts = _split(path)
    for part in parts[:-1]:
        try:
            obj = obj[part]
        except KeyError:
            if not create or not isinstance(obj, dict):
                return None
            obj[part] = {}
            obj = obj[part]
        except (IndexError, TypeError):
            return None
    return obj, parts[-1]


def _pop_path(obj: Any, path: str) -> None:
    found = _parent(obj, path, create=False)
    if found is not None and isinstance(found[0], dict):
        found[0].pop(found[1], None)


def _set_path(obj: Any, path: str, value: Any) -> None:
    found = _parent(obj, path, create=True)
    if found is None:
        return
    container, key = found
    if isinstance(container, dict) or (isinstance(container, list) and isinstance(key, int)
                                       and key < len(container)):
        container[key] = value


def _strip_zones(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_zones(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_zones(v) for v in value]
    if clock.parse_time(value, default_zone=clock.UTC) is not None:  # one the simulator wrote
        return value[:-1] if value.endswith("Z") else value[:-6] if value[-6] in "+-" else value
    return value


def render_markdown() -> str:
    """The text of docs/faults.md."""
    lines = [
        "# Simulator faults",
        "",
        "Generated from `harness/sim/faults.py` by `python -m harness.sim faults-doc`; "
        "do not edit by hand (a test checks the two agree).",
        "",
        "Inject a fault at start (`--fault NAME` or `--fault NAME:key=value,key=value`), or at run "
        "time with the control action `POST /inject_fault {\"name\": NAME, ...params}`; "
        "`POST /clear_faults {}` removes them all. `GET /status` lists the active ones.",
        "",
    ]
    titles = {"both": "Either simulator (wire level)", "cp": "Reference charge point",
              "csms": "Reference CSMS"}
    groups = [(side, False, titles[side]) for side in ("both", "cp", "csms")]
    groups.insert(2, ("cp", True, "Reference charge point: legal behaviour, not bugs (the "
                                  "false-failure entries of harness/fidelity/legal.py)"))
    groups.append(("csms", True, "Reference CSMS: legal behaviour, not bugs (the false-failure "
                                 "entries of harness/fidelity/legal.py)"))
    for side, legal, title in groups:
        lines += [f"## {title}", "", "| fault | what it does | parameters |", "|---|---|---|"]
        for spec in REGISTRY.values():
            if spec.side != side or spec.legal != legal:
                continue
            params = "; ".join(f"`{p.name}` ({p.type.__name__}, default `{p.default!r}`): {p.help}"
                               for p in spec.params) or "none"
            lines.append(f"| `{spec.name}` | {spec.description} | {params} |")
        lines.append("")
    return "\n".join(lines)
