/**
 * What PostgreSQL's text and jsonb refuse, made storable: NUL becomes the two visible characters `\0`
 * (as inlet.rejects writes raw values), and a lone UTF-16 surrogate, which has no UTF-8 form and which
 * jsonb refuses as `\udXXX`, becomes U+FFFD. Ledger text comes from files and error messages quoting them
 * (a zip entry name, a header, a key), so it is cleaned where rows are written, not where it is made.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A string PostgreSQL text (and a jsonb string) accepts. */
export function pgText(value: string): string {
  return value.replaceAll('\u0000', '\\0').replace(LONE_SURROGATE, '\uFFFD');
}

/** `value` with every string in it, object keys included, made storable by `pgText`; for jsonb columns. */
export function pgJson(value: unknown): unknown {
  if (typeof value === 'string') return pgText(value);
  if (Array.isArray(value)) return value.map(pgJson);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const withJson = value as { toJSON?: () => unknown };
    if (typeof withJson.toJSON === 'function') return pgJson(withJson.toJSON());
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [pgText(key), pgJson(inner)]));
  }
  return value;
}
