#!/usr/bin/env bash
# Static checks that ansible-test does not cover: ansible-lint (production profile), yamllint, shellcheck.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
echo "== ansible-lint --profile production"
ansible-lint --profile production --offline -q
echo "== yamllint"
yamllint -s .
echo "== shellcheck"
git ls-files -co --exclude-standard -- '*.sh' '.ci/run' | xargs -r shellcheck -x
echo "lint: ok"
