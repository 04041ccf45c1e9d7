import { copyValue } from "@luxrelay/db";
import { emailOf, normalizeEmail } from "../audience/email.ts";
import type { AudienceRow, AudienceValue } from "../audience/source.ts";
import { chidOf } from "../ids.ts";
import { StringHashSet } from "./hash-set.ts";
import type { PlannedVariant } from "./variants.ts";

// The streaming heart of planning (seed 000 steps 2-5): each audience row is validated,
// deduplicated, suppressed, given a variant, rendered into slot values and placed in a batch
// of its content group, one row at a time. Only the dedupe sets and counters stay in memory.

export interface PlanProblem {
  row: number;
  field: string;
  message: string;
}

export interface PlanCounts {
  read: number;
  invalid: number;
  duplicate: number;
  suppressed: number;
  planned: number;
  seeds: number;
}

export interface PlannedBatch {
  seq: number;
  group: number;
  variantId: number;
  contentHash: string;
  count: number;
}

/** The recipient columns, in the order of the COPY lines the planner writes. */
export const RECIPIENT_COLUMNS = [
  "execution_id",
  "contact_id",
  "email",
  "chid",
  "slot_data",
  "is_seed",
  "batch_seq",
] as const;

const MAX_PROBLEMS_KEPT = 1000;

/** The contact id of seed `seed` of content group `group` (both from 1). */
const seedContactId = (group: number, seed: number) => `seed-${group}-${seed}`;
/** Contact ids seedContactId writes: an audience row can't have one (issue 14). */
const SEED_CONTACT_ID = /^seed-\d+-\d+$/;

/**
 * Problems are stored as jsonb, which takes no NUL and no lone surrogate: a field name or a
 * quoted value from a hostile row must not fail the plan that reports it.
 */
const storable = (text: string) =>
  text
    .replaceAll("\0", "\\0")
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");

export interface PlanRowsOptions {
  executionId: number;
  offerId: number;
  channelId: string;
  batchSize: number;
  suppressed: ReadonlySet<string> | null;
  choose: (contactId: string, attributes: Record<string, AudienceValue>) => PlannedVariant | string;
  seeds: readonly string[];
}

function contactIdOf(row: AudienceRow): string | { problem: string } {
  const { attributes } = row;
  const raw = attributes.contact_id ?? attributes.contactId ?? attributes.id;
  if (raw === undefined || raw === null || raw === "") return `row-${row.row}`;
  const id = String(raw).trim();
  if (id.length > 200 || /[\s\p{Cc}]/u.test(id)) {
    return { problem: "contact id must be at most 200 characters without spaces" };
  }
  if (SEED_CONTACT_ID.test(id)) {
    return { problem: `contact id "${id}" is kept for seed recipients (seed-<group>-<n>)` };
  }
  return id;
}

export class BatchPlanner {
  readonly counts: PlanCounts = {
    read: 0,
    invalid: 0,
    duplicate: 0,
    suppressed: 0,
    planned: 0,
    seeds: 0,
  };
  readonly problems: PlanProblem[] = [];
  readonly batches: PlannedBatch[] = [];
  private readonly emails = new StringHashSet();
  private readonly contacts = new StringHashSet();
  private readonly groups = new Map<
    string,
    {
      group: number;
      open: PlannedBatch | null;
      sample: Record<string, AudienceValue>;
      variant: PlannedVariant;
    }
  >();

  constructor(private readonly options: PlanRowsOptions) {}

  /** A row that is not sent, with why; `audienceRow` false for a seed (not an invalid row). */
  private problem(row: number, field: string, message: string, audienceRow = true): void {
    if (audienceRow) this.counts.invalid++;
    if (this.problems.length < MAX_PROBLEMS_KEPT) {
      this.problems.push({ row, field: storable(field), message: storable(message) });
    }
  }

  private place(variant: PlannedVariant, attributes: Record<string, AudienceValue>): PlannedBatch {
    const hash = variant.compiled.contentHash;
    let group = this.groups.get(hash);
    if (!group) {
      group = { group: this.groups.size, open: null, sample: attributes, variant };
      this.groups.set(hash, group);
    }
    if (!group.open || group.open.count >= this.options.batchSize) {
      group.open = {
        seq: this.batches.length + 1,
        group: group.group,
        variantId: variant.id,
        contentHash: hash,
        count: 0,
      };
      this.batches.push(group.open);
    }
    group.open.count++;
    return group.open;
  }

  /** One recipient as a COPY text line (RECIPIENT_COLUMNS). */
  private line(contactId: string, email: string, slots: object, seed: boolean, seq: number) {
    const { executionId, offerId, channelId } = this.options;
    const chid = chidOf(executionId, offerId, channelId, contactId);
    return `${executionId}\t${copyValue(contactId)}\t${copyValue(email)}\t${copyValue(chid)}\t${copyValue(JSON.stringify(slots))}\t${seed ? "t" : "f"}\t${seq}\n`;
  }

  /** One audience row in; its recipient's COPY line out, or null when the row is not sent. */
  take(row: AudienceRow): string | null {
    this.counts.read++;
    if (row.problem) {
      this.problem(row.row, row.problem.field, row.problem.message);
      return null;
    }
    const email = normalizeEmail(emailOf(row.attributes));
    if ("problem" in email) {
      this.problem(row.row, "email", email.problem);
      return null;
    }
    const contactId = contactIdOf(row);
    if (typeof contactId !== "string") {
      this.problem(row.row, "contact_id", contactId.problem);
      return null;
    }
    // Both sets learn both keys even when one is a duplicate: a later row repeating either the
    // address or the contact id is a duplicate too.
    const newEmail = this.emails.add(email.email);
    const newContact = this.contacts.add(contactId);
    if (!newEmail || !newContact) {
      this.counts.duplicate++;
      return null;
    }
    if (this.options.suppressed?.has(email.email)) {
      this.counts.suppressed++;
      return null;
    }
    const variant = this.options.choose(contactId, row.attributes);
    if (typeof variant === "string") {
      this.problem(row.row, "variant", variant);
      return null;
    }
    let slots: Record<string, string>;
    try {
      slots = variant.compiled.renderSlots({ ...row.attributes, email: email.email });
    } catch (error) {
      this.problem(row.row, "template", (error as Error).message);
      return null;
    }
    const batch = this.place(variant, row.attributes);
    this.counts.planned++;
    return this.line(contactId, email.email, slots, false, batch.seq);
  }

  /**
   * The seeds / proof list: every seed address gets each content group once, rendered with the
   * group's first recipient's data so the proof looks like what customers get.
   */
  *seedLines(): Generator<string> {
    const { seeds } = this.options;
    for (const group of this.groups.values()) {
      for (let i = 0; i < seeds.length; i++) {
        const email = seeds[i] as string;
        const contactId = seedContactId(group.group + 1, i + 1);
        let slots: Record<string, string>;
        try {
          slots = group.variant.compiled.renderSlots({ ...group.sample, email });
        } catch (error) {
          // A seed's proof fails alone, as a recipient's would (row 0: not an audience row).
          this.problem(0, `seeds.${i}`, (error as Error).message, false);
          continue;
        }
        const batch = this.place(group.variant, group.sample);
        this.counts.seeds++;
        yield this.line(contactId, email, slots, true, batch.seq);
      }
    }
  }
}
