// A1111's extra-network tags in a prompt: "<lora:NAME>", "<lora:NAME:WEIGHT>", "<lora:NAME:TE:UNET>" (and the
// named forms te=, unet=). As in A1111 (modules/extra_networks.py), every "<word:args>" tag is taken out of the
// prompt before it is tokenized, whatever network it names; the arguments split at ":", and an argument with
// one "=" is a named one. Only the positive prompt is read this way: A1111 leaves the negative prompt as it is.
// "lyco" is A1111's other name for "lora". Networks other than LoRA (hypernetworks) are removed and reported.

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
  text: string;
}

/** A tag whose weights are not numbers ("<lora:x:abc>"): the request is refused, naming the tag. */
export class TagSyntaxError extends Error {
  override name = 'TagSyntaxError';
}

/** The prompt without its tags, and the tags in order. */
export function parseExtraNetworks(prompt: string): { prompt: string; tags: ExtraNetworkTag[] } {
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
    calls.push({ name, te, unet, text: tag.text });
  }
  return calls;
}

/** Tags of networks this app does not have (A1111 skips them too), for a note. */
export function otherNetworks(tags: ExtraNetworkTag[]): string[] {
  return tags.filter((t) => t.network !== 'lora' && t.network !== 'lyco').map((t) => t.text);
}
