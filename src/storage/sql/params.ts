/**
 * Named query parameters. Both engines' SQL is written with `@name` placeholders, bound from the recipe's argument
 * object; this compiles them, once per statement, to what the driver binds fastest: PostgreSQL's numbered `$n` (a
 * name used twice is one parameter) or SQLite's positional `?` (better-sqlite3 binds an array faster than an object).
 */
export function compileParams(sql: string, style: 'numbered' | 'positional'): { text: string; names: string[] } {
  const names: string[] = [];
  const text = sql.replace(/@([A-Za-z_]\w*)/g, (_, name: string) => {
    if (style === 'positional') {
      names.push(name);
      return '?';
    }
    const i = names.indexOf(name);
    return `$${i >= 0 ? i + 1 : names.push(name)}`;
  });
  return { text, names };
}

/** The values of `names` in `args`, in order. A parameter the recipe did not pass is a bug: it throws. */
export function valuesOf(names: readonly string[], args: object): unknown[] {
  const values = new Array<unknown>(names.length);
  for (let i = 0; i < names.length; i++) {
    const v = (args as Record<string, unknown>)[names[i]!];
    if (v === undefined) throw new Error(`query parameter @${names[i]} is missing`);
    values[i] = v;
  }
  return values;
}
