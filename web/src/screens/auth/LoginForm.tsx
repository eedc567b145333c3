import { useState } from 'preact/hooks';
import { isApiError } from '../../api/errors';
import { signIn } from '../../app/session';
import { useErrorMessage } from '../../components/ErrorState';
import { useT } from '../../i18n';
import { auth } from '../../i18n/messages/auth';

/** Email + password form; used by the sign-in page and the "session ended" dialog. */
export function LoginForm(props: { email?: string; onDone?: () => void }) {
  const t = useT(auth);
  const errorMessage = useErrorMessage();
  const [email, setEmail] = useState(props.email ?? '');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
      props.onDone?.();
    } catch (err) {
      setError(isApiError(err) && err.status === 401 ? t('wrongCredentials') : errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate={false}>
      <label>
        {t('email')}
        <input
          type="email"
          name="email"
          autocomplete="username"
          required
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
          aria-invalid={error ? 'true' : undefined}
        />
      </label>
      <label>
        {t('password')}
        <input
          type="password"
          name="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'login-error' : undefined}
        />
      </label>
      {error && (
        <p id="login-error" class="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" aria-busy={busy ? 'true' : undefined} disabled={busy}>
        {busy ? t('submitting') : t('submit')}
      </button>
    </form>
  );
}
