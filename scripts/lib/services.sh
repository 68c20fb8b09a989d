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
