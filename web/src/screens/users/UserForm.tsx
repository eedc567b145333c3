import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { Dialog } from '../../components/Dialog';
import { FormError } from '../../components/FormError';
import { useT } from '../../i18n';
import { common } from '../../i18n/messages/common';
import { users as m } from '../../i18n/messages/users';

type Created = components['schemas']['AccountWithPassword'];
type Role = components['schemas']['Role'];

export function UserForm(props: { open: boolean; onClose: () => void; onCreated: (c: Created) => void }) {
  const t = useT(m);
  const tc = useT(common);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('cashier');
  const [password, setPassword] = useState('');
  const [errs, setErrs] = useState<{ email?: string; name?: string; password?: string }>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (props.open) {
      setEmail('');
      setName('');
      setRole('cashier');
      setPassword('');
      setErrs({});
      setError(null);
    }
  }, [props.open]);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    const er: typeof errs = {};
    if (!email.trim()) er.email = t('required');
    if (!name.trim()) er.name = t('required');
    if (password && password.length < 8) er.password = t('passwordShort');
    setErrs(er);
    if (Object.keys(er).length) return;
    setBusy(true);
    setError(null);
    try {
      const created = await call(api.POST('/api/users', { body: { email: email.trim(), full_name: name.trim(), role, password: password || null } }));
      props.onCreated(created);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={props.open}
      busy={busy}
      title={t('createTitle')}
      onClose={props.onClose}
      footer={
        <>
          <button type="button" class="secondary" onClick={props.onClose} disabled={busy}>
            {tc('cancel')}
          </button>
          <button type="submit" form="user-form" disabled={busy} aria-busy={busy ? 'true' : undefined}>
            {t('create')}
          </button>
        </>
      }
    >
      <form id="user-form" onSubmit={submit} noValidate>
        <label>
          {t('email')}
          <input type="email" name="email" autocomplete="off" value={email} required aria-invalid={errs.email ? 'true' : undefined} aria-describedby="uf-email-help" onInput={(e) => setEmail(e.currentTarget.value)} />
          <small id="uf-email-help" class="field-error">
            {errs.email ?? ''}
          </small>
        </label>
        <label>
          {t('fullName')}
          <input name="full_name" autocomplete="off" value={name} required aria-invalid={errs.name ? 'true' : undefined} aria-describedby="uf-name-help" onInput={(e) => setName(e.currentTarget.value)} />
          <small id="uf-name-help" class="field-error">
            {errs.name ?? ''}
          </small>
        </label>
        <label>
          {t('role')}
          <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            <option value="cashier">{tc('roleCashier')}</option>
            <option value="admin">{tc('roleAdmin')}</option>
          </select>
        </label>
        <label>
          {t('password')}
          <input type="password" name="new-password" autocomplete="new-password" value={password} aria-invalid={errs.password ? 'true' : undefined} aria-describedby="uf-pw-help" onInput={(e) => setPassword(e.currentTarget.value)} />
          <small id="uf-pw-help" class={errs.password ? 'field-error' : undefined}>
            {errs.password ?? t('passwordHint')}
          </small>
        </label>
        <FormError error={error} />
      </form>
    </Dialog>
  );
}
