// ComfyUI's API-format graph, as its SaveImage node writes it into the PNG's "prompt" text:
// {"<node id>": {"class_type": "KSampler", "inputs": {"seed": 5, "model": ["4", 0], ...}}}, where an input is either a
// literal or a link ["<node id>", output index]. The text is untrusted: every access here is checked, links are
// followed a bounded number of times (a graph may link in a loop), and nothing throws past parseComfyGraph.

export interface ComfyNode {
  id: string;
  type: string;
  inputs: Record<string, unknown>;
}

export type ComfyGraph = ReadonlyMap<string, ComfyNode>;

/** Links followed in one chain at most: real graphs need a handful; a loop or a crafted chain stops here. */
export const MAX_LINK_DEPTH = 64;

/** Why the graph could not be read at all, in words. */
export class ComfyGraphError extends Error {
  override name = 'ComfyGraphError';
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The graph's nodes by id; entries that are not nodes (no class_type or inputs) are skipped. */
export function parseComfyGraph(text: string): ComfyGraph {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ComfyGraphError(`its ComfyUI graph is not valid JSON (${(error as Error).message.slice(0, 80)})`);
  }
  if (!isRecord(parsed)) throw new ComfyGraphError('its ComfyUI graph is not a set of nodes');
  const nodes = new Map<string, ComfyNode>();
  for (const [id, node] of Object.entries(parsed)) {
    if (!isRecord(node) || typeof node.class_type !== 'string') continue;
    nodes.set(id, { id, type: node.class_type, inputs: isRecord(node.inputs) ? node.inputs : {} });
  }
  if (nodes.size === 0) throw new ComfyGraphError('its ComfyUI graph has no nodes');
  return nodes;
}

/** A link: ["<node id>", output index] (ids are strings; a number is accepted as ComfyUI does). */
export function isLink(value: unknown): value is [string | number, number] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    (typeof value[0] === 'string' || typeof value[0] === 'number') &&
    typeof value[1] === 'number'
  );
}

/** The node an input links to; undefined for a literal or a link to a node the graph lacks. */
export function linkedNode(graph: ComfyGraph, value: unknown): ComfyNode | undefined {
  return isLink(value) ? graph.get(String(value[0])) : undefined;
}

/** A short, safe description of a value for a note (never the whole of a huge string). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (isLink(value)) return `a link to node ${String(value[0]).slice(0, 20)}`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Inputs that hold a primitive node's one value (PrimitiveString/PrimitiveInt "value", text nodes' "text"...). */
const VALUE_INPUTS = new Set(['value', 'text', 'string', 'seed', 'int', 'float', 'number', 'noise_seed']);

export type Resolved<T> = { value: T } | { problem: string };

/**
 * An input's literal value of the given kind. A link is followed through simple value nodes (one value input, no
 * links of their own: ComfyUI's PrimitiveString/PrimitiveInt and most custom "text"/"seed" nodes); any other node
 * is named in `problem`, since this app does not run graphs.
 */
export function resolveLiteral<K extends 'string' | 'number'>(
  graph: ComfyGraph,
  input: unknown,
  kind: K,
): Resolved<K extends 'string' ? string : number> {
  type Out = K extends 'string' ? string : number;
  let current = input;
  for (let depth = 0; depth <= MAX_LINK_DEPTH; depth++) {
    if (typeof current === kind) return { value: current as Out };
    if (!isLink(current)) return { problem: `is ${describeValue(current)}, not ${kind === 'string' ? 'text' : 'a number'}` };
    const node = graph.get(String(current[0]));
    if (!node) return { problem: `links to node ${String(current[0]).slice(0, 20)}, which the graph does not have` };
    const values = Object.entries(node.inputs).filter(([key]) => VALUE_INPUTS.has(key));
    const otherLinks = Object.entries(node.inputs).some(([key, value]) => !VALUE_INPUTS.has(key) && isLink(value));
    if (values.length !== 1 || otherLinks)
      return { problem: `comes from a ${node.type} node (${node.id}), which this app cannot evaluate` };
    current = values[0][1];
  }
  return { problem: 'comes through links in a loop (or a chain too long to follow)' };
}

/** A file name as ComfyUI lists it ("sdxl/base.safetensors", "loras\\x.pt") without folders and extension. */
export function fileStem(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.(safetensors|ckpt|pt|pth|bin|sft|gguf)$/i, '');
}
