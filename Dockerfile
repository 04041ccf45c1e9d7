# One image for every luxrelay process; docker-compose.yml picks the npm script to run.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY apps ./apps
COPY packages ./packages
COPY prisma ./prisma
COPY tsconfig.json ./
RUN npm ci --include=dev && npm run db:generate
USER node
CMD ["npm", "run", "worker"]
