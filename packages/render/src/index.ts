// @luxrelay/render: content variants (nunjucks, sandboxed) compiled into a LuxSci template
// plus per-recipient slot values (docs/architecture.md "Render model").

export { compileVariant } from "./compile-variant.ts";
export { DEFAULT_RENDER_LIMITS, type TRenderLimits } from "./limits.ts";
export { slotPlaceholder } from "./placeholder.ts";
export { subjectSlotWithLineBreak } from "./subject.ts";
export { TemplateError, type TPart } from "./template-error.ts";
export { trialRender } from "./trial.ts";
export type { TCompiledVariant, TContentSource } from "./types.ts";
export { validateContent } from "./validate.ts";
