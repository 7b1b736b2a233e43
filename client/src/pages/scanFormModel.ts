/**
 * The scan form as plain data, parsed into the contract's ScanRequest. Only
 * what the browser can know is checked here (required, port numbers); ranges
 * and addresses are the server's to judge, and its field errors are shown as sent.
 */
import type { ScanCredentials, ScanRequest } from '@api/contract.ts';
import type { MessageKey } from '../i18n.tsx';

export type ScanMode = ScanRequest['mode'];
export const SCAN_MODES: readonly ScanMode[] = ['unicast', 'multicast', 'manual'];
/** The server accepts up to five pairs, tried in order on each device. */
export const MAX_CREDENTIALS = 5;

export interface CredentialRow {
  /** Stable React key; rows are added and removed. */
  key: number;
  username: string;
  password: string;
}

export interface ScanFormState {
  mode: ScanMode;
  /** One range per line (or separated by commas): CIDR, a-b, or one address. */
  ranges: string;
  wsdPorts: string;
  httpPorts: string;
  iface: string;
  address: string;
  credentials: CredentialRow[];
}

export const INITIAL_SCAN_FORM: ScanFormState = {
  mode: 'unicast',
  ranges: '',
  wsdPorts: '3702',
  httpPorts: '',
  iface: '',
  address: '',
  credentials: [{ key: 0, username: 'admin', password: '' }],
};

/** Field path (as the server names it) → message key. */
export type ScanFormErrors = Record<string, MessageKey>;

export function splitList(text: string): string[] {
  return text
    .split(/[\s,;，；、]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parsePorts(text: string, path: string, errors: ScanFormErrors): number[] {
  const ports: number[] = [];
  for (const item of splitList(text)) {
    const n = Number(item);
    if (!/^\d+$/.test(item) || n < 1 || n > 65535) {
      errors[path] = 'scan.invalidPorts';
      return [];
    }
    if (!ports.includes(n)) ports.push(n);
  }
  return ports;
}

function parseCredentials(rows: readonly CredentialRow[], errors: ScanFormErrors): ScanCredentials[] {
  const out: ScanCredentials[] = [];
  for (const row of rows) {
    const username = row.username.trim();
    if (username === '' && row.password === '') continue;
    // Paths follow the request body, so server errors land on the same row.
    if (username === '') errors[`credentials.${out.length}.username`] = 'form.required';
    out.push({ username, password: row.password });
  }
  return out;
}

export type ParsedScan = { ok: true; request: ScanRequest } | { ok: false; errors: ScanFormErrors };

export function parseScanForm(state: ScanFormState): ParsedScan {
  const errors: ScanFormErrors = {};
  const credentials = parseCredentials(state.credentials, errors);
  const withCredentials = credentials.length > 0 ? { credentials } : {};
  let request: ScanRequest;
  switch (state.mode) {
    case 'unicast': {
      const ranges = splitList(state.ranges);
      if (ranges.length === 0) errors['ranges'] = 'form.required';
      const wsdPorts = parsePorts(state.wsdPorts, 'wsdPorts', errors);
      const httpPorts = parsePorts(state.httpPorts, 'httpPorts', errors);
      request = {
        mode: 'unicast',
        ranges,
        // Empty: the server's default, 3702.
        ...(wsdPorts.length > 0 ? { wsdPorts } : {}),
        ...(httpPorts.length > 0 ? { httpPorts } : {}),
        ...withCredentials,
      };
      break;
    }
    case 'multicast': {
      const iface = state.iface.trim();
      if (iface === '') errors['interface'] = 'form.required';
      request = { mode: 'multicast', interface: iface, ...withCredentials };
      break;
    }
    case 'manual': {
      const address = state.address.trim();
      if (address === '') errors['address'] = 'form.required';
      request = { mode: 'manual', address, ...withCredentials };
      break;
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, request };
}

/**
 * Credentials are tried in order and only the rows with a username are sent:
 * index i of the request is the i-th non-empty row. Maps a request path back
 * to the row it came from, so an error shows beside the right inputs.
 */
export function credentialRowIndex(rows: readonly CredentialRow[], requestIndex: number): number | null {
  let seen = -1;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!row || (row.username.trim() === '' && row.password === '')) continue;
    seen++;
    if (seen === requestIndex) return i;
  }
  return null;
}
