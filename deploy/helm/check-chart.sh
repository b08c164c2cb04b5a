#!/usr/bin/env bash
# Checks the visit-counter chart: yamllint on the plain-YAML files, then check-chart.py
# (static checks and renders of the templates with the default values and a few variants,
# cross-checked). With helm on PATH (CI installs it: .ci/install-helm.sh) the renders are
# Helm's own, compared with check-chart.py's approximate ones, and `helm lint --strict` runs;
# without it, only the approximation. See the README's Helm section.
#
#   bash deploy/helm/check-chart.sh [OUT_DIR]    # OUT_DIR keeps the approximate renders
#
# Needs yamllint (Debian: apt-get install yamllint, which brings python3-yaml along).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
chart="$here/visit-counter"
out="${1:-}"
cleanup=""
if [ -z "$out" ]; then
  out="$(mktemp -d)"
  cleanup="$out"
fi
trap 'if [ -n "$cleanup" ]; then rm -rf "$cleanup"; fi' EXIT

if ! command -v yamllint >/dev/null 2>&1; then
  echo "check-chart: yamllint was not found: install it with \`apt-get install yamllint\` (Debian/Ubuntu) or \`pip install yamllint\`." >&2
  exit 1
fi

echo "== yamllint: Chart.yaml, values.yaml"
yamllint --strict -d '{extends: default, rules: {line-length: {max: 100}, document-start: disable}}' \
  "$chart/Chart.yaml" "$chart/values.yaml"

echo "== check-chart.py: static checks and approximate renders"
python3 "$here/check-chart.py" "$chart" "$out"

echo "== yamllint: the approximate renders"
yamllint --strict -d '{extends: default, rules: {line-length: {max: 120}, indentation: {indent-sequences: whatever}}}' \
  "$out"/*.yaml

if command -v helm >/dev/null 2>&1; then
  echo "== helm lint"
  helm lint --strict "$chart"
  helm lint --strict "$chart" --set balancer.adminToken.value=example --set redis.persistence.enabled=false
else
  echo "== helm is not installed: helm lint / helm template skipped"
fi
echo "chart checks passed"
