#!/usr/bin/env bash
# The whole test suite from a fresh clone: sets up what it needs, then runs lint, typecheck and
# every test against the real PostgreSQL and Redis on loopback.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_all
cd "$ROOT"
exec pnpm test
