import { useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useSession } from '../../app/session';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState, useErrorMessage } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { PageHeader } from '../../components/PageHeader';
import { useToast } from '../../components/Toast';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { common } from '../../i18n/messages/common';
import { nav } from '../../i18n/messages/nav';
import { users as m } from '../../i18n/messages/users';
import { PasswordDialog } from './PasswordDialog';
import { UserForm } from './UserForm';

type User = components['schemas']['UserView'];
type Pending = { kind: 'role' | 'deactivate' | 'reset'; user: User };

export default function UsersScreen() {
  const t = useT(m);
  const tn = useT(nav);
  const tc = useT(common);
  const toast = useToast();
  const errorMessage = useErrorMessage();
  const { user: me } = useSession();
  const list = useApi((signal) => call(api.GET('/api/users', { signal })), []);
  const [creating, setCreating] = useState(false);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [shown, setShown] = useState<{ name: string; password: string } | null>(null);

  const roleName = (r: User['role']) => (r === 'admin' ? tc('roleAdmin') : tc('roleCashier'));

  /** Run one action on a user; the API's refusal (e.g. yourself) is shown as a toast. */
  async function act(u: User, run: () => Promise<string | void>) {
    setBusy(u.user_id);
    try {
      const msg = await run();
      if (msg) toast.show(msg, 'success');
      setPending(null);
      list.reload();
    } catch (e) {
      toast.show(errorMessage(e), 'error');
    } finally {
      setBusy(null);
    }
  }

  const path = (u: User) => ({ params: { path: { user_id: u.user_id } } });
  const approve = (u: User) => act(u, async () => (await call(api.POST('/api/users/{user_id}/approve', path(u))), t('approved', { name: u.full_name })));
  const setRole = (u: User) => {
    const role = u.role === 'admin' ? 'cashier' : 'admin';
    return act(u, async () => (await call(api.PUT('/api/users/{user_id}/role', { ...path(u), body: { role } })), t('roleChanged', { name: u.full_name, role: roleName(role) })));
  };
  const setActive = (u: User, is_active: boolean) =>
    act(u, async () => (await call(api.PUT('/api/users/{user_id}/status', { ...path(u), body: { is_active } })), is_active ? t('reactivated', { name: u.full_name }) : t('deactivated', { name: u.full_name })));
  const reset = (u: User) =>
    act(u, async () => {
      const r = await call(api.POST('/api/users/{user_id}/password', { ...path(u), body: { password: null } }));
      if (r.generated_password) setShown({ name: u.full_name, password: r.generated_password });
    });

  const p = pending;
  const confirm = p
    ? p.kind === 'role'
      ? {
          title: t('roleTitle', { name: p.user.full_name }),
          body: p.user.role === 'admin' ? t('roleToCashier', { name: p.user.full_name }) : t('roleToAdmin', { name: p.user.full_name }),
          label: p.user.role === 'admin' ? t('makeCashier') : t('makeAdmin'),
          danger: false,
          run: () => setRole(p.user),
        }
      : p.kind === 'deactivate'
        ? { title: t('deactivateTitle', { name: p.user.full_name }), body: t('deactivateBody', { name: p.user.full_name }), label: t('deactivate'), danger: true, run: () => setActive(p.user, false) }
        : { title: t('resetTitle', { name: p.user.full_name }), body: t('resetBody', { name: p.user.full_name }), label: t('reset'), danger: false, run: () => reset(p.user) }
    : null;

  return (
    <>
      <PageHeader
        title={tn('users')}
        lead={t('lead')}
        actions={
          <button type="button" onClick={() => setCreating(true)}>
            + {t('newUser')}
          </button>
        }
      />
      {list.error ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <LoadingState />
      ) : list.data.length === 0 ? (
        <EmptyState title={t('empty')} />
      ) : (
        <section class="card flush">
          <div class="table-wrap" aria-busy={list.loading ? 'true' : undefined}>
            <table class="data-table users-table">
              <caption class="visually-hidden">{t('caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('colName')}</th>
                  <th scope="col">{t('colEmail')}</th>
                  <th scope="col">{t('colRole')}</th>
                  <th scope="col">{t('colStatus')}</th>
                  <th scope="col">
                    <span class="visually-hidden">{t('colActions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((u) => {
                  const self = me?.user_id === u.user_id;
                  const rowBusy = busy === u.user_id;
                  return (
                    <tr key={u.user_id} class={u.is_active ? undefined : 'inactive'}>
                      <td>
                        {u.full_name}
                        {self && <span class="status-pill on you">{t('you')}</span>}
                      </td>
                      <td>{u.email}</td>
                      <td>
                        <span class={`role-badge${u.role === 'admin' ? '' : ' cashier'}`}>{roleName(u.role)}</span>
                      </td>
                      <td>
                        <span class="pill-stack">
                          {u.pending_approval ? (
                            <span class="status-pill warn">{t('statusPending')}</span>
                          ) : u.is_active ? (
                            <span class="status-pill on">{t('statusActive')}</span>
                          ) : (
                            <span class="status-pill off">{t('statusInactive')}</span>
                          )}
                          {u.must_change_password && <span class="status-pill off">{t('mustChange')}</span>}
                        </span>
                      </td>
                      <td class="row-actions" aria-busy={rowBusy ? 'true' : undefined}>
                        {u.pending_approval && (
                          <button type="button" class="small" disabled={rowBusy} onClick={() => void approve(u)} aria-label={`${t('approve')}: ${u.full_name}`}>
                            {t('approve')}
                          </button>
                        )}
                        <button
                          type="button"
                          class="secondary outline small"
                          disabled={self || rowBusy}
                          title={self ? t('selfHint') : undefined}
                          onClick={() => setPending({ kind: 'role', user: u })}
                          aria-label={`${u.role === 'admin' ? t('makeCashier') : t('makeAdmin')}: ${u.full_name}`}
                        >
                          {u.role === 'admin' ? t('makeCashier') : t('makeAdmin')}
                        </button>
                        {u.is_active ? (
                          <button
                            type="button"
                            class="secondary outline small danger-text"
                            disabled={self || rowBusy}
                            title={self ? t('selfHint') : undefined}
                            onClick={() => setPending({ kind: 'deactivate', user: u })}
                            aria-label={`${t('deactivate')}: ${u.full_name}`}
                          >
                            {t('deactivate')}
                          </button>
                        ) : (
                          <button type="button" class="secondary outline small" disabled={self || rowBusy} onClick={() => void setActive(u, true)} aria-label={`${t('reactivate')}: ${u.full_name}`}>
                            {t('reactivate')}
                          </button>
                        )}
                        <button type="button" class="secondary outline small" disabled={rowBusy} onClick={() => setPending({ kind: 'reset', user: u })} aria-label={`${t('resetPassword')}: ${u.full_name}`}>
                          {t('resetPassword')}
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p class="muted small table-note">{t('selfHint')}</p>
        </section>
      )}

      <UserForm
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(c) => {
          setCreating(false);
          toast.show(t('created', { email: c.user.email }), 'success');
          if (c.generated_password) setShown({ name: c.user.full_name, password: c.generated_password });
          list.reload();
        }}
      />
      <ConfirmDialog
        open={confirm !== null}
        title={confirm?.title ?? ''}
        confirmLabel={confirm?.label}
        danger={confirm?.danger}
        busy={busy !== null}
        onConfirm={() => void confirm?.run()}
        onCancel={() => setPending(null)}
      >
        <p>{confirm?.body}</p>
      </ConfirmDialog>
      <PasswordDialog shown={shown} onClose={() => setShown(null)} />
    </>
  );
}
