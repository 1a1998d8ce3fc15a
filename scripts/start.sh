#!/usr/bin/env bash
# Runs Keyturn locally from a fresh clone: installs, starts PostgreSQL/Redis if needed, migrates,
# then starts the API, the Slack app and the worker. With no AWS configured it starts the local AWS
# emulator (a demo Identity Center and a protected bucket); with no Slack tokens, a local fake Slack.
# `bash scripts/start.sh --demo` plays the scripted story and exits 0 only if every step held.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_all
cd "$ROOT"
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/keyturn}
log "migrating $DATABASE_URL"
pnpm --silent db:migrate
exec node --import tsx apps/local/src/main.ts "$@"
