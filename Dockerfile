# Unroll worker image. It connects to an existing Temporal server (see docker-compose.yml),
# so it carries no Temporal CLI; git and ripgrep are there for the agent's shell tool, bubblewrap
# for sandboxed threads (the container needs user namespaces for it).
FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git ripgrep bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && git config --system --add safe.directory '*'

WORKDIR /app
COPY package.json package-lock.json ./
# npm ci rejects a lock written against a single-platform registry mirror (other platforms'
# optional packages missing); npm install still installs the locked versions.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund

COPY . .
# The build compiles TypeScript and bundles the workflows (see package.json).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

ENV NODE_ENV=production \
    UNROLL_HOME=/data/unroll
RUN mkdir -p /data/unroll /workspace && chown node:node /data/unroll /workspace
USER node
WORKDIR /workspace

ENTRYPOINT ["node", "/app/dist/src/client/cli.js"]
CMD ["worker"]
