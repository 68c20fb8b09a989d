"""Every public method of oncall.OnCall on a temporary SQLite database, the
result objects and the exceptions."""

from __future__ import annotations

import datetime
import importlib.util
import json
import time
import uuid
from pathlib import Path

import pytest

import oncall
from conftest import SCENARIO, free_port, new_key

ALERT_TEXT = "订单服务 错误率 升高\nservice=order-api namespace=shop"


# --- module and exceptions ---------------------------------------------------------

def test_module_surface():
    assert oncall.__version__
    for name in oncall.__all__:
        assert hasattr(oncall, name), name


def test_exception_hierarchy_and_codes():
    expected = {
        oncall.NotFound: ("not_found", oncall.OnCallError),
        oncall.Conflict: ("conflict", oncall.OnCallError),
        oncall.InvalidInput: ("invalid", oncall.OnCallError),
        oncall.TooLarge: ("too_large", oncall.InvalidInput),
        oncall.Unauthorized: ("unauthorized", oncall.OnCallError),
        oncall.Forbidden: ("forbidden", oncall.Unauthorized),
        oncall.Unavailable: ("unavailable", oncall.OnCallError),
        oncall.RateLimited: ("rate_limited", oncall.Unavailable),
        oncall.InternalError: ("internal", oncall.OnCallError),
    }
    assert issubclass(oncall.OnCallError, Exception)
    for cls, (code, parent) in expected.items():
        assert cls.code == code
        assert cls.__bases__ == (parent,)
        assert cls.__module__ == "oncall"


# --- opening -----------------------------------------------------------------------

def test_open_and_settings(workdir: Path, db_url: str):
    with oncall.OnCall(db_url, admin_email="boss@example.com", admin_password="a-long-secret") as oc:
        assert "oncall.db" in oc.database_url and "oncall.db" in repr(oc)
        assert [u.email for u in oc.list_users()] == ["boss@example.com"]
    # the environment is read like the CLI reads it; keyword arguments win
    with pytest.raises(TypeError, match="unexpected setting `colour`"):
        oncall.OnCall(db_url, colour="blue")
    with pytest.raises(oncall.InvalidInput, match="ONCALL_ENCRYPTION_KEY"):
        oncall.OnCall(db_url, encryption_key="not base64!")
    with pytest.raises(oncall.InvalidInput, match="llm_provider"):
        oncall.OnCall(db_url, llm_provider="claude")
    with pytest.raises(oncall.OnCallError):
        oncall.OnCall("postgres://nowhere/db")


def test_dev_mode_generates_keys_like_the_cli(workdir: Path, db_url: str):
    oc = oncall.OnCall(db_url, dev=True)
    assert (workdir / "data/dev-secrets.json").exists()
    ds = oc.add_datasource("secured", "prometheus", "http://127.0.0.1:1", token="t0k3n")
    assert ds.auth == {"type": "bearer", "username": None, "has_password": False, "has_token": True}
    oc.close()


def test_credentials_need_an_encryption_key(workdir: Path, db_url: str):
    oc = oncall.OnCall(db_url)
    with pytest.raises(oncall.InvalidInput, match="ONCALL_ENCRYPTION_KEY"):
        oc.add_datasource("p", "prometheus", "http://127.0.0.1:1", username="u", password="p")
    oc.close()


# --- users -------------------------------------------------------------------------

def test_users(oc: oncall.OnCall):
    (admin,) = oc.list_users()
    assert admin.role == "admin" and admin.password_is_default
    u = oc.add_user("Li.Lei@example.com", "s3cret-pass", "viewer", name="李雷")
    assert (u.email, u.role, u.name, u.disabled) == ("li.lei@example.com", "viewer", "李雷", False)
    assert isinstance(u.created_at, datetime.datetime) and u.created_at.tzinfo is not None
    uuid.UUID(u.id)
    assert sorted(x.email for x in oc.list_users()) == ["admin@oncall.example.com", "li.lei@example.com"]
    with pytest.raises(oncall.Conflict):
        oc.add_user("li.lei@example.com", "another-pass")
    with pytest.raises(oncall.InvalidInput, match="role"):
        oc.add_user("x@example.com", "s3cret-pass", "boss")
    with pytest.raises(oncall.InvalidInput, match="password"):
        oc.add_user("x@example.com", "short")
    with pytest.raises(oncall.InvalidInput):
        oc.add_user("not-an-email", "s3cret-pass")


# --- data sources ------------------------------------------------------------------

def test_datasources(oc: oncall.OnCall):
    dead = f"http://127.0.0.1:{free_port()}"
    prom = oc.add_datasource("metrics", "prometheus", dead + "/", timeout_ms=2000)
    assert (prom.name, prom.type, prom.url, prom.enabled, prom.timeout_ms) == (
        "metrics", "prometheus", dead, True, 2000)
    logs = oc.add_datasource("logs", "elk", "http://es:9200", index="logs-*", username="elastic",
                             password="pw", enabled=False)
    assert logs.config == {"index": "logs-*"}
    assert logs.auth == {"type": "basic", "username": "elastic", "has_password": True, "has_token": False}
    loki = oc.add_datasource("loki", "loki", "http://loki:3100", labels='{app="api"}',
                             config={"extra": [1, 2]})
    assert loki.config == {"extra": [1, 2], "labels": '{app="api"}'}
    assert [d.name for d in oc.list_datasources()] == ["logs", "loki", "metrics"]

    # an unreachable server is an answer, not an exception; by id or by name
    t = oc.test_datasource(prom.id)
    assert t.ok is False and t.error and t.message and t.latency_ms >= 0
    assert oc.test_datasource("metrics").ok is False
    assert oc.test_datasource(uuid.UUID(prom.id)).ok is False

    with pytest.raises(oncall.Conflict):
        oc.add_datasource("metrics", "prometheus", "http://other:9090")
    with pytest.raises(oncall.InvalidInput, match="config.index"):
        oc.add_datasource("es", "elk", "http://es:9200")
    with pytest.raises(oncall.InvalidInput):
        oc.add_datasource("x", "graphite", "http://g:80")
    with pytest.raises(oncall.InvalidInput, match="url"):
        oc.add_datasource("x", "prometheus", "ftp://nope")

    assert oc.remove_datasource("loki") is None
    oc.remove_datasource(logs.id)
    assert [d.name for d in oc.list_datasources()] == ["metrics"]
    with pytest.raises(oncall.NotFound):
        oc.remove_datasource("loki")
    with pytest.raises(oncall.NotFound):
        oc.test_datasource(str(uuid.uuid4()))


# --- analyses ----------------------------------------------------------------------

def test_analyses(oc: oncall.OnCall):
    a = oc.analyze(ALERT_TEXT)  # no data sources: completes, saying it found nothing
    assert a.status == "completed", a.error
    assert a.title == "订单服务 错误率 升高" and a.raw_alert == ALERT_TEXT
    assert a.result is not None and a.result["summary"] and a.analyzer == "statistical"
    assert a.suspects == a.result["suspects"]
    assert a.completed_at >= a.created_at
    # A person's submission runs once: revision 1, no refresh planned.
    assert a.revision == 1 and a.refresh_at is None

    # JSON, as a dict or as a str holding it
    alert = json.loads((SCENARIO / "alert.json").read_text())
    b = oc.analyze(alert, llm=False, language="en", baseline_minutes=20, incident_minutes=5)
    assert b.title == "EntrySLODegraded" and b.options["language"] == "en"
    c = oc.analyze(json.dumps(alert), timeout=60)
    assert c.title == "EntrySLODegraded"

    assert oc.get_analysis(a.id) == a
    assert oc.get_analysis(uuid.UUID(b.id)).id == b.id
    assert [x.id for x in oc.list_analyses()] == [c.id, b.id, a.id]
    assert [x.id for x in oc.list_analyses(query="订单")] == [a.id]
    assert [x.id for x in oc.list_analyses(page=2, page_size=2)] == [a.id]
    assert len(oc.list_analyses(status="completed")) == 3
    assert oc.list_analyses(status="failed") == []
    now = datetime.datetime.now(datetime.timezone.utc)
    assert oc.list_analyses(since=now + datetime.timedelta(minutes=1)) == []
    assert len(oc.list_analyses(until=now + datetime.timedelta(minutes=1))) == 3
    assert len(oc.list_analyses(since="2020-01-01")) == 3

    with pytest.raises(oncall.NotFound):
        oc.get_analysis(str(uuid.uuid4()))
    with pytest.raises(oncall.InvalidInput, match="not an id"):
        oc.get_analysis("nope")
    with pytest.raises(oncall.InvalidInput, match="status"):
        oc.list_analyses(status="done")
    with pytest.raises(oncall.InvalidInput, match="page"):
        oc.list_analyses(page=0)
    with pytest.raises(oncall.InvalidInput, match="alert"):
        oc.analyze("   ")
    with pytest.raises(oncall.InvalidInput, match="language"):
        oc.analyze(ALERT_TEXT, language="fr")
    with pytest.raises(oncall.TooLarge):
        oc.analyze("x" * (1024 * 1024 + 1))
    with pytest.raises(TypeError):
        oc.analyze({"not": object()})


def test_analyze_without_waiting_runs_in_the_background(oc: oncall.OnCall):
    a = oc.analyze(ALERT_TEXT, wait=False)
    assert a.status == "pending" and a.result is None and a.completed_at is None
    deadline = time.monotonic() + 60
    while (a := oc.get_analysis(a.id)).status not in ("completed", "failed"):
        assert time.monotonic() < deadline, a.status
        time.sleep(0.1)
    assert a.status == "completed"


# --- tickets -----------------------------------------------------------------------

def test_tickets(oc: oncall.OnCall):
    oc.add_user("han.meimei@example.com", "s3cret-pass", name="韩梅梅")
    t = oc.create_ticket(title="支付超时", severity="P1", root_cause="db pool exhausted",
                         assignee="han.meimei@example.com", description="from the pager")
    assert t.no.startswith("INC-") and t.status == "open" and t.severity == "P1" and t.version == 1
    assert t.assignee == "han.meimei@example.com" and t.description == "from the pager"
    assert [h["action"] for h in t.history] == ["created"]
    assert isinstance(t.history[0]["at"], datetime.datetime)

    t = oc.transition_ticket(t.no, "processing")
    assert (t.status, t.version) == ("processing", 2)
    with pytest.raises(oncall.Conflict, match="cannot go from processing to closed"):
        oc.transition_ticket(t.no, "closed")
    with pytest.raises(oncall.Conflict, match="changed by someone else"):
        oc.transition_ticket(t.no, "resolved", version=1)
    t = oc.transition_ticket(t.no, "resolved", "restarted the pool", version=2)
    assert t.status == "resolved" and t.history[-1]["reason"] == "restarted the pool"
    assert t.history[-1]["from_status"] == "processing" and t.history[-1]["to_status"] == "resolved"

    t = oc.update_ticket(t.no, title="支付超时 (db)", severity="p0", assignee="", description="")
    assert (t.title, t.severity, t.assignee, t.description) == ("支付超时 (db)", "P0", None, None)
    assert set(t.history[-1]["changes"]) == {"title", "severity", "assignee", "description"}
    with pytest.raises(oncall.InvalidInput, match="nothing to change"):
        oc.update_ticket(t.no)
    with pytest.raises(oncall.InvalidInput, match="assignee"):
        oc.update_ticket(t.no, assignee="nobody@example.com")
    with pytest.raises(oncall.InvalidInput, match="severity"):
        oc.update_ticket(t.no, severity="P9")

    other = oc.create_ticket(title="false alarm")
    assert other.severity == "P2"
    with pytest.raises(oncall.InvalidInput, match="reason"):
        oc.transition_ticket(other.no, "closed")
    other = oc.transition_ticket(other.no, "closed", reason="false alarm")
    assert other.status == "closed"

    assert oc.get_ticket(t.no) == t
    listed = oc.list_tickets()
    assert [x.no for x in listed] == [other.no, t.no] and all(x.history is None for x in listed)
    assert [x.no for x in oc.list_tickets(status="closed")] == [other.no]
    assert [x.no for x in oc.list_tickets(severity="P0")] == [t.no]
    assert [x.no for x in oc.list_tickets(query="db")] == [t.no]
    assert oc.list_tickets(assignee="han.meimei@example.com") == []
    assert len(oc.list_tickets(since=datetime.datetime(2020, 1, 1))) == 2
    assert len(oc.list_tickets(page_size=1)) == 1

    with pytest.raises(oncall.NotFound):
        oc.get_ticket("INC-19700101-0001")
    with pytest.raises(oncall.InvalidInput, match="title"):
        oc.create_ticket()
    with pytest.raises(oncall.InvalidInput, match="status"):
        oc.list_tickets(status="done")


def test_ticket_from_an_analysis(oc: oncall.OnCall):
    a = oc.analyze(json.loads((SCENARIO / "alert.json").read_text()))
    t = oc.create_ticket(analysis_id=a.id)
    assert t.analysis_id == a.id
    assert t.severity == a.result["severity"] == "P1"
    assert t.title and t.root_cause == a.result["root_cause"]
    with pytest.raises(oncall.InvalidInput, match="analysis_id"):
        oc.create_ticket(analysis_id=str(uuid.uuid4()))


# --- result objects ----------------------------------------------------------------

def test_results_are_frozen_dataclass_like(oc: oncall.OnCall):
    u = oc.add_user("x@example.com", "s3cret-pass")
    with pytest.raises(AttributeError):
        u.email = "y@example.com"  # type: ignore[misc]
    d = u.to_dict()
    assert list(d) == ["id", "email", "name", "role", "disabled", "password_is_default",
                       "created_at", "updated_at"]
    d["email"] = "changed"
    assert u.email == "x@example.com"
    assert oc.list_users() == oc.list_users() and oc.list_users()[0] != u
    assert repr(u) == 'User(email="x@example.com", role="engineer")'

    t = oc.create_ticket(title="<b>html</b> & more", root_cause="x" * 1000)
    html = t._repr_html_()
    assert html.startswith("<table") and "&lt;b&gt;html&lt;/b&gt; &amp; more" in html
    assert "x" * 1000 not in html and "…" in html

    a = oc.analyze(ALERT_TEXT)
    rows = [x.to_dict() for x in oc.list_analyses()]
    assert rows[0]["id"] == a.id and rows[0]["result"] == a.result
    ds = oc.add_datasource("p", "prometheus", "http://p:9090")
    assert "type" in ds.to_dict() and ds.type == "prometheus"
    assert "<table" in a._repr_html_() and "<table" in ds._repr_html_()
    # what pandas.DataFrame(list_of_dicts) needs: same keys in every row
    tickets = [x.to_dict() for x in oc.list_tickets()]
    assert all(list(r) == list(tickets[0]) for r in tickets)
    if importlib.util.find_spec("pandas"):  # not a dependency; checked when present
        import pandas as pd

        assert list(pd.DataFrame(tickets)["no"]) == [t.no]
