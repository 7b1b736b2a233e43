import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { HttpError } from './errors.ts';
import {
  TEXT_MESSAGES,
  checkText,
  deviceText,
  deviceUri,
  optionalSafeText,
  refuseInvalidUtf8,
  safeText,
  secretText,
} from './text.ts';

const name = safeText({ max: 8 });
const note = safeText({ max: 50, multiline: true });

function problem(schema: z.ZodType, input: unknown): string | null {
  const r = schema.safeParse(input);
  return r.success ? null : (r.error.issues[0]?.message ?? 'invalid');
}

describe('text policy', () => {
  it.each([
    ['RLO override', 'cam\u202eevil', TEXT_MESSAGES.bidi],
    ['LRE embedding', '\u202acam', TEXT_MESSAGES.bidi],
    ['PDF', 'cam\u202c', TEXT_MESSAGES.bidi],
    ['RLI isolate', 'a\u2067b\u2069', TEXT_MESSAGES.bidi],
    ['FSI isolate', 'a\u2068b', TEXT_MESSAGES.bidi],
    ['RLM mark', 'a\u200fb', TEXT_MESSAGES.bidi],
    ['Arabic letter mark', 'a\u061cb', TEXT_MESSAGES.bidi],
    ['BEL', 'a\u0007b', TEXT_MESSAGES.control],
    ['ESC', '\u001b[31mred', TEXT_MESSAGES.control],
    ['NUL', 'a\u0000', TEXT_MESSAGES.control],
    ['DEL', 'a\u007f', TEXT_MESSAGES.control],
    ['C1 CSI', 'a\u009bb', TEXT_MESSAGES.control],
    ['newline in a single-line field', 'a\nb', TEXT_MESSAGES.control],
    ['tab in a single-line field', 'a\tb', TEXT_MESSAGES.control],
    ['line separator', 'a\u2028b', TEXT_MESSAGES.control],
    ['lone high surrogate', 'a\ud800b', TEXT_MESSAGES.surrogate],
    ['lone low surrogate', 'a\udc00', TEXT_MESSAGES.surrogate],
    ['empty', '', TEXT_MESSAGES.blank],
    ['spaces', '   ', TEXT_MESSAGES.blank],
    ['ideographic space', '\u3000', TEXT_MESSAGES.blank],
    ['zero-width space only', '\u200b\u200b', TEXT_MESSAGES.blank],
    ['zero-width joiners and BOM only', '\u200d\ufeff\u200c\u2060', TEXT_MESSAGES.blank],
    ['Hangul filler only', '\u3164', TEXT_MESSAGES.blank],
    ['soft hyphen and variation selector only', '\u00ad\ufe0f', TEXT_MESSAGES.blank],
    ['too long', '123456789', TEXT_MESSAGES.tooLong(8)],
    ['not a string', 42, TEXT_MESSAGES.type],
  ])('refuses %s', (_label, input, message) => {
    expect(problem(name, input)).toBe(message);
  });

  it.each([
    ['plain Chinese', '城关镇东门', '城关镇东门'],
    ['trimmed', '  东湖街道  ', '东湖街道'],
    ['emoji ZWJ sequence counts as text', '👩\u200d🚒', '👩\u200d🚒'],
    ['surrogate pairs count once each', '𠀀𠀀𠀀𠀀𠀀𠀀𠀀𠀀', '𠀀𠀀𠀀𠀀𠀀𠀀𠀀𠀀'],
    ['NFC: e + combining acute becomes é', 'cafe\u0301', 'café'],
  ])('accepts %s', (_label, input, out) => {
    expect(name.parse(input)).toBe(out);
  });

  it('multi-line fields keep newline and tab but not CR or other controls', () => {
    expect(note.parse('line one\n\tline two')).toBe('line one\n\tline two');
    expect(problem(note, 'a\r\nb')).toBe(TEXT_MESSAGES.control);
    expect(problem(note, 'a\u0007')).toBe(TEXT_MESSAGES.control);
    expect(problem(note, 'a\u202eb')).toBe(TEXT_MESSAGES.bidi);
    expect(problem(note, '\n\t\u200b')).toBe(TEXT_MESSAGES.blank);
  });

  it('optional fields: absent, null and empty mean none; anything else follows the policy', () => {
    const s = z.object({ a: optionalSafeText({ max: 5 }) });
    expect(s.parse({})).toEqual({});
    expect(s.parse({ a: null })).toEqual({ a: null });
    expect(s.parse({ a: '' })).toEqual({ a: null });
    expect(s.parse({ a: ' x ' })).toEqual({ a: 'x' });
    expect(problem(s, { a: '\u200b' })).toBe(TEXT_MESSAGES.blank);
    expect(problem(s, { a: 'a\u202e' })).toBe(TEXT_MESSAGES.bidi);
  });

  it('checkText normalises and reports like the zod builder', () => {
    expect(checkText(' cafe\u0301 ', { max: 10 })).toEqual({ ok: true, value: 'café' });
    expect(checkText('a\u2066', { max: 10 })).toEqual({ ok: false, message: TEXT_MESSAGES.bidi });
  });

  it('documents the cap in the JSON schema', () => {
    expect(z.toJSONSchema(name, { io: 'input' })).toMatchObject({ type: 'string', maxLength: 8 });
  });
});

describe('deviceText', () => {
  it('strips what the policy forbids from a hostile reply and bounds it', () => {
    const hostile = '\u202eHik\u0007vision\u001b[2J' + 'A'.repeat(300_000);
    const out = deviceText(hostile, 64);
    expect(out).not.toBeNull();
    expect(out!.length).toBeLessThanOrEqual(64);
    expect(out).toMatch(/^Hik vision \[2JA+$/);
    expect(checkText(out!, { max: 64 }).ok).toBe(true);
  });

  it('drops unpaired surrogates and bidi isolates, keeps pairs whole at the cut', () => {
    expect(deviceText('a\ud800b\u2066c\u2069', 10)).toBe('abc');
    expect(deviceText('𠀀𠀀𠀀', 2)).toBe('𠀀𠀀');
  });

  it('turns newlines into spaces and collapses runs', () => {
    expect(deviceText('  IPC\r\n\t  2000  ', 20)).toBe('IPC 2000');
  });

  it('gives null for nothing visible and for non-strings', () => {
    expect(deviceText('\u200b\ufeff \u202e', 10)).toBeNull();
    expect(deviceText('', 10)).toBeNull();
    expect(deviceText(undefined, 10)).toBeNull();
    expect(deviceText(12, 10)).toBeNull();
  });
});

describe('secretText', () => {
  const pw = secretText({ max: 16 });
  it('keeps a password byte for byte (no NFC, no trim)', () => {
    expect(pw.parse(' cafe\u0301 ')).toBe(' cafe\u0301 ');
  });
  it('refuses control characters and unpaired surrogates', () => {
    expect(problem(pw, 'pw\u0000')).toBe(TEXT_MESSAGES.control);
    expect(problem(pw, 'pw\ud800')).toBe(TEXT_MESSAGES.surrogate);
    expect(problem(pw, 'x'.repeat(17))).toBe(TEXT_MESSAGES.tooLong(16));
  });
});

describe('deviceUri', () => {
  it('re-serialises a good URI and drops anything unusable', () => {
    expect(deviceUri('rtsp://10.0.0.1:554/Streaming/Channels/101', ['rtsp:'])).toBe(
      'rtsp://10.0.0.1:554/Streaming/Channels/101',
    );
    expect(deviceUri('rtsp://10.0.0.1/\u202eevil', ['rtsp:'])).toBeNull();
    expect(deviceUri('rtsp://10.0.0.1/a\u0007', ['rtsp:'])).toBeNull();
    expect(deviceUri('rtsp://10.0.0.1/a b', ['rtsp:'])).toBeNull();
    expect(deviceUri('file:///etc/passwd', ['rtsp:'])).toBeNull();
    expect(deviceUri('rtsp://10.0.0.1/' + 'a'.repeat(3000), ['rtsp:'])).toBeNull();
    expect(deviceUri(42, ['rtsp:'])).toBeNull();
  });
});

describe('refuseInvalidUtf8', () => {
  const call = (buf: Buffer, enc = 'utf-8') => {
    try {
      refuseInvalidUtf8(null, null, buf, enc);
      return null;
    } catch (e) {
      return e as HttpError;
    }
  };
  it('lets UTF-8 through and refuses anything else with a stable code', () => {
    expect(call(Buffer.from('{"name":"城关镇"}'))).toBeNull();
    expect(call(Buffer.from([0x7b, 0x80, 0x7d]))).toMatchObject({ status: 400, code: 'bad_encoding' });
    expect(call(Buffer.from([0xc0, 0xaf]))).toMatchObject({ status: 400, code: 'bad_encoding' });
    expect(call(Buffer.from('{}'), 'utf-16le')).toMatchObject({ status: 415 });
  });
});
