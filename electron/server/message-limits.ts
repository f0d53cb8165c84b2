// Size limits on the WebSocket's messages, both ways. Only png.read and image.upload carry a large payload
// (a whole image file); every other request fits in a few KB, so a big message for another method is refused before
// it is parsed (38 MB of keys used to stall the server for seconds and leave 1 GB resident).
import type { ServerMessage } from '../../src-core/contract/api.ts';

const MiB = 1024 * 1024;
/** Any request other than png.read (the largest real one, a grid with two 20,000-character prompts, is far below). */
export const MAX_REQUEST_BYTES = 1 * MiB;
/** Replies larger than this are replaced by an error (a gallery list of 10,000 images is about 6 MB). */
export const MAX_REPLY_BYTES = 64 * MiB;
/** Error texts are cut to this length: an error must never echo a request back. */
export const MAX_ERROR_CHARS = 2000;

// The two methods whose requests may be large carry one thing: a file's bytes in base64. A large message is let
// through only in exactly that shape, {"id":N,"method":"png.read","params":{"base64":"..."}} (clients write the keys
// in that order), checked by a scan of its text in linear time before any parsing: naming the method up front with
// millions of keys in its params had JSON.parse stall every client for seconds and take 800 MB.
const LARGE_REQUEST =
  /^\s*\{\s*"id"\s*:\s*-?\d{1,20}\s*,\s*"method"\s*:\s*"(?:png\.read|image\.upload)"\s*,\s*"params"\s*:\s*\{\s*"base64"\s*:\s*"[A-Za-z0-9+/=]*"\s*\}\s*\}\s*$/;

/** Why a raw message is too large to parse, or null. */
export function oversizeProblem(raw: Buffer): string | null {
  if (raw.length <= MAX_REQUEST_BYTES) return null;
  if (LARGE_REQUEST.test(raw.toString('latin1'))) return null;
  const size = (raw.length / MiB).toFixed(1);
  return (
    `message too large (${size} MiB): requests are limited to ${MAX_REQUEST_BYTES / MiB} MiB, ` +
    'except png.read and image.upload carrying only {"base64": "..."}'
  );
}

/** The JSON text of a reply, with its error cut short and an oversized result replaced by an error. */
export function replyText(id: number, result: unknown, error?: string): string {
  if (error !== undefined) {
    const message = error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS)}…` : error;
    return JSON.stringify({ id, error: message } satisfies ServerMessage);
  }
  const text = JSON.stringify({ id, result } satisfies ServerMessage);
  if (text.length <= MAX_REPLY_BYTES) return text;
  return JSON.stringify({ id, error: `the reply is too large to send (${(text.length / MiB).toFixed(0)} MiB)` } satisfies ServerMessage);
}
