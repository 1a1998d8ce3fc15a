#!/usr/bin/env bash
# The whole test suite from a fresh clone: sets up what it needs, then runs lint, typecheck and
# every test against the real PostgreSQL and Redis on loopback (and moto_server, which the AWS
# contract tests start themselves).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_all
ensure_moto
cd "$ROOT"
exec pnpm test
