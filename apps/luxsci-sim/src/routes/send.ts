import type { FastifyInstance } from "fastify";
import { BASE_PATH } from "../options.ts";
import { acceptMessages } from "../send.ts";
import type { SimState } from "../state.ts";
import { parseSendBody } from "../validate.ts";
import { userCall } from "./context.ts";

// Seed 000 outbound step 6: reply `data` is one sendmail id per message, in order.
export function registerSendRoute(app: FastifyInstance, state: SimState): void {
  app.post(
    `${BASE_PATH}/user/:user/email/send`,
    userCall(state, ({ account, json }) => {
      const { messages, sandbox } = parseSendBody(json());
      return acceptMessages(messages, {
        accountIndex: account.index,
        sandbox,
        templates: state.templates,
        ledger: state.ledger,
        nowMs: state.clock.nowMs(),
      });
    }),
  );
}
