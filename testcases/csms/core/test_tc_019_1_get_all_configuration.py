"""TC_019_1_CSMS Retrieve all configuration keys (Core).

The operator makes the central system ask for the whole configuration; the harness's charge point
answers with every key of its PICS [configuration], with the accessibility OCPP 1.6 section 9
gives each (read-only keys readonly = true).

Reading: "all keys" is a GetConfiguration.req without a key list, or with an empty one (OCPP 1.6
section 5.8: if the list of keys is empty or missing, the charge point returns all settings). A
central system that names the keys one by one, or splits them over several requests, does not do
what the case asks.
"""

from harness.cases import case
from harness.states.csms import booted, get_configuration_answer, operator_sends


@case("TC_019_1_CSMS", "Retrieve all configuration keys", profile="Core", needs=("Booted",))
async def test_tc_019_1_csms_get_all_configuration(csms, driver, pics):
    await booted(csms, pics)

    # 1. [OPERATOR: get the whole configuration] Central system: GetConfiguration.req
    # 2. Harness: GetConfiguration.conf with every key it supports
    request = await operator_sends(csms, driver, pics, "GetConfiguration", {},
                                   answer=get_configuration_answer(pics), step=1)
    assert not request.get("key"), (
        f"step 1: GetConfiguration.req asks for the keys {request['key']!r}, expected no key list "
        f"(all keys) (wire log line {request.line})")
