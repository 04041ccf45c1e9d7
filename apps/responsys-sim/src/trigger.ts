import {
  invalidParameter,
  invalidRequestContent,
  recipientLimitExceeded,
  resourceNotFound,
} from "./errors.ts";
import { MAX_RECORDS_PER_CALL, type ResolvedAccount } from "./options.ts";
import type { MatchColumn, ProfileList } from "./profiles.ts";
import { normaliseMatchValue } from "./profiles.ts";
import type { SimState } from "./state.ts";

// `POST /rest/api/v1.3/campaigns/{campaignName}/email` (contract "Triggered email"): one result
// per recipient, in order. A recipient is found by recipientId, else customerId, else
// emailAddress, else mobileNumber (the order is the simulator's), in its `listName` list, or
// without one in any of the account's lists (recorded: an address already known to the account
// succeeded without listName). Not found: NO_RECIPIENT_FOUND with recipientId -1. Every success
// goes to the ledger; a retried trigger sends again (no idempotency key).

export interface TriggerResult {
  errorMessage: string | null;
  success: boolean;
  recipientId: number;
}

const NOT_FOUND: TriggerResult = {
  errorMessage: "NO_RECIPIENT_FOUND: Recipient Not Found",
  success: false,
  recipientId: -1,
};

const LOOKUPS = [
  ["recipientId", "RIID_"],
  ["customerId", "CUSTOMER_ID_"],
  ["emailAddress", "EMAIL_ADDRESS_"],
  ["mobileNumber", "MOBILE_NUMBER_"],
] as const satisfies readonly (readonly [string, MatchColumn])[];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Contract: unescaped non-ASCII in the body is refused (send `\uXXXX`). */
function hasRawNonAscii(raw: Buffer): boolean {
  for (const byte of raw) if (byte > 0x7f) return true;
  return false;
}

function parseOptionalData(raw: unknown, index: number): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!Array.isArray(raw))
    throw invalidParameter(`recipientData[${index}].optionalData must be an array`);
  const data: Record<string, string> = {};
  for (const item of raw) {
    if (!isObject(item) || typeof item.name !== "string" || typeof item.value !== "string") {
      throw invalidParameter(
        `recipientData[${index}].optionalData items are {name, value} strings`,
      );
    }
    data[item.name] = item.value;
  }
  return data;
}

function findRecipient(
  lists: ProfileList[],
  recipient: Record<string, unknown>,
): { list: ProfileList; riid: string } | undefined {
  for (const [field, column] of LOOKUPS) {
    const value = recipient[field];
    if (value === undefined || value === null || value === "") continue;
    const key = normaliseMatchValue(column, String(value));
    for (const list of lists) {
      const riid = list.find(column, key);
      if (riid !== undefined) return { list, riid };
    }
    // The first identifier given decides, as a key does: a miss is not retried on the next.
    return undefined;
  }
  return undefined;
}

export function triggerEmail(
  state: SimState,
  account: ResolvedAccount,
  campaign: string,
  raw: Buffer,
  body: unknown,
): TriggerResult[] {
  if (state.options.campaigns && !state.options.campaigns.includes(campaign)) {
    throw resourceNotFound(`Campaign ${campaign} not found`);
  }
  if (hasRawNonAscii(raw)) throw invalidRequestContent();
  if (!isObject(body) || !Array.isArray(body.recipientData) || body.recipientData.length === 0) {
    throw invalidParameter("recipientData must be a non-empty array");
  }
  if (body.recipientData.length > MAX_RECORDS_PER_CALL) {
    throw recipientLimitExceeded(MAX_RECORDS_PER_CALL);
  }
  // Checked whole before any recipient is triggered: a malformed call triggers nobody.
  const recipients = body.recipientData.map((item, index) => {
    if (!isObject(item) || !isObject(item.recipient)) {
      throw invalidParameter(`recipientData[${index}].recipient is required`);
    }
    return { recipient: item.recipient, optionalData: parseOptionalData(item.optionalData, index) };
  });
  const accountLists = state.lists(account);
  return recipients.map(({ recipient, optionalData }) => {
    const listName = isObject(recipient.listName) ? recipient.listName.objectName : undefined;
    let lists: ProfileList[];
    if (typeof listName === "string") {
      const list = accountLists.get(listName, false);
      lists = list ? [list] : [];
    } else {
      lists = [...accountLists.lists.values()];
    }
    const found = findRecipient(lists, recipient);
    if (!found) return NOT_FOUND;
    const profile = found.list.records.get(found.riid);
    state.ledger.add({
      accountIndex: account.index,
      campaign,
      riid: Number(found.riid),
      emailAddress: profile?.EMAIL_ADDRESS_ ?? "",
      listName: found.list.name,
      optionalData,
      triggeredAt: state.clock.nowMs(),
    });
    return { errorMessage: null, success: true, recipientId: Number(found.riid) };
  });
}
