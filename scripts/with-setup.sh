#!/usr/bin/env bash
# Runs a compiled program of the project after the set-up, which installs and builds
# what is missing: `npm run demo` and `npm run bench` go through here.
# usage: with-setup.sh PROGRAM.js [ARGS...]   (--help is answered without the set-up)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

program="${1:?usage: with-setup.sh PROGRAM.js [ARGS...]}"
shift
for arg in "$@"; do
  if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then
    if [ -f "$program" ]; then exec node "$program" --help; fi
    echo "$program is not built yet: run 'npm run setup' first, or the command without --help (it sets up what is missing)"
    exit 0
  fi
done

bash scripts/setup.sh
step "$(basename "$(dirname "$(dirname "$program")")"): node $program $*"
exec node "$program" "$@"
