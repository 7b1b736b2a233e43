import { useCallback, useEffect, useState } from 'react';
import type { NetworkView, OrgUnitView } from '@api/contract.ts';
import { api, isAbort } from '../api.ts';

/** Org units and networks, with their per-scope counts; reloaded after changes. */
export function useReferenceData() {
  const [orgUnits, setOrgUnits] = useState<OrgUnitView[]>([]);
  const [networks, setNetworks] = useState<NetworkView[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [token, setToken] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    Promise.all([api.orgUnits(controller.signal), api.networks(controller.signal)]).then(
      ([units, nets]) => {
        setOrgUnits(units);
        setNetworks(nets);
        setError(null);
      },
      (err: unknown) => {
        if (!isAbort(err)) setError(err);
      },
    );
    return () => controller.abort();
  }, [token]);

  const reload = useCallback(() => setToken((n) => n + 1), []);
  return { orgUnits, networks, error, reload };
}
