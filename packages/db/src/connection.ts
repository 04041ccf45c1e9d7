import type pg from "pg";

/**
 * Runs fn on one pooled connection. On success the connection goes back to the pool; on a
 * failure it is closed instead, which aborts any transaction it holds and drops its temp
 * tables whatever state the failure left it in (a ROLLBACK on a broken connection would only
 * hide the error).
 */
export async function withConnection<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let result: T;
  try {
    result = await fn(client);
  } catch (error) {
    client.release(error instanceof Error ? error : true);
    throw error;
  }
  client.release();
  return result;
}
