"""harness/load/: the Locust swarm against the reference CSMS in its own process, and the verdicts.

The end-to-end runs (each 50 charge points for 10 s, python -m harness.load.refsim) go side by side
in one test, so that the file takes about as long as one of them (~25 s at load 20 on 2 cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.load import objectives

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 180


def _figures(**over):
    base = {"users": 10, "users_started": 10, "booted": 10, "time_to_all_booted_s": 2.0,
            "actions": {a: {"n": 30, "p50_ms": 1, "p95_ms": 5, "p99_ms": 9}
                        for a in ("Heartbeat", "BootNotification", "StatusNotification")},
            "callerrors": 0, "timeouts": 0, "connect_failures": 0, "disconnects": 0,
            "csms_violations": 0, "generator_findings": 0,
            "generator": {"cpu_mean_percent": 20, "loop_lag_p95_ms": 30,
                          "heartbeat_lag_p95_ms": 40}}
    base.update(over)
    return base


def test_objectives_verdicts():
    slo = objectives.load(None)
    assert objectives.judge(slo, "steady", _figures())["verdict"] == "PASS"
    slow = _figures()
    slow["actions"]["Heartbeat"] = {"n": 30, "p50_ms": 1500, "p95_ms": 1600, "p99_ms": 1700}
    verdict = objectives.judge(slo, "steady", slow)
    assert verdict["verdict"] == "FAIL"
    assert verdict["reasons"] == ["Heartbeat p95: 1600 > 1000 (30 answered)"]
    # A saturated generator never makes a FAIL of the CSMS, even with a missed objective.
    saturated = dict(slow, generator={"cpu_mean_percent": 99, "loop_lag_p95_ms": 30})
    verdict = objectives.judge(slo, "steady", saturated)
    assert verdict["verdict"] == "INCONCLUSIVE"
    assert "CPU averaged 99 %" in verdict["reasons"][0]
    lagging = dict(slow, generator={"cpu_mean_percent": 50, "loop_lag_p95_ms": 900})
    assert objectives.judge(slo, "steady", lagging)["verdict"] == "INCONCLUSIVE"
    # Nothing measured to judge an objective on: INCONCLUSIVE, not PASS.
    quiet = _figures()
    del quiet["actions"]["Heartbeat"]
    verdict = objectives.judge(slo, "steady", quiet)
    assert verdict["verdict"] == "INCONCLUSIVE"
    assert verdict["reasons"] == ["Heartbeat p95: no Heartbeat answered"]
    # Not all booted: FAIL with the count.
    verdict = objectives.judge(slo, "boot-storm", _figures(booted=7, time_to_all_booted_s=None,
                                                           actions={}))
    assert verdict["verdict"] == "FAIL"
    assert any("7 of 10 booted" in r for r in verdict["reasons"])
    assert objectives.judge(slo, "steady", _figures(generator_findings=2))["verdict"] == \
        "INCONCLUSIVE"


def test_objectives_file_errors(tmp_path):
    bad = tmp_path / "slo.toml"
    bad.write_text("[steady]\nmax_callerors = 0\n")
    with pytest.raises(objectives.ObjectivesError, match=r"\[steady\] max_callerors"):
        objectives.load(bad)
    bad.write_text("[steady]\np95_ms = 5\n")
    with pytest.raises(objectives.ObjectivesError, match="p95_ms"):
        objectives.load(bad)


def _start(report: Path, refsim: list[str], load: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "harness.load.refsim", *refsim, "--",
               "--users", "50", "--time", "10", "--report", str(report), *load]
    # (a later --users / --time in `load` wins: argparse keeps the last)
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "OCPP_LOAD_TEST_PASSWORD": "s3cret-pw"})


def test_swarm_against_reference_csms(tmp_path):
    pics1 = tmp_path / "csms-profile1.toml"
    default = (ROOT / "harness/sim/default_csms.toml").read_text()
    pics1.write_text(default.replace("[security]\nprofile = 0",
                                     '[security]\nprofile = 1\nbasic_auth_password = "s3cret-pw"'))
    assert "profile = 1" in pics1.read_text()
    wrong = tmp_path / "csms-profile1-other.toml"
    wrong.write_text(pics1.read_text().replace('"s3cret-pw"', '"other-pw"'))
    runs = {
        "steady": _start(tmp_path / "steady", ["--heartbeat-interval", "2"],
                         ["--scenario", "steady", "--spawn-rate", "25"]),
        "slow": _start(tmp_path / "slow", ["--heartbeat-interval", "2", "--fault",
                                           "late_answer:action=Heartbeat,delay_ms=1500"],
                       ["--scenario", "steady", "--spawn-rate", "25"]),
        # A boot storm on security profile 1 (HTTP Basic), the CSMS Pending for its first 3 s.
        "storm": _start(tmp_path / "storm", ["--heartbeat-interval", "2", "--boot-pending", "3",
                                             "--pics", str(pics1)],
                        ["--scenario", "boot-storm", "--password-env",
                         "OCPP_LOAD_TEST_PASSWORD"]),
        # Profile 1 with the wrong password: every connection refused (HTTP 401) -> FAIL with
        # the count, not a hang and not an ERROR.
        "refused": _start(tmp_path / "refused", ["--pics", str(wrong)],
                          ["--scenario", "boot-storm", "--password-env",
                           "OCPP_LOAD_TEST_PASSWORD", "--users", "5", "--time", "5"]),
    }
    out, reports = {}, {}
    for name, process in runs.items():
        out[name] = process.communicate(timeout=RUN_TIMEOUT)[0]
        out[name] = (process.returncode, out[name])
        path = tmp_path / name / "report.json"
        reports[name] = json.loads(path.read_text()) if path.exists() else None

    code, text = out["steady"]
    steady = reports["steady"]
    assert code == 0 and steady["verdict"] == "PASS", text
    assert steady["booted"] == 50 and steady["boot_status"] == {"Accepted": 50}
    assert steady["actions"]["Heartbeat"]["n"] >= 50  # interval 2 s, 10 s run
    assert steady["actions"]["StatusNotification"]["n"] >= 150  # connectors 0, 1, 2 of each
    assert steady["sessions"].get("completed", 0) > 0, steady["sessions"]
    assert steady["generator_findings"] == 0 and steady["csms_violations"] == 0
    assert steady["generator"]["cpu_mean_percent"] is not None

    code, text = out["slow"]
    slow = reports["slow"]
    assert code == 1 and slow["verdict"] == "FAIL", text
    assert any(r.startswith("Heartbeat p95: ") for r in slow["reasons"]), slow["reasons"]
    assert slow["actions"]["Heartbeat"]["p95_ms"] >= 1500
    assert slow["actions"]["StatusNotification"]["p95_ms"] < 1000  # only Heartbeat is late

    code, text = out["storm"]
    storm = reports["storm"]
    assert code == 0 and storm["verdict"] == "PASS", text
    # Pending for 3 s with interval 1: a charge point that honours the interval boots ~4 times.
    assert storm["boot_status"]["Accepted"] == 50
    assert 50 <= storm["boot_status"].get("Pending", 0) <= 50 * 5, storm["boot_status"]
    assert storm["time_to_all_booted_s"] >= 3 - 0.5
    assert "Authorize" not in storm["actions"]  # a storm has no sessions
    assert storm["booted"] == 50 and storm["connect_failures"] == 0
    assert "s3cret-pw" not in (tmp_path / "storm" / "report.json").read_text()
    assert "s3cret-pw" not in text


    code, text = out["refused"]
    refused = reports["refused"]
    assert code == 1 and refused["verdict"] == "FAIL", text
    assert refused["booted"] == 0 and refused["connect_failures"] >= 5
    assert any(r.startswith("connect_failures: ") for r in refused["reasons"]), refused["reasons"]
    assert any(r.startswith("all booted within s: ") and "0 of 5 booted" in r
               for r in refused["reasons"]), refused["reasons"]


def test_disruption_objectives():
    slo = objectives.load(None)
    ok = _figures(disruption={"disrupted": 4, "recovered": 4, "queued": 16, "replayed": 16},
                  recovery_s={"max": 1.5}, replay_lost=0)
    assert objectives.judge(slo, "blackout", ok)["verdict"] == "PASS"
    late = dict(ok, disruption={"disrupted": 4, "recovered": 3, "queued": 16, "replayed": 12},
                replay_lost=4)
    verdict = objectives.judge(slo, "blackout", late)
    assert verdict["verdict"] == "FAIL"
    assert "all recovered within s: 3 of 4 disrupted charge points Accepted again by the end " \
        "of the run" in verdict["reasons"]
    assert "replay_lost: 4 > 0" in verdict["reasons"]
    # Nothing disrupted, nothing queued: INCONCLUSIVE, not a PASS on nothing.
    idle = _figures(disruption={}, recovery_s={"max": None}, replay_lost=None)
    verdict = objectives.judge(slo, "blackout", idle)
    assert verdict["verdict"] == "INCONCLUSIVE", verdict
    assert "replay_lost: nothing to count" in verdict["reasons"]
    kept = _figures(duplicates={"attempted": 5, "replaced": 2, "kept_both": 3})
    verdict = objectives.judge(slo, "duplicate-identity", kept)
    assert verdict["verdict"] == "FAIL"
    assert verdict["reasons"] == ["duplicate identity: expected either (OCPP-J: one connection "
                                  "per charge point identity), of 5 second connections: "
                                  "kept_both 3, replaced 2"]
    pending = objectives.judge(slo, "duplicate-identity",
                               _figures(duplicates={"attempted": 5, "replaced": 3}))
    assert pending["verdict"] == "INCONCLUSIVE" and "2 of 5 second connections not decided" \
        in pending["reasons"][0]
    replaced = _figures(duplicates={"attempted": 5, "replaced": 5})
    assert objectives.judge(slo, "duplicate-identity", replaced)["verdict"] == "PASS"
    strict = {"duplicate-identity": {"duplicate_identity": "refuse"}}
    assert objectives.judge(strict, "duplicate-identity", replaced)["verdict"] == "FAIL"


def test_disruptions_against_reference_csms(tmp_path):
    """Each disrupting scenario PASSes on the reference CSMS and FAILs, with the figure, on the
    CSMS fault it is there to catch (100 charge points each, the runs side by side). The storm
    fault sheds boots past 40 a second: the ramp (10 a second; Locust spawns them in batches a
    second apart, so two batches can share a window) passes, a wave of 50 restarts or 100 charge
    points back from a blackout at once does not; back over 5 s (--reconnect-jitter) they do."""
    storm = "drop_boots_under_storm:threshold=40,window_ms=1000"
    common = ["--users", "100", "--spawn-rate", "10", "--response-timeout", "3",
              "--event-at", "12"]
    rolling = [*common, "--scenario", "rolling-restart", "--fraction", "0.5", "--spread", "0",
               "--time", "22"]
    blackout = [*common, "--scenario", "blackout", "--offline", "3", "--time", "22"]
    duplicate = [*common, "--scenario", "duplicate-identity", "--fraction", "0.2",
                 "--time", "20"]
    hb = ["--heartbeat-interval", "5"]
    runs = {"rolling": _start(tmp_path / "rolling", hb, rolling),
            "rolling-storm": _start(tmp_path / "rolling-storm", [*hb, "--fault", storm], rolling),
            "blackout": _start(tmp_path / "blackout", hb, blackout),
            "blackout-storm": _start(tmp_path / "blackout-storm", [*hb, "--fault", storm],
                                     blackout),
            # The same fault with the return spread over 5 s (about 20 boots a second): passes.
            "blackout-jitter-storm": _start(tmp_path / "blackout-jitter-storm",
                                            [*hb, "--fault", storm],
                                            [*blackout, "--reconnect-jitter", "5",
                                             "--time", "26"]),
            "duplicate": _start(tmp_path / "duplicate", hb, duplicate),
            "duplicate-kept": _start(tmp_path / "duplicate-kept",
                                     [*hb, "--fault", "accept_duplicate_identity"], duplicate)}
    out, r = {}, {}
    for name, process in runs.items():
        out[name] = (process.communicate(timeout=RUN_TIMEOUT)[0], process.returncode)
        path = tmp_path / name / "report.json"
        r[name] = json.loads(path.read_text()) if path.exists() else None

    for name in ("rolling", "blackout", "blackout-jitter-storm", "duplicate"):
        text, code = out[name]
        assert code == 0 and r[name]["verdict"] == "PASS", text
    assert r["rolling"]["disruption"]["disrupted"] == r["rolling"]["disruption"]["recovered"] \
        == 50  # every second charge point (--fraction 0.5)
    assert r["rolling"]["boot_status"]["Accepted"] == 100 + 50
    blackout_ok = r["blackout"]
    assert blackout_ok["disruption"]["disrupted"] == 100
    assert blackout_ok["disruption"]["queued"] == blackout_ok["disruption"]["replayed"] == 100 * 4
    assert blackout_ok["actions"]["StartTransaction"]["n"] == 100
    assert r["duplicate"]["duplicates"] == {"attempted": 20, "replaced": 20}

    for name in ("rolling-storm", "blackout-storm"):
        text, code = out[name]
        assert code == 1 and r[name]["verdict"] == "FAIL", text
        assert r[name]["time_to_all_booted_s"] < 12, text  # the ramp was not what it dropped
        assert r[name]["timeouts_by_action"].get("BootNotification", 0) > 0, text
        assert any(x.startswith("timeouts: ") for x in r[name]["reasons"]), r[name]["reasons"]
    text, code = out["duplicate-kept"]
    kept = r["duplicate-kept"]
    assert code == 1 and kept["verdict"] == "FAIL", text
    assert kept["duplicates"] == {"attempted": 20, "kept_both": 20}
    assert any(x.startswith("duplicate identity: expected either") and "kept_both 20" in x
               for x in kept["reasons"]), kept["reasons"]


def test_cases_under_load_and_two_worker_processes(tmp_path):
    """Conformance cases run against the reference CSMS while the swarm runs, their verdicts in
    the load report: PASS, and a FAIL of the run when the CSMS's fault makes a case FAIL under
    load. And the swarm on two Locust worker processes under a master: every charge point its
    own identity, the workers' figures merged."""
    cases = "-k 'TC_001_CSMS or TC_023_3_CSMS'"
    load = ["--users", "50", "--spawn-rate", "50", "--time", "6"]
    hb = ["--heartbeat-interval", "2"]
    runs = {"cases": _start(tmp_path / "cases", [*hb, "--cases", cases], load),
            "cases-fault": _start(tmp_path / "cases-fault",
                                  [*hb, "--cases", cases, "--fault", "accept_blocked_idtag"], load),
            "workers": _start(tmp_path / "workers", hb, ["--users", "40", "--spawn-rate", "40",
                                                         "--time", "8", "--processes", "2",
                                                         "--source-addresses", "4"])}
    out, r = {}, {}
    for name, process in runs.items():
        out[name] = (process.communicate(timeout=RUN_TIMEOUT)[0], process.returncode)
        path = tmp_path / name / "report.json"
        r[name] = json.loads(path.read_text()) if path.exists() else None

    text, code = out["cases"]
    assert code == 0 and r["cases"]["verdict"] == "PASS", text
    assert [(v["id"], v["verdict"]) for v in r["cases"]["cases"]["verdicts"]] == \
        [("TC_001_CSMS", "PASS"), ("TC_023_3_CSMS", "PASS")]
    assert r["cases"]["booted"] == 50
    text, code = out["cases-fault"]
    faulted = r["cases-fault"]
    assert code == 1 and faulted["verdict"] == "FAIL", text
    assert faulted["reasons"] == [
        f"conformance cases under load: TC_023_3_CSMS FAIL: {v['reason']}"
        for v in faulted["cases"]["verdicts"] if v["id"] == "TC_023_3_CSMS"]
    assert "is 'Accepted' for the idTag 'BLOCKED0001', expected 'Blocked'" in faulted["reasons"][0]
    assert faulted["booted"] == 50 and faulted["callerrors"] == 0  # the swarm was fine
    page = (tmp_path / "cases-fault" / "report.html").read_text()
    assert "TC_023_3_CSMS" in page and "idTag &#x27;BLOCKED0001&#x27;, expected &#x27;Blocked&#x27;" in page

    text, code = out["workers"]
    workers = r["workers"]
    assert code == 0 and workers["verdict"] == "PASS", text
    assert workers["users_started"] == workers["booted"] == 40  # 40 distinct identities
    assert len(workers["generator"]["processes"]["workers"]) == 2
    assert workers["actions"]["BootNotification"]["n"] == 40
    # ... from four loopback source addresses, round robin over the charge points' numbers
    assert workers["connections_by_source"] == {f"127.0.0.{i}": 10 for i in range(1, 5)}


def test_report_html_escapes_what_the_csms_sent():
    from harness.load import html
    hostile = "<script>alert(1)</script>"
    figures = _figures(scenario="steady", verdict="FAIL", reasons=[f"findings: 1 > 0 {hostile}"],
                       objectives=[{"objective": "findings", "limit": 0, "measured": 1,
                                    "met": False}],
                       finding_samples=[{"chargePointId": "LOAD00001", "sender": "csms",
                                         "action": "Heartbeat", "rule": "additionalProperties",
                                         "path": "$", "message": hostile,
                                         "frame": f'[3,"1",{{"{hostile}":1}}]'}],
                       cases={"command": "pytest", "exit": 1, "timed_out": False,
                              "report": "r", "verdicts": [{"id": "TC_001_CSMS",
                                                           "verdict": "FAIL", "reason": hostile,
                                                           "duration_s": 1.0}]},
                       timeline=[{"t": 5, "users": 10, "p95_ms": {"Heartbeat": 4}},
                                 {"t": 10, "users": 10, "p95_ms": {"Heartbeat": 9}}])
    for action in figures["actions"].values():
        action.update(failures=0, min_ms=0, max_ms=9, rps=1.0)
    page = html.render(figures)
    assert "<script" not in page and page.count("&lt;script&gt;") >= 4
    assert "<svg" in page and "<polyline" in page and "TC_001_CSMS" in page


def test_swarm_over_tls(tmp_path):
    """Security profile 2 (wss://, HTTP Basic): the reference CSMS serves TLS with its PICS's
    certificate; the swarm checks it against --ca-file and times the handshake apart (WS tls).
    Without the CA the certificate cannot be verified: every connection fails, a FAIL with the
    count, never a hang."""
    import trustme
    ca = trustme.CA()
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(tmp_path / "csms.pem")
    default = (ROOT / "harness/sim/default_csms.toml").read_text()
    pics = tmp_path / "csms-profile2.toml"
    pics.write_text(default.replace("[security]\nprofile = 0", '[security]\nprofile = 2\n'
                                    'basic_auth_password = "s3cret-pw"\ncert_file = "csms.pem"')
                    .replace('csms_url = "ws://', 'csms_url = "wss://'))
    assert "profile = 2" in pics.read_text()
    ca.issue_cert("load-charge-points").private_key_and_cert_chain_pem.write_to_path(
        tmp_path / "client.pem")
    pics3 = tmp_path / "csms-profile3.toml"
    pics3.write_text(pics.read_text().replace("profile = 2\n", 'profile = 3\nca_file = "ca.pem"\n'
                                                 'key_file = "csms.pem"\n'))
    secure = ["--pics", str(pics), "--heartbeat-interval", "2"]
    common = ["--users", "30", "--spawn-rate", "30", "--time", "5", "--password-env",
              "OCPP_LOAD_TEST_PASSWORD"]
    runs = {"tls": _start(tmp_path / "tls", secure,
                          [*common, "--ca-file", str(tmp_path / "ca.pem")]),
            "untrusted": _start(tmp_path / "untrusted", secure, common),
            # Profile 3: the CSMS requires a client certificate signed by its CA.
            "mutual": _start(tmp_path / "mutual", ["--pics", str(pics3)],
                             [*common, "--ca-file", str(tmp_path / "ca.pem"),
                              "--cert-file", str(tmp_path / "client.pem")]),
            "no-client-cert": _start(tmp_path / "no-client-cert", ["--pics", str(pics3)],
                                     [*common, "--ca-file", str(tmp_path / "ca.pem")])}
    out, r = {}, {}
    for name, process in runs.items():
        out[name] = (process.communicate(timeout=RUN_TIMEOUT)[0], process.returncode)
        path = tmp_path / name / "report.json"
        r[name] = json.loads(path.read_text()) if path.exists() else None
    text, code = out["tls"]
    assert code == 0 and r["tls"]["verdict"] == "PASS", text
    assert r["tls"]["csms_url"].startswith("wss://127.0.0.1:")
    assert r["tls"]["booted"] == 30 and r["tls"]["actions"]["WS tls"]["n"] == 30
    assert "s3cret-pw" not in text and "s3cret-pw" not in (tmp_path / "tls/report.json").read_text()
    text, code = out["untrusted"]
    assert code == 1 and r["untrusted"]["verdict"] == "FAIL", text
    assert r["untrusted"]["booted"] == 0
    assert r["untrusted"]["connect_errors"].get("SSLCertVerificationError", 0) >= 30, text
    text, code = out["mutual"]
    assert code == 0 and r["mutual"]["verdict"] == "PASS" and r["mutual"]["booted"] == 30, text
    text, code = out["no-client-cert"]
    assert code == 1 and r["no-client-cert"]["booted"] == 0, text
    assert r["no-client-cert"]["connect_failures"] >= 30, text
