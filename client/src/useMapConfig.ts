import { useEffect, useRef, useState } from 'react';
import type { MapConfig } from '@api/contract.ts';
import { api, bootAnswer } from './api.ts';

type MapConfigState =
  { status: 'loading' } | { status: 'ready'; config: MapConfig } | { status: 'error'; error: unknown };

// Both maps (registry and position picker) share one request per page load.
let cached: Promise<MapConfig> | null = null;

function loadMapConfig(): Promise<MapConfig> {
  if (!cached) {
    cached = api.mapConfig().catch((err: unknown) => {
      cached = null;
      throw err;
    });
  }
  return cached;
}

/** The configuration the page's early answer gave (/wall-boot.js), which then is this page load's one request. */
function bootConfig(): MapConfigState {
  const early = bootAnswer<MapConfig>('/map/config');
  if (!early) return { status: 'loading' };
  cached ??= Promise.resolve(early.value);
  return { status: 'ready', config: early.value };
}

export function useMapConfig(): MapConfigState {
  const [state, setState] = useState<MapConfigState>(bootConfig);
  const ready = useRef(state.status === 'ready');
  useEffect(() => {
    if (ready.current) return;
    let live = true;
    loadMapConfig().then(
      (config) => live && setState({ status: 'ready', config }),
      (error: unknown) => live && setState({ status: 'error', error }),
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}
