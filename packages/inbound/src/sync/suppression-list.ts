import { type LuxSciClient, parseLuxSciDate } from "@luxrelay/luxsci";
import type { SyncDeps } from "../context.ts";

// Seed 000 inbound step 10: LuxSci's own suppression list (unsubscribe links, complaints)
// merged into the suppression table, so later executions with auto-suppress skip them.

export async function importLuxSciSuppressions(
  deps: SyncDeps,
  channelId: string,
  client: LuxSciClient,
): Promise<{ listed: number; added: number }> {
  const list = await client.getSuppressions();
  if (list.length === 0) return { listed: 0, added: 0 };
  const result = await deps.pool.query(
    `INSERT INTO suppression (email, source, reason, channel_id, at)
     SELECT lower(e), 'luxsci_list', r, $4, COALESCE(a, now())
     FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS s(e, r, a)
     ON CONFLICT (email, source) DO NOTHING`,
    [
      list.map((s) => s.email),
      list.map((s) => s.reason ?? null),
      list.map((s) => (s.date ? (parseLuxSciDate(s.date) ?? null) : null)),
      channelId,
    ],
  );
  return { listed: list.length, added: result.rowCount ?? 0 };
}
