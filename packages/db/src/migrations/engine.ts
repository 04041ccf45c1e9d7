import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";

// Prisma's schema engine compiled to wasm: runs offline, unlike the native engine that the
// prisma CLI downloads from Prisma's binary host (unreachable on our machines; see
// shared/notes/prisma-offline.md). @prisma/schema-engine-wasm is pinned to
// 8.1.0-2.59be4fda... because it is the only version published; prisma 7.10 itself names
// engines 8.1.0-1.d1b3f377..., and the diff/applyMigrations API we use is the same.
//
// The package is a wasm-bindgen "bundler" build that imports the .wasm file as an ES module,
// which Node 20 only does behind --experimental-wasm-modules. Instantiating the .wasm here
// with its JS glue works everywhere (tsx, vitest, plain node) without a flag.

const require = createRequire(import.meta.url);

type WasmExports = Record<string, unknown>;
type Glue = typeof import("@prisma/schema-engine-wasm/schema_engine_bg") & {
  __wbg_set_wasm(exports: WasmExports): void;
};
// @types/node 20 leaves the WebAssembly global to lib.dom; this is the one call we need.
const { WebAssembly: wasmApi } = globalThis as unknown as {
  WebAssembly: {
    instantiate(
      bytes: Uint8Array,
      imports: object,
    ): Promise<{ instance: { exports: WasmExports } }>;
  };
};

let gluePromise: Promise<Glue> | undefined;

async function loadGlue(): Promise<Glue> {
  const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const glue = (await import(gluePath)) as Glue;
  const bytes = readFileSync(gluePath.replace(/\.js$/, ".wasm"));
  const { instance } = await wasmApi.instantiate(bytes, { "./schema_engine_bg.js": glue });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
  return glue;
}

export interface EngineOptions {
  /** Needed to apply migrations; diffs between datamodels need no database. */
  databaseUrl?: string;
  schema: { path: string; content: string };
}

export interface OpenEngine {
  engine: SchemaEngine;
  /** Frees the engine and closes its database connections (engine.free() alone doesn't). */
  close(): Promise<void>;
}

/**
 * A schema engine bound to a PostgreSQL database through @prisma/adapter-pg. Only operations
 * that don't read the database's structure through the adapter work (the note lists them):
 * datamodel-to-datamodel diff and applyMigrations.
 */
export async function openSchemaEngine(options: EngineOptions): Promise<OpenEngine> {
  gluePromise ??= loadGlue();
  const glue = await gluePromise;
  const factory = options.databaseUrl
    ? new PrismaPg({ connectionString: options.databaseUrl })
    : OFFLINE_ADAPTER_FACTORY;
  const connections: SqlDriverAdapter[] = [];
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const connection = await factory.connect();
      connections.push(connection);
      // adapter-pg runs a migration script by splitting it at every ";", which breaks SQL
      // with a function body ($$ ... ; ... $$). PostgreSQL's simple-query protocol takes the
      // whole script at once (in one implicit transaction), as Prisma's native engine sends it.
      const pgConnection = connection as {
        underlyingDriver?(): { query(sql: string): Promise<unknown> };
        onError?(error: unknown): never;
      };
      const driver = pgConnection.underlyingDriver?.();
      if (driver) {
        connection.executeScript = async (script: string) => {
          try {
            await driver.query(script);
          } catch (error) {
            // The adapter's own error mapping, so the engine reports PostgreSQL's message.
            if (pgConnection.onError) pgConnection.onError.call(connection, error);
            throw error;
          }
        };
      }
      return connection;
    },
    connectToShadowDb: () =>
      Promise.reject(new Error("luxrelay migrate never uses a shadow database")),
  };
  const logs: string[] = [];
  const engine = await glue.SchemaEngine.new(
    { datamodels: [[options.schema.path, options.schema.content]] },
    (line: string) => logs.push(line),
    bindMigrationAwareSqlAdapterFactory(tracked),
  );
  return {
    engine,
    async close() {
      engine.free();
      await Promise.all(connections.map((connection) => connection.dispose()));
    },
  };
}

// The engine connects its adapter when it starts, even for a datamodel-to-datamodel diff,
// and asks the server's version once. This adapter answers that one question (PostgreSQL 15,
// what our machines run) and refuses anything else, so `check` and `create` need no database.
const OFFLINE_VERSION_QUERY = /version\(\)/;
function refuse(): Promise<never> {
  return Promise.reject(new Error("this migrate command works without a database"));
}
const OFFLINE_ADAPTER: SqlDriverAdapter = {
  provider: "postgres",
  adapterName: "luxrelay-offline",
  queryRaw: (query) =>
    OFFLINE_VERSION_QUERY.test(query.sql)
      ? Promise.resolve({
          columnNames: ["exists", "version", "numeric_version"],
          columnTypes: [ColumnTypeEnum.Boolean, ColumnTypeEnum.Text, ColumnTypeEnum.Int32],
          rows: [[true, "PostgreSQL 15.0", 150000]],
        })
      : refuse(),
  executeRaw: refuse,
  executeScript: refuse,
  startTransaction: refuse,
  dispose: () => Promise.resolve(),
};
const OFFLINE_ADAPTER_FACTORY: SqlMigrationAwareDriverAdapterFactory = {
  provider: "postgres",
  adapterName: "luxrelay-offline",
  connect: () => Promise.resolve(OFFLINE_ADAPTER),
  connectToShadowDb: () => Promise.resolve(OFFLINE_ADAPTER),
};

export const NO_FILTERS = { externalTables: [], externalEnums: [] };
