/**
 * RFC 8785 (JSON Canonicalization Scheme) for the values saylau signs or authenticates in the browser:
 * null, booleans, safe integers, strings, arrays and objects. Python's side is the `rfc8785` package
 * (tests/web/test_console_protocol_js.py checks the two agree byte for byte).
 */

/** RFC 8785 canonical JSON of a value made of null, booleans, safe integers, strings, arrays, objects. */
export function canonicalJson(value) {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`canonicalJson: ${value} is not a safe integer`);
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value); // ES string escaping is RFC 8785's
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    // keys sorted by UTF-16 code units: the default sort of JavaScript strings
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
}
