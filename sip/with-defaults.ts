/**
 * `defaults` overridden by the values `given` has: a key given as `undefined` keeps its default
 * (a spread would put `undefined` in, and a timer of `undefined` ms is NaN). What applications
 * write when they map an unset environment variable: `{ t1Ms: env.T1 ? Number(env.T1) : undefined }`.
 */
export function withDefaults<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  const merged = { ...defaults };
  if (given === undefined) return merged;
  for (const key of Object.keys(given) as (keyof T)[]) {
    const value = given[key];
    if (value !== undefined) merged[key] = value as T[keyof T];
  }
  return merged;
}
