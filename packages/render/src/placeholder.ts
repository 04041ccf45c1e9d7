// LuxSci's placeholder syntax is not in the seeds (docs/architecture.md "Render model" 4), so it
// lives in this one file: slotPlaceholder writes it, apps/luxsci-sim/src/merge.ts fills it.
// Changing the syntax is one edit here plus that one in the simulator.

const SLOT_NAME = /^[A-Za-z0-9_.-]+$/;

/** Opens a placeholder; static text holding it could be merged by LuxSci by accident. */
const PLACEHOLDER_OPEN = "{{";

export function slotPlaceholder(name: string): string {
  if (!SLOT_NAME.test(name)) throw new Error(`slot name ${JSON.stringify(name)} is not valid`);
  return `${PLACEHOLDER_OPEN}${name}}}`;
}

/**
 * True when static text could read as a placeholder (a `{% raw %}` block, a literal `{{`):
 * such text must travel as a slot value, which LuxSci inserts without merging it.
 */
export function mayReadAsPlaceholder(text: string): boolean {
  return text.includes(PLACEHOLDER_OPEN);
}
