import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealReadability } from './credentials.ts';
import { createSecretBox, type SecretBox } from './secret-box.ts';

/** The box, counting how often a seal is opened. */
function counted(box: SecretBox): SecretBox & { opened: number } {
  const c = {
    opened: 0,
    seal: (t: string) => box.seal(t),
    open(s: string) {
      c.opened++;
      return box.open(s);
    },
  };
  return c;
}

describe('sealReadability', () => {
  const mine = createSecretBox(randomBytes(32));
  const other = createSecretBox(randomBytes(32));
  const good = mine.seal(JSON.stringify({ username: 'admin', password: 'p' }));
  const foreign = other.seal(JSON.stringify({ username: 'admin', password: 'p' }));

  it('tells seals that open from seals under another key or broken', () => {
    const opens = sealReadability(mine);
    expect(opens(good)).toBe(true);
    expect(opens(foreign)).toBe(false);
    expect(opens('v1:AAAA')).toBe(false);
    expect(opens(`${good.slice(0, -4)}AAAA`)).toBe(false);
  });

  it('opens each seal once, however often it is asked, within its bound', () => {
    const box = counted(mine);
    const opens = sealReadability(box, 2);
    for (let i = 0; i < 5; i++) expect([opens(good), opens(foreign)]).toEqual([true, false]);
    expect(box.opened).toBe(2);
    // A third seal fills the memory past its bound: it starts again, and the answers stay right.
    const third = mine.seal('{}');
    expect(opens(third)).toBe(true);
    expect(opens(good)).toBe(true);
    expect(box.opened).toBe(4);
  });
});
