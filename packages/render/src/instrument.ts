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
// value `set` keeps, on every macro argument, on every call's result, list and dictionary
// literal, on the operands of the operators that may flatten a list in one native call, and
// on every value written before nunjucks escapes it; member lookups go through the meter, so
// a method's call measures its arguments and the value it is called on. A runaway template
// then stops at its first check past a limit instead of running on: `{% for a in range(5000)
// %}{% for b in range(4000) %}` stops after maxSteps iterations, and a string doubled by
// `set s = s ~ s` or a list by `set l = [l, l]` in a loop when it outgrows maxValueChars,
// before `l == "x"` flattens 2^n items. What the template writes is unchanged: the checks
// write nothing, and they wrap whole expressions (a call's parentheses), so the JavaScript
// nunjucks emits for the operators around them parses as it did.

/** The compiled program's name for the meter (meter.ts), passed in when it is instantiated. */
export const METER_VAR = "luxrelayMeter";

const RenderStep = defineNodeType("RenderStep", []);
const RenderEnter = defineNodeType("RenderEnter", []);
const RenderBound = defineWrapperNodeType("RenderBound");
const RenderOutput = defineWrapperNodeType("RenderOutput");

type TMutableNode = TNode & Record<string, unknown>;

/**
 * Operators whose JavaScript may turn a list operand into text or a number in one native call
 * (`l == "x"`, `l ~ ""`, `l + 1`, `-l`, `l < m`, `l in "x"`, `l is divisibleby(3)`), and the
 * fields holding those operands. `in` looks for its left operand in its right one: a list on
 * the right is only searched (indexOf), never flattened.
 */
const FLATTENING_OPERANDS: Readonly<Record<string, readonly string[]>> = {
  Compare: ["expr"],
  CompareOperand: ["expr"],
  Concat: ["left", "right"],
  Add: ["left", "right"],
  Sub: ["left", "right"],
  Mul: ["left", "right"],
  Div: ["left", "right"],
  FloorDiv: ["left", "right"],
  Mod: ["left", "right"],
  Pow: ["left", "right"],
  Neg: ["target"],
  Pos: ["target"],
  In: ["left"],
  Is: ["left"],
};

/**
 * Operands measured where an operator uses them: the values read from a variable, a member or
 * parentheses (a list kept earlier may have grown since, by push). A call's result, a filter's
 * and a list or dictionary literal are measured where they are made; a literal, and every
 * other operator, gives text, a number or a boolean (`or` and `and` only inside parentheses).
 * Wrapping only these keeps the operators' own JavaScript as nunjucks emits it (it writes
 * `a + b - c` without parentheses, whatever the tree).
 */
const READ_VALUES: ReadonlySet<string> = new Set(["Symbol", "LookupVal", "Group", "InlineIf"]);

/** `operand`, wrapped in a size check when it is a value read (READ_VALUES). */
function measuredOperand<T>(operand: T): T | TNodeList {
  if (!isNode(operand) || !READ_VALUES.has(operand.typename)) return operand;
  return new RenderBound(operand.lineno, operand.colno, [operand]);
}

function boundOperands(node: TMutableNode): void {
  const fields = FLATTENING_OPERANDS[node.typename];
  if (fields === undefined) return;
  for (const field of fields) node[field] = measuredOperand(node[field]);
  // `x is divisibleby(y)`: the test's arguments are operands too.
  const test = node.typename === "Is" ? node.right : undefined;
  if (isNode(test) && isNode(test.args) && isNodeList(test.args)) {
    const args = test.args.children;
    for (let i = 0; i < args.length; i++) args[i] = measuredOperand(args[i] as TNode);
  }
}

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
  boundOperands(mutable);
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

type TCompile = (this: TCompiler, node: TNode, frame: unknown) => void;

/** `method`'s expression, measured: a call's result, a list or dictionary literal. */
function measureResult(compiler: TCompiler, method: string): void {
  const original = compiler[method] as TCompile;
  compiler[method] = function (this: TCompiler, node: TNode, frame: unknown): void {
    this._emit(`${METER_VAR}.bound(`);
    original.call(this, node, frame);
    this._emit(")");
  };
}

/**
 * Teaches `compiler` the node types instrumentTree adds, measures what calls return and the
 * list and dictionary literals a template makes, and looks members up through the meter.
 */
export function addMeterCompilers(compiler: TCompiler): void {
  // `(lineno = .., colno = .., runtime.callWrap(...))`, `[...]` and `{...}`: whole
  // expressions, so a call around them changes nothing of how the code parses. Keyword
  // arguments (a dictionary) are measured with them.
  measureResult(compiler, "compileFunCall");
  measureResult(compiler, "compileArray");
  measureResult(compiler, "compileDict");
  // nunjucks' compileLookupVal with the meter's member() for runtime.memberLookup.
  compiler.compileLookupVal = function (this: TCompiler, node: TNode, frame: unknown): void {
    this._emit(`${METER_VAR}.member((`);
    this._compileExpression(node.target as TNode, frame);
    this._emit("),");
    this._compileExpression(node.val as TNode, frame);
    this._emit(")");
  };
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
