import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { compileVariant } from "@luxrelay/render";
import { writeBenchmarkSection } from "./report.ts";

// Slot rendering speed: planning renders every recipient's template_data (renderSlots) once,
// up to a million recipients per execution, so this is the figure that bounds planning.
// One realistic variant (subject with the first name, ~3 KB of HTML with an if, a for over a
// small list and a few values, a text part), compiled once. Recipients come from a pool of
// 10,000 distinct ones built before the clock starts (planning streams them from
// PostgreSQL, so it never holds a million either). One process, one core.
// Run: npx tsx bench/render.ts [--recipients N] [--no-write]

const { values } = parseArgs({
  options: {
    recipients: { type: "string", default: "200000" },
    "no-write": { type: "boolean", default: false },
  },
});
const total = Number(values.recipients);

const FILLER = Array.from(
  { length: 9 },
  (_, i) =>
    `<tr><td style="padding:8px 24px;font-family:Arial,sans-serif;font-size:14px;color:#333333;line-height:20px">Paragraph ${i}: our spring collection brings new colours, lighter fabrics and free returns on every order.</td></tr>`,
).join("\n");

const SOURCE = {
  subject: "{{ first_name | title }}, your June offer is here",
  html: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>June Sales</title></head>
<body style="margin:0;padding:0;background:#f4f4f4"><table width="600" align="center" cellpadding="0" cellspacing="0">
<tr><td style="padding:24px;font-family:Arial,sans-serif;font-size:20px">Hello {{ first_name | title }},</td></tr>
{% if tier == "gold" %}<tr><td style="padding:8px 24px;color:#b8860b">As a Gold member you save {{ discount }}% on everything.</td></tr>{% else %}<tr><td style="padding:8px 24px">Members save up to {{ discount }}%: join today.</td></tr>{% endif %}
${FILLER}
<tr><td style="padding:8px 24px"><ul>{% for product in products %}<li><a href="https://shop.example.com/p/{{ product.sku }}">{{ product.name }}</a> {{ product.price | round(2) }} EUR</li>{% endfor %}</ul></td></tr>
<tr><td style="padding:24px;font-size:11px;color:#999999">Sent to {{ email }}. <a href="https://shop.example.com/unsubscribe">Unsubscribe</a></td></tr>
</table></body></html>`,
  text: "Hello {{ first_name | title }},\n\nYour June offer: {{ discount }}% off.\n{% for product in products %}- {{ product.name }}: {{ product.price }} EUR\n{% endfor %}\nSent to {{ email }}.",
};

const NAMES = ["anna", "BOB", "chloé", "D'Arcy", "eve & co", "<frank>"];
function recipient(i: number): Record<string, unknown> {
  return {
    first_name: NAMES[i % NAMES.length],
    email: `r${i}@example.com`,
    tier: i % 3 === 0 ? "gold" : "silver",
    discount: 10 + (i % 20),
    products: Array.from({ length: 1 + (i % 4) }, (_, j) => ({
      sku: `SKU-${(i + j) % 997}`,
      name: `Product ${j} "${i % 50}"`,
      price: 9.99 + j * 5.5,
    })),
    rpid: i,
    offer_id: 2790,
  };
}

const loadAtStart = loadavg()[0] ?? 0;
const variant = compileVariant(SOURCE);
const POOL = 10_000;
const recipients = Array.from({ length: Math.min(POOL, total) }, (_, i) => recipient(i));
const at = (i: number) => recipients[i % recipients.length] as Record<string, unknown>;
let slotBytes = 0;
for (let i = 0; i < 10_000; i++) variant.renderSlots(at(i)); // warm-up

const started = process.hrtime.bigint();
for (let i = 0; i < total; i++) {
  const slots = variant.renderSlots(at(i));
  slotBytes += (slots.h1 as string).length; // keeps the result alive: no dead-code shortcut
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

const fullSample = Math.min(50_000, total);
const fullStarted = process.hrtime.bigint();
for (let i = 0; i < fullSample; i++) variant.renderFull(at(i));
const fullSeconds = Number(process.hrtime.bigint() - fullStarted) / 1e9;

const sampleSlots = JSON.stringify(variant.renderSlots(at(0)));
const rate = Math.round(total / seconds);
const figures = [
  `variant: subject ${SOURCE.subject.length} B, html ${SOURCE.html.length} B, text ${SOURCE.text.length} B; template html ${variant.template.html.length} B; ${variant.slots.length} slots (${variant.slots.join(", ")})`,
  `renderSlots over ${total.toLocaleString("en-US")} recipients: ${seconds.toFixed(2)} s, **${rate.toLocaleString("en-US")} recipients/s** on one core (${((seconds / total) * 1e6).toFixed(1)} µs each)`,
  `renderFull (whole message, for comparison) over ${fullSample.toLocaleString("en-US")}: ${Math.round(fullSample / fullSeconds).toLocaleString("en-US")} recipients/s`,
  `load average (1 min) at start: ${loadAtStart.toFixed(2)} (other processes on the machine slow single-core figures)`,
  `template_data of one recipient: ${sampleSlots.length} B of JSON (vs ${variant.renderFull(at(0)).html.length} B of rendered HTML)`,
];
process.stdout.write(`${figures.join("\n")}\n(checksum ${slotBytes})\n`);
if (!values["no-write"]) {
  writeBenchmarkSection(
    "Slot rendering (packages/render)",
    `npx tsx bench/render.ts --recipients ${total}`,
    figures,
  );
}
