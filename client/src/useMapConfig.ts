import { useEffect, useState } from 'react';
import type { MapConfig } from '@api/contract.ts';
import { api } from './api.ts';

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

export function useMapConfig(): MapConfigState {
  const [state, setState] = useState<MapConfigState>({ status: 'loading' });
  useEffect(() => {
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
