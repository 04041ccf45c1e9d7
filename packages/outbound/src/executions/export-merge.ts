import type { Writable } from "node:stream";
import { stringify } from "csv-stringify";
import type { OutboundDeps } from "../context.ts";
import { NotFoundError } from "../errors.ts";
import { loadExecutionContent } from "../plan/content.ts";
import type { PlannedVariant } from "../plan/variants.ts";

// A batch's mail-merge file on demand, for audit. The rows are rendered again from the stored
// slot data with the batch's content as planned (execution_content: a variant edited since
// changes nothing), so the file shows exactly what LuxSci merged (the render invariant:
// template + slots == full render).

export interface MergeExport {
  /** Writes the CSV to `out` and ends it. */
  write(out: Writable): Promise<{ rows: number }>;
}

/**
 * Finds the batch and its content as planned (a NotFoundError for either comes here, before a
 * byte is written, so an API can still answer 404), and returns the writer of its file.
 */
export async function openMergeExport(deps: OutboundDeps, batchId: number): Promise<MergeExport> {
  const batch = await deps.prisma.batch.findUnique({
    where: { id: batchId },
    include: { execution: true },
  });
  if (!batch) throw new NotFoundError("batch", batchId);
  const content = await loadExecutionContent(deps.pool, batch.execution);
  const variant = content.find((v) => v.compiled.contentHash === batch.contentHash);
  if (!variant) throw new NotFoundError("content of batch", batchId);
  return { write: (out) => writeMergeFile(deps, batch, variant, out) };
}

/** openMergeExport, then write: the whole file to `out`. */
export async function exportMergeFile(
  deps: OutboundDeps,
  batchId: number,
  out: Writable,
): Promise<{ rows: number }> {
  return (await openMergeExport(deps, batchId)).write(out);
}

async function writeMergeFile(
  deps: OutboundDeps,
  batch: { executionId: number; seq: number },
  variant: PlannedVariant,
  out: Writable,
): Promise<{ rows: number }> {
  const csv = stringify({
    header: true,
    // The file is opened in spreadsheets: a cell starting with = + - @ tab or CR (contact data,
    // rendered content) would run as a formula there (OWASP "CSV Injection"), so it gets a
    // leading ' and shows as the text it is. Every other cell is written unchanged.
    escape_formulas: true,
    columns: [
      "contact_id",
      "email",
      "chid",
      "state",
      "sendmail_id",
      "subject",
      "html",
      "text",
      "template_data",
    ],
  });
  csv.pipe(out);
  const { rows } = await deps.pool.query<{
    contact_id: string;
    email: string;
    chid: string;
    state: string;
    sendmail_id: string | null;
    slot_data: Record<string, string> | null;
  }>(
    `SELECT contact_id, email, chid, state, sendmail_id, slot_data FROM recipient
     WHERE execution_id = $1 AND batch_seq = $2 ORDER BY id`,
    [batch.executionId, batch.seq],
  );
  for (const row of rows) {
    const merged = variant.compiled.renderFromSlots(row.slot_data ?? {});
    csv.write([
      row.contact_id,
      row.email,
      row.chid,
      row.state,
      row.sendmail_id,
      merged.subject,
      merged.html,
      merged.text,
      JSON.stringify(row.slot_data ?? {}),
    ]);
  }
  csv.end();
  await new Promise<void>((resolve, reject) => {
    out.on("finish", resolve);
    out.on("error", reject);
  });
  return { rows: rows.length };
}
