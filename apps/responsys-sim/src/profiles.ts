import { createHash } from "node:crypto";

// Profile lists (contract "Merge profile list members"): records keyed by RIID, indexed by
// every match column. Email matching is case-insensitive and the hash columns are the MD5 /
// SHA-256 hex of the trimmed, lower-cased address (what Responsys stores is not confirmed; the
// reading every hashing client assumes).

export const MATCH_COLUMNS = [
  "RIID_",
  "CUSTOMER_ID_",
  "EMAIL_ADDRESS_",
  "MOBILE_NUMBER_",
  "EMAIL_MD5_HASH_",
  "EMAIL_SHA256_HASH_",
] as const;
export type MatchColumn = (typeof MATCH_COLUMNS)[number];
export const HASH_COLUMNS: readonly MatchColumn[] = ["EMAIL_MD5_HASH_", "EMAIL_SHA256_HASH_"];

export type ProfileRecord = Record<string, string>;

const normaliseEmail = (email: string) => email.trim().toLowerCase();

/** The index key of a record's value in a match column ("" when it has none). */
export function matchKey(column: MatchColumn, record: ProfileRecord): string {
  const email = record.EMAIL_ADDRESS_ ? normaliseEmail(record.EMAIL_ADDRESS_) : "";
  switch (column) {
    case "EMAIL_ADDRESS_":
      return email;
    case "EMAIL_MD5_HASH_":
      return email && createHash("md5").update(email).digest("hex");
    case "EMAIL_SHA256_HASH_":
      return email && createHash("sha256").update(email).digest("hex");
    default:
      return (record[column] ?? "").trim();
  }
}

/** A value as sent in a match column, normalised like matchKey's. */
export function normaliseMatchValue(column: MatchColumn, value: string): string {
  if (column === "EMAIL_ADDRESS_") return normaliseEmail(value);
  if (column === "EMAIL_MD5_HASH_" || column === "EMAIL_SHA256_HASH_") {
    return value.trim().toLowerCase();
  }
  return value.trim();
}

export class ProfileList {
  readonly records = new Map<string, ProfileRecord>();
  private readonly indexes = new Map<MatchColumn, Map<string, string>>(
    MATCH_COLUMNS.filter((c) => c !== "RIID_").map((c) => [c, new Map()]),
  );

  constructor(readonly name: string) {}

  get size(): number {
    return this.records.size;
  }

  /** The RIID of the record whose `column` has `value` (already normalised). */
  find(column: MatchColumn, value: string): string | undefined {
    if (value === "") return undefined;
    if (column === "RIID_") return this.records.has(value) ? value : undefined;
    return this.indexes.get(column)?.get(value);
  }

  /** Inserts or replaces the record of `riid`, keeping every index right. */
  put(riid: string, record: ProfileRecord): void {
    const old = this.records.get(riid);
    for (const [column, index] of this.indexes) {
      if (old) {
        const oldKey = matchKey(column, old);
        if (oldKey && index.get(oldKey) === riid) index.delete(oldKey);
      }
      const key = matchKey(column, record);
      if (key) index.set(key, riid);
    }
    this.records.set(riid, { ...record, RIID_: riid });
  }
}

/** One account's profile lists, in creation order. */
export class AccountLists {
  readonly lists = new Map<string, ProfileList>();

  get(name: string, create: boolean): ProfileList | undefined {
    let list = this.lists.get(name);
    if (!list && create) {
      list = new ProfileList(name);
      this.lists.set(name, list);
    }
    return list;
  }
}
