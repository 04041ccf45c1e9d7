import {
  childrenOf,
  defineNodeType,
  defineWrapperNodeType,
  isNode,
  isNodeList,
  type TCompiler,
  type TNode,
  type TNodeList,
} from "./nunjucks-internals.ts";

// The meter's calls woven into a part's parsed tree before it is compiled (issue 14): a step
// at the top of every loop body and every macro or `{% call %}` body, a size check on every
// value `set` keeps and on every macro argument, and one on every value written before
// nunjucks escapes it. A runaway template then stops at its first check past a limit
// instead of running on: `{% for a in range(5000) %}{% for b in range(4000) %}` stops after
// maxSteps iterations, and a string doubled by `set s = s ~ s` in a loop when it outgrows
// maxValueChars. What the template writes is unchanged: the checks write nothing.

/** The compiled program's name for the meter (meter.ts), passed in when it is instantiated. */
export const METER_VAR = "luxrelayMeter";

const RenderStep = defineNodeType("RenderStep", []);
const RenderEnter = defineNodeType("RenderEnter", []);
const RenderBound = defineWrapperNodeType("RenderBound");
const RenderOutput = defineWrapperNodeType("RenderOutput");

type TMutableNode = TNode & Record<string, unknown>;

/** Adds the meter's checks to `node` and everything under it, in place. */
export function instrumentTree(node: TNode): void {
  if (isNodeList(node)) {
    node.children.forEach((child, i) => {
      instrumentTree(child);
      if (node.typename === "Output" && child.typename !== "TemplateData") {
        node.children[i] = new RenderOutput(child.lineno, child.colno, [child]);
      }
    });
    return;
  }
  const mutable = node as TMutableNode;
  for (const child of childrenOf(node)) instrumentTree(child);
  const { lineno, colno } = node;
  switch (node.typename) {
    case "For":
      (mutable.body as TNodeList).children.unshift(new RenderStep(lineno, colno));
      break;
    case "Macro":
    case "Caller":
      (mutable.body as TNodeList).children.unshift(new RenderEnter(lineno, colno));
      break;
    case "Set":
      // `{% set x %}...{% endset %}` keeps a capture: what it writes is counted as written.
      if (isNode(mutable.value)) mutable.value = new RenderBound(lineno, colno, [mutable.value]);
      break;
  }
}

function compileWrapped(method: string) {
  return function (this: TCompiler, node: TNodeList, frame: unknown): void {
    this._emit(`${METER_VAR}.${method}(`);
    this.compile(node.children[0] as TNode, frame);
    this._emit(")");
  };
}

/** Teaches `compiler` the node types instrumentTree adds. */
export function addMeterCompilers(compiler: TCompiler): void {
  compiler.compileRenderStep = function (this: TCompiler): void {
    // The buffer being written here (the root's, a macro's or a capture's).
    this._emitLine(`${METER_VAR}.step(${this.buffer}.length);`);
  };
  compiler.compileRenderEnter = function (this: TCompiler): void {
    // First statement of the macro's own function: `arguments` are the macro's.
    this._emitLine(`${METER_VAR}.enter(arguments);`);
  };
  compiler.compileRenderBound = compileWrapped("bound");
  compiler.compileRenderOutput = compileWrapped("output");
}
