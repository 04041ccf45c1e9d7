import { type CompiledPart, compilePart } from "./merge.ts";

// Seed 000 outbound steps 3 and 8: templates are created per content variant and deleted at
// finalize. Parts are compiled once so a 1000-message send merges without re-parsing.

export interface StoredTemplate {
  id: string;
  accountIndex: number;
  title: string;
  format: "both" | "html" | "text";
  subject: CompiledPart;
  html: CompiledPart;
  text: CompiledPart;
  slNoTls: boolean;
}

export interface TemplateInput {
  title: string;
  subject: string;
  bodyHtml: string;
  bodyText: string;
  format: "both" | "html" | "text";
  slNoTls: boolean;
}

// Seed 000 shows template ids like "330814"; ours count up from there.
const FIRST_TEMPLATE_ID = 330_814;

export class TemplateStore {
  private readonly templates = new Map<string, StoredTemplate>();
  private nextId = FIRST_TEMPLATE_ID;

  /** Creates (id 0 or absent) or replaces (a known id) a template; returns its id. */
  put(accountIndex: number, requestedId: string | undefined, input: TemplateInput): string {
    const id =
      requestedId && this.get(accountIndex, requestedId) ? requestedId : String(this.nextId++);
    this.templates.set(id, {
      id,
      accountIndex,
      title: input.title,
      format: input.format,
      subject: compilePart(input.subject),
      html: compilePart(input.bodyHtml),
      text: compilePart(input.bodyText),
      slNoTls: input.slNoTls,
    });
    return id;
  }

  get(accountIndex: number, id: string): StoredTemplate | undefined {
    const template = this.templates.get(id);
    return template?.accountIndex === accountIndex ? template : undefined;
  }

  delete(accountIndex: number, id: string): boolean {
    return this.get(accountIndex, id) !== undefined && this.templates.delete(id);
  }

  get size(): number {
    return this.templates.size;
  }

  clear(): void {
    this.templates.clear();
    this.nextId = FIRST_TEMPLATE_ID;
  }
}
