# %% [markdown]
# # oncall from Python: analyse an alert, file a ticket
#
# Notebook-style (`# %%` cells run in VS Code / Jupytext, or `python quickstart.py`).
# Needs a Prometheus with the incident's metrics: `PROMETHEUS_URL`
# (default http://127.0.0.1:9090). The alert is the dev scenario ts-2023-01-29-13.

# %%
import base64
import json
import os
import tempfile
from pathlib import Path

import oncall

work = Path(tempfile.mkdtemp(prefix="oncall-example-"))
oc = oncall.OnCall(
    f"sqlite://{work / 'oncall.db'}",
    encryption_key=base64.b64encode(os.urandom(32)).decode(),
)

# %% A data source, and whether it answers
prom = oc.add_datasource("metrics", "prometheus", os.environ.get("PROMETHEUS_URL", "http://127.0.0.1:9090"))
print(oc.test_datasource(prom.id))

# %% Analyse the alert (runs here, in this process)
scenario = Path(__file__).resolve().parents[2] / "oncall-core/tests/data/scenarios/ts-2023-01-29-13"
alert = json.loads((scenario / "alert.json").read_text())
try:
    a = oc.analyze(alert, wait=True)
except oncall.OnCallError as e:  # NotFound, InvalidInput, Unavailable, ... all derive from it
    raise SystemExit(f"analysis failed: {e} ({e.code})")
print(a.status, "-", a.result["summary"] if a.result else a.error)
for s in a.suspects[:3]:
    print(f"  {s['component']:<28} {s['score']:.2f}")
a  # in Jupyter: a table

# %% A ticket from it; work it
t = oc.create_ticket(analysis_id=a.id)
t = oc.transition_ticket(t.no, "processing")
print(t.no, t.status, t.severity, t.title)

# %% Lists become DataFrames (if pandas is installed)
rows = [x.to_dict() for x in oc.list_analyses()]
try:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

    print(pd.DataFrame(rows)[["id", "status", "title", "created_at"]])
except ImportError:
    print(rows[0]["id"], rows[0]["status"], rows[0]["title"])

oc.close()
