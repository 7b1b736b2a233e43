import { useEffect, useMemo, useState } from 'react';
import type { ServerToClientEvents } from '@api/contract.ts';
import type { NetworkView, OrgUnitView } from '@api/contract.ts';
import { api, isAbort } from '../api.ts';
import { useRealtime } from '../realtime.tsx';
import { pointsFrom, type WallPoint } from './model.ts';
import { wallApi } from './wallApi.ts';

/**
 * Every camera point of the jurisdiction (GET /walls/points), kept current by
 * `camera:status` and reloaded after registry changes and reconnects. Asked
 * for once `enabled`: the wall waits for its map's first render (issue 15: the
 * list's megabytes of JSON held the map's points back).
 */
export function useWallPoints(enabled = true) {
  const { socket } = useRealtime();
  const [points, setPoints] = useState<WallPoint[]>([]);
  const [error, setError] = useState<unknown>(null);
  /** The first answer (or failure) came back. */
  const [settled, setSettled] = useState(false);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    wallApi.points(controller.signal).then(
      (res) => {
        setPoints(pointsFrom(res));
        setError(null);
        setSettled(true);
      },
      (err: unknown) => {
        if (isAbort(err)) return;
        setError(err);
        setSettled(true);
      },
    );
    return () => controller.abort();
  }, [generation, enabled]);

  useEffect(() => {
    if (!socket) return;
    let timer: number | undefined;
    // Registry edits come in bursts (an import): reload once they settle.
    const reload = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => setGeneration((n) => n + 1), 1_000);
    };
    const onStatus: ServerToClientEvents['camera:status'] = (e) =>
      setPoints((prev) => {
        const i = prev.findIndex((p) => p.id === e.id);
        if (i < 0 || prev[i]!.status === e.status) return prev;
        const next = [...prev];
        next[i] = { ...prev[i]!, status: e.status };
        return next;
      });
    // After a server restart or network cut the socket reconnects: statuses may have moved meanwhile.
    let connectedOnce = socket.connected;
    const onConnect = () => {
      if (connectedOnce) reload();
      connectedOnce = true;
    };
    socket.on('camera:status', onStatus);
    socket.on('camera:changed', reload);
    socket.on('registry:imported', reload);
    socket.on('connect', onConnect);
    socket.on('realtime:resync', onConnect);
    return () => {
      window.clearTimeout(timer);
      socket.off('camera:status', onStatus);
      socket.off('camera:changed', reload);
      socket.off('registry:imported', reload);
      socket.off('connect', onConnect);
      socket.off('realtime:resync', onConnect);
    };
  }, [socket]);

  const byId = useMemo(() => new Map(points.map((p) => [p.id, p])), [points]);
  return { points, byId, error, settled };
}

/** Org units and networks for the tree and the rate panel, once `enabled`; reloaded after a reconnect. */
export function useWallReference(enabled: boolean) {
  const { socket } = useRealtime();
  const [orgUnits, setOrgUnits] = useState<OrgUnitView[]>([]);
  const [networks, setNetworks] = useState<NetworkView[]>([]);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    let retry: number | undefined;
    const load = () =>
      Promise.all([api.orgUnits(controller.signal), api.networks(controller.signal)]).then(
        ([units, nets]) => {
          setOrgUnits(units);
          setNetworks(nets);
        },
        (err: unknown) => {
          // A wall has no one to press retry: try again until the server answers.
          if (!isAbort(err)) retry = window.setTimeout(() => void load(), 5_000);
        },
      );
    void load();
    return () => {
      controller.abort();
      window.clearTimeout(retry);
    };
  }, [enabled, generation]);
  useEffect(() => {
    if (!socket) return;
    const reload = () => setGeneration((n) => n + 1);
    socket.on('registry:imported', reload);
    return () => {
      socket.off('registry:imported', reload);
    };
  }, [socket]);
  return { orgUnits, networks };
}
