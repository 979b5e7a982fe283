"""TC_021_CS Change/set Configuration (Core).

Preparation: MeterValueSampleInterval is set to a value other than <Configured Meter Value interval>.
Steps: ChangeConfiguration.req MeterValueSampleInterval = <Configured Meter Value interval>, answered
Accepted; GetConfiguration.req MeterValueSampleInterval reports that value. The key's original value
is put back at the end.
"""

from harness.cases import case
from harness.states.cs import booted, cite, conf_status, configured, sample_interval


@case("TC_021_CS", "Change/set Configuration", profile="Core",
      needs=("MeterValueSampleInterval other than <Configured interval>",))
async def test_tc_021_cs_change_configuration(cp, driver, pics):
    await booted(cp, pics)
    value = str(sample_interval(pics))
    async with configured(cp, pics, {"MeterValueSampleInterval": str(sample_interval(pics) + 1)}) \
            as config:
        # 1. Harness: ChangeConfiguration.req  2. Charge point: ChangeConfiguration.conf Accepted
        change = await cp.call("ChangeConfiguration", {"key": "MeterValueSampleInterval",
                                                       "value": value})
        config.applied["MeterValueSampleInterval"] = value
        conf_status(change, "Accepted", step="step 2")

        # 3. Harness: GetConfiguration.req MeterValueSampleInterval  4. Charge point: .conf
        get = await cp.call("GetConfiguration", {"key": ["MeterValueSampleInterval"]})
        values = [kv.get("value") for kv in get.get("configurationKey") or []
                  if kv.get("key") == "MeterValueSampleInterval"]
        assert values == [value], (
            f"step 4: GetConfiguration.conf reports MeterValueSampleInterval {values}, expected "
            f"[{value!r}] ({cite(get)})")
