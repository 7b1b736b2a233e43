/**
 * ONVIF pull-point event subscriptions (ONVIF Core 9.1) for one camera: motion and tamper as
 * property events (Initialized on subscribe, Changed afterwards), long-polled with PullMessages.
 */
import { randomBytes } from 'node:crypto';
import type { SimEventKind } from './types.ts';

export const TOPICS: Record<SimEventKind, string> = {
  motion: 'tns1:VideoSource/MotionAlarm',
  tamper: 'tns1:VideoSource/GlobalSceneChange/ImagingService',
};

export interface SimEventMessage {
  topic: string;
  /** Real (not device) time in ms; shown shifted by the camera's clock offset. */
  atMs: number;
  operation: 'Initialized' | 'Changed';
  state: boolean;
}

interface Waiter {
  limit: number;
  resolve: (msgs: SimEventMessage[]) => void;
  timer: NodeJS.Timeout;
}

export interface Subscription {
  id: string;
  expiresAtMs: number;
  queue: SimEventMessage[];
  waiter?: Waiter;
}

const MAX_QUEUE = 200;

export class EventBroker {
  readonly state: Record<SimEventKind, boolean> = { motion: false, tamper: false };
  readonly subs = new Map<string, Subscription>();
  readonly #max: number;

  constructor(maxSubscriptions = 20) {
    this.#max = maxSubscriptions;
  }

  create(nowMs: number, ttlMs: number): Subscription | undefined {
    this.sweep(nowMs);
    if (this.subs.size >= this.#max) return undefined;
    const sub: Subscription = { id: randomBytes(8).toString('hex'), expiresAtMs: nowMs + ttlMs, queue: [] };
    for (const kind of Object.keys(TOPICS) as SimEventKind[]) {
      sub.queue.push({ topic: TOPICS[kind], atMs: nowMs, operation: 'Initialized', state: this.state[kind] });
    }
    this.subs.set(sub.id, sub);
    return sub;
  }

  emit(kind: SimEventKind, state: boolean, nowMs: number): void {
    this.state[kind] = state;
    const msg: SimEventMessage = { topic: TOPICS[kind], atMs: nowMs, operation: 'Changed', state };
    for (const sub of this.subs.values()) {
      sub.queue.push(msg);
      if (sub.queue.length > MAX_QUEUE) sub.queue.shift();
      this.#wake(sub);
    }
  }

  /** Resolves with messages as soon as there are any, or with none after `timeoutMs`. */
  pull(sub: Subscription, timeoutMs: number, limit: number): { done: Promise<SimEventMessage[]>; cancel(): void } {
    if (sub.waiter) this.#finish(sub, sub.waiter, []);
    if (sub.queue.length) return { done: Promise.resolve(sub.queue.splice(0, limit)), cancel: () => undefined };
    let waiter: Waiter | undefined;
    const done = new Promise<SimEventMessage[]>((resolve) => {
      waiter = { limit, resolve, timer: setTimeout(() => this.#finish(sub, waiter!, []), timeoutMs) };
      sub.waiter = waiter;
    });
    return { done, cancel: () => waiter && this.#finish(sub, waiter, []) };
  }

  #wake(sub: Subscription): void {
    const w = sub.waiter;
    if (w) this.#finish(sub, w, sub.queue.splice(0, w.limit));
  }

  #finish(sub: Subscription, w: Waiter, msgs: SimEventMessage[]): void {
    clearTimeout(w.timer);
    if (sub.waiter === w) sub.waiter = undefined;
    w.resolve(msgs);
  }

  unsubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    if (!sub) return false;
    if (sub.waiter) this.#finish(sub, sub.waiter, []);
    this.subs.delete(id);
    return true;
  }

  get(id: string, nowMs: number): Subscription | undefined {
    const sub = this.subs.get(id);
    if (sub && sub.expiresAtMs <= nowMs) {
      this.unsubscribe(id);
      return undefined;
    }
    return sub;
  }

  sweep(nowMs: number): void {
    for (const [id, sub] of this.subs) if (sub.expiresAtMs <= nowMs && !sub.waiter) this.unsubscribe(id);
  }

  closeAll(): void {
    for (const id of [...this.subs.keys()]) this.unsubscribe(id);
  }
}
