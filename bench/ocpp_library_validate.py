"""The PyPI `ocpp` library validating a wire log, as a whole process: the comparison point of
bench_validate_cli.py. Generous to the library: each line is parsed once with orjson, the
Call / CallResult is built straight from the array (no second parse), and the library's own
payload validation (`ocpp.messages._validate_payload`, OCPP 1.6 schemas, jsonschema) runs in this
thread. Prints `frames rejected` and exits 0.

    .venv/bin/python bench/ocpp_library_validate.py LOG.jsonl
"""

from __future__ import annotations

import sys

import orjson
import ocpp.messages as om


def main(path: str) -> int:
    actions: dict[str, str] = {}
    frames = rejected = 0
    validate = om._validate_payload
    with open(path, "rb") as fh:
        for line in fh:
            obj = orjson.loads(line)
            frame = obj.get("frame")
            if type(frame) is not list:
                continue
            frames += 1
            try:
                if frame[0] == 2:
                    msg = om.Call(*frame[1:])
                    actions[msg.unique_id] = msg.action
                elif frame[0] == 3:
                    msg = om.CallResult(*frame[1:])
                    msg.action = actions.pop(msg.unique_id)
                else:
                    continue
                validate(msg, "1.6")
            except Exception:  # noqa: BLE001 - a rejection is counted, it must not stop the run
                rejected += 1
    print(frames, rejected)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
