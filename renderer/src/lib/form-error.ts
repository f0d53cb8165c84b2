// A form check's message in the banner, taken down once the form no longer gives it: the check is run again
// whenever what it reads changes (the caller's effect), so fixing the field clears the banner.

export const withPrefix = (doing: string, error: string | undefined) => (error === undefined ? null : `${doing}: ${error}`);

export class FormErrorBanner {
  #shown: { message: string; check: () => string | null } | null = null;

  /** Runs the check and remembers it: its message (null: none) is what the banner shows. */
  show(check: () => string | null): string | null {
    const message = check();
    this.#shown = message === null ? null : { message, check };
    return message;
  }

  /** Whether the banner's text is a check's message that the form no longer gives (then it should go). */
  stale(banner: string | null): boolean {
    const shown = this.#shown;
    if (!shown || banner !== shown.message || shown.check() === shown.message) return false;
    this.#shown = null;
    return true;
  }
}
