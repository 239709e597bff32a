# syntax=docker/dockerfile:1
# Build: docker build --build-arg REVISION=$(git rev-parse HEAD) -t mistral-admin-exporter .
# Run:   docker run -p 10460:10460 -e MISTRAL_ADMIN_API_KEY=... mistral-admin-exporter
#        docker run -p 10460:10460 mistral-admin-exporter --demo

# The current Node.js LTS (26 since October 2026); the code itself supports Node >= 20.19.
ARG NODE_VERSION=26

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="mistral-admin-exporter" \
      org.opencontainers.image.description="Prometheus exporter for the Mistral Admin API: spend, limits, cost by model, le Chat and Vibe Code adoption" \
      org.opencontainers.image.source="https://github.com/mistral-admin-exporter/mistral-admin-exporter" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENV NODE_ENV=production \
    MISTRAL_EXPORTER_REVISION=${REVISION}
WORKDIR /app
# Production dependencies only, and the compiled code: no sources, no tests.
COPY --from=build --chown=0:0 /app/package.json ./package.json
COPY --from=build --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/dist ./dist
# A numeric non-root user, so that Kubernetes' runAsNonRoot can check it; it owns nothing in the image.
USER 65532:65532
EXPOSE 10460
# Exec form, node as PID 1: SIGTERM and SIGINT reach the exporter, which shuts down gracefully.
# The flags of src/node-flags.ts (a smaller young generation: shorter pauses of the event loop during large refreshes).
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/main.js"]
