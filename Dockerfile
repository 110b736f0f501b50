# nimsim as a container that starts like a NIM: port 8000, /v1/health/{live,ready}, NIM_* settings.
#   docker build -t nimsim .
#   docker run --rm --stop-timeout 45 -p 8000:8000 -e NIMSIM_GPU=b200 nimsim
# podman and buildah build OCI images by default, which have no HEALTHCHECK: add --format docker.
# On SIGTERM running streams drain for up to 30 s; Docker's default stop timeout (10 s) would cut
# them, hence --stop-timeout (or `docker stop -t 45`).
# Node 24 is the Active LTS line. nimsim runs on Node >= 20, but Node 20 reached its end of life in
# April 2026, so the image does not ship it; .ci/container-check.sh builds and tests this default
# (NODE_VERSION=20 there builds the same image on Node 20).
ARG NODE_VERSION=24

# Build: every dependency (TypeScript), then compile src/ to dist/ (and copy the pages' assets,
# src/ui/assets, beside it).
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-ui-assets.mjs ./scripts/
COPY src ./src
RUN npm run build

# Run: production dependencies only, the compiled output, a non-root user.
FROM node:${NODE_VERSION}-slim AS run
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY LICENSE ./

# NIM's settings (docs/settings.md lists every one; an empty value means unset / the default).
ENV NIM_SERVER_PORT=8000 \
    NIM_MODEL_NAME=meta/llama-3.1-8b-instruct \
    NIM_SERVED_MODEL_NAME="" \
    NIM_MODEL_PROFILE="" \
    NIM_MAX_MODEL_LEN="" \
    NIM_ENABLE_KV_CACHE_REUSE=1 \
    NIM_LOG_LEVEL=INFO \
    NIM_JSONL_LOGGING=0
# The simulator's own: inside a container it must listen on every interface.
ENV NIMSIM_HOST=0.0.0.0 \
    NIMSIM_GPU=h100-sxm \
    NIMSIM_TIME_SCALE=1 \
    NIMSIM_READY_DELAY_MS=0 \
    NIMSIM_FAULT_RATE=0

# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 8000
# SIGTERM: readiness turns 503, running streams drain (up to 30 s), then exit 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.NIM_SERVER_PORT||8000)+'/v1/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
