"""Reusable state Idle for a charge point under test: every case starts from a known idle device.

A case that FAILs half-way leaves the charge point dirty (cable plugged, transaction running,
authorization pending, powered off, reservation held, a connector Inoperative, a firmware update or
a diagnostics upload under way, a charging profile installed, a configuration key changed).
Without this state the next cases fail their preparation on that leftover and a single device bug
shows as a cascade of unrelated verdicts. The plugin's ``cp`` fixture runs :func:`idle` before
every case.

Rules:

- The harness knows the device's state from what it has seen on the wire, across cases
  (:class:`Tracker`, kept on the session's stash): the last StatusNotification of every
  connector, the transactions started and not stopped, the reservations it made, the connectors it
  made Inoperative, the charging profiles it installed, the configuration keys it changed (each
  with the device's own value before the harness's first change, read with GetConfiguration just
  before that change when the harness had not read it: ``Session.call_preparers``; a key whose
  original stays unknown is reported "could not be restored", never given the harness's value), the
  firmware update and diagnostics upload it asked for and their last status, the cables it
  plugged, the ConnectionTimeOut in force. It learns the harness's own calls through the session's
  call observer hook and the driver's actions through a wrapper of ``driver.perform``.
- A device the harness saw idle costs nothing: no traffic at all.
- What is left is undone from that knowledge and from the device's own timers, each wait bounded by
  the PICS or the protocol: a transaction is stopped (RemoteStopTransaction), a reservation
  cancelled, a connector made Operative, a profile cleared by its id, a key restored, a cable the
  harness plugged unplugged; a firmware update or a diagnostics upload is waited for to its end
  state (and the firmware's reboot taken); a pending authorization with no cable is **waited out
  for ConnectionTimeOut** (the value the harness read or configured when it began, bounded by
  :data:`MAX_CONNECTION_TIMEOUT_S`). The idTag is never presented again while ConnectionTimeOut
  runs: many charge points read a second presentation as a new authorization and restart the
  timeout. Only a device that keeps the authorization past its ConnectionTimeOut (a device bug) is
  offered the idTag once, as a last resort.
- A transaction message the harness could not read (answered with a CALLERROR) is retried by the
  device (OCPP 1.6 section 4.7: TransactionMessageAttempts, TransactionMessageRetryInterval x the
  attempts so far), and many devices hold back every later message meanwhile. Those retries belong
  to the case that caused them: the Idle state waits them out within that bound, the violations
  they repeat kept out of the next case's verdict (its wire log still shows them). A retry is the
  same message again (same action and payload, whatever its uniqueId): the wait ends the
  triggered function timeout after its TransactionMessageAttempts-th attempt (time for a next
  refused message queued behind it), or when its next attempt is overdue. What the device sends
  meanwhile (Heartbeats it held back, sent back to back) is not measured for the next case.
- A device whose last BootNotification was not accepted (a case answered it Pending or Rejected
  and ended, or it broke the protocol and got a CALLERROR) sends nothing else until a boot is
  (section 4.2): no clean-up reaches it. The rig power-cycles it and its new boot is left to the
  case's Booted state, as on a fresh device, so the case's verdict is the one it has alone; a rig
  that cannot power-cycle leaves it stuck (NotIdle, later cases BLOCKED).
- A device that cannot be brought idle raises :class:`NotIdle` (an INCONCLUSIVE: the case under
  test has not started, so never a FAIL), naming what it stays in. The plugin then reports every
  later case BLOCKED by the case that left the device so, after a cheap re-check
  (:func:`recheck`), not with another clean-up each.
- At the start of a run (:func:`known_state`, the first case) the device is put in a known state
  from what it reports itself: a connector it reports Reserved by a reservation the harness does
  not know is freed where the protocol allows (it asks for the statuses when the device supports
  RemoteTrigger), and the rig's optional ``reset_device`` action is called when the driver has it.

The package: :mod:`~harness.states.idle.model` (what is known, the bounds, NotIdle),
:mod:`~harness.states.idle.tracker` (the observer), :mod:`~harness.states.idle.procedure` (the
clean-up), each module importing only those before it; every public name is re-exported here.
"""

# ruff: noqa: F401  -- this module re-exports
from harness.states.idle.model import (BUSY, DIAGNOSTICS_END, FIRMWARE_END,
                                       MAX_CONNECTION_TIMEOUT_S, MAX_RETRY_WAIT_S, NotIdle, RUNNING,
                                       Stuck, TRANSACTION_MESSAGES, Transfer, WRITE_ONLY_KEYS,
                                       retried_message)
from harness.states.idle.tracker import STATE_FILE, TRACKER, Tracker, observe, tracker, watch_driver
from harness.states.idle.procedure import idle, known_state, recheck
