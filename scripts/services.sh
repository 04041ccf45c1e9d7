#!/usr/bin/env bash
# npm run services: make sure what luxrelay needs on this machine is there and answering.
#   - Redis and PostgreSQL on localhost (started with the machine's documented commands if down)
#   - the databases named by DATABASE_URL (default luxrelay), created if missing
#   - /usr/sbin/sshd for the SFTP tests (openssh-server from Debian, installed if missing;
#     tests start their own sshd on a free loopback port, never the system one)
# Plain bash on purpose: CI runs it before `npm ci`, so it can't use node_modules.
# Safe to run any number of times. Services on another host are checked, never started.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/luxrelay}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

log() { printf '[services] %s\n' "$*"; }
fail() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

# --- parse the URLs (scheme://[user[:pass]@]host[:port][/db]) --------------------------------
url_part() { # url field: host|port|user|db
  local rest="${1#*://}" auth="" hostport db=""
  [[ "$rest" == *@* ]] && { auth="${rest%%@*}"; rest="${rest#*@}"; }
  hostport="${rest%%/*}"
  [[ "$rest" == */* ]] && db="${rest#*/}" && db="${db%%\?*}"
  case "$2" in
    host) local h="${hostport%:*}"; [[ "$hostport" == *:* ]] || h="$hostport"; echo "${h:-127.0.0.1}" ;;
    port) [[ "$hostport" == *:* ]] && echo "${hostport##*:}" || echo "$3" ;;
    user) echo "${auth%%:*}" ;;
    db) echo "$db" ;;
  esac
}
is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]; }

wait_for() { # description seconds command...
  local what="$1" seconds="$2"; shift 2
  for _ in $(seq 1 "$((seconds * 4))"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  fail "$what did not answer within ${seconds}s"
}

# --- Redis ---------------------------------------------------------------------------------
redis_host=$(url_part "$REDIS_URL" host)
redis_port=$(url_part "$REDIS_URL" port 6379)
redis_ping() { [[ "$(redis-cli -h "$redis_host" -p "$redis_port" ping 2>/dev/null)" == "PONG" ]]; }
if redis_ping; then
  log "Redis answers on $redis_host:$redis_port"
elif is_local "$redis_host" && command -v redis-server >/dev/null; then
  log "starting Redis on port $redis_port"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for "Redis" 20 redis_ping
  log "Redis started"
else
  fail "Redis does not answer at $REDIS_URL (start it, or set REDIS_URL)"
fi

# --- PostgreSQL ----------------------------------------------------------------------------
pg_host=$(url_part "$DATABASE_URL" host)
pg_port=$(url_part "$DATABASE_URL" port 5432)
pg_user=$(url_part "$DATABASE_URL" user)
pg_user="${pg_user:-postgres}"
pg_db=$(url_part "$DATABASE_URL" db)
pg_db="${pg_db:-luxrelay}"
pg_ready() { pg_isready -q -h "$pg_host" -p "$pg_port"; }
if pg_ready; then
  log "PostgreSQL answers on $pg_host:$pg_port"
elif is_local "$pg_host" && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  wait_for "PostgreSQL" 60 pg_ready
  log "PostgreSQL started"
else
  fail "PostgreSQL does not answer at $pg_host:$pg_port (start it, or set DATABASE_URL)"
fi

psql_admin() { psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -v ON_ERROR_STOP=1 -tAq "$@"; }
for db in "$pg_db"; do
  if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]]; then
    psql_admin -c "CREATE DATABASE \"$db\"" && log "created database $db"
  else
    log "database $db exists"
  fi
done

# --- sshd (SFTP tests) ---------------------------------------------------------------------
if [ -x /usr/sbin/sshd ]; then
  log "sshd present (/usr/sbin/sshd)"
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  log "installing openssh-server for the SFTP tests"
  # Keep the package from starting a system sshd on port 22: tests run their own.
  policy=/usr/sbin/policy-rc.d
  created_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
  [ -n "$created_policy" ] && rm -f "$policy"
  log "openssh-server installed"
else
  log "warning: /usr/sbin/sshd is missing and this user can't install openssh-server; SFTP tests will fail"
fi
mkdir -p /run/sshd 2>/dev/null || true

log "ready"
