// Times go between Node and PostgreSQL as epoch milliseconds (bigint columns: cheaper to write
// and parse than timestamp text); these are the SQL for each way.

/** SQL for the timestamptz of an epoch-milliseconds expression (a column, mostly). */
export function fromEpochMs(ms: string): string {
  return `timestamptz 'epoch' + ${ms} * interval '1 millisecond'`;
}

/** SQL for the epoch milliseconds (bigint) of a timestamptz expression. */
export function toEpochMs(at: string): string {
  return `(date_part('epoch', ${at}) * 1000)::bigint`;
}
