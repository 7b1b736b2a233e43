/**
 * Publish keys and stream names: pure helpers, no I/O.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 192 random bits, URL-safe: it travels in an RTMP stream name's query (`cam7?key=…`). */
export function generatePublishKey(): string {
  return randomBytes(24).toString('base64url');
}

/** What is stored: the hex SHA-256 of the key (a key is random, so no salt or slow hash is needed). */
export function hashPublishKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Compares a presented key with a stored hash in constant time; a missing hash still costs one hash. */
export function publishKeyMatches(presented: string, storedHash: string | undefined): boolean {
  const a = Buffer.from(hashPublishKey(presented), 'hex');
  const b = Buffer.from(storedHash ?? '', 'hex');
  return b.length === a.length && timingSafeEqual(a, b) && storedHash !== undefined;
}

/** `cam<id>`: the stream name a camera point publishes under. */
export const streamNameOf = (cameraId: number) => `cam${cameraId}`;

/** The camera id in a stream name, or null when it is not `cam<positive integer>`. */
export function cameraIdOfStream(name: string): number | null {
  const m = /^cam([1-9]\d{0,14})$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** A host as it goes into a URL: IPv6 literals in brackets. */
export const urlHost = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/**
 * Where the platform's own relay reaches the RTMP server: loopback when it
 * listens on every interface, else the address it listens on.
 */
export const localPlayHost = (bindHost: string) =>
  bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : urlHost(bindHost);
