# Worker and listener image for compose-publisher: `docker run IMAGE worker` or `… listen`.
# Config comes from a mounted file (COMPOSE_PUBLISHER_CONFIG), credentials from the environment; none are baked in.

FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle-workflows.mjs scripts/bundle-cli.mjs ./scripts/
RUN npm run build && npm prune --omit=dev

# cosign signs the published images ([signing]); Debian has no package of it. The version src/tools/cosign.ts
# names, built from its Go module as scripts/setup.sh builds it.
FROM golang:1.25-bookworm AS cosign
ARG COSIGN_VERSION=2.6.5
RUN CGO_ENABLED=0 GOBIN=/out go install -ldflags='-s -w' "github.com/sigstore/cosign/v2/cmd/cosign@v${COSIGN_VERSION}"

FROM node:20.19-bookworm-slim AS runtime
# The worker talks to registries itself; xz and tar unpack compose images, skopeo converts docker-archive ones
# (Fedora 41 and older), buildah removes local manifest lists that older versions left in the work dir.
RUN apt-get update \
 && apt-get install -y --no-install-recommends buildah skopeo xz-utils util-linux ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# vfs works without fuse-overlayfs or privileges for overlay mounts; the project points buildah at it explicitly.
ENV STORAGE_DRIVER=vfs \
    COMPOSE_PUBLISHER_CONFIG=/etc/compose-publisher/config.toml \
    NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY --from=cosign /out/cosign /usr/local/bin/cosign
ENV COSIGN_PATH=/usr/local/bin/cosign
# Download cache, scratch files and buildah storage ([publish] work_dir in the config).
VOLUME /var/lib/compose-publisher
# buildah with vfs storage runs as root here (rootless buildah needs user namespaces the container may not get);
# the process holds no credentials beyond what its environment gives it.
USER root
EXPOSE 9464
ENTRYPOINT ["node", "/app/bin/compose-publisher.js"]
CMD ["worker"]
