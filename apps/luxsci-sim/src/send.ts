import { createHash } from "node:crypto";
import type { Ledger } from "./ledger.ts";
import { compilePart, fillPart, type MergedMessage } from "./merge.ts";
import type { TemplateStore } from "./templates.ts";
import { RequestError, type SendMessage } from "./validate.ts";

// Seed 000 outbound step 6: POST /email/send accepts up to 1000 messages and answers one
// sendmail id per message, in order. Every message is merged (template + template_data) and
// recorded in the ledger; a call is all-or-nothing (a bad message refuses the whole call).

function mergeMessage(message: SendMessage, templates: TemplateStore, account: number) {
  const data = message.templateData;
  if (message.template === null) {
    const merged: MergedMessage = {
      subject: fillPart(compilePart(message.subject ?? ""), data, false),
      html: fillPart(compilePart(message.body ?? ""), data, !message.templateDataRaw),
      text: fillPart(compilePart(message.bodyText ?? ""), data, false),
    };
    return { merged, templateId: null };
  }
  const template = templates.get(account, message.template);
  if (!template) throw new RequestError(`unknown template ${message.template}`);
  // A subject on the message overrides the template's (RPI sends null to use the template's).
  const subject = message.subject !== null ? compilePart(message.subject) : template.subject;
  const merged: MergedMessage = {
    subject: fillPart(subject, data, false),
    html: fillPart(template.html, data, !message.templateDataRaw),
    text: fillPart(template.text, data, false),
  };
  return { merged, templateId: template.id };
}

export function hashMerged(merged: MergedMessage): Uint8Array {
  return createHash("sha256")
    .update(merged.subject)
    .update("\0")
    .update(merged.html)
    .update("\0")
    .update(merged.text)
    .digest();
}

export interface AcceptContext {
  accountIndex: number;
  /** Sandbox sends are recorded (flagged) but never delivered: no events, no reports. */
  sandbox: boolean;
  templates: TemplateStore;
  ledger: Ledger;
  nowMs: number;
}

/** Merges and records every message; returns the sendmail ids in message order. */
export function acceptMessages(messages: SendMessage[], context: AcceptContext): string[] {
  const { accountIndex, sandbox, templates, ledger, nowMs } = context;
  // Merge everything first: an unknown template refuses the call before any entry is written.
  const merged = messages.map((message) => mergeMessage(message, templates, accountIndex));
  return messages.map((message, i) => {
    const { merged: content, templateId } = merged[i] as ReturnType<typeof mergeMessage>;
    return ledger.append({
      accountIndex,
      sandbox,
      to: [...message.to, ...message.cc, ...message.bcc],
      headers: message.headers,
      templateId,
      subject: content.subject,
      from: message.fromAddress,
      sizeBytes:
        Buffer.byteLength(content.subject) +
        Buffer.byteLength(content.html) +
        Buffer.byteLength(content.text) +
        512,
      hash: hashMerged(content),
      sentAtMs: nowMs,
      merged: content,
    });
  });
}
