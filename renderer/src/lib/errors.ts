// Error text for people: the engine already words its errors for users; the UI only says what
// the user was doing ("Could not generate: ...") and strips technical prefixes.

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** "Could not generate" + error -> "Could not generate: the model folder is missing unet/model.onnx". */
export function withContext(doing: string, error: unknown): string {
  const text = errorText(error)
    .replace(/^(Error|ContractError|RequestError):\s*/, '')
    .trim();
  return text ? `${doing}: ${text}` : doing;
}
