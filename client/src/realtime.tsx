import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, SessionEndReason } from '@api/contract.ts';
import { signalSessionEnded, windowSession } from './api.ts';
import { retryRefusedHandshakes } from './realtimeRetry.ts';

export type RealtimeSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface RealtimeValue {
  socket: RealtimeSocket | null;
  connected: boolean;
  /**
   * Not connected, and not merely still connecting: the connection dropped, or an attempt failed. A page
   * that is opening has no socket yet and says nothing (a "reconnecting" banner on every open also pushed
   * the wall's panes about: issue 15).
   */
  lost: boolean;
}

const RealtimeContext = createContext<RealtimeValue>({ socket: null, connected: false, lost: false });

/**
 * One socket per signed-in session, to the platform itself (same origin).
 * socket.io reconnects on its own, which matters for consoles left open for weeks.
 */
export function RealtimeProvider({ children }: { children: ReactNode }) {
  const [value, setValue] = useState<RealtimeValue>({ socket: null, connected: false, lost: false });

  useEffect(() => {
    // A kiosk window's own session goes as `auth.token`, asked again on every reconnect.
    const socket: RealtimeSocket = io({
      path: '/socket.io',
      withCredentials: true,
      auth: (cb) => {
        const token = windowSession();
        cb(token ? { token } : {});
      },
    });
    let failed = false;
    const update = () => setValue({ socket, connected: socket.connected, lost: !socket.connected && failed });
    const fail = () => {
      failed = true;
      update();
    };
    // Logout elsewhere, a revoked kiosk token, a changed password: the server
    // says so and disconnects; the app goes back to sign-in (a kiosk reloads its URL).
    const ended = (e: { reason: SessionEndReason }) => signalSessionEnded(e.reason);
    socket.on('connect', update);
    socket.on('disconnect', fail);
    socket.on('connect_error', fail);
    socket.on('session:ended', ended);
    // The server could not check the session (its database away): try again until it can.
    const stopRetrying = retryRefusedHandshakes(socket);
    update();
    return () => {
      stopRetrying();
      socket.off('connect', update);
      socket.off('disconnect', fail);
      socket.off('connect_error', fail);
      socket.off('session:ended', ended);
      socket.disconnect();
    };
  }, []);

  return <RealtimeContext value={value}>{children}</RealtimeContext>;
}

export function useRealtime(): RealtimeValue {
  return useContext(RealtimeContext);
}
