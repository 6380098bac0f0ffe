#!/usr/bin/env bash
# Lints every shell script of the project with shellcheck.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"
ensure_debian_package shellcheck shellcheck
mapfile -t scripts < <(git ls-files -co --exclude-standard '*.sh' 'network/builders/*/bin/*' '.ci/run')
shellcheck -x "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
