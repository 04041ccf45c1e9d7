import type { Envelope } from "../errors/classify.ts";
import { type LuxSciHttp, ShapeError } from "../http.ts";
import type { Suppression } from "../types.ts";

/**
 * `GET /user/<u>/suppression` (seed 000 inbound step 10). Unlike reports this reply has no
 * header array, so rows are positional: [email, 0, account, id, uid, date, reason]; the
 * second column (always 0 in the seed) has no documented meaning and is dropped.
 */
export function getSuppressions(http: LuxSciHttp): Promise<Suppression[]> {
  return http.call({
    method: "GET",
    path: http.userPath("/suppression"),
    parse: parseSuppressions,
  });
}

export function parseSuppressions(envelope: Envelope): Suppression[] {
  if (!Array.isArray(envelope.data)) throw new ShapeError("suppression reply without a data array");
  return envelope.data.map((row, index) => {
    if (!Array.isArray(row) || row.length < 7 || typeof row[0] !== "string") {
      throw new ShapeError(
        `suppression row ${index} is not [email, 0, account, id, uid, date, reason]`,
      );
    }
    const [email, , account, id, uid, date, reason] = row as unknown[];
    return {
      email: email as string,
      account: (account ?? null) as number | string | null,
      id: (id ?? null) as number | string | null,
      uid: uid === null || uid === undefined ? null : String(uid),
      date: date === null || date === undefined ? null : String(date),
      reason: reason === null || reason === undefined ? null : String(reason),
    };
  });
}
