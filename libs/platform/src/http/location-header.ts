/** What RFC 3986 allows unescaped in a path, query or fragment (pchar, "/" and "?"), plus "%" of an escape. */
const NOT_URI_CHARACTER = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]|%(?![0-9A-Fa-f]{2})/g;

function escape(part: string): string {
  return part.replace(NOT_URI_CHARACTER, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * An absolute http(s) URL as a `Location` header may carry it: ASCII only, per RFC 3986. The WHATWG
 * parser writes the host as punycode and percent-encodes non-ASCII as UTF-8; what it leaves raw that
 * RFC 3986 does not allow (`{}|^\`[]` in a query, a second `#`, a stray `%`) is escaped here.
 * Undefined when `url` is not an absolute http(s) URL: a header is never written from it (Node would
 * throw on a control character, after the click was stored).
 */
export function locationHeader(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.host === '') return undefined;
  const userinfo = parsed.username || parsed.password ? `${escape(parsed.username)}${parsed.password ? `:${escape(parsed.password)}` : ''}@` : '';
  const fragment = parsed.hash ? `#${escape(parsed.hash.slice(1))}` : '';
  return `${parsed.protocol}//${userinfo}${parsed.host}${escape(parsed.pathname)}${parsed.search ? `?${escape(parsed.search.slice(1))}` : ''}${fragment}`;
}
