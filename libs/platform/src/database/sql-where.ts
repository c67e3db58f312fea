/** One condition of a filtered list: its SQL with `?` placeholders and their values, or a falsy value when its filter is unset. */
export type SqlCondition = readonly [sql: string, ...params: unknown[]] | false | undefined | null | '';

/** `WHERE a AND b ...` of the conditions that apply ('' when none does) and their parameters, in order. */
export function sqlWhere(conditions: readonly SqlCondition[]): { sql: string; params: unknown[] } {
  const applied = conditions.filter((c): c is readonly [string, ...unknown[]] => Boolean(c));
  return { sql: applied.length ? `WHERE ${applied.map(([sql]) => sql).join(' AND ')}` : '', params: applied.flatMap(([, ...params]) => params) };
}
