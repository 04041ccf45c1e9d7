/** A content variant's three parts as authored (nunjucks); null: the message has no such part. */
export interface TContentSource {
  subject: string;
  html: string | null;
  text: string | null;
}

export interface TCompiledVariant {
  /** The LuxSci template bodies: static text with slot placeholders. */
  template: { subject: string; html: string; text: string };
  /** sha256 hex of the three template bodies (content grouping key). */
  contentHash: string;
  /** Slot names in use, e.g. ["s0","h0","h1","t0"]. */
  slots: readonly string[];
  /**
   * template_data for one recipient: slot name -> rendered string (HTML slots already escaped
   * per autoescape). Throws TemplateError when the recipient's render fails or goes over its
   * limits (limits.ts), or its merged subject can't be a header line (subject.ts).
   */
  renderSlots(data: Readonly<Record<string, unknown>>): Record<string, string>;
  /**
   * The message LuxSci merges from the template and stored slot values (template_data_raw: 1),
   * without the recipient's data: the mail-merge export of a batch from its slot_data.
   */
  renderFromSlots(slots: Readonly<Record<string, string>>): {
    subject: string;
    html: string;
    text: string;
  };
  /**
   * Full nunjucks render of the three parts for one recipient (the reference the slots are
   * tested against), with the same subject rule; its loops are not counted as steps.
   */
  renderFull(data: Readonly<Record<string, unknown>>): {
    subject: string;
    html: string;
    text: string;
  };
}
