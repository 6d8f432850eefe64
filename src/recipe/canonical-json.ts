/**
 * JSON Canonicalization Scheme (RFC 8785): the one serialization of a JSON value that a verifier
 * in any language reproduces, so a hash over it means the same everywhere. Object members are
 * sorted by the UTF-16 code units of their names (§3.2.3); numbers and strings are written as
 * ECMAScript's JSON.stringify writes them (§3.2.2), which is what the RFC prescribes; there is
 * no white space. Values outside I-JSON (RFC 7493) are refused rather than written: non-finite
 * numbers, lone surrogates, and anything that is not null, a boolean, a number, a string, an
 * array or a plain object.
 */
import { ReprimageError } from '../errors.js';

/** The canonical text of `value`; `subject` names the document in errors. */
export function canonicalJson(value: unknown, subject = 'canonical JSON'): string {
  return serialize(value, subject, '$');
}

function serialize(value: unknown, subject: string, at: string): string {
  if (value === null || value === true || value === false) return String(value);
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new ReprimageError('UNSUPPORTED', subject, `${at}: ${value} is not a JSON number`);
      // ECMAScript's Number-to-string, as RFC 8785 §3.2.2.3 requires; -0 becomes 0
      return JSON.stringify(value);
    case 'string':
      return serializeString(value, subject, at);
    case 'object':
      break;
    default:
      throw new ReprimageError('UNSUPPORTED', subject, `${at}: a ${typeof value} is not a JSON value`);
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => serialize(v, subject, `${at}[${i}]`)).join(',')}]`;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new ReprimageError('UNSUPPORTED', subject, `${at}: not a plain object`);
  // the default sort compares UTF-16 code units, exactly the order of §3.2.3
  const names = Object.keys(value).sort();
  const members: string[] = [];
  for (const name of names) {
    const member = (value as Record<string, unknown>)[name];
    if (member === undefined) continue; // as JSON.stringify: an absent value is no member
    members.push(`${serializeString(name, subject, at)}:${serialize(member, subject, `${at}.${name}`)}`);
  }
  return `{${members.join(',')}}`;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(s: string, subject: string, at: string): string {
  if (LONE_SURROGATE.test(s)) throw new ReprimageError('UNSUPPORTED', subject, `${at}: a string with a lone surrogate is not I-JSON`);
  return JSON.stringify(s);
}
