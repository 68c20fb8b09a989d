"""The runtime: the GIL is released while the engine works, several threads can
share one engine, and a forked child can use it."""

from __future__ import annotations

import http.server
import os
import sys
import threading
import time

import pytest

import oncall


class SlowPrometheus(http.server.BaseHTTPRequestHandler):
    """Answers after a pause, from a Python thread: it can only answer while the
    caller's blocking engine call has released the GIL."""

    seen = 0

    def do_GET(self):  # noqa: N802
        type(self).seen += 1
        time.sleep(0.3)
        body = b'{"status":"success","data":{"version":"2.99.0"}}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_blocking_calls_release_the_gil(oc: oncall.OnCall):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowPrometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        oc.add_datasource("slow", "prometheus", f"http://127.0.0.1:{server.server_port}", timeout_ms=5000)
        results = []
        threads = [threading.Thread(target=lambda: results.append(oc.test_datasource("slow"))) for _ in range(3)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        elapsed = time.monotonic() - started
        assert len(results) == 3
        assert SlowPrometheus.seen >= 3, "the Python server never got to answer"
        assert all(r.latency_ms >= 250 for r in results), results
        assert elapsed < 3, f"three calls did not overlap: {elapsed:.1f} s"
    finally:
        server.shutdown()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_usable_after_fork(oc: oncall.OnCall):
    oc.add_user("parent@example.com", "s3cret-pass")
    pid = os.fork()
    if pid == 0:  # child: new runtime, database opened again
        code = 1
        try:
            emails = [u.email for u in oc.list_users()]
            oc.add_user("child@example.com", "s3cret-pass")
            code = 0 if "parent@example.com" in emails else 2
        except BaseException as e:  # noqa: BLE001
            print("child failed:", repr(e), file=sys.stderr)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert "child@example.com" in [u.email for u in oc.list_users()]
