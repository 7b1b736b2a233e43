import { useCallback, useEffect, useState } from 'react';
import { isAbort } from '../api.ts';

/** A list loaded from the API, with a reload after every change the page makes. */
export function useList<T>(load: (signal: AbortSignal) => Promise<T[]>): {
  items: T[];
  loading: boolean;
  error: unknown;
  reload: () => void;
} {
  const [items, setItems] = useState<T[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [gen, setGen] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    load(controller.signal).then(
      (list) => {
        setItems(list);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (isAbort(err)) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [load, gen]);
  const reload = useCallback(() => setGen((n) => n + 1), []);
  return { items, loading, error, reload };
}
