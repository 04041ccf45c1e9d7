import type { TNode, TNodeList } from "./nunjucks-internals.ts";
import { mayReadAsPlaceholder } from "./placeholder.ts";

// The split of one part at its top level: static text stays in the LuxSci template, every
// run of dynamic constructs between two static texts becomes one slot. Splitting the parsed
// tree rather than the source keeps whitespace control exact: the parser has already
// trimmed the text next to `{%-` / `-%}`, so the static text here is what nunjucks outputs.

export type TRun =
  | { readonly kind: "static"; readonly text: string }
  /** `silent`: only `{% set %}` / `{% macro %}`, which write nothing, so no slot of its own. */
  | { readonly kind: "dynamic"; readonly nodes: readonly TNode[]; readonly silent: boolean };

const SILENT_TYPES: ReadonlySet<string> = new Set(["Set", "Macro"]);

/** The text of a top-level node that writes only template text, else undefined. */
function staticText(node: TNode): string | undefined {
  if (node.typename !== "Output") return undefined;
  let text = "";
  for (const child of (node as TNodeList).children) {
    if (child.typename !== "TemplateData") return undefined;
    text += String(child.value);
  }
  return text;
}

interface TDraftRun {
  nodes: TNode[];
  /** Set while every node is static text that cannot read as a placeholder. */
  text: string | undefined;
}

export function splitTopLevel(root: TNodeList): TRun[] {
  const drafts: TDraftRun[] = [];
  for (const node of root.children) {
    let text = staticText(node);
    if (text === "") continue; // text trimmed away by whitespace control: no boundary
    // Static text that LuxSci could read as a placeholder (`{% raw %}{{ x }}{% endraw %}`)
    // goes out as a slot value, which LuxSci inserts without merging.
    if (text !== undefined && mayReadAsPlaceholder(text)) text = undefined;
    const last = drafts.at(-1);
    if (last !== undefined && (last.text === undefined) === (text === undefined)) {
      last.nodes.push(node);
      if (last.text !== undefined) last.text += text;
    } else {
      drafts.push({ nodes: [node], text });
    }
  }
  const runs: TRun[] = [];
  for (const draft of drafts) {
    // Joined texts can form a placeholder too (`{` then a comment then `{`).
    const isStatic = draft.text !== undefined && !mayReadAsPlaceholder(draft.text);
    const last = runs.at(-1);
    if (isStatic) {
      runs.push({ kind: "static", text: draft.text as string });
    } else if (last?.kind === "dynamic") {
      const nodes = [...last.nodes, ...draft.nodes];
      runs[runs.length - 1] = { kind: "dynamic", nodes, silent: nodes.every(isSilent) };
    } else {
      runs.push({ kind: "dynamic", nodes: draft.nodes, silent: draft.nodes.every(isSilent) });
    }
  }
  return runs;
}

function isSilent(node: TNode): boolean {
  return SILENT_TYPES.has(node.typename);
}
