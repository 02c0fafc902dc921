# syntax=docker/dockerfile:1
# Multi-stage build: dependencies are installed once without dev tools; the runtime image
# runs as a non-root user and keeps model weights on a volume.

FROM node:26-trixie-slim AS deps
WORKDIR /app
# cpu (default) or cuda12: the GPU build of onnxruntime-node downloads CUDA libraries at install.
ARG ONNXRUNTIME_NODE_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL}
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The bot runs as compiled JavaScript: tsx's on-the-fly transform costs memory on every start.
FROM node:26-trixie-slim AS build
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY scripts/deploy-commands.ts scripts/pull-models.ts scripts/journal-copy.ts ./scripts/
RUN npm run build

FROM node:26-trixie-slim AS runtime
# Fonts for the charts and the patch view: Skia (@napi-rs/canvas) draws their text in DejaVu Sans,
# and a machine without it falls back to whatever sans-serif it has.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The health server stays on the container's loopback (HEALTH_HOST's default): the HEALTHCHECK
# runs inside the container and reaches it there. To publish the port, set HEALTH_HOST=0.0.0.0
# and publish it on the host's loopback (docker-compose.yml does both).
ENV NODE_ENV=production MODELS_DIR=/models DATA_DIR=/data HEALTH_PORT=8080
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY models/manifest.json ./models/manifest.json
COPY models/labels ./models/labels
# VADER's lexicons (vaderSentiment 3.3.2, MIT), read at run time by src/text/vader.ts.
COPY models/vader ./models/vader
# WordNet 3.0's exception lists (WordNet licence), read by src/text/preprocess/wordnet.ts for /preprocess.
COPY models/wordnet ./models/wordnet
COPY prompts ./prompts
# /quiz's built-in images (public domain / CC0, see assets/quiz/README.md).
COPY assets ./assets
RUN mkdir -p /models /data && chown node:node /models /data
USER node
# /data: the interaction journal (embedded PostgreSQL), unless DATABASE_URL names a server.
VOLUME ["/models", "/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--enable-source-maps", "dist/src/index.js"]
