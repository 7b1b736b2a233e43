import { useState } from 'react';
import type { ImportReport } from '@api/contract.ts';
import { api } from '../api.ts';
import { Modal } from '../components/Modal.tsx';
import { describeError } from '../errors.ts';
import { fieldName, serverText } from '../serverMessages.ts';
import { useI18n } from '../i18n.tsx';

const COLUMNS =
  'code,name,network,org_unit,lon,lat,coord_system,address,direction,fov,onvif_url,username,password,main_stream_uri,sub_stream_uri,ptz';

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function ImportDialog({
  onClose,
  onImported,
}: {
  onClose: () => void;
  onImported: (report: ImportReport) => void;
}) {
  const { t, lang } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  const submit = async () => {
    if (!file) return;
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      // The File goes as it is: the server detects UTF-8 or GBK from the bytes.
      const result = await api.importCameras(file);
      setReport(result);
      if (result.ok) onImported(result);
    } catch (e) {
      setError(describeError(e, t));
    } finally {
      setBusy(false);
    }
  };

  const footer = (
    <>
      <span className="toolbar__spacer" />
      <button type="button" className="button" onClick={onClose}>
        {t('common.close')}
      </button>
      {!report?.ok && (
        <button type="button" className="button button--primary" onClick={() => void submit()} disabled={!file || busy}>
          {busy ? t('import.importing') : t('import.submit')}
        </button>
      )}
    </>
  );

  return (
    <Modal title={t('import.title')} onClose={onClose} footer={footer} wide>
      <div className="import">
        <div className="import__help">
          <p>{t('import.help')}</p>
          <code className="import__columns">{COLUMNS}</code>
          <p>{t('import.helpChinese')}</p>
          <p>{t('import.helpAtomic')}</p>
        </div>
        <div className="import__file">
          <label className="button">
            {t('import.choose')}
            <input
              type="file"
              accept=".csv,text/csv"
              className="visually-hidden"
              onChange={(e) => {
                setFile(e.target.files?.[0] ?? null);
                setReport(null);
                setError(null);
              }}
            />
          </label>
          <span className="muted">
            {file ? t('import.file', { name: file.name, size: formatSize(file.size) }) : t('import.noFile')}
          </span>
        </div>
        {error && (
          <div className="notice notice--error" role="alert">
            {error}
          </div>
        )}
        {report?.ok && (
          <div className="notice notice--success" role="status">
            {t('import.ok', { created: report.created, rows: report.rows, encoding: report.encoding })}
          </div>
        )}
        {report && !report.ok && (
          <>
            <div className="notice notice--error" role="alert">
              {t('import.failed', { count: report.errors.length })}
            </div>
            <div className="import__errors">
              <table className="data-table data-table--compact">
                <thead>
                  <tr>
                    <th>{t('import.colLine')}</th>
                    <th>{t('import.colField')}</th>
                    <th>{t('import.colMessage')}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.errors.map((row, i) => (
                    <tr key={`${row.line}-${row.field}-${i}`}>
                      <td className="mono">{row.line}</td>
                      <td title={row.field}>
                        {row.column ? fieldName(lang, row.column) : t('import.columnAsWritten', { name: row.field })}
                      </td>
                      <td title={row.message}>{serverText(lang, row) ?? t('err.field')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </div>
    </Modal>
  );
}
