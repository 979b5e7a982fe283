"""JUnit XML (``--junitxml``) that CI tools can read the verdicts from.

Rules, the same every time whatever phase of pytest a verdict was reached in:

| verdict      | testcase child                                        | counted in   |
|--------------|-------------------------------------------------------|--------------|
| PASS         | none                                                  | tests        |
| FAIL         | ``<failure type="FAIL" message=reason>``              | failures     |
| INCONCLUSIVE | ``<error type="INCONCLUSIVE" message=reason>``        | errors       |
| ERROR        | ``<error type="ERROR" message=reason>`` (the harness's own failure, the traceback as text) | errors |
| N/A          | ``<skipped type="N/A" message=reason>``               | skipped      |
| BLOCKED      | ``<skipped type="BLOCKED" message="not run: ...">``   | skipped      |

So ``<failure>`` is always the device's failure, ``<error>`` a case that did not conclude (the
type says whose: the set-up's or the harness's). A waived FAIL stays ``<failure>``; the waiver is
a property. Every OCPP testcase carries the properties ``verdict``, ``profile``, ``wire_log``
and ``remarks`` (the remarks one per line; empty when none), beside what other plugins record.

pytest writes the file at session finish; :func:`normalise` rewrites it once after that, from the
run's own results (the plugin calls it at ``pytest_unconfigure``).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

CHILD = {"FAIL": "failure", "INCONCLUSIVE": "error", "ERROR": "error", "N/A": "skipped",
         "BLOCKED": "skipped"}
OUTCOMES = ("failure", "error", "skipped")
PROPERTIES = ("verdict", "profile", "wire_log", "remarks")


def normalise(path: str | Path, results: dict[str, Any]) -> int:
    """Rewrite the JUnit file at ``path``: every testcase whose name starts with an OCPP test case
    id of ``results`` (id -> CaseResult) gets the child and properties of the table above; the
    suites' counters follow. Returns how many testcases were rewritten."""
    tree = ET.parse(path)
    root = tree.getroot()
    done = 0
    for suite in root.iter("testsuite"):
        for case in suite.iter("testcase"):
            result = results.get((case.get("name") or "").split(" ", 1)[0])
            if result is None:
                continue
            _rewrite(case, result)
            done += 1
        _recount(suite)
    tmp = Path(str(path) + ".tmp")
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)
    return done


def _rewrite(case: ET.Element, result: Any) -> None:
    text = ""
    for child in list(case):
        if child.tag in OUTCOMES:
            text = text or (child.text or "")
            case.remove(child)
    tag = CHILD.get(result.verdict)
    if tag is not None:
        element = ET.Element(tag, {"type": result.verdict,
                                   "message": _xml_safe(_first_line(result.reason))})
        element.text = _xml_safe(text if result.verdict == "ERROR" and text else result.reason)
        # The outcome goes first, where the JUnit schema puts it (before system-out).
        case.insert(_after_properties(case), element)
    properties = case.find("properties")
    if properties is None:
        properties = ET.Element("properties")
        case.insert(0, properties)
    for prop in list(properties):
        if prop.get("name") in PROPERTIES:
            properties.remove(prop)
    for name, value in (("verdict", result.verdict), ("profile", result.profile),
                        ("wire_log", result.wire_log or ""),
                        ("remarks", "\n".join(getattr(result, "remarks", None) or ()))):
        ET.SubElement(properties, "property", {"name": name, "value": _xml_safe(value)})


def _after_properties(case: ET.Element) -> int:
    children = list(case)
    return 1 if children and children[0].tag == "properties" else 0


def _recount(suite: ET.Element) -> None:
    cases = list(suite.iter("testcase"))
    for tag, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        suite.set(attribute, str(sum(1 for c in cases if c.find(tag) is not None)))
    suite.set("tests", str(len(cases)))


def _first_line(text: str) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")[:500]


_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """What the device sent may hold characters XML 1.0 cannot carry (NUL, ESC): written as
    #xNN, as pytest's own junitxml does."""
    return _NOT_XML.sub(lambda m: f"#x{ord(m.group()):02X}", text or "")
