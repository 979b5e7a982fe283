"""TC_019_2_CSMS Retrieve Specific Configuration Key (Core).

The operator makes the central system ask for one key, SupportedFeatureProfiles; the harness's
charge point answers with that key and no unknownKey. The request must name exactly that key
(configuration keys are CiString50, compared case-insensitively).
"""

from harness.cases import case
from harness.states.csms import booted, get_configuration_answer, operator_sends

KEY = "SupportedFeatureProfiles"


@case("TC_019_2_CSMS", "Retrieve Specific Configuration Key", profile="Core", needs=("Booted",))
async def test_tc_019_2_csms_get_configuration_key(csms, driver, pics):
    await booted(csms, pics)

    # 1. [OPERATOR: get the key SupportedFeatureProfiles] Central system: GetConfiguration.req
    # 2. Harness: GetConfiguration.conf with that key, unknownKey empty
    request = await operator_sends(csms, driver, pics, "GetConfiguration", {"key": [KEY]},
                                   answer=get_configuration_answer(pics), step=1)
    keys = request.get("key")
    assert isinstance(keys, list) and [k.casefold() for k in keys] == [KEY.casefold()], (
        f"step 1: GetConfiguration.req key is {keys!r}, expected [{KEY!r}] (wire log line "
        f"{request.line})")
