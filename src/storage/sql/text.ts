/**
 * Case folding for uniqueness and search, done here rather than with SQL lower(): JavaScript's toLowerCase() is
 * Unicode-aware whatever the database's locale (SQLite's lower() and PostgreSQL's under the C locale fold only
 * ASCII), so both stores match and order the same strings the same way. The `*_key` columns hold folded text.
 */
export const fold = (s: string) => s.toLowerCase();

/** `fold(s)`, or null for an absent value (a COALESCE-style update leaves the column as it is). */
export const foldOrNull = (s: string | undefined) => (s === undefined ? null : fold(s));

/** LIKE patterns use '!' as the escape character (`LIKE @like ESCAPE '!'`): no backslash, no dialect question. */
const likeEscape = (s: string) => s.replace(/[!%_]/g, (c) => `!${c}`);
/** A folded prefix pattern. */
export const likePrefix = (q: string) => `${likeEscape(fold(q))}%`;
/** A folded substring pattern. */
export const likeContains = (q: string) => `%${likeEscape(fold(q))}%`;

/** `{...obj}` without undefined members: what is returned is then exactly what JSON storage gives back. */
export function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
