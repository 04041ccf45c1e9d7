// The simulator's template merge (contract "Templates and merge"; packages/render writes the
// placeholders, this is the one function that fills them on the LuxSci side). Placeholders
// are `{{name}}`, name of letters, digits, `_`, `.`, `-`, spaces allowed inside the braces.

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** A template part split once into static text and placeholder names, alternating. */
export type CompiledPart = readonly string[];

export function compilePart(text: string): CompiledPart {
  const parts: string[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, match.index), match[1] as string);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] as string);
}

function valueText(value: unknown): string {
  // A placeholder with no value becomes empty (contract); numbers and booleans print as JSON
  // does (RPI's template_data carries `RPContactID: 1380076`, `NameStyle: true`).
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Fills one compiled part; `escape` HTML-escapes values (HTML part without template_data_raw). */
export function fillPart(
  part: CompiledPart,
  data: Readonly<Record<string, unknown>>,
  escapeValues: boolean,
): string {
  if (part.length === 1) return part[0] as string;
  let out = "";
  for (let i = 0; i < part.length; i++) {
    const piece = part[i] as string;
    if (i % 2 === 0) {
      out += piece;
    } else {
      const text = Object.hasOwn(data, piece) ? valueText(data[piece]) : "";
      out += escapeValues ? escapeHtml(text) : text;
    }
  }
  return out;
}

export interface MergedMessage {
  subject: string;
  html: string;
  text: string;
}

/**
 * merge(template, template_data): values replace placeholders in subject, HTML and text;
 * with `raw` they go in as they are, otherwise they are HTML-escaped in the HTML part only.
 */
export function mergeTemplate(
  template: { subject: string; html: string; text: string },
  data: Readonly<Record<string, unknown>>,
  raw: boolean,
): MergedMessage {
  return {
    subject: fillPart(compilePart(template.subject), data, false),
    html: fillPart(compilePart(template.html), data, !raw),
    text: fillPart(compilePart(template.text), data, false),
  };
}
