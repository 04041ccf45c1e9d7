import { SLOT_PREFIX } from "./compile-part.ts";
import { TemplateError } from "./template-error.ts";

// The subject is a header line of the message LuxSci builds from the template and the slot
// values: a CR or LF in it ends that header, and what follows becomes headers of its own
// (`Ann\r\nBcc: victim@evil.example`). So a merged subject holding one, or longer than the
// provider takes, fails its recipient with the reason before anything is sent.

const LINE_BREAK = /[\r\n]/;

/** Characters (code points, as LuxSci counts them), not UTF-16 units. */
function charLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Throws TemplateError (a limit) unless `subject` can be sent as one header line. */
export function assertSubjectLine(subject: string, maxChars: number): void {
  if (LINE_BREAK.test(subject)) {
    throw new TemplateError(
      "subject",
      null,
      "the subject holds a line break (CR or LF): it is one header line, and a line break would let a value add headers",
      true,
    );
  }
  // UTF-16 units are at least as many as characters: counting is needed only past the limit.
  if (subject.length > maxChars) {
    const chars = charLength(subject);
    if (chars > maxChars) {
      throw new TemplateError(
        "subject",
        null,
        `the subject is ${chars} characters once merged, over the limit of ${maxChars}`,
        true,
      );
    }
  }
}

/**
 * The first subject slot (s0, s1...) whose value holds CR or LF, or null: for slot values
 * stored before the render checked them, looked at again before they are sent.
 */
export function subjectSlotWithLineBreak(slots: Readonly<Record<string, unknown>>): string | null {
  for (const name in slots) {
    if (!name.startsWith(SLOT_PREFIX.subject)) continue;
    const value = slots[name];
    if (typeof value === "string" && LINE_BREAK.test(value)) return name;
  }
  return null;
}
