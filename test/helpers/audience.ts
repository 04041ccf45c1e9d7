import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Generated audiences for the outbound tests: contacts with attributes that become template
// variables, plus known bad rows so tests can count what planning refuses.

export interface Contact {
  contact_id: string;
  email: string;
  first_name: string;
  segment: string;
  city: string;
}

export function makeContacts(count: number, segments: readonly string[], start = 1): Contact[] {
  return Array.from({ length: count }, (_, i) => {
    const n = start + i;
    return {
      contact_id: `c${n}`,
      email: `Person.${n}@Example.com`,
      first_name: n % 7 === 0 ? `<Zoë & "Co">` : `First${n}`,
      segment: segments[n % segments.length] as string,
      city: n % 3 === 0 ? "Zürich" : "Boston",
    };
  });
}

const csvCell = (value: string) =>
  /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;

/** Writes contacts (and extra raw lines) as CSV; returns the path. */
export function writeCsv(contacts: readonly Contact[], extraLines: readonly string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), "lr-audience-"));
  const path = join(dir, "audience.csv");
  const header = "contact_id,email,first_name,segment,city";
  const lines = contacts.map((c) =>
    [c.contact_id, c.email, c.first_name, c.segment, c.city].map(csvCell).join(","),
  );
  writeFileSync(path, `${[header, ...lines, ...extraLines].join("\n")}\n`);
  return path;
}
