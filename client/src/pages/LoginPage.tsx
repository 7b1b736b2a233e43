import { useState, type SubmitEvent } from 'react';
import type { SessionUser } from '@api/contract.ts';
import { api, ApiError } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';

export function LoginPage({ onLogin, notice }: { onLogin: (user: SessionUser) => void; notice?: string | null }) {
  const { t, lang, setLang } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const rateLimitMessage = (seconds: number | null) => {
    if (seconds === null) return t('login.rateLimitedNoTime');
    if (seconds >= 120) return t('login.rateLimitedMinutes', { minutes: Math.ceil(seconds / 60) });
    return t('login.rateLimited', { seconds });
  };

  const submit = async (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError(t('login.missing'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { user } = await api.login({ username: username.trim(), password });
      onLogin(user);
    } catch (err) {
      setPassword('');
      if (err instanceof ApiError && err.status === 401) setError(t('login.wrong'));
      else if (err instanceof ApiError && err.status === 429) setError(rateLimitMessage(err.retryAfterSeconds));
      else setError(describeError(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <button
        type="button"
        className="button button--ghost login__lang"
        onClick={() => setLang(lang === 'en' ? 'zh-CN' : 'en')}
        title={t('top.switchLanguageTitle')}
      >
        {t('top.switchLanguage')}
      </button>
      <form className="login__card" onSubmit={(e) => void submit(e)} noValidate>
        <div className="login__brand">
          <span className="brand-mark brand-mark--large" aria-hidden="true" />
          <h1>{t('app.title')}</h1>
        </div>
        <h2>{t('login.title')}</h2>
        {notice && !error && <div className="notice notice--info">{notice}</div>}
        {error && (
          <div className="notice notice--error" role="alert">
            {error}
          </div>
        )}
        <label className="field">
          <span>{t('login.username')}</span>
          <input
            name="username"
            autoComplete="username"
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="field">
          <span>{t('login.password')}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" className="button button--primary button--block" disabled={busy}>
          {busy ? t('login.submitting') : t('login.submit')}
        </button>
        <p className="login__note">{t('app.offlineNote')}</p>
      </form>
    </div>
  );
}
