import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from './secret-box.ts';

describe('createSecretBox', () => {
  it('seals each time under a nonce of its own, across the batches nonces are drawn in, and opens them all', () => {
    const box = createSecretBox(randomBytes(32));
    const nonces = new Set<string>();
    const n = 3 * 4096 + 5;
    for (let i = 0; i < n; i++) {
      const sealed = box.seal(`secret ${i}`);
      nonces.add(Buffer.from(sealed.slice(3), 'base64').subarray(0, 12).toString('hex'));
      expect(box.open(sealed)).toBe(`secret ${i}`);
    }
    expect(nonces.size).toBe(n);
  });

  it('refuses a seal made under another key, or altered', () => {
    const a = createSecretBox(randomBytes(32));
    const b = createSecretBox(randomBytes(32));
    const sealed = a.seal('x');
    expect(() => b.open(sealed)).toThrow();
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw.writeUInt8(raw.readUInt8(raw.length - 1) ^ 1, raw.length - 1);
    expect(() => a.open(`v1:${raw.toString('base64')}`)).toThrow();
  });
});
