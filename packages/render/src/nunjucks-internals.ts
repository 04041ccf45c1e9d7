import { createRequire } from "node:module";
import nunjucks from "nunjucks";

// nunjucks exposes its parser, node classes, compiler and transformer at run time, but
// @types/nunjucks describes none of them. This file is the one place that does, for the
// few members the sandbox check and the slot compiler use (nunjucks 3.2 sources).

/** A parsed node: `fields` names the properties that hold child nodes or values. */
export interface TNode {
  readonly typename: string;
  readonly lineno: number;
  readonly colno: number;
  readonly fields: readonly string[];
  readonly [field: string]: unknown;
}

export interface TNodeList extends TNode {
  readonly children: TNode[];
}

interface TNodeClass {
  new (lineno: number, colno: number, ...fields: unknown[]): TNode;
  extend(name: string, props: { fields: string[] }): TNodeClass;
}

/** The code generator; `compile<Typename>` methods are looked up by node type. */
export interface TCompiler {
  buffer: string;
  compile(node: TNode, frame?: unknown): void;
  _compileExpression(node: TNode, frame: unknown): void;
  getCode(): string;
  _emit(code: string): void;
  _emitLine(code: string): void;
  [method: string]: unknown;
}

interface TInternals {
  parser: { parse(src: string, extensions: unknown[], opts: object): TNodeList };
  nodes: {
    Node: TNodeClass;
    NodeList: TNodeClass;
    Root: new (lineno: number, colno: number, children: TNode[]) => TNodeList;
  };
  compiler: { Compiler: new (templateName: string, throwOnUndefined: boolean) => TCompiler };
}

interface TTransformer {
  transform(ast: TNodeList, asyncFilters: string[]): TNodeList;
}

const internals = nunjucks as unknown as TInternals;
// The transformer is not re-exported by nunjucks' index; Template compiles through it.
const transformer = createRequire(import.meta.url)("nunjucks/src/transformer.js") as TTransformer;

/** A nunjucks parse error: line and column are 1-based, absent at end of input. */
export interface TParseError extends Error {
  lineno?: number;
  colno?: number;
}

export function parseTemplate(source: string): TNodeList {
  return internals.parser.parse(source, [], {});
}

/** What nunjucks' own compile does between parsing and code generation. */
export function transformTree(root: TNodeList): TNodeList {
  return transformer.transform(root, []);
}

export function isNode(value: unknown): value is TNode {
  return value instanceof internals.nodes.Node;
}

/**
 * The nodes a (non-list) node holds, in order. Not only its declared `fields`: nunjucks'
 * parser puts the body of `{% set x %}...{% endset %}` on the Set node as `body`, outside
 * them, so a walk of `fields` alone never sees what that body runs.
 */
export function childrenOf(node: TNode): TNode[] {
  const children: TNode[] = [];
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (isNode(value)) children.push(value);
    // `{% set a, b = ... %}` keeps its targets in a plain array.
    if (Array.isArray(value)) for (const item of value) if (isNode(item)) children.push(item);
  }
  return children;
}

export function isNodeList(node: TNode): node is TNodeList {
  return Array.isArray(node.children);
}

export function createRoot(children: TNode[]): TNodeList {
  return new internals.nodes.Root(0, 0, children);
}

export function defineNodeType(name: string, fields: string[]): TNodeClass {
  return internals.nodes.Node.extend(name, { fields });
}

type TNodeListClass = new (lineno: number, colno: number, children: TNode[]) => TNodeList;

/**
 * A node type that holds one child in `children`: being a NodeList, the compiler accepts it
 * wherever it takes an expression (its `_compileExpression` checks the node's class).
 */
export function defineWrapperNodeType(name: string): TNodeListClass {
  const base = internals.nodes.NodeList as unknown as { extend(name: string): TNodeListClass };
  return base.extend(name);
}

export function createCompiler(templateName: string): TCompiler {
  return new internals.compiler.Compiler(templateName, false);
}
