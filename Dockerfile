# One image for every Switchyard process: the command picks the role
# (`start`, `api`, `worker`, `coordinator`).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY packages ./packages
COPY apps ./apps
RUN node scripts/install-deps.mjs
COPY tsconfig.base.json tsconfig.build.json ./
RUN npx tsc -b tsconfig.build.json && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production LOG_FORMAT=json
WORKDIR /app
COPY --from=build --chown=node:node /app /app
COPY --chown=node:node switchyard.yaml ./
COPY --chown=node:node examples ./examples
USER node
# 8080: the api (and `start`); 9464: /metrics, /healthz, /readyz of worker and coordinator.
EXPOSE 8080 9464
ENTRYPOINT ["node", "apps/cli/dist/main.js"]
CMD ["start", "--host", "0.0.0.0"]
