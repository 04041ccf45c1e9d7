import type { FastifyInstance } from "fastify";
import { mergeListMembers } from "../merge.ts";
import { API_BASE, API_FUNCTIONS } from "../options.ts";
import type { SimState } from "../state.ts";
import { triggerEmail } from "../trigger.ts";
import { tokenCall } from "./context.ts";

// The API host's functions (the `endPoint`): list merge, campaign trigger, the limits list.

const RESOURCE_PATHS = {
  login: ["/rest/api/v1.3/auth/token", "POST", "Login with user name and password"],
  refreshToken: ["/rest/api/v1.3/auth/token", "POST", "Refresh an auth token"],
  mergeListMembers: ["/rest/api/v1.3/lists/{listName}/members", "POST", "Merge list members"],
  triggerEmail: ["/rest/api/v1.3/campaigns/{campaignName}/email", "POST", "Trigger email"],
} as const;

export function registerApiRoutes(app: FastifyInstance, state: SimState): void {
  app.post(
    `${API_BASE}/lists/:listName/members`,
    tokenCall(state, "mergeListMembers", ({ account, params, json }) =>
      mergeListMembers(state, account, params.listName as string, json()),
    ),
  );

  app.post(
    `${API_BASE}/campaigns/:campaignName/email`,
    tokenCall(state, "triggerEmail", ({ account, params, raw, json }) =>
      triggerEmail(state, account, params.campaignName as string, raw, json()),
    ),
  );

  // Contract: `GET /rest/api/ratelimit` (no v1.3) lists {limit, api, resource_path, verb,
  // description}; only the limited functions are listed. Not itself limited.
  app.get(
    "/rest/api/ratelimit",
    tokenCall(state, null, () =>
      API_FUNCTIONS.flatMap((api) => {
        const limit = state.limiter.limits[api];
        if (limit === undefined) return [];
        const [resource_path, verb, description] = RESOURCE_PATHS[api];
        return [{ limit, api, resource_path, verb, description }];
      }),
    ),
  );
}
