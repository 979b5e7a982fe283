"""Reusable states of a charge point under test (the harness plays the central system).

The OCTT runs "Before" preparations ahead of a scenario: a configuration state (keys set with
ChangeConfiguration), a memory state (an idTag in the authorization cache ...) and reusable states
(Booted, Authorized, Charging ...). This package gives each of them as a coroutine or an async
context manager that also undoes what it did, so that every test case leaves the charge point as it
found it: configuration restored, transaction stopped, cable unplugged, connector Available.

Verdicts, as everywhere in the harness:
- the charge point doing something wrong while a state is set up (no StartTransaction after the
  plug-in, a wrong status) is a FAIL (an ``AssertionError`` naming the state and the wire log line);
- a state that cannot be set up for a reason that is not the device's fault (the driver or the
  operator could not act, the device refuses a configuration value the case needs) is
  INCONCLUSIVE; an "(if implemented)" key the device does not know is skipped, and a key the case
  cannot run without makes it N/A.

Clean-up after a failure is best effort and silent: it must not hide the failure that ended the
case.

One module a concern, each stating its rule at its top; a module imports only those above it:
- :mod:`~harness.states.cs.data` -- the test data the OCTT keeps in its configuration (PICS only);
- :mod:`~harness.states.cs.messages` -- waiting for the device's messages, answering idTags;
- :mod:`~harness.states.cs.booted` -- Booted, the settling after a boot, a boot retried;
- :mod:`~harness.states.cs.configuration` -- the configuration state (read, set, restore);
- :mod:`~harness.states.cs.charging` -- Authorized, Charging, the stop, the cable;
- :mod:`~harness.states.cs.availability` -- ChangeAvailability and Operative at the end;
- :mod:`~harness.states.cs.remote_start` -- RemoteStartTransaction and the cache it fills;
- :mod:`~harness.states.cs.meter_values` -- the measurands configured and their judgement;
- :mod:`~harness.states.cs.offline` -- the connection cut and restored, offline authorization.
Checking a field of the device's message is the assertion vocabulary's
(:mod:`harness.states.assertions`), re-exported here with every state, so
``from harness.states.cs import booted, cite`` keeps working.
"""

# ruff: noqa: F401  -- this module re-exports
from harness.states.assertions import (assert_id_tag, assert_status, assert_value, cite,
                                        conf_status, expect_status)
from harness.states.cs.data import (DEFAULT, NO_LOCK, clock_aligned_interval, connection_timeout,
                                    connector_under_test, other_connectors, quiet_period,
                                    sample_interval, short_interval, triggered, valid_tag)
from harness.states.cs.messages import (answer_id_tags, expect_since, harness_answered,
                                        id_tag_info, next_status, quietly, requests_of,
                                        status_until)
from harness.states.cs.booted import SETTLED, boot_retried, booted, booted_statuses, settled
from harness.states.cs.configuration import (Configuration, MAX_KEYS, _positive_int, configured,
                                             get_configuration_max_keys, read_configuration,
                                             restore_configuration, set_configuration)
from harness.states.cs.charging import (LOCAL, Tx, authorized, authorizes_locally,
                                        available_again, cable_stays, charging,
                                        charging_with_ev_side_rules, connection_timeout_bound,
                                        disconnect_ev, finish, id_tag_cached, start_after_plug_in,
                                        started, stop_request, stopped, take_authorize,
                                        take_cable_out, transaction, unplug_cable)
from harness.states.cs.availability import change_availability, operative_at_end
from harness.states.cs.remote_start import (authorize_remote_tx_requests,
                                            cached_for_remote_start, id_tag_cached_remotely,
                                            remote_start, remote_started)
from harness.states.cs.meter_values import (DEFAULT_MEASURAND, configured_list,
                                            meter_value_problems, sample_times)
from harness.states.cs.offline import (Offline, offline, offline_authorization,
                                       status_after_reconnect)
