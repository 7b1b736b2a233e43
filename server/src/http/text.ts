import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { HttpError } from './errors.ts';

/**
 * One text policy for every string a user or a device hands us (issue 11): names, addresses,
 * titles, notes, CSV cells, ONVIF identity fields.
 *
 * - NFC, so that the same name typed on two keyboards is the same name (dedup, search, sort).
 * - No C0/C1 control characters (BEL and ESC reach operators' terminals through logs and CSV
 *   exports); multi-line fields keep \n and \t, never \r.
 * - No bidirectional formatting characters: U+202E can make `gpj.exe` read as `exe.jpg`, and an
 *   isolate or mark can reorder a camera name against the address next to it on the wall. A
 *   county registry written in Chinese has no need for them.
 * - No unpaired surrogates: they are not text and become U+FFFD (or an error) downstream.
 * - Not blank once whitespace and invisible characters (zero-width, BOM, fillers) are removed,
 *   so a list cannot hold a row that reads as nothing. Invisible characters are allowed inside
 *   real text (a ZWJ inside an emoji sequence, a variation selector after ❤).
 * - Length is counted in code points after normalisation, the characters a user sees.
 */

/** Short, stable messages; tests and clients may match them. */
export const TEXT_MESSAGES = {
  type: 'must be text',
  control: 'must not contain control characters',
  bidi: 'must not contain bidirectional control characters',
  surrogate: 'must not contain unpaired surrogates',
  blank: 'must not be empty',
  tooLong: (max: number) => `at most ${max} characters`,
} as const;

export interface TextRule {
  /** Cap in code points. */
  max: number;
  /** Allows \n and \t (notes, descriptions). */
  multiline?: boolean;
}

// C0, DEL, C1, and the Unicode line/paragraph separators (they break JSON-in-HTML and log lines).
const CONTROL_SINGLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_MULTI = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
// ALM, LRM, RLM, embeddings and overrides (LRE RLE PDF LRO RLO), isolates (LRI RLI FSI PDI).
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const BIDI_ALL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// Whitespace and default-ignorable code points (zero-width space/joiners, BOM, soft hyphen,
// variation selectors, Hangul fillers, tags…), plus the Braille blank that renders as nothing.
const INVISIBLE = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]/gu;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Cuts to at most `max` code points without splitting a surrogate pair. */
function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  let n = 0;
  let i = 0;
  while (i < s.length && n < max) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    n++;
  }
  return s.slice(0, i);
}

/** Bidi formatting characters: refused in URIs and addresses as well as in names. */
export function hasBidi(s: string): boolean {
  return BIDI.test(s);
}

/** C0/C1 control characters (and U+2028/U+2029); `multiline` lets \n and \t through. */
export function hasControl(s: string, multiline = false): boolean {
  return (multiline ? CONTROL_MULTI : CONTROL_SINGLE).test(s);
}

/** True when nothing visible is left once whitespace and invisible characters are removed. */
export function isBlank(s: string): boolean {
  return s.replace(INVISIBLE, '').length === 0;
}

/**
 * The first problem with an already normalised and trimmed string, or null. Order matters only for
 * which message a caller sees first; every rule is checked.
 */
export function textProblem(s: string, rule: TextRule): string | null {
  if (!s.isWellFormed()) return TEXT_MESSAGES.surrogate;
  if ((rule.multiline ? CONTROL_MULTI : CONTROL_SINGLE).test(s)) return TEXT_MESSAGES.control;
  if (BIDI.test(s)) return TEXT_MESSAGES.bidi;
  if (isBlank(s)) return TEXT_MESSAGES.blank;
  if (codePoints(s) > rule.max) return TEXT_MESSAGES.tooLong(rule.max);
  return null;
}

/** Normalises (NFC, trimmed) and checks one string; for callers outside zod (CSV cells). */
export function checkText(input: string, rule: TextRule): { ok: true; value: string } | { ok: false; message: string } {
  // Normalising a lone surrogate is harmless (it passes through) and is refused just after.
  const value = input.normalize('NFC').trim();
  const message = textProblem(value, rule);
  return message === null ? { ok: true, value } : { ok: false, message };
}

/** A required text field: NFC, trimmed, refused (not repaired) when it breaks the policy. */
export function safeText(rule: TextRule) {
  return z
    .string({ error: TEXT_MESSAGES.type })
    .normalize('NFC')
    .trim()
    .superRefine((s, ctx) => {
      const message = textProblem(s, rule);
      if (message !== null) ctx.addIssue({ code: 'custom', message });
    })
    .meta({ maxLength: rule.max });
}

/** An optional text field: absent, null and '' all mean "none" (null); anything else as safeText. */
export function optionalSafeText(rule: TextRule) {
  return z
    .union([z.literal('').transform(() => null), safeText(rule)])
    .nullable()
    .optional();
}

/**
 * A secret (a camera password): kept byte for byte, so neither normalised nor trimmed, but still
 * free of control characters (it travels in SOAP headers and RTSP URLs) and of unpaired surrogates
 * (which UTF-8 cannot carry: the device would be sent U+FFFD).
 */
export function secretText(rule: { max: number }) {
  return z
    .string({ error: TEXT_MESSAGES.type })
    .max(rule.max, TEXT_MESSAGES.tooLong(rule.max))
    .superRefine((s, ctx) => {
      if (!s.isWellFormed()) ctx.addIssue({ code: 'custom', message: TEXT_MESSAGES.surrogate });
      else if (CONTROL_SINGLE.test(s)) ctx.addIssue({ code: 'custom', message: TEXT_MESSAGES.control });
    });
}

/**
 * Device-supplied text (ONVIF identity, scopes, names): a reply cannot be refused field by field,
 * so what the policy forbids is removed instead. Controls become spaces (a newline inside a model
 * name is a separator), bidi formatting and unpaired surrogates are dropped, runs of whitespace
 * collapse, and the result is cut to `max` code points. Null when nothing visible is left.
 */
export function deviceText(input: unknown, max: number): string | null {
  if (typeof input !== 'string') return null;
  // Bound the work first: a hostile reply may carry megabytes in one field. Eight UTF-16 units a
  // character leaves room for decomposed sequences that NFC composes.
  const head = input.length > max * 8 ? input.slice(0, max * 8) : input;
  const s = head
    .replace(LONE_SURROGATE, '')
    .normalize('NFC')
    .replace(BIDI_ALL, '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (isBlank(s)) return null;
  const cut = truncate(s, max).trim();
  return isBlank(cut) ? null : cut;
}

/**
 * A URI a device hands us (XAddrs, stream and snapshot URIs): parsed and re-serialised, which
 * percent-encodes anything outside ASCII in the path and query; null when it does not parse, has
 * another scheme, or is still longer than `max` once serialised. A device cannot be asked again,
 * so an unusable URI is dropped rather than refused.
 */
export function deviceUri(input: unknown, schemes: readonly string[], max = 2048): string | null {
  if (typeof input !== 'string' || input.length > max) return null;
  if (hasControl(input) || hasBidi(input) || !input.isWellFormed() || /\s/.test(input)) return null;
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    return null;
  }
  if (!schemes.includes(u.protocol) || !u.hostname) return null;
  const out = u.toString();
  return out.length <= max ? out : null;
}

/**
 * express.json's `verify` hook: JSON travels as UTF-8 (RFC 8259 §8.1), and bytes that are not
 * UTF-8 would otherwise be decoded to U+FFFD and stored as if the sender had meant them. Runs on
 * the bytes actually read (after any Content-Encoding), so it sees what the parser would.
 */
export function refuseInvalidUtf8(_req: unknown, _res: unknown, buf: Buffer, encoding: string): void {
  if (encoding.toLowerCase().replace('_', '-') !== 'utf-8') {
    throw new HttpError(415, 'unsupported_media_type', 'body: send JSON as UTF-8', [
      { path: 'body', message: 'charset must be UTF-8' },
    ]);
  }
  if (!isUtf8(buf)) {
    throw new HttpError(400, 'bad_encoding', 'body: not valid UTF-8', [{ path: 'body', message: 'not valid UTF-8' }]);
  }
}
