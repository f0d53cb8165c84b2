// What a ComfyUI graph loads: the checkpoint behind a sampler's model input, the LoRAs on the way (LoraLoader,
// LoraLoaderModelOnly) as A1111 prompt tags, and CLIPSetLastLayer on the prompt's CLIP as clip skip.
import { fileStem, isLink, linkedNode, MAX_LINK_DEPTH, resolveLiteral, type ComfyGraph, type ComfyNode } from './comfy-graph.ts';

export interface ModelFacts {
  /** The checkpoint's file name without folder and extension, as A1111's "Model" names it. */
  model?: string;
  /** "<lora:name:w>" or "<lora:name:te:unet>" tags, one per loader node. */
  loraTags: string[];
  /** A1111's clip skip k from CLIPSetLastLayer's stop_at_clip_layer -k. */
  clipSkip?: number;
}

const CHECKPOINT_LOADERS = new Set(['CheckpointLoaderSimple', 'CheckpointLoader', 'ImageOnlyCheckpointLoader']);
const LORA_LOADERS = new Set(['LoraLoader', 'LoraLoaderModelOnly']);

interface LoraUse {
  node: ComfyNode;
  /** Multipliers of the text encoder and the UNet (0 where the loader's output is not on that path). */
  te: number;
  unet: number;
}

/**
 * A chain of nodes from `start` up an input (model or clip), each handed to `visit` until it returns 'stop'; nodes
 * it returns 'skip' for are named together in one note.
 */
function walk(
  graph: ComfyGraph,
  start: unknown,
  input: string,
  visit: (node: ComfyNode) => 'stop' | 'next' | 'skip',
  notes: string[],
): void {
  const seen = new Set<string>();
  const skipped: ComfyNode[] = [];
  let link = start;
  for (let depth = 0; isLink(link); depth++) {
    const node = linkedNode(graph, link);
    if (!node) {
      notes.push(`the ${input} input links to node ${String(link[0]).slice(0, 20)}, which the graph does not have`);
      break;
    }
    if (seen.has(node.id) || depth > MAX_LINK_DEPTH) {
      notes.push(`the ${input} comes through links in a loop (or a chain too long to follow); the rest of it is not read`);
      break;
    }
    seen.add(node.id);
    const next = visit(node);
    if (next === 'stop') break;
    if (next === 'skip') skipped.push(node);
    link = node.inputs[input];
  }
  if (skipped.length > 0)
    notes.push(`the ${input} passes through ${leftOut(skipped)}, which ${skipped.length > 1 ? 'are' : 'is'} left out`);
}

/** "a FreeU node (12)", "3 nodes (FreeU, ModelSamplingDiscrete)". */
export function leftOut(nodes: ComfyNode[]): string {
  if (nodes.length === 1) return `a ${nodes[0].type} node (${nodes[0].id})`;
  const types = [...new Set(nodes.map((n) => n.type))];
  return `${nodes.length} nodes (${types.slice(0, 5).join(', ')}${types.length > 5 ? ', …' : ''})`;
}

function strength(graph: ComfyGraph, node: ComfyNode, key: string, notes: string[]): number | undefined {
  const read = resolveLiteral(graph, node.inputs[key], 'number');
  if ('value' in read && Number.isFinite(read.value)) return read.value;
  notes.push(
    `the ${node.type} node's ${key} (node ${node.id}) ${'problem' in read ? read.problem : 'is not finite'}; that LoRA is left out`,
  );
  return undefined;
}

function loraTag(graph: ComfyGraph, use: LoraUse, notes: string[]): string | undefined {
  const file = resolveLiteral(graph, use.node.inputs.lora_name, 'string');
  if ('problem' in file) {
    notes.push(`the LoRA name of node ${use.node.id} ${file.problem}; that LoRA is left out`);
    return undefined;
  }
  const name = fileStem(file.value).trim();
  if (!name || /[<>:]/.test(name)) {
    notes.push(`the LoRA "${file.value.slice(0, 60)}" has a name a prompt tag cannot hold; it is left out`);
    return undefined;
  }
  if (use.te === 0 && use.unet === 0) return undefined; // no effect in ComfyUI either
  return use.te === use.unet ? `<lora:${name}:${use.te}>` : `<lora:${name}:${use.te}:${use.unet}>`;
}

/**
 * The checkpoint, LoRAs and clip skip behind `sampler` (its model input) and `textNode` (the positive prompt's
 * CLIPTextEncode, for its clip input). Nodes that change the model or CLIP in ways the form cannot hold are named in notes.
 */
export function modelFacts(graph: ComfyGraph, sampler: ComfyNode, textNode: ComfyNode | undefined, notes: string[]): ModelFacts {
  const facts: ModelFacts = { loraTags: [] };
  const loras = new Map<string, LoraUse>();
  const use = (node: ComfyNode) => loras.get(node.id) ?? loras.set(node.id, { node, te: 0, unet: 0 }).get(node.id)!;
  const readCheckpoint = (node: ComfyNode) => {
    const name = resolveLiteral(graph, node.inputs.ckpt_name, 'string');
    if ('value' in name) facts.model ??= fileStem(name.value);
    else notes.push(`the checkpoint name of node ${node.id} ${name.problem}`);
  };

  walk(
    graph,
    sampler.inputs.model,
    'model',
    (node) => {
      if (CHECKPOINT_LOADERS.has(node.type)) return (readCheckpoint(node), 'stop');
      if (LORA_LOADERS.has(node.type)) {
        const unet = strength(graph, node, 'strength_model', notes);
        if (unet !== undefined) use(node).unet = unet;
      } else if (isLink(node.inputs.model)) {
        return 'skip';
      } else {
        notes.push(`the model comes from a ${node.type} node (${node.id}); the form's model is kept`);
        return 'stop';
      }
      return 'next';
    },
    notes,
  );

  walk(
    graph,
    textNode?.inputs.clip,
    'clip',
    (node) => {
      if (CHECKPOINT_LOADERS.has(node.type)) return 'stop';
      if (node.type === 'CLIPSetLastLayer') {
        const layer = resolveLiteral(graph, node.inputs.stop_at_clip_layer, 'number');
        // Seen from the prompt backwards, the first CLIPSetLastLayer is the one applied last: it wins.
        if ('value' in layer && Number.isInteger(layer.value) && layer.value <= -1) facts.clipSkip ??= -layer.value;
        else notes.push(`CLIPSetLastLayer's stop_at_clip_layer (node ${node.id}) is not a layer from the end; clip skip is not read`);
      } else if (node.type === 'LoraLoader') {
        const te = strength(graph, node, 'strength_clip', notes);
        if (te !== undefined) use(node).te = te;
      } else if (isLink(node.inputs.clip)) {
        return 'skip';
      } else {
        return 'stop';
      }
      return 'next';
    },
    notes,
  );

  // From the checkpoint outwards, as a user would list them (the walks ran inwards); the order does not change the
  // weights: LoRA deltas add up, in ComfyUI and here.
  for (const lora of [...loras.values()].reverse()) {
    const tag = loraTag(graph, lora, notes);
    if (tag) facts.loraTags.push(tag);
  }
  return facts;
}
