# newsloom: one image, one volume (/data), the config at /config/newsloom.yaml.
FROM node:24-bookworm-slim AS build
# Toolchain for native addons, in case better-sqlite3 has to build from source.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production NEWSLOOM_CONFIG=/config/newsloom.yaml NEWSLOOM_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config/newsloom.yaml /config/newsloom.yaml
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["node", "dist/cli.js", "healthcheck"]
CMD ["node", "dist/cli.js", "run"]
