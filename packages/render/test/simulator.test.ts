import { DEMO_ACCOUNT, type Simulator, startSimulator } from "@luxrelay/luxsci-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileVariant } from "../src/index.ts";
import { SimClient } from "./luxsci-client.ts";

// End to end over real HTTP: the compiled template is PUT once, each recipient sends only
// its slot values (template_data_raw: 1), and the simulator's merged message equals the
// full nunjucks render.

let sim: Simulator;
let client: SimClient;

beforeAll(async () => {
  sim = await startSimulator({ seed: 7 });
  client = new SimClient(sim.url, DEMO_ACCOUNT);
});
afterAll(() => sim.close());

const SOURCE = {
  subject: "{{ first | title }}, your {{ offer }} & more",
  html: [
    "<html><body><h1>Hello {{ first | title }}</h1>",
    '{% if vip %}<p class="vip">Thanks for being VIP since {{ since }}</p>{% else %}<p>Join us</p>{% endif %}',
    "<ul>{% for item in items %}<li>{{ item.name }}: {{ item.price | round(2) }}</li>{% endfor %}</ul>",
    "<p>{{ note }}</p><p>{{ note | safe }}</p>{% raw %}{{ literal }}{% endraw %}</body></html>",
  ].join("\n"),
  text: "Hello {{ first }},\n{% for item in items %}- {{ item.name }}\n{% endfor %}{{ note }}",
};

describe("through the simulator", () => {
  it("merges renderSlots into the template exactly as renderFull renders", async () => {
    const variant = compileVariant(SOURCE);
    const { template_id: templateId } = (await client.call("PUT", "/user/demo/templates", {
      template_id: 0,
      title: "LR_Q1001",
      subject: variant.template.subject,
      body_html: variant.template.html,
      body_text: variant.template.text,
      format: "both",
    })) as { template_id: string };

    const recipients = Array.from({ length: 20 }, (_, i) => ({
      first: i % 3 === 0 ? `ann <${i}>` : `bob & "${i}"`,
      offer: `offer ${i}`,
      vip: i % 2 === 0,
      since: 2000 + i,
      items: Array.from({ length: i % 4 }, (_, j) => ({ name: `item<${j}>`, price: j * 1.005 })),
      note: i % 5 === 0 ? "<b>bold</b> & 'quoted'" : `{{ not a slot ${i} }}`,
    }));
    const slotData = recipients.map((data) => variant.renderSlots(data));
    const sendmailIds = (await client.call("POST", "/user/demo/email/send", {
      messages: slotData.map((slots, i) => ({
        from_address: "dev@luxsci.net",
        from_name: "Developer",
        subject: null,
        to: [`r${i}@example.com`],
        headers: [["chid", `1_2_ch1_${i}`]],
        template: templateId,
        template_data: slots,
        template_data_raw: 1,
      })),
    })) as string[];
    expect(sendmailIds).toHaveLength(20);

    for (const [i, sendmailId] of sendmailIds.entries()) {
      const reply = await fetch(`${sim.origin}/__sim/messages/${sendmailId}`);
      const { merged } = (await reply.json()) as { merged: unknown };
      expect(merged).toEqual(variant.renderFull(recipients[i] as Record<string, unknown>));
      expect(variant.renderFromSlots(slotData[i] as Record<string, string>)).toEqual(merged);
    }
  });
});
