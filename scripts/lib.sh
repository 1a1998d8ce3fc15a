#!/usr/bin/env bash
# Shared set-up for scripts/test.sh, scripts/start.sh and .ci/run. Idempotent: every step checks
# before it acts, so a second run costs seconds.
set -euo pipefail

PNPM_VERSION=12.4.2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '\033[1m[keyturn]\033[0m %s\n' "$*" >&2; }

ensure_node() {
  command -v node >/dev/null || { log "Node.js >= 20 is required: https://nodejs.org"; exit 1; }
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || { log "Node.js >= 20 is required (found $(node --version))"; exit 1; }
}

ensure_pnpm() {
  if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
    log "installing pnpm $PNPM_VERSION"
    npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || COREPACK_INTEGRITY_KEYS=0 corepack prepare "pnpm@$PNPM_VERSION" --activate
  fi
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing PostgreSQL"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then return; fi
  if ! command -v redis-server >/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing Redis"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && return; sleep 1; done
  log "Redis does not answer on 127.0.0.1:6379"; exit 1
}

install_deps() {
  cd "$ROOT"
  log "installing dependencies"
  pnpm install --frozen-lockfile --reporter=silent
  log "generating the Prisma client"
  pnpm --silent db:generate >/dev/null
}

setup_all() {
  ensure_node
  ensure_pnpm
  ensure_postgres
  ensure_redis
  install_deps
}
