import { defineConfig } from "prisma/config";

// For Prisma's own CLI where its native engine can be downloaded (`npx prisma migrate deploy`,
// `npx prisma studio`): the same schema, migrations and DATABASE_URL default as luxrelay's
// offline migrate command (packages/db/src/migrations). Prisma 7 reads the URL from here.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    url: process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/luxrelay",
  },
});
