/**
 * A refused Socket.IO handshake is not retried by socket.io-client itself: it reconnects after transport
 * failures, not after the server's middleware said no. The platform refuses with `unavailable` when it
 * could not look the session up (its database is away, issue 13): that is worth trying again, with backoff,
 * until the database is back. `unauthorized` is final (the app goes to sign-in on its next request).
 */

/** What this needs of a socket.io-client Socket. */
export interface RetryableSocket {
  readonly active: boolean;
  connect(): unknown;
  on(event: 'connect', fn: () => void): unknown;
  on(event: 'connect_error', fn: (err: Error) => void): unknown;
  off(event: 'connect', fn: () => void): unknown;
  off(event: 'connect_error', fn: (err: Error) => void): unknown;
}

/** The wait before retry `attempt` (1, 2, …): 1 s doubling to 30 s, each between half and all of it. */
export function refusedRetryDelay(attempt: number, random: () => number = Math.random): number {
  const full = Math.min(30_000, 1000 * 2 ** Math.min(Math.max(attempt, 1) - 1, 5));
  return Math.round(full * (0.5 + random() / 2));
}

/** Retries handshakes the server refused as `unavailable`; returns the function that stops it. */
export function retryRefusedHandshakes(
  socket: RetryableSocket,
  opts: { delay?: (attempt: number) => number } = {},
): () => void {
  const delay = opts.delay ?? ((n: number) => refusedRetryDelay(n));
  let attempts = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connected = () => {
    attempts = 0;
  };
  const refused = (err: Error) => {
    // Still `active`: a transport failure, which socket.io-client retries on its own.
    if (socket.active || err.message !== 'unavailable') return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      socket.connect();
    }, delay(++attempts));
  };
  socket.on('connect', connected);
  socket.on('connect_error', refused);
  return () => {
    clearTimeout(timer);
    socket.off('connect', connected);
    socket.off('connect_error', refused);
  };
}
