// Address checks at planning (seed 000 step 4: "validate and lowercase"). Deliberately plain:
// one @, a dotted domain, no spaces or control characters, RFC 5321 lengths. LuxSci decides
// deliverability; this keeps obvious garbage out of a million-row send.

const EMAIL =
  /^[^\s@"(),:;<>[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** The lowercased address, or a reason it is refused. */
export function normalizeEmail(value: unknown): { email: string } | { problem: string } {
  if (typeof value !== "string" || value.trim() === "") return { problem: "missing" };
  const email = value.trim().toLowerCase();
  if (email.length > 254) return { problem: "longer than 254 characters" };
  if (!EMAIL.test(email)) return { problem: `not an email address: "${email.slice(0, 80)}"` };
  if ((email.split("@")[0] as string).length > 64) return { problem: "local part longer than 64" };
  return { email };
}

/** The attribute names an audience's address may have (a CSV column, an NDJSON key, a column). */
export const EMAIL_FIELDS = ["email", "Email", "EMAIL"] as const;

/** A row's address attribute, under any of EMAIL_FIELDS. */
export function emailOf(attributes: Record<string, unknown>): unknown {
  return attributes.email ?? attributes.Email ?? attributes.EMAIL;
}
