/**
 * Protocol timing constants, in a module without schemas: browser bundles can import them without pulling
 * in zod. `frames.ts` re-exports them.
 */

/** Typing notices expire on the client after this long without a refresh. */
export const TYPING_TTL_MS = 5_000;
