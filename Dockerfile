# The hand-over task's image (infra/constructs/hand-over-task.ts): the `inlet` CLI bundle, run as the
# unprivileged `node` user. Deployment builds it (a CDK DockerImageAsset); synthesis only stages this
# directory. The task runs `inlet ingest s3://bucket/key --pipeline … --ingestion-id … --version-id … --etag …`.
FROM public.ecr.aws/docker/library/node:22-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts ./scripts
COPY src ./src
COPY tsconfig.json tsconfig.build.json ./
RUN node scripts/build-server.mjs /out

FROM public.ecr.aws/docker/library/node:22-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /out/ /app/
# uid 1000, which the task definition names explicitly.
USER node
ENTRYPOINT ["node", "/app/lib/cli/main.mjs"]
CMD ["--help"]
