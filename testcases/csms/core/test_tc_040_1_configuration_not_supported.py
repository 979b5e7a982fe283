"""TC_040_1_CSMS Configuration keys - NotSupported (Core).

The operator makes the central system change a configuration key the harness's charge point does
not know; the charge point answers NotSupported. What is tested is that the central system copes.

Reading: the document leaves key and value to the central system's side and checks nothing on the
request. The operator is asked for the key "Testing" with value "true" (what the charge point
variant of this case uses); any ChangeConfiguration.req is answered NotSupported and nothing in it
is checked, as in the OCTT.
"""

from harness.cases import case
from harness.states.csms import booted, operator_sends


@case("TC_040_1_CSMS", "Configuration keys - NotSupported", profile="Core", needs=("Booted",))
async def test_tc_040_1_csms_configuration_not_supported(csms, driver, pics):
    await booted(csms, pics)

    # 1. [OPERATOR: change an unknown key] Central system: ChangeConfiguration.req
    # 2. Harness: ChangeConfiguration.conf NotSupported
    await operator_sends(csms, driver, pics, "ChangeConfiguration",
                         {"key": "Testing", "value": "true"},
                         answer={"status": "NotSupported"}, step=1)
