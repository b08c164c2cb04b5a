# Images for the visit counter: one file, two final targets.
#
#   docker build --target web      -t visit-counter-web .
#   docker build --target balancer -t visit-counter-balancer .
#
# NODE_IMAGE picks the Node.js base (any Debian-based image with node and npm
# and a `node` user, uid 1000). Works with the classic builder and BuildKit.
#
# Networks that intercept TLS: put the CA bundle to trust in the build context
# as `.docker-build-ca.pem` (e.g. `cp "$NODE_EXTRA_CA_CERTS" .docker-build-ca.pem`).
# Only the npm-install stages read it; the final images never contain it.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- package manifests (and the optional CA bundle) --------------------------
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false \
    TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1
# The [m] glob lets the CA file be absent; package.json keeps the COPY non-empty.
COPY package.json .docker-build-ca.pe[m] /tmp/build-ca/
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/web/package.json packages/web/
COPY packages/balancer/package.json packages/balancer/

# ---- build: all dependencies, then tsc through turbo into packages/*/dist ----
FROM manifests AS build
RUN if [ -f /tmp/build-ca/.docker-build-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/build-ca/.docker-build-ca.pem; fi \
 && npm ci
COPY tsconfig.base.json turbo.json ./
COPY packages/ packages/
RUN npm run build \
 && test -f packages/shared/dist/index.js \
 && test -f packages/web/dist/main.js \
 && test -f packages/balancer/dist/main.js

# ---- production dependencies only (workspace links included) -----------------
FROM manifests AS prod-deps
RUN if [ -f /tmp/build-ca/.docker-build-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/build-ca/.docker-build-ca.pem; fi \
 && npm ci --omit=dev

# ---- common runtime: production node_modules + the shared package ------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prod-deps /app/package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/packages/shared/package.json packages/shared/
COPY --from=build /app/packages/shared/dist packages/shared/dist
# Run as the unprivileged user of the Node images (uid 1000). Use an init as
# PID 1 (`docker run --init`, compose `init: true`) so SIGTERM reaches node.
USER node

# ---- web replica ---------------------------------------------------------------
FROM runtime AS web
COPY --from=build /app/packages/web/package.json packages/web/
COPY --from=build /app/packages/web/dist packages/web/dist
ENV PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "packages/web/dist/main.js"]

# ---- load balancer --------------------------------------------------------------
FROM runtime AS balancer
COPY --from=build /app/packages/balancer/package.json packages/balancer/
COPY --from=build /app/packages/balancer/dist packages/balancer/dist
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/_lb/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The Node flags are BALANCER_NODE_FLAGS (packages/shared/src/node-flags.ts): a 1 GiB heap
# limit keeps the old generation from growing to 4x its live size between full collections.
CMD ["node", "--max-old-space-size=1024", "packages/balancer/dist/main.js"]
