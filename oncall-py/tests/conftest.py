"""Fixtures: a fresh engine on a temporary SQLite database per test, and one real
Prometheus for the session, backfilled with a dev scenario's metrics."""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import oncall

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "oncall-core/tests/data/scenarios/ts-2023-01-29-13"

# Settings the engine reads from the environment; cleared so tests are hermetic.
ENV = [
    "DATABASE_URL", "JWT_SECRET_KEY", "JWT_EXPIRE_HOURS", "LLM_PROVIDER", "OPENAI_API_KEY",
    "OPENAI_MODEL", "OPENAI_BASE_URL", "ONCALL_ADDR", "ONCALL_DEV", "ONCALL_ENCRYPTION_KEY",
    "ONCALL_ADMIN_EMAIL", "ONCALL_ADMIN_PASSWORD", "ONCALL_WEB_DIR", "ONCALL_ANALYSIS_WORKERS",
]


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no .env, no data/) and a clean environment."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def db_url(workdir: Path) -> str:
    return f"sqlite://{workdir / 'oncall.db'}"


@pytest.fixture
def oc(db_url: str):
    engine = oncall.OnCall(db_url, encryption_key=new_key())
    yield engine
    engine.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def services_skipped() -> bool:
    opted_out = os.environ.get("ONCALL_TEST_SERVICES") == "skip"
    in_ci = os.environ.get("CI") in ("true", "1")
    if opted_out and in_ci:
        pytest.fail("ONCALL_TEST_SERVICES=skip is not allowed when CI=true: the real-Prometheus test must run")
    return opted_out


def binary(env: str, name: str) -> str:
    path = os.environ.get(env) or shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            f"`{name}` not found (PATH or {env}): install it (apt-get install -y prometheus), "
            "or set ONCALL_TEST_SERVICES=skip outside CI to skip the real-Prometheus test"
        )
    return path


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory):
    """URL of a real Prometheus serving the scenario's metrics (backfilled with
    promtool), on a free port, stopped at the end of the session."""
    if services_skipped():
        pytest.skip("ONCALL_TEST_SERVICES=skip: real Prometheus not started")
    prom = binary("ONCALL_TEST_PROMETHEUS_BIN", "prometheus")
    tool = binary("ONCALL_TEST_PROMTOOL_BIN", "promtool")
    work = tmp_path_factory.mktemp("prometheus")
    metrics = work / "metrics.om"
    metrics.write_bytes(gzip.decompress((SCENARIO / "metrics.om.gz").read_bytes()))
    tsdb = work / "tsdb"
    done = subprocess.run(
        [tool, "tsdb", "create-blocks-from", "openmetrics", str(metrics), str(tsdb)],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"promtool tsdb create-blocks-from openmetrics failed: {done.stderr}")
    config = work / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    port = free_port()
    log = open(work / "prometheus.log", "wb")
    proc = subprocess.Popen(
        [
            prom,
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            "--storage.tsdb.retention.time=100000d",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prometheus did not become ready: {(work / 'prometheus.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
