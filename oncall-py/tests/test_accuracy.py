"""Confirmed root causes on tickets and the analyzer's accuracy on them, from Python."""

from __future__ import annotations

import datetime

import pytest

import oncall

ALERT_TEXT = "订单服务 错误率 升高\nservice=order-api namespace=shop"


def test_confirmation_round_trips_and_reopening_clears_it(oc: oncall.OnCall):
    a = oc.analyze(ALERT_TEXT)
    t = oc.create_ticket(analysis_id=a.id)
    assert (t.confirmed_root_cause, t.resolution, t.confirmed_by, t.confirmed_at) == (None,) * 4
    oc.transition_ticket(t.no, "processing")
    with pytest.raises(oncall.InvalidInput, match="confirmed_root_cause"):
        oc.transition_ticket(t.no, "resolved", confirmed_root_cause="the database")
    with pytest.raises(oncall.InvalidInput, match="resolution"):
        oc.transition_ticket(t.no, "resolved", resolution="x" * 2001)
    assert oc.get_ticket(t.no).status == "processing"

    t = oc.transition_ticket(
        t.no, "resolved", confirmed_root_cause=" orders-db-0 ", resolution="raised the pool size"
    )
    assert t.status == "resolved"
    assert t.confirmed_root_cause == "orders-db-0" and t.resolution == "raised the pool size"
    assert t.confirmed_by and t.confirmed_by == t.history[-1]["actor"]
    assert isinstance(t.confirmed_at, datetime.datetime) and t.confirmed_at.tzinfo
    changes = t.history[-1]["changes"]
    assert changes["confirmed_root_cause"] == {"from": None, "to": "orders-db-0"}
    assert oc.list_tickets()[0].confirmed_root_cause == "orders-db-0"

    reopened = oc.transition_ticket(t.no, "processing")
    assert reopened.confirmed_root_cause is None and reopened.resolution is None
    assert reopened.confirmed_at is None
    assert reopened.history[-1]["changes"]["resolution"] == {"from": "raised the pool size", "to": None}

    t = oc.transition_ticket(reopened.no, "resolved")
    t = oc.update_ticket(t.no, confirmed_root_cause="orders-db-0")
    assert t.confirmed_root_cause == "orders-db-0" and t.resolution is None
    cleared = oc.update_ticket(t.no, confirmed_root_cause="")
    assert cleared.confirmed_root_cause is None and cleared.confirmed_by is None


def test_accuracy_counts_hits_misses_and_unconfirmed(oc: oncall.OnCall):
    a = oc.analyze(ALERT_TEXT)
    assert a.status == "completed", a.error
    names = [s["component"] for s in a.suspects]

    def resolved(cause: str | None) -> str:
        t = oc.create_ticket(analysis_id=a.id)
        oc.transition_ticket(t.no, "processing")
        return oc.transition_ticket(t.no, "resolved", confirmed_root_cause=cause).no

    missed = resolved("orders-db-0")
    resolved(None)
    hit = resolved(names[0].upper()) if names else None

    r = oc.accuracy_stats()
    assert isinstance(r, oncall.AccuracyReport)
    confirmed = 2 if hit else 1
    assert r.totals["confirmed"] == confirmed and r.totals["unconfirmed"] == 1
    assert r.totals["hit_at_1"] == (1 if hit else 0)
    assert r.totals["share_at_1"] == pytest.approx(r.totals["hit_at_1"] / confirmed)
    month = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")
    assert [m["month"] for m in r.by_month] == [month]
    assert [x["alert_name"] for x in r.by_alert] == [a.alert["name"]]
    assert r.misses_total == 1
    (miss,) = r.misses
    assert miss["ticket_no"] == missed and miss["confirmed_root_cause"] == "orders-db-0"
    assert miss["analyzer_top"] == (names[0] if names else None)
    assert isinstance(miss["created_at"], datetime.datetime)
    assert r.since is None and r.until is None
    assert list(r.to_dict()) == [
        "since", "until", "totals", "without_analysis", "by_month", "by_alert",
        "misses_total", "misses",
    ]

    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
    empty = oc.accuracy_stats(since=later)
    assert empty.totals["confirmed"] == 0 and empty.misses == []
    assert empty.since == later
    with pytest.raises(oncall.InvalidInput, match="until"):
        oc.accuracy_stats(since="2026-02-01", until="2026-01-01")
