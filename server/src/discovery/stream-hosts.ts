/**
 * Stream and snapshot addresses as a device reports them, against the address the platform reached it at
 * (issue 12, item 2). A device behind NAT or port forwarding reports its private address (rtsp://192.168.1.64/…)
 * while the platform reached it at another: its ONVIF service addresses were already rebased to the one that
 * answered, its media addresses were stored as reported, and the point could never play. Here they are rebased
 * the same way (host replaced, the reported port kept: forwarded RTSP ports usually keep their number), unless
 * the deployment turns it off; either way the reported addresses are kept and the difference is said.
 */
export interface MediaUris {
  mainStreamUri: string | null;
  subStreamUri: string | null;
  snapshotUri: string | null;
}

export interface StreamHostCheck {
  /** What to store and use. */
  uris: MediaUris;
  /** The addresses as the device reported them, when any host differed; null otherwise. */
  reported: MediaUris | null;
  /** A note for the device's reason (coded as uri_host_rebased or uri_host_differs); null when all agree. */
  note: string | null;
}

const hostOf = (uri: string): string | null => {
  try {
    return new URL(uri).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return null;
  }
};

/** `uri` with its host replaced by `host`; port, path and query as they were. */
export function rebaseHost(uri: string, host: string): string {
  const u = new URL(uri);
  u.hostname = host.includes(':') ? `[${host}]` : host;
  return u.toString();
}

export function checkStreamHosts(uris: MediaUris, reachedAt: string, rebase: boolean): StreamHostCheck {
  const host = hostOf(reachedAt);
  if (!host) return { uris, reported: null, note: null };
  const keys = ['mainStreamUri', 'subStreamUri', 'snapshotUri'] as const;
  const others = new Set<string>();
  for (const k of keys) {
    const h = uris[k] ? hostOf(uris[k]!) : null;
    if (h && h !== host) others.add(h);
  }
  if (others.size === 0) return { uris, reported: null, note: null };
  const reportedHosts = [...others].join(', ');
  if (!rebase) {
    return {
      uris,
      reported: { ...uris },
      note: `the device reports its streams at ${reportedHosts}, not at ${host} (the address that answered): the platform may not reach them`,
    };
  }
  const out: MediaUris = { ...uris };
  for (const k of keys) {
    const v = uris[k];
    if (v && hostOf(v) !== host) out[k] = rebaseHost(v, host);
  }
  return {
    uris: out,
    reported: { ...uris },
    note: `the device reports its streams at ${reportedHosts}: rebased to ${host}, the address that answered`,
  };
}
