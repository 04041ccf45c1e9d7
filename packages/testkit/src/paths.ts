import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const PRISMA_DIR = `${REPO_ROOT}prisma`;
export const SCHEMA_PATH = `${PRISMA_DIR}/schema.prisma`;
export const MIGRATIONS_DIR = `${PRISMA_DIR}/migrations`;
