import { unitDraw } from "@luxrelay/sim-kit";
import { invalidParameter, recipientLimitExceeded, resourceNotFound } from "./errors.ts";
import { API_BASE, MAX_RECORDS_PER_CALL, type ResolvedAccount } from "./options.ts";
import {
  HASH_COLUMNS,
  MATCH_COLUMNS,
  type MatchColumn,
  normaliseMatchValue,
  type ProfileList,
  type ProfileRecord,
} from "./profiles.ts";
import type { SimState } from "./state.ts";

// `POST /rest/api/v1.3/lists/{listName}/members` (contract "Merge profile list members"): an
// upsert per record keyed by the match column(s); the reply has one row per record, in order,
// the RIID as a string or a `MERGEFAILED: Record <i> = ...` string. A bad rule fails the whole
// call (400); a bad record fails only its row.

const MERGE_RULE_KEYS = [
  "htmlValue",
  "optinValue",
  "textValue",
  "insertOnNoMatch",
  "updateOnMatch",
  "matchColumnName1",
  "matchColumnName2",
  "matchColumnName3",
  "matchOperator",
  "optoutValue",
  "rejectRecordIfChannelEmpty",
  "defaultPermissionStatus",
] as const;

// Deliberately loose (one @, a dot in the domain, no spaces): Responsys' own rule is not
// documented; this refuses what is plainly not an address.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

interface MergeRule {
  insertOnNoMatch: boolean;
  updateOnMatch: "REPLACE_ALL" | "NO_UPDATE";
  columns: MatchColumn[];
  operator: "NONE" | "AND";
  optinValue: string;
  optoutValue: string;
  rejectIfChannelEmpty: string | null;
  defaultPermission: "I" | "O";
}

class RecordFailure extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface MergeReply {
  recordData: { fieldNames: ["RIID_"]; records: string[][]; mapTemplateName: null };
  mergeRule: Record<string, unknown>;
  links: { rel: string; href: string; method: string }[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function matchColumn(name: string, value: unknown): MatchColumn | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !(MATCH_COLUMNS as readonly string[]).includes(value)) {
    throw invalidParameter(`${name} must be one of ${MATCH_COLUMNS.join(", ")}`);
  }
  return value as MatchColumn;
}

function parseRule(raw: unknown, fieldNames: string[]): MergeRule {
  if (!isObject(raw)) throw invalidParameter("mergeRule is required");
  const first = matchColumn("matchColumnName1", raw.matchColumnName1);
  if (!first) throw invalidParameter("matchColumnName1 is required");
  const second = matchColumn("matchColumnName2", raw.matchColumnName2);
  const columns = second && second !== first ? [first, second] : [first];
  const insertOnNoMatch = raw.insertOnNoMatch ?? true;
  if (typeof insertOnNoMatch !== "boolean") {
    throw invalidParameter("insertOnNoMatch must be true or false");
  }
  const updateOnMatch = raw.updateOnMatch ?? "REPLACE_ALL";
  if (updateOnMatch !== "REPLACE_ALL" && updateOnMatch !== "NO_UPDATE") {
    throw invalidParameter("updateOnMatch must be REPLACE_ALL or NO_UPDATE");
  }
  const operator = raw.matchOperator ?? "NONE";
  if (operator !== "NONE" && operator !== "AND") {
    throw invalidParameter("matchOperator must be NONE or AND");
  }
  const hashes = columns.filter((column) => HASH_COLUMNS.includes(column));
  if (hashes.length > 0) {
    // Contract: hash columns update only, never with each other or with EMAIL_ADDRESS_.
    if (insertOnNoMatch)
      throw invalidParameter("insertOnNoMatch must be false with a hash match column");
    if (hashes.length > 1 || columns.includes("EMAIL_ADDRESS_")) {
      throw invalidParameter("a hash match column cannot be combined with another email column");
    }
  }
  for (const column of columns) {
    if (!fieldNames.includes(column)) {
      throw invalidParameter(`match column ${column} is not in recordData.fieldNames`);
    }
  }
  const permission = raw.defaultPermissionStatus ?? "OPTOUT";
  if (permission !== "OPTIN" && permission !== "OPTOUT") {
    throw invalidParameter("defaultPermissionStatus must be OPTIN or OPTOUT");
  }
  const text = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback);
  return {
    insertOnNoMatch,
    updateOnMatch,
    columns,
    operator,
    optinValue: text(raw.optinValue, "I"),
    optoutValue: text(raw.optoutValue, "O"),
    rejectIfChannelEmpty:
      typeof raw.rejectRecordIfChannelEmpty === "string" ? raw.rejectRecordIfChannelEmpty : null,
    defaultPermission: permission === "OPTIN" ? "I" : "O",
  };
}

function parseRecord(fieldNames: string[], row: unknown, rule: MergeRule): ProfileRecord {
  if (!Array.isArray(row) || row.length !== fieldNames.length) {
    throw new RecordFailure(
      "INVALID_PARAMETER",
      "The number of values does not match the number of fields",
    );
  }
  const record: ProfileRecord = {};
  fieldNames.forEach((field, i) => {
    const value = row[i] ?? "";
    if (typeof value !== "string") {
      throw new RecordFailure("INVALID_PARAMETER", `The value of ${field} must be a string`);
    }
    record[field] = value;
  });
  const email = record.EMAIL_ADDRESS_?.trim() ?? "";
  if (email !== "" && !EMAIL.test(email)) {
    throw new RecordFailure(
      "INVALID_PARAMETER",
      `The value "${email}" is not a valid email address`,
    );
  }
  for (const [flag, field] of [
    ["E", "EMAIL_ADDRESS_"],
    ["M", "MOBILE_NUMBER_"],
  ] as const) {
    if (rule.rejectIfChannelEmpty?.includes(flag) && !(record[field] ?? "").trim()) {
      throw new RecordFailure("INVALID_PARAMETER", `${field} is empty`);
    }
  }
  const permission = record.EMAIL_PERMISSION_STATUS_;
  if (permission !== undefined && permission !== "") {
    if (permission === rule.optinValue) record.EMAIL_PERMISSION_STATUS_ = "I";
    else if (permission === rule.optoutValue) record.EMAIL_PERMISSION_STATUS_ = "O";
    else {
      throw new RecordFailure(
        "INVALID_PARAMETER",
        `The value "${permission}" is not valid for EMAIL_PERMISSION_STATUS_`,
      );
    }
  }
  // Hash columns only find a record; the profile keeps the address they are computed from.
  for (const column of HASH_COLUMNS) delete record[column];
  return record;
}

function findMatch(list: ProfileList, rule: MergeRule, keys: string[]): string | undefined {
  const found = rule.columns.map((column, i) => list.find(column, keys[i] ?? ""));
  if (rule.operator === "AND") {
    return found.every((riid) => riid !== undefined && riid === found[0]) ? found[0] : undefined;
  }
  return found.find((riid) => riid !== undefined);
}

function mergeOne(
  state: SimState,
  account: ResolvedAccount,
  list: ProfileList,
  rule: MergeRule,
  fieldNames: string[],
  row: unknown,
  rawValues: Record<string, string>,
): string {
  const record = parseRecord(fieldNames, row, rule);
  const keys = rule.columns.map((column) => normaliseMatchValue(column, rawValues[column] ?? ""));
  if (keys.every((key) => key === "")) {
    throw new RecordFailure("INVALID_PARAMETER", `No value for match column ${rule.columns[0]}`);
  }
  // Seeded per record identity, not per call: a record that fails keeps failing on a retry,
  // as a bad value would.
  const identity = `${account.index}\0${list.name}\0${rule.columns[0]}=${keys[0]}`;
  if (
    state.mergeFailureRate > 0 &&
    unitDraw(identity, state.options.seed) < state.mergeFailureRate
  ) {
    throw new RecordFailure("INVALID_PARAMETER", "The record was rejected (simulated failure)");
  }
  const riid = findMatch(list, rule, keys);
  if (riid !== undefined) {
    if (rule.updateOnMatch === "REPLACE_ALL") {
      list.put(riid, { ...list.records.get(riid), ...record });
    }
    return riid;
  }
  if (!rule.insertOnNoMatch) {
    throw new RecordFailure("RECORD_NOT_FOUND", "No matching record and insertOnNoMatch is false");
  }
  if (rule.columns.includes("RIID_")) {
    throw new RecordFailure(
      "RECORD_NOT_FOUND",
      "No record has this RIID_; a RIID is never chosen by the caller",
    );
  }
  const inserted = state.allocateRiid();
  list.put(inserted, {
    EMAIL_PERMISSION_STATUS_: rule.defaultPermission,
    ...record,
  });
  return inserted;
}

function failedRow(state: SimState, index: number, failure: RecordFailure): string {
  return state.options.mergeFailedStyle === "documented"
    ? `MERGEFAILED: Record ${index} = ${failure.code}: ${failure.reason}`
    : `MERGEFAILED: Record ${index} = ${failure.reason}\r\n`;
}

export function mergeListMembers(
  state: SimState,
  account: ResolvedAccount,
  listName: string,
  body: unknown,
): MergeReply {
  if (state.options.lists && !state.options.lists.includes(listName)) {
    throw resourceNotFound(`List ${listName} not found`);
  }
  if (!isObject(body) || !isObject(body.recordData)) {
    throw invalidParameter("recordData is required");
  }
  const { fieldNames, records } = body.recordData;
  if (
    !Array.isArray(fieldNames) ||
    fieldNames.length === 0 ||
    !fieldNames.every((name) => typeof name === "string")
  ) {
    throw invalidParameter("recordData.fieldNames must be a non-empty array of field names");
  }
  if (!Array.isArray(records) || records.length === 0) {
    throw invalidParameter("recordData.records must be a non-empty array");
  }
  if (records.length > MAX_RECORDS_PER_CALL) throw recipientLimitExceeded(MAX_RECORDS_PER_CALL);
  const names = fieldNames as string[];
  const rule = parseRule(body.mergeRule, names);
  const list = state.lists(account).get(listName, true) as ProfileList;
  const rows = records.map((row, index) => {
    const rawValues: Record<string, string> = {};
    if (Array.isArray(row)) {
      names.forEach((name, i) => {
        if (typeof row[i] === "string") rawValues[name] = row[i];
      });
    }
    try {
      return [mergeOne(state, account, list, rule, names, row, rawValues)];
    } catch (error) {
      if (error instanceof RecordFailure) return [failedRow(state, index, error)];
      throw error;
    }
  });
  const sentRule = body.mergeRule as Record<string, unknown>;
  return {
    recordData: { fieldNames: ["RIID_"], records: rows, mapTemplateName: null },
    mergeRule: Object.fromEntries(MERGE_RULE_KEYS.map((key) => [key, sentRule[key] ?? null])),
    links: [
      {
        rel: "self",
        href: `${API_BASE}/lists/${encodeURIComponent(listName)}/members`,
        method: "POST",
      },
    ],
  };
}
