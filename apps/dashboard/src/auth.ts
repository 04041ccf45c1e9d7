import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

export const BASIC_REALM = "luxrelay";

export interface BasicCredentials {
  user: string;
  password: string;
}

// Both sides are hashed first so timingSafeEqual always gets equal-length buffers and the
// comparison time says nothing about the length of the expected password either.
function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Parses an `Authorization: Basic ...` header; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  const match = header?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** True when the header carries exactly the expected user and password. */
export function checkBasicAuth(header: string | undefined, expected: BasicCredentials): boolean {
  const given = parseBasicAuth(header);
  if (!given) return false;
  const userOk = timingSafeEqual(digest(given.user), digest(expected.user));
  const passwordOk = timingSafeEqual(digest(given.password), digest(expected.password));
  // Both comparisons always run: no early exit tells a caller which half was wrong.
  return userOk && passwordOk;
}

/** An onRequest hook that answers 401 unless the request has the right credentials. */
export function requireBasicAuth(expected: BasicCredentials, isPublic: (url: string) => boolean) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (isPublic(request.routeOptions.url ?? "")) return;
    if (checkBasicAuth(request.headers.authorization, expected)) return;
    await reply
      .code(401)
      .header("WWW-Authenticate", `Basic realm="${BASIC_REALM}"`)
      .send({ error: "authentication required" });
  };
}
