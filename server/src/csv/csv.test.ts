import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, csvField, decodeText, parseCsv } from './csv.ts';

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, CRLF and newlines inside quotes, keeping physical lines', () => {
    const recs = parseCsv('a,b\r\n"x, y","say ""hi"""\r\n"multi\nline",z\n\nlast,1');
    expect(recs).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['multi\nline', 'z'] },
      { line: 6, fields: ['last', '1'] },
    ]);
  });

  it('keeps empty fields', () => {
    expect(parseCsv(',,\n')[0]!.fields).toEqual(['', '', '']);
  });

  it('reports an unterminated quote with its line', () => {
    expect(() => parseCsv('a\n"open,b\nc')).toThrow(CsvSyntaxError);
    try {
      parseCsv('a\n"open,b\nc');
    } catch (e) {
      expect((e as CsvSyntaxError).line).toBe(2);
    }
  });

  it('refuses text after a closing quote, oversize fields and too many records', () => {
    expect(() => parseCsv('"a"b,c')).toThrow(/after a closing quote/);
    expect(() => parseCsv('x'.repeat(100), { maxFieldLength: 10 })).toThrow(/longer than/);
    expect(() => parseCsv('h\n1\n2\n3\n', { maxRecords: 3 })).toThrow(/more than/);
  });
});

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "x"', '"say ""x"""'],
    ['=SUM(A1)', "'=SUM(A1)"],
    ['+1', "'+1"],
    ['@cmd', "'@cmd"],
    [-5, '-5'],
    [null, ''],
  ])('%s → %s', (input, out) => {
    expect(csvField(input)).toBe(out);
  });
});

describe('decodeText', () => {
  const gbk = Buffer.from([0xc0, 0xee, 0xbc, 0xd2, 0xb4, 0xe5]); // 李家村 in GBK
  it('detects GBK when the bytes are not UTF-8', () => {
    expect(decodeText(gbk)).toEqual({ text: '李家村', encoding: 'gb18030' });
  });
  it('prefers UTF-8, honours a BOM', () => {
    expect(decodeText(Buffer.from('李家村', 'utf8'))).toEqual({ text: '李家村', encoding: 'utf-8' });
    expect(decodeText(Buffer.from('\uFEFF李', 'utf8')).text).toBe('李');
    expect(decodeText(Buffer.from([0xff, 0xfe, 0x4e, 0x67])).text).toBe('李');
  });
  it('refuses binary junk', () => {
    expect(() => decodeText(Buffer.from([0x80, 0xff, 0xff]))).toThrow(/neither UTF-8 nor GBK/);
  });
});
