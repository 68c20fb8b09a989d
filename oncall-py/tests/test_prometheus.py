"""One real incident end to end from Python: the ts-2023-01-29-13 scenario's
metrics in a real Prometheus, its Alertmanager alert analysed in-process."""

from __future__ import annotations

import json

import oncall
from conftest import SCENARIO


def test_analysis_against_real_prometheus(oc: oncall.OnCall, prometheus: str):
    ds = oc.add_datasource("metrics", "prometheus", prometheus, timeout_ms=10_000)
    probe = oc.test_datasource(ds.id)
    assert probe.ok, probe.message
    assert "Prometheus" in (probe.version or "")

    alert = json.loads((SCENARIO / "alert.json").read_text())
    a = oc.analyze(alert, wait=True, timeout=170)
    assert a.status == "completed", a.error
    (source,) = a.sources
    assert source["name"] == "metrics" and source["rows"] > 100, source
    assert a.evidence["metric_shifts"], "metric shifts found"
    assert a.suspects, "suspects named"
    assert all(s["component"] for s in a.suspects)
    assert a.result["severity"] == "P1"
    print("top suspects:", [(s["component"], round(s["score"], 2)) for s in a.suspects[:3]])
