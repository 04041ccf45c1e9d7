import type { FastifyInstance } from "fastify";
import { formatGmt } from "../clock.ts";
import { BASE_PATH } from "../options.ts";
import type { SimState } from "../state.ts";
import { suppressionRows } from "../suppression.ts";
import { RequestError } from "../validate.ts";
import { userCall } from "./context.ts";

// Seed 000 outbound steps 1 (profile), 3 (PUT templates), 8 (DELETE template) and inbound
// step 10 (suppression list).
export function registerAccountRoutes(app: FastifyInstance, state: SimState): void {
  app.get(
    `${BASE_PATH}/user/:user/profile`,
    userCall(state, ({ account }) => ({
      contact: account.user,
      city: null,
      custom1: null,
      services: ["imap", "pop", "smtp", "spam", "ftp", "website"],
      zip: null,
      custom2: null,
      created: "2021-02-18 18:03:09",
      custom3: null,
      phone2: null,
      uid: account.uid,
      secret_a: null,
      company: null,
      street2: null,
      account: account.account,
      phone1: "+1 781 725 0250 x1330",
      last_access_date: formatGmt(state.clock.nowMs()),
      email1: `${account.user}@example.com`,
      flags: [],
      fax: null,
      secret_q: null,
      street1: null,
      country: null,
      disk_quota: -1,
      email2: null,
      state: null,
      disk_used: "0.002",
    })),
  );

  app.put(
    `${BASE_PATH}/user/:user/templates`,
    userCall(state, ({ account, json }) => {
      const body = json() as Record<string, unknown>;
      if (typeof body !== "object" || body === null)
        throw new RequestError("body must be an object");
      const text = (field: string): string => {
        const value = body[field];
        if (value === null || value === undefined) return "";
        if (typeof value !== "string") throw new RequestError(`${field} must be a string`);
        return value;
      };
      const title = text("title");
      if (!title) throw new RequestError("title is required");
      const format = body.format ?? "both";
      if (format !== "both" && format !== "html" && format !== "text") {
        throw new RequestError(
          `format must be "both", "html" or "text", not ${JSON.stringify(format)}`,
        );
      }
      const requested = body.template_id ? String(body.template_id) : undefined;
      const templateId = state.templates.put(account.index, requested, {
        title,
        subject: text("subject"),
        bodyHtml: text("body_html"),
        bodyText: text("body_text"),
        format,
        slNoTls: body.sl_no_tls === true || body.sl_no_tls === "true" || body.sl_no_tls === 1,
      });
      // Contract (ours): the seed shows no reply body for PUT /templates.
      return { template_id: templateId };
    }),
  );

  app.delete(
    `${BASE_PATH}/user/:user/template/:id`,
    userCall(state, ({ account, params }) => {
      if (!state.templates.delete(account.index, params.id as string)) {
        throw new RequestError(`template ${params.id} not found`, 404);
      }
      return undefined;
    }),
  );

  app.get(
    `${BASE_PATH}/user/:user/suppression`,
    userCall(state, ({ account }) => suppressionRows(state.scanContext(account), account)),
  );
}
