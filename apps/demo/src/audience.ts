import { writeFileSync } from "node:fs";

// The demo audience: 10,000 contacts in three tiers (one content variant each), plus rows a
// real list has: invalid addresses, duplicates, and addresses already on the suppression list.

export interface DemoAudience {
  path: string;
  contacts: number;
  invalid: number;
  duplicates: number;
  suppressed: string[];
}

const TIERS = ["gold", "silver", "bronze"] as const;
const NAMES = [
  "Ada",
  "Grace",
  "Linus",
  "Margaret",
  "Ken",
  "Barbara",
  "Dennis",
  "Radia",
  "Zoë",
  "José",
];
const CITIES = ["Boston", "Zürich", "Lisbon", "Osaka", "Nairobi"];

export function writeDemoAudience(path: string, contacts = 10_000): DemoAudience {
  const lines = ["contact_id,email,first_name,tier,city,points"];
  const suppressed: string[] = [];
  for (let n = 1; n <= contacts; n++) {
    const email = `customer${n}@demo.luxrelay.example`;
    if (n % 97 === 0) suppressed.push(email);
    lines.push(
      [
        `C${String(n).padStart(6, "0")}`,
        email,
        NAMES[n % NAMES.length],
        TIERS[n % 3],
        CITIES[n % 5],
        (n * 37) % 5000,
      ].join(","),
    );
  }
  const invalid = 25;
  for (let i = 1; i <= invalid; i++) lines.push(`BAD${i},not-an-address-${i},Nobody,gold,Boston,0`);
  const duplicates = 40;
  for (let n = 1; n <= duplicates; n++) {
    lines.push(`DUP${n},CUSTOMER${n}@demo.luxrelay.example,Again,silver,Lisbon,1`);
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
  return { path, contacts, invalid, duplicates, suppressed };
}

export const DEMO_VARIANTS = {
  gold: {
    subject: "{{ first_name }}, your Gold rewards are waiting",
    html: "<h1>Hello {{ first_name }}!</h1><p>As a Gold member in {{ city }} you have <b>{{ points }}</b> points.</p>{% if points > 2500 %}<p>That is enough for a free upgrade.</p>{% endif %}",
    text: "Hello {{ first_name }}! Gold member, {{ points }} points.",
  },
  silver: {
    subject: "{{ first_name }}, Silver members save 20% this week",
    html: "<h1>Hi {{ first_name }}</h1><p>Silver savings in {{ city }}: 20% off.</p>",
    text: "Hi {{ first_name }}, Silver savings: 20% off.",
  },
  bronze: {
    subject: "A little something for you, {{ first_name | upper }}",
    html: "<p>Dear {{ first_name }}, here is 10% off your next order.</p>",
    text: "Dear {{ first_name }}, here is 10% off your next order.",
  },
} as const;
