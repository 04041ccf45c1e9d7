import { formatGmt } from "../clock.ts";
import { detailEvents, STATUSES } from "../events.ts";
import type { ResolvedAccount } from "../options.ts";
import type { ReportKind } from "./headers.ts";
import { type RowRef, type ScanContext, visibleUntilMs } from "./scan.ts";

// Builds one report row in the order of REPORT_HEADERS[kind] (seed 000's example rows give
// the value types: numbers stay numbers, ids are strings, absent values are null).

export type Cell = string | number | null;

// The sending server's address, as in seed 000's rows.
const FROM_IP = "180.190.229.9";

export function buildRow(
  kind: ReportKind,
  ref: RowRef,
  context: ScanContext,
  account: ResolvedAccount,
): Cell[] {
  const { ledger, model, trackedHeaders } = context;
  const i = ref.index;
  const sentAt = ledger.sentAtMs[i] as number;
  const dateSent = formatGmt(sentAt);
  const subject = ledger.subjectOf(i);
  const from = ledger.strings.value(ledger.fromId[i] as number);
  const to = ledger.toOf(i);
  const sendmailId = ledger.sendmailId(i);
  const templateId = ledger.templateIdOf(i);
  const status = STATUSES[ledger.status[i] as number] as string;
  const tracked: Cell[] = [];
  for (let h = 0; h < 3; h++) {
    const name = trackedHeaders[h];
    tracked.push(name ?? null, name === undefined ? null : ledger.headerValue(i, name));
  }
  switch (kind) {
    case "sent":
      return [
        account.user,
        account.uid,
        dateSent,
        FROM_IP,
        1,
        ledger.nRecipients[i] as number,
        ledger.sizeBytes[i] as number,
        subject,
        from,
        to,
        0,
        1,
        1,
        0,
        null,
        sendmailId,
        templateId,
        ...tracked,
      ];
    case "delivery": {
      const details = detailEvents(model, sendmailId, to, sentAt);
      // Counts of what the other reports show: the report lag holds these back too.
      const visibleMs = visibleUntilMs(context);
      const seen = (afterMs: number) => sentAt + afterMs <= visibleMs;
      return [
        dateSent,
        account.user,
        account.uid,
        FROM_IP,
        ledger.nRecipients[i] as number,
        ledger.sizeBytes[i] as number,
        subject,
        from,
        to,
        status,
        details.details,
        formatGmt(ref.dateMs),
        4,
        details.tlsDetails === null ? 0 : 1,
        details.tlsDetails,
        sendmailId,
        templateId,
        null,
        details.openEvents.filter((e) => seen(e.afterMs)).length,
        details.clickEvents.filter((e) => seen(e.afterMs)).length,
        details.unsubscribeMs >= 0 && seen(details.unsubscribeMs) ? 1 : 0,
        ...tracked,
      ];
    }
    case "opens": {
      const open = ref.details?.openEvents[ref.ordinal];
      return [
        dateSent,
        formatGmt(ref.dateMs),
        open?.ip ?? null,
        open?.userAgent ?? null,
        account.user,
        account.uid,
        subject,
        from,
        to,
        status,
        sendmailId,
        templateId,
        ...tracked,
      ];
    }
    case "clicks": {
      const click = ref.details?.clickEvents[ref.ordinal];
      return [
        dateSent,
        formatGmt(ref.dateMs),
        click?.url ?? null,
        click?.ip ?? null,
        click?.userAgent ?? null,
        account.user,
        account.uid,
        subject,
        from,
        to,
        status,
        ...tracked,
        sendmailId,
        templateId,
      ];
    }
    case "fbl":
      return [
        dateSent,
        formatGmt(ref.dateMs),
        account.user,
        account.uid,
        subject,
        from,
        to,
        "abuse",
        sendmailId,
        templateId,
        ...tracked,
      ];
  }
}
