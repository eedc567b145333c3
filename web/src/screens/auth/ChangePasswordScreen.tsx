import { useState } from 'preact/hooks';
import { changePassword, signOut } from '../../app/session';
import { useErrorMessage } from '../../components/ErrorState';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { auth } from '../../i18n/messages/auth';
import { common } from '../../i18n/messages/common';
import { AuthLayout } from './AuthLayout';

/** Shown instead of the app while the profile says `must_change_password`. */
export default function ChangePasswordScreen() {
  const t = useT(auth);
  const tc = useT(common);
  const toast = useToast();
  const errorMessage = useErrorMessage();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (next.length < 8) return setError(t('tooShort'));
    if (next !== repeat) return setError(t('mismatch'));
    setBusy(true);
    setError(null);
    try {
      await changePassword(current, next);
      toast.show(t('changed'), 'success');
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <AuthLayout title={t('changeTitle')} lead={t('changeLead')}>
      <form onSubmit={submit}>
        <label>
          {t('currentPassword')}
          <input type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
        </label>
        <label>
          {t('newPassword')}
          <input type="password" autocomplete="new-password" required minLength={8} aria-describedby="pw-hint" value={next} onInput={(e) => setNext(e.currentTarget.value)} />
          <small id="pw-hint">{t('newPasswordHint')}</small>
        </label>
        <label>
          {t('confirmPassword')}
          <input type="password" autocomplete="new-password" required value={repeat} onInput={(e) => setRepeat(e.currentTarget.value)} />
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" aria-busy={busy ? 'true' : undefined} disabled={busy}>
          {t('changeSubmit')}
        </button>
        <button type="button" class="secondary outline" onClick={() => void signOut()}>
          {tc('logout')}
        </button>
      </form>
    </AuthLayout>
  );
}
