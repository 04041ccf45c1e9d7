import { compileVariant } from "./compile-variant.ts";
import type { TRenderLimits } from "./limits.ts";
import { TemplateError } from "./template-error.ts";
import type { TContentSource } from "./types.ts";

// The check of content when it is saved (issue 14): beyond validateContent (syntax, sandbox),
// one render for a sample recipient under the send-time limits, so a template that loops,
// pads or writes without end is refused then, naming the part, not found at send time
// recipient by recipient.

const SAMPLE_RECIPIENT: Readonly<Record<string, unknown>> = {
  email: "sample@example.com",
  contact_id: "sample",
};

/**
 * Throws TemplateError for what validateContent refuses and for a render of `sample` (with
 * an email and contact id) that goes over a limit. A render failure that is not a limit (a
 * filter given a value the sample lacks) passes: a sample can't hold every field.
 */
export function trialRender(
  source: TContentSource,
  options: { sample?: Readonly<Record<string, unknown>>; limits?: Partial<TRenderLimits> } = {},
): void {
  const variant = compileVariant(source, options.limits);
  try {
    variant.renderSlots({ ...SAMPLE_RECIPIENT, ...options.sample });
  } catch (error) {
    if (error instanceof TemplateError && !error.limit) return;
    throw error;
  }
}
