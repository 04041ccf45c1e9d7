import nunjucks from "nunjucks";
import { environmentFor } from "./environment.ts";
import { addMeterCompilers, instrumentTree, METER_VAR } from "./instrument.ts";
import { METER } from "./meter.ts";
import {
  createCompiler,
  createRoot,
  defineNodeType,
  type TCompiler,
  type TNode,
} from "./nunjucks-internals.ts";
import { toRenderError } from "./render-error.ts";
import type { TRun } from "./slot-split.ts";
import type { TPart } from "./template-error.ts";

// One compiled nunjucks program per part that renders every slot of a recipient in one
// call: the part's own tree with its static text left out and a mark after each slot that
// moves the output so far into an array. Being the same tree in the same order, `set`,
// macros and loops behave exactly as in the full render; leaving out static text changes
// nothing, since it has no effect but to be written. The program carries the meter's checks
// (instrument.ts), each finished slot included: one recipient's render is bounded.

const SlotMark = defineNodeType("SlotMark", ["kind"]);
type TMarkKind = "open" | "break" | "close";

const SLOTS_VAR = "luxrelaySlotValues";

function compileSlotMark(this: TCompiler, node: TNode): void {
  const kind = node.kind as TMarkKind;
  // Marks sit only at the top level of the root function, where the buffer is `output`.
  if (kind === "open") this._emitLine(`var ${SLOTS_VAR} = [];`);
  if (kind === "break") {
    this._emitLine(`${METER_VAR}.slot(${this.buffer});`);
    this._emitLine(`${SLOTS_VAR}.push(${this.buffer}); ${this.buffer} = "";`);
  }
  // The root function ends with cb(null, output): the array becomes the render's result.
  if (kind === "close") this._emitLine(`${this.buffer} = ${SLOTS_VAR};`);
}

export interface TSlotRenderer {
  /** Rendered slot values in slot order. */
  render(data: Readonly<Record<string, unknown>>): string[];
}

export function compileSlotRenderer(part: TPart, runs: readonly TRun[]): TSlotRenderer {
  const program: TNode[] = [new SlotMark(0, 0, "open")];
  for (const run of runs) {
    if (run.kind === "static") continue;
    program.push(...run.nodes);
    // A silent run writes nothing: its (empty) output joins the next slot's.
    if (!run.silent) program.push(new SlotMark(0, 0, "break"));
  }
  program.push(new SlotMark(0, 0, "close"));
  for (const node of program) instrumentTree(node);

  const compiler = createCompiler(part);
  compiler.compileSlotMark = compileSlotMark;
  addMeterCompilers(compiler);
  compiler.compile(createRoot(program));
  // Same as nunjucks' Template._compile (the generated module returns { root }), with the
  // meter in scope of the generated code only: a template can't name it.
  const props: unknown = new Function(METER_VAR, compiler.getCode())(METER);
  const TemplateFromCode = nunjucks.Template as unknown as new (
    src: { type: "code"; obj: unknown },
    env: nunjucks.Environment,
    path: string,
  ) => nunjucks.Template;
  const template = new TemplateFromCode({ type: "code", obj: props }, environmentFor(part), part);
  return {
    render(data) {
      try {
        return template.render(data) as unknown as string[];
      } catch (error) {
        throw toRenderError(part, error);
      }
    },
  };
}
