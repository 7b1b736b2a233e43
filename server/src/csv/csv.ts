/**
 * RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF, newlines inside
 * quotes. Records keep the physical line they start on so that an import
 * report can point at the line a clerk sees in a text editor.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

export function parseCsv(text: string, opts: { maxRecords?: number; maxFieldLength?: number } = {}): CsvRecord[] {
  const maxRecords = opts.maxRecords ?? Infinity;
  const maxField = opts.maxFieldLength ?? 65_536;
  const out: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  // Tab- or semicolon-separated ledgers are not CSV; only commas separate.
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let endOfRecord = false;
    while (!endOfRecord) {
      let value = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(startLine, 'unterminated quoted field');
          const ch = text[i];
          if (ch === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          value += ch;
          i++;
          if (value.length > maxField) throw new CsvSyntaxError(startLine, `field longer than ${maxField} characters`);
        }
        const after = text[i];
        if (after !== undefined && after !== ',' && after !== '\n' && after !== '\r') {
          throw new CsvSyntaxError(line, 'unexpected character after a closing quote');
        }
      } else {
        const start = i;
        // A quote inside an unquoted field is kept literally, as spreadsheets read it.
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') i++;
        value = text.slice(start, i);
        if (value.length > maxField) throw new CsvSyntaxError(startLine, `field longer than ${maxField} characters`);
      }
      fields.push(value);
      const sep = text[i];
      if (sep === ',') {
        i++;
      } else {
        if (sep === '\r') i++;
        if (text[i] === '\n') i++;
        line++;
        endOfRecord = true;
      }
    }
    // Blank lines (a lone empty field) are skipped, as spreadsheets write them.
    if (!(fields.length === 1 && fields[0] === '')) {
      out.push({ line: startLine, fields });
      if (out.length > maxRecords) throw new CsvSyntaxError(startLine, `more than ${maxRecords - 1} data rows`);
    }
  }
  return out;
}

/**
 * One CSV field. Text that a spreadsheet would run as a formula (= + - @,
 * tab, CR at the start) is prefixed with an apostrophe (CSV injection);
 * numbers pass untouched.
 */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly (string | number | boolean | null | undefined)[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030';

/**
 * Decodes an uploaded ledger. Chinese offices export GBK/GB18030 from Excel
 * and WPS; others send UTF-8, sometimes with a BOM. A BOM decides; otherwise
 * strict UTF-8 is tried first (GBK text is almost never valid UTF-8), then
 * GB18030, a superset of GBK and GB2312.
 */
export function decodeText(buf: Uint8Array, declared?: string): { text: string; encoding: TextEncodingName } {
  const tryDecode = (enc: TextEncodingName, bytes: Uint8Array) => {
    try {
      return new TextDecoder(enc, { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      return null;
    }
  };
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    const t = tryDecode('utf-8', buf);
    if (t !== null) return { text: t, encoding: 'utf-8' };
  }
  if (buf[0] === 0xff && buf[1] === 0xfe) {
    const t = tryDecode('utf-16le', buf);
    if (t !== null) return { text: t, encoding: 'utf-16le' };
  }
  if (buf[0] === 0xfe && buf[1] === 0xff) {
    const t = tryDecode('utf-16be', buf);
    if (t !== null) return { text: t, encoding: 'utf-16be' };
  }
  const d = declared?.toLowerCase();
  const order: TextEncodingName[] =
    d === 'gbk' || d === 'gb2312' || d === 'gb18030' ? ['gb18030', 'utf-8'] : ['utf-8', 'gb18030'];
  for (const enc of order) {
    const t = tryDecode(enc, buf);
    if (t !== null && !t.includes('\u0000')) return { text: t, encoding: enc };
  }
  throw new Error('file is neither UTF-8 nor GBK/GB18030 text');
}
