"""TC_040_2_CSMS Configuration keys - Invalid value (Core).

The operator makes the central system set MeterValueSampleInterval to an invalid value; the
harness's charge point answers Rejected. What is tested is that the central system copes; the
request must be for MeterValueSampleInterval (CiString50, compared case-insensitively).

Reading: the operator is asked for the value "-1" (what the charge point variant of this case
uses); the value the request carries is not checked, as in the OCTT (2025-11 checks only the key).
"""

from harness.cases import case
from harness.states.csms import booted, operator_sends

KEY = "MeterValueSampleInterval"


@case("TC_040_2_CSMS", "Configuration keys - Invalid value", profile="Core", needs=("Booted",))
async def test_tc_040_2_csms_configuration_invalid_value(csms, driver, pics):
    await booted(csms, pics)

    # 1. [OPERATOR: set MeterValueSampleInterval to -1] Central system: ChangeConfiguration.req
    # 2. Harness: ChangeConfiguration.conf Rejected
    request = await operator_sends(csms, driver, pics, "ChangeConfiguration",
                                   {"key": KEY, "value": "-1"},
                                   answer={"status": "Rejected"}, step=1)
    assert request["key"].casefold() == KEY.casefold(), (
        f"step 1: ChangeConfiguration.req key is {request['key']!r}, expected {KEY!r} (wire log "
        f"line {request.line})")
