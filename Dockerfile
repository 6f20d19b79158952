# Vireo container image: vireo-server on an official Node.js LTS image.
#
#   docker build -t vireo .
#   docker run -d -p 6379:6379 -v vireo-data:/data vireo
#   docker run -d -p 6379:6379 vireo --requirepass s3cret --maxmemory 256mb
#   docker run -d -v "$PWD/vireo.conf:/etc/vireo/vireo.conf:ro" vireo /etc/vireo/vireo.conf
#
# test/integration/deploy.test.mjs builds the same layout without a container
# engine (npm pack, production install, this image's entry point and health
# check) and lints this file with dockerfilelint.

# 1. Build: dev dependencies, TypeScript compile, and the npm package tarball.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY README.md ./
RUN npm run build \
 && npm pack --pack-destination /tmp \
 && mkdir -p /opt/vireo \
 && tar -xzf /tmp/vireo-*.tgz --strip-components=1 -C /opt/vireo

# 2. Production install: the packaged files plus runtime dependencies only.
FROM node:22-bookworm-slim AS prod
WORKDIR /opt/vireo
COPY --from=build /opt/vireo ./
COPY package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force

# 3. Runtime.
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    VIREO_HEALTHCHECK_PORT=6379
RUN groupadd --system --gid 999 vireo \
 && useradd --system --uid 999 --gid vireo --home-dir /data --no-create-home --shell /usr/sbin/nologin vireo \
 && mkdir /data \
 && chown vireo:vireo /data
COPY --from=prod /opt/vireo /opt/vireo
COPY deploy/docker/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN ln -s /opt/vireo/bin/vireo-server /usr/local/bin/vireo-server
USER vireo
WORKDIR /data
VOLUME /data
EXPOSE 6379
# PING without redis-cli: any RESP answer to PING from the server (PONG, or
# NOAUTH when requirepass is set) means it is up. Set VIREO_HEALTHCHECK_PORT
# when running on another port.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "const s=require('net').connect(+(process.env.VIREO_HEALTHCHECK_PORT||6379),'127.0.0.1');s.setTimeout(2000,()=>process.exit(1));s.on('error',()=>process.exit(1));s.on('connect',()=>s.write('PING\\r\\n'));s.on('data',(d)=>process.exit(/^(\\+PONG|-NOAUTH)/.test(d)?0:1))"]
# vireo-server runs as PID 1 and handles SIGTERM: it stops accepting, flushes
# pending replies and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["vireo-server"]
