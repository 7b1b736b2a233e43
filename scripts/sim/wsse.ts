/**
 * WS-Security UsernameToken (ONVIF Core 5.12.2): PasswordDigest = Base64(SHA1(nonce + created + password)),
 * checked against the DEVICE clock. A client that ignores a camera's clock offset fails here, exactly as
 * it does against real devices.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { NS, attrOf, childText, childXml, esc } from './xml.ts';

export type WsseFailure = 'missing' | 'malformed' | 'unknown-user' | 'bad-password' | 'stale' | 'replay';
export type WsseResult = { ok: true; username: string } | { ok: false; reason: WsseFailure };

/** Remembers recently seen nonces so a captured header cannot be replayed; bounded in size. */
export class NonceCache {
  readonly #seen = new Map<string, number>();
  readonly #max: number;
  constructor(max = 4096) {
    this.#max = max;
  }
  /** True when the nonce is new (and records it). */
  remember(nonce: string, nowMs: number, ttlMs: number): boolean {
    const exp = this.#seen.get(nonce);
    if (exp !== undefined && exp > nowMs) return false;
    this.#seen.delete(nonce);
    this.#seen.set(nonce, nowMs + ttlMs);
    while (this.#seen.size > this.#max) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
    return true;
  }
}

export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

export interface WsseCheck {
  username: string;
  password: string;
  /** The device's clock: real time + the camera's offset. */
  deviceNowMs: number;
  /** Accepted distance between Created and the device clock. */
  windowSec: number;
  nonces?: NonceCache;
}

export function verifyUsernameToken(header: string, check: WsseCheck): WsseResult {
  const token = childXml(header, 'UsernameToken');
  if (token === undefined) return { ok: false, reason: 'missing' };
  const username = childText(token, 'Username');
  const password = childText(token, 'Password');
  if (username === undefined || password === undefined) return { ok: false, reason: 'malformed' };
  if (username !== check.username) return { ok: false, reason: 'unknown-user' };
  const type = attrOf(token, 'Password', 'Type') ?? '';
  if (type.endsWith('#PasswordText')) {
    // Many Chinese cameras still accept plain-text tokens; the clock is not involved then.
    return safeEq(password, check.password) ? { ok: true, username } : { ok: false, reason: 'bad-password' };
  }
  const nonceB64 = childText(token, 'Nonce');
  const created = childText(token, 'Created');
  if (!nonceB64 || !created) return { ok: false, reason: 'malformed' };
  const nonce = Buffer.from(nonceB64, 'base64');
  const createdMs = Date.parse(created);
  if (nonce.length === 0 || Number.isNaN(createdMs)) return { ok: false, reason: 'malformed' };
  if (!safeEq(passwordDigest(nonce, created, check.password), password)) return { ok: false, reason: 'bad-password' };
  if (Math.abs(createdMs - check.deviceNowMs) > check.windowSec * 1000) return { ok: false, reason: 'stale' };
  if (check.nonces && !check.nonces.remember(nonceB64, check.deviceNowMs, 2 * check.windowSec * 1000 + 1000)) {
    return { ok: false, reason: 'replay' };
  }
  return { ok: true, username };
}

function safeEq(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Client side: a wsse:Security header block, for tests and tools that talk to the simulator raw. */
export function usernameTokenHeader(
  username: string,
  password: string,
  createdMs: number,
  nonce = randomBytes(16),
): string {
  const created = new Date(createdMs).toISOString();
  return (
    `<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}"><wsse:UsernameToken>` +
    `<wsse:Username>${esc(username)}</wsse:Username>` +
    `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">` +
    `${passwordDigest(nonce, created, password)}</wsse:Password>` +
    `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">` +
    `${nonce.toString('base64')}</wsse:Nonce><wsu:Created>${created}</wsu:Created>` +
    `</wsse:UsernameToken></wsse:Security>`
  );
}
