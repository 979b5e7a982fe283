"""TC_040_1_CS Configuration key - NotSupported and TC_040_2_CS Configuration key - Invalid value
(Core).

TC_040_1: ChangeConfiguration.req key "Testing", value "true" -- a key no charge point has -- is
answered NotSupported (OCPP 1.6 section 7.8 ConfigurationStatus).

TC_040_2 (S in the catalogue). Reading chosen: ChangeConfiguration.req on a writable Core key with a
value its type cannot hold -- MeterValueSampleInterval (an integer number of seconds) = "NaN-harness"
-- is answered Rejected ("Configuration key supported, but setting could not be changed"), and the key
keeps its value (read back with GetConfiguration).
"""

from harness.cases import case
from harness.states.cs import booted, cite, conf_status, read_configuration

INVALID_VALUE = "NaN-harness"


@case("TC_040_1_CS", "Configuration key - NotSupported", profile="Core")
async def test_tc_040_1_cs_configuration_key_not_supported(cp, driver, pics):
    await booted(cp, pics)
    # 1. Harness: ChangeConfiguration.req key Testing, value true  2. Charge point: .conf
    change = await cp.call("ChangeConfiguration", {"key": "Testing", "value": "true"})
    conf_status(change, "NotSupported", step="step 2", when="for the unknown key 'Testing'")


@case("TC_040_2_CS", "Configuration key - Invalid value", profile="Core")
async def test_tc_040_2_cs_configuration_key_invalid_value(cp, driver, pics):
    await booted(cp, pics)
    key = "MeterValueSampleInterval"
    before, _, _ = await read_configuration(cp, [key])
    # 1. Harness: ChangeConfiguration.req with a value of the wrong type  2. Charge point: .conf
    change = await cp.call("ChangeConfiguration", {"key": key, "value": INVALID_VALUE})
    if change.status == "Accepted":
        # Put back what the device took, before failing.
        old = before.get(key, {}).get("value")
        if old is not None:
            await cp.call("ChangeConfiguration", {"key": key, "value": old})
    conf_status(change, "Rejected", step="step 2", when=f"for {key}={INVALID_VALUE!r}")
    after, _, get = await read_configuration(cp, [key])
    assert after.get(key, {}).get("value") == before.get(key, {}).get("value"), (
        f"after step 2: {key} changed from {before.get(key, {}).get('value')!r} to "
        f"{after.get(key, {}).get('value')!r} although the change was Rejected ({cite(get)})")
