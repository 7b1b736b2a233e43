import { describe, expect, it } from 'vitest';
import {
  cameraIdOfStream,
  generatePublishKey,
  hashPublishKey,
  localPlayHost,
  publishKeyMatches,
  streamNameOf,
} from './keys.ts';

describe('publish keys', () => {
  it('are random, URL-safe and matched only by their own hash', () => {
    const a = generatePublishKey();
    const b = generatePublishKey();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a).not.toBe(b);
    expect(publishKeyMatches(a, hashPublishKey(a))).toBe(true);
    expect(publishKeyMatches(b, hashPublishKey(a))).toBe(false);
    expect(publishKeyMatches(a, undefined)).toBe(false);
    expect(publishKeyMatches(a, 'not hex')).toBe(false);
  });
});

describe('stream names', () => {
  it.each([
    ['cam7', 7],
    ['cam123456789', 123456789],
    ['cam0', null],
    ['cam07', null],
    ['cam-1', null],
    ['camera7', null],
    ['cam7x', null],
    ['cam1234567890123456', null],
  ])('%s → %s', (name, id) => expect(cameraIdOfStream(name)).toBe(id));

  it('round-trips', () => expect(cameraIdOfStream(streamNameOf(42))).toBe(42));
});

describe('localPlayHost', () => {
  it.each([
    ['0.0.0.0', '127.0.0.1'],
    ['::', '127.0.0.1'],
    ['127.0.0.1', '127.0.0.1'],
    ['10.20.0.5', '10.20.0.5'],
    ['fd00::5', '[fd00::5]'],
  ])('%s → %s', (bind, host) => expect(localPlayHost(bind)).toBe(host));
});
