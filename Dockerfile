# One image for every Keyturn app; the compose file picks the command. Sources run through tsx,
# as in development, so there is no separate build step to drift from what the tests ran.
# The Node.js release the tests run on (.node-version; scripts/lib.sh fetches the same one).
ARG NODE_VERSION=24.22.3
FROM node:${NODE_VERSION}-bookworm-slim
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH NODE_ENV=production
RUN npm install -g pnpm@12.4.2
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile && pnpm db:generate
USER node
CMD ["pnpm", "--filter", "@keyturn/api", "run", "start"]
