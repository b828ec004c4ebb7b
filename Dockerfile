# newsloom: one small image, one volume (/data), the config at /config/newsloom.yaml.
#   docker build -t newsloom .
#   docker run -d --name newsloom -p 8080:8080 -v newsloom-data:/data newsloom

# Build: TypeScript → dist/, with a toolchain in case better-sqlite3 has to compile its addon.
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Then only what runs: production dependencies, without better-sqlite3's SQLite sources and the
# prebuilt addons of other platforms (about 25 MB the runtime never loads).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && cd node_modules/better-sqlite3 \
 && rm -rf deps src \
 && find prebuilds -type f ! -name "linux-$(node -p process.arch).node" -delete

# Runtime: node, production node_modules, dist/ and the default config; runs as the unprivileged node user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    NEWSLOOM_CONFIG=/config/newsloom.yaml \
    NEWSLOOM_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The default config; mount a folder of your own on /config to replace it (edits reload by themselves).
COPY config/newsloom.yaml /config/newsloom.yaml
RUN chmod 755 dist/cli.js && ln -s /app/dist/cli.js /usr/local/bin/newsloom \
 && mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["newsloom", "healthcheck"]
# node is PID 1 (exec'd through the script's shebang) and handles SIGTERM itself: it finishes the polls in
# flight (up to 10 s), closes the server and the database, and exits 0. SIGHUP reloads the config.
ENTRYPOINT ["newsloom"]
CMD ["run"]
