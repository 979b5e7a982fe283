"""Reservation profile entries of the seeded-fault catalogue (see README.md here for the format).

Thirteen of the profile's 26 cases (16 for a charge point, 10 for a central system) are each shown to
FAIL on a realistic reservation bug. Only two entries are ``fast`` (one per SUT): each run is a
pytest subprocess, and ``make test`` should not pay for all of them. Faults that rewrite every
ReserveNow / CancelReservation / StartTransaction rightly fail the other reservation cases too:
that is declared as collateral.
"""

from harness.fidelity.catalogue import Entry, Symptom

RESERVATION_CS = ("TC_04[6-9]*_CS", "TC_05[0-3]*_CS")
RESERVATION_CSMS = ("TC_04[6-9]*_CSMS", "TC_05[0-3]*_CSMS")


def _all(patterns: tuple[str, ...], why: str) -> dict[str, str]:
    return {pattern: why for pattern in patterns}


CS = "cs"
CSMS = "csms"

ENTRIES = [
    # --- SUT charge point: the fault goes into the reference charge point ------------------------
    Entry("cs-reservation-expires-early", CS, "reservation_expiry_shift",
          "ends a reservation 1.5 s before its expiryDate (its timer runs on a clock that is ahead)",
          ("TC_047_CS",), r"did not end at its expiryDate.*arrived -\d+\.\d+ s from the expiryDate",
          params={"offset_ms": -1500}, fast=False),
    Entry("cs-reservation-expires-late", CS, "reservation_expiry_shift",
          "ends a reservation 1.5 s after its expiryDate (the expiry is rounded up to whole seconds "
          "and then some)",
          ("TC_047_CS",), r"did not end at its expiryDate.*arrived \+1\.\d+ s from the expiryDate",
          params={"offset_ms": 1500}, fast=False),
    Entry("cs-reservation-never-expires", CS, "reservation_expiry_shift",
          "never ends a reservation when its expiryDate passes",
          ("TC_047_CS",), r"expected step 5: StatusNotification Available when the reservation "
                          r"expires .* it did not come",
          params={"offset_ms": 3_600_000}, fast=False),
    Entry("cs-reservation-not-enforced", CS, "reservation_not_enforced",
          "reports the connector Reserved but authorizes any idTag presented to it",
          ("TC_046_1_CS",), r"sent Authorize .*VALID0002.* while it should have stayed silent",
          fast=False, also=r"StartTransaction\.req carries reservationId None, expected \d+, the id "
                           r"of the reservation it uses"),
    # Its own run: after TC_046_1 has failed, the other idTag it let in still holds the connector.
    Entry("cs-charge-point-reservation-not-enforced", CS, "reservation_not_enforced",
          "holds a connector for a reservation of connector 0 but authorizes any idTag there",
          ("TC_049_CS",), r"sent Authorize .*VALID0002.* while it should have stayed silent",
          fast=False, also=r"StartTransaction\.req carries reservationId None, expected \d+, the id "
                           r"of the reservation it uses"),
    Entry("cs-start-without-reservation-id", CS, "missing_field",
          "starts the reserved idTag's transaction without the reservationId",
          ("TC_046_2_CS",), r"StartTransaction\.req carries reservationId None, expected \d+",
          params={"action": "StartTransaction", "field": "reservationId"}, fast=False,
          collateral=_all(RESERVATION_CS, "every transaction that uses a reservation loses its "
                                          "reservationId")),
    Entry("cs-reserved-not-reported", CS, "wrong_status",
          "reports a reserved connector as Available",
          ("TC_046_2_CS",), Symptom("wrong-value", "StatusNotification", "status", got="Available",
                                    expected="Reserved"),
          params={"real": "Reserved", "sent": "Available"}, fast=False,
          collateral=_all(RESERVATION_CS, "every reserved connector is reported Available")),
    Entry("cs-reserve-occupied-connector", CS, "wrong_value",
          "accepts a reservation of a connector that has a cable plugged in",
          ("TC_048_2_CS",),
          Symptom("wrong-value", "ReserveNow", "status", got="Accepted", expected="Occupied"),
          params={"action": "ReserveNow", "field": "status", "value": "Accepted"},
          collateral=_all(RESERVATION_CS, "every ReserveNow is answered Accepted")),
    Entry("cs-reserve-unavailable-charge-point", CS, "wrong_value",
          "answers Occupied to a reservation of an Inoperative charge point",
          ("TC_050_3_CS",),
          Symptom("wrong-value", "ReserveNow", "status", got="Occupied", expected="Unavailable"),
          params={"action": "ReserveNow", "field": "status", "value": "Occupied"}, fast=False,
          collateral=_all(RESERVATION_CS, "every ReserveNow is answered Occupied")),
    Entry("cs-cancel-reservation-rejected", CS, "wrong_value",
          "rejects the cancellation of a reservation it holds",
          ("TC_051_CS",),
          Symptom("wrong-value", "CancelReservation", "status", got="Rejected", expected="Accepted"),
          params={"action": "CancelReservation", "field": "status", "value": "Rejected"},
          fast=False, collateral=_all(RESERVATION_CS, "every CancelReservation is answered "
                                                      "Rejected")),
    Entry("cs-cancel-unknown-reservation-accepted", CS, "wrong_value",
          "accepts the cancellation of a reservationId it does not hold",
          ("TC_052_CS",),
          Symptom("wrong-value", "CancelReservation", "status", got="Accepted", expected="Rejected"),
          params={"action": "CancelReservation", "field": "status", "value": "Accepted"},
          fast=False, collateral=_all(RESERVATION_CS, "every CancelReservation is answered "
                                                      "Accepted")),
    Entry("cs-reservation-ignores-parent", CS, "reservation_ignores_parent",
          "refuses a reserved connector to an idTag with the reservation's parentIdTag",
          ("TC_053_CS",), r"expected step 4 \(Authorized with idTag 2\): StatusNotification "
                          r"Preparing .* it did not come", fast=False,
          collateral={"TC_053_2_CS": "the remote start variant uses the parent the same way"}),

    # --- SUT central system: the fault goes into the reference CSMS ------------------------------
    Entry("csms-reserve-now-wrong-connector", CSMS, "wrong_value",
          "reserves connector 2 when the operator asked for connector 1",
          ("TC_046_CSMS",), r"ReserveNow\.req has connectorId 2, expected 1",
          params={"action": "ReserveNow", "field": "connectorId", "value": 2}, fast=False,
          collateral=_all(RESERVATION_CSMS, "every ReserveNow names connector 2")),
    Entry("csms-reserve-now-without-expiry", CSMS, "missing_field",
          "sends ReserveNow without the required expiryDate",
          ("TC_047_CSMS",), r"ReserveNow.*expiryDate: required",
          params={"action": "ReserveNow", "field": "expiryDate"}, fast=False,
          collateral=_all(RESERVATION_CSMS, "every ReserveNow lacks its expiryDate")),
    Entry("csms-cancel-wrong-reservation", CSMS, "wrong_value",
          "cancels another reservationId than the one the operator chose",
          ("TC_051_CSMS",), r"CancelReservation\.req reservationId is 99999, expected \d+",
          params={"action": "CancelReservation", "field": "reservationId", "value": 99999},
          collateral={"TC_052_CSMS": "its CancelReservation names the wrong reservation too"}),
    Entry("csms-authorize-drops-parent", CSMS, "missing_field",
          "answers Authorize without the parentIdTag the idTag has",
          ("TC_053_CSMS",), r"Authorize\.conf for 'VALID0002' is status 'Accepted' parentIdTag "
                            r"None, expected 'Accepted' with parentIdTag 'PARENT0001'",
          params={"action": "Authorize", "field": "idTagInfo.parentIdTag"}, fast=False),
]
