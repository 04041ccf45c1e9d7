import type { LuxSciMessage, LuxSciTemplateInput } from "@luxrelay/luxsci";
import { subjectSlotWithLineBreak, type TCompiledVariant } from "@luxrelay/render";
import type pg from "pg";
import type { OutboundDeps } from "../context.ts";
import { writeLog } from "../log.ts";

// What batch sends and realtime sends put on the wire and write back, in one place: the
// message of seed 000 outbound step 6, the template of step 3, the sendmail ids of step 6.

export interface MessageChannel {
  fromAddress: string;
  fromName: string | null;
  replyAddress: string | null;
  bcc: string | null;
  secure: boolean;
  customHeaders: unknown;
}

export interface MessageRecipient {
  email: string;
  chid: string;
  slots: Record<string, string>;
}

/** One message per recipient: the template, its slot values (raw), chid plus channel headers. */
export function buildMessages(
  channel: MessageChannel,
  templateId: string,
  recipients: readonly MessageRecipient[],
): LuxSciMessage[] {
  const headers: [string, string][] = Array.isArray(channel.customHeaders)
    ? (channel.customHeaders as [string, string][]).map(([n, v]) => [String(n), String(v)])
    : [];
  return recipients.map((recipient) => ({
    from_address: channel.fromAddress,
    from_name: channel.fromName,
    reply_address: channel.replyAddress,
    to: [recipient.email],
    bcc: channel.bcc ? [channel.bcc] : null,
    subject: null,
    headers: [["chid", recipient.chid], ...headers],
    template: templateId,
    template_data: recipient.slots,
    template_data_raw: 1,
    no_tls_only: channel.secure ? 1 : 0,
  }));
}

const HEADER_BREAK_REASON =
  "the subject holds a line break (CR or LF): it is one header line, and a line break would let a value add headers";
/** Chids of refused recipients kept in the interaction log entry. */
const REFUSED_CHIDS_KEPT = 100;

/**
 * The batch's recipients less those whose stored subject slot values hold CR or LF, which
 * fail alone with the reason in the interaction log. Planning refuses such values when it
 * renders them; this catches those stored before it did (an execution planned earlier, then
 * replayed), which LuxSci would otherwise turn into headers of their own.
 */
export async function dropHeaderBreaks<
  T extends { id: string; chid: string; slot_data: Record<string, string> | null },
>(
  deps: Pick<OutboundDeps, "pool" | "logger">,
  batch: { id: number; seq: number; execution_id: number; offerId: number; channelId: string },
  recipients: T[],
): Promise<T[]> {
  const broken = recipients.filter((r) => subjectSlotWithLineBreak(r.slot_data ?? {}) !== null);
  if (broken.length === 0) return recipients;
  const failed = await deps.pool.query(
    "UPDATE recipient SET state = 'failed' WHERE id = ANY($1::bigint[]) AND state = 'pending'",
    [broken.map((r) => r.id)],
  );
  // A second run of the job finds them failed already: logged once.
  if (failed.rowCount) {
    const chids = broken.slice(0, REFUSED_CHIDS_KEPT).map((r) => r.chid);
    await writeLog(deps, {
      executionId: batch.execution_id,
      offerId: batch.offerId,
      channelId: batch.channelId,
      level: "warn",
      message: `${broken.length} recipients of batch ${batch.seq} not sent: ${HEADER_BREAK_REASON}`,
      data: { batchId: batch.id, reason: HEADER_BREAK_REASON, chids },
    });
    deps.logger.warn(
      { executionId: batch.execution_id, batchId: batch.id, refused: broken.length },
      "recipients with a line break in the subject not sent",
    );
  }
  const refused = new Set(broken);
  return recipients.filter((r) => !refused.has(r));
}

/** The LuxSci template of a compiled content variant (static text with slot placeholders). */
export function templateInputOf(
  title: string,
  compiled: TCompiledVariant,
  secure: boolean,
): LuxSciTemplateInput {
  const { template } = compiled;
  return {
    title,
    subject: template.subject,
    body_html: template.html,
    body_text: template.text,
    format: template.html && template.text ? "both" : template.html ? "html" : "text",
    sl_no_tls: secure,
  };
}

/**
 * Recipient rows (by id) become sent with their sendmail ids, in one statement; a realtime
 * row's unsettled mark goes with it (settle.ts).
 */
export async function markRecipientsSent(
  pool: pg.Pool,
  ids: readonly string[],
  sendmailIds: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await pool.query(
    `UPDATE recipient r SET sendmail_id = v.sendmail_id, state = 'sent', sent_at = now(),
       unsettled_since = NULL, settle_after = NULL
     FROM unnest($1::bigint[], $2::text[]) AS v(id, sendmail_id) WHERE r.id = v.id`,
    [ids, sendmailIds],
  );
}
