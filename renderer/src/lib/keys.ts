// Keyboard shortcuts: Ctrl+Enter (Cmd+Enter on macOS) generates, Esc cancels.

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey?: boolean;
  isComposing?: boolean;
}

export function isGenerateShortcut(e: KeyLike): boolean {
  return e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.altKey && !e.isComposing;
}

export function isCancelShortcut(e: KeyLike): boolean {
  return e.key === 'Escape' && !e.ctrlKey && !e.metaKey && !e.altKey && !e.isComposing;
}
