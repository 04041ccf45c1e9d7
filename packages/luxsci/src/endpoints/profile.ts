import { type LuxSciHttp, ShapeError } from "../http.ts";
import type { LuxSciProfile } from "../types.ts";

/** `GET /user/<u>/profile`: seed 000 outbound step 1, the connectivity test after auth. */
export function getProfile(http: LuxSciHttp): Promise<LuxSciProfile> {
  return http.call({
    method: "GET",
    path: http.userPath("/profile"),
    parse: (envelope) => {
      const data = envelope.data;
      if (data === null || typeof data !== "object" || Array.isArray(data)) {
        throw new ShapeError("profile reply without a data object");
      }
      return data as LuxSciProfile;
    },
  });
}
