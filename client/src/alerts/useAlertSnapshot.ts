import { useEffect, useState } from 'react';
import { windowSession } from '../api.ts';
import { alertSnapshotUrl } from './alertsApi.ts';

/**
 * The JPEG stored with an alert, as an object URL. Fetched rather than named
 * in an <img src>: a kiosk window opened from a console speaks with its own
 * bearer session, not the browser's cookie (kioskWindow.ts).
 */
export function useAlertSnapshot(alertId: number, has: boolean | undefined): string | null {
  const [shown, setShown] = useState<{ id: number; url: string } | null>(null);
  useEffect(() => {
    if (!has) return;
    const controller = new AbortController();
    let url: string | null = null;
    const bearer = windowSession();
    fetch(alertSnapshotUrl(alertId), {
      credentials: 'same-origin',
      signal: controller.signal,
      ...(bearer ? { headers: { Authorization: `Bearer ${bearer}` } } : {}),
    })
      .then((res) => (res.ok ? res.blob() : null))
      .then((blob) => {
        if (!blob || controller.signal.aborted) return;
        url = URL.createObjectURL(blob);
        setShown({ id: alertId, url });
      })
      .catch(() => undefined);
    return () => {
      controller.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [alertId, has]);
  return has && shown?.id === alertId ? shown.url : null;
}
