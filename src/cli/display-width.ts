import stringWidth from 'string-width';

/**
 * How many terminal columns a string takes (`string-width`: East Asian wide and fullwidth characters and emoji
 * take two, combining marks and zero-width characters none), so tables of CJK names line up.
 */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** `text` padded with spaces to `width` columns. */
export function padEndDisplay(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}
