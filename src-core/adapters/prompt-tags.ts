// A1111's extra-network tags in a prompt: "<lora:NAME>", "<lora:NAME:WEIGHT>", "<lora:NAME:TE:UNET>",
// "<lora:NAME:TE:UNET:DYN>" (and the named forms te=, unet=, dyn=). As in A1111 (modules/extra_networks.py), every
// "<word:args>" tag is taken out of the prompt before it is tokenized, whatever network it names; the arguments split
// at ":", and an argument with one "=" is a named one. Only the positive prompt is read this way: A1111 leaves the
// negative prompt as it is. "lyco" is A1111's other name for "lora". Networks other than LoRA (hypernetworks) are
// removed and reported; a LoRA's arguments A1111 does not read (an extension's lbw=) are ignored with a note.

const TAG = /<([\p{L}\p{N}_]+):([^>]+)>/gu;

export interface ExtraNetworkTag {
  network: string;
  positional: string[];
  named: Record<string, string>;
  /** The tag as written. */
  text: string;
}

export interface LoraCall {
  name: string;
  /** Multiplier of the text-encoder layers and of the UNet layers. */
  te: number;
  unet: number;
  /** A1111's dyn: only the first `dyn` ranks of each module are used (a Python slice `[:dyn]`); absent: all. */
  dyn?: number;
  text: string;
}

/** The named arguments A1111's built-in LoRA network reads; others (an extension's lbw=, start=...) are noted. */
const READ_NAMED = new Set(['te', 'unet', 'dyn']);

/** A tag whose weights are not numbers ("<lora:x:abc>"): the request is refused, naming the tag. */
export class TagSyntaxError extends Error {
  override name = 'TagSyntaxError';
}

/** The prompt without its tags, and the tags in order. */
export function parseExtraNetworks(prompt: string): { prompt: string; tags: ExtraNetworkTag[] } {
  if (!prompt.includes('<')) return { prompt, tags: [] }; // most prompts: the Unicode-class pattern need not run
  const tags: ExtraNetworkTag[] = [];
  const stripped = prompt.replace(TAG, (text, network: string, args: string) => {
    const positional: string[] = [];
    const named: Record<string, string> = {};
    for (const item of args.split(':')) {
      const parts = item.split('=');
      // Python's item.split('=', 2) gives two parts only for exactly one "=".
      if (parts.length === 2) named[parts[0]] = parts[1];
      else positional.push(item);
    }
    tags.push({ network, positional, named, text });
    return '';
  });
  return { prompt: stripped, tags };
}

/** Python's float() on a multiplier (surrounding spaces allowed, "1e-1", "+.5"); non-finite values refused. */
function multiplier(value: string, tag: string): number {
  const trimmed = value.trim();
  if (!/^[+-]?(\d[\d_]*\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) || /_(?!\d)|(?<!\d)_/.test(trimmed)) {
    throw new TagSyntaxError(`${tag}: "${value}" is not a number (weights are written <lora:name:0.8> or <lora:name:te:unet>)`);
  }
  return Number(trimmed.replaceAll('_', ''));
}

/** Python's int() on dyn ("8", " +8 ", "1_0"; not "8.0"). */
function rankCount(value: string, tag: string): number {
  const trimmed = value.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(trimmed))
    throw new TagSyntaxError(`${tag}: dyn "${value}" is not a whole number (as in <lora:name:1:dyn=8>)`);
  return Number(trimmed.replaceAll('_', ''));
}

/** The LoRA calls among the tags, with A1111's defaults: weight 1; the UNet takes the text encoder's unless given. */
export function loraCalls(tags: ExtraNetworkTag[]): LoraCall[] {
  const calls: LoraCall[] = [];
  for (const tag of tags) {
    if (tag.network !== 'lora' && tag.network !== 'lyco') continue;
    const name = tag.positional[0];
    if (name === undefined || name.trim() === '') throw new TagSyntaxError(`${tag.text}: the LoRA has no name`);
    let te = tag.positional.length > 1 ? multiplier(tag.positional[1], tag.text) : 1;
    if (tag.named.te !== undefined) te = multiplier(tag.named.te, tag.text);
    let unet = tag.positional.length > 2 ? multiplier(tag.positional[2], tag.text) : te;
    if (tag.named.unet !== undefined) unet = multiplier(tag.named.unet, tag.text);
    let dyn = tag.positional.length > 3 ? rankCount(tag.positional[3], tag.text) : undefined;
    if (tag.named.dyn !== undefined) dyn = rankCount(tag.named.dyn, tag.text);
    calls.push({ name, te, unet, ...(dyn === undefined ? {} : { dyn }), text: tag.text });
  }
  return calls;
}

/** Notes for a LoRA tag's arguments that A1111's LoRA network does not read either (A1111 ignores them silently). */
export function ignoredLoraArguments(tags: ExtraNetworkTag[]): string[] {
  const notes: string[] = [];
  for (const tag of tags) {
    if (tag.network !== 'lora' && tag.network !== 'lyco') continue;
    for (const key of Object.keys(tag.named)) if (!READ_NAMED.has(key)) notes.push(`${tag.text}: ${key}= is not supported here; ignored`);
    if (tag.positional.length > 4)
      notes.push(`${tag.text}: only name, te, unet and dyn are read; ${tag.positional.slice(4).join(':')} ignored`);
  }
  return notes;
}

/** Tags of networks this app does not have (A1111 skips them too), for a note. */
export function otherNetworks(tags: ExtraNetworkTag[]): string[] {
  return tags.filter((t) => t.network !== 'lora' && t.network !== 'lyco').map((t) => t.text);
}
