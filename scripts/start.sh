#!/usr/bin/env bash
# Runs Keyturn locally from a fresh clone: installs, starts PostgreSQL/Redis if needed, migrates,
# and starts the admin API. With no DATABASE_URL set it uses a local `keyturn` database.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_all
cd "$ROOT"
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/keyturn}
export API_PORT=${API_PORT:-3000}
log "migrating $DATABASE_URL"
pnpm --silent db:migrate
log "making sure an admin token exists"
pnpm --silent --filter @keyturn/api run token:create -- --owner "${KEYTURN_ADMIN_EMAIL:-admin@example.com}" --name bootstrap-admin --scopes all --if-none
log "API on http://127.0.0.1:$API_PORT (OpenAPI at /docs). Ctrl-C stops it."
exec pnpm --silent --filter @keyturn/api run start
