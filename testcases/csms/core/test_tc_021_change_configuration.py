"""TC_021_CSMS Change/set Configuration (Core).

The operator makes the central system set MeterValueSampleInterval to 60; the harness's charge point
accepts. The request must carry that key (CiString50, compared case-insensitively) and the value
"60" exactly (a string, as the schema requires).
"""

from harness.cases import case
from harness.states.csms import booted, operator_sends

KEY, VALUE = "MeterValueSampleInterval", "60"


@case("TC_021_CSMS", "Change/set Configuration", profile="Core", needs=("Booted",))
async def test_tc_021_csms_change_configuration(csms, driver, pics):
    await booted(csms, pics)

    # 1. [OPERATOR: set MeterValueSampleInterval to 60] Central system: ChangeConfiguration.req
    # 2. Harness: ChangeConfiguration.conf Accepted
    request = await operator_sends(csms, driver, pics, "ChangeConfiguration",
                                   {"key": KEY, "value": VALUE},
                                   answer={"status": "Accepted"}, step=1)
    assert request["key"].casefold() == KEY.casefold(), (
        f"step 1: ChangeConfiguration.req key is {request['key']!r}, expected {KEY!r} (wire log "
        f"line {request.line})")
    assert request["value"] == VALUE, (
        f"step 1: ChangeConfiguration.req value is {request['value']!r}, expected {VALUE!r} "
        f"(wire log line {request.line})")
