import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { Icon } from '../components/Icon';
import { useT } from '../i18n';
import { common } from '../i18n/messages/common';
import { nav } from '../i18n/messages/nav';
import { LanguageSwitch } from './LanguageSwitch';
import { canOpen, ROUTES } from './routes';
import { signOut, useSession } from './session';
import { useStore } from './store';

/**
 * Header + nav + main. Desktop: a sidebar. Tablet/phone (< 1024 px): the nav is a
 * drawer opened from the header's menu button.
 */
export function Shell(props: { children: ComponentChildren }) {
  const t = useT(common);
  const tn = useT(nav);
  const { user, role } = useSession();
  const store = useStore();
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  // Closed by any nav link (the current screen's link changes no path) and by any other
  // navigation (a link in the content, back/forward).
  useEffect(() => setOpen(false), [path]);

  const items = ROUTES.filter((r) => canOpen(r, role));
  const current = (p: string) => (p === '/' ? path === '/' : path === p || path.startsWith(`${p}/`));

  return (
    <div class={`shell${open ? ' nav-open' : ''}`}>
      <a class="skip-link" href="#main">
        {t('skipToContent')}
      </a>
      <header class="topbar">
        <button
          type="button"
          class="menu-button secondary outline"
          aria-expanded={open}
          aria-controls="main-nav"
          onClick={() => setOpen(!open)}
        >
          <Icon name="menu" />
          <span class="visually-hidden">{open ? t('closeMenu') : t('menu')}</span>
        </button>
        <span class="brand">{store.name}</span>
        <div class="topbar-end">
          <LanguageSwitch />
          {user && (
            <span class="user-chip" title={t('signedInAs', { name: user.full_name })}>
              <span class="user-name">{user.full_name}</span>
              <span class="role-badge">{role === 'admin' ? t('roleAdmin') : t('roleCashier')}</span>
            </span>
          )}
          <button type="button" class="secondary outline icon-button" onClick={() => void signOut()}>
            <Icon name="logout" />
            <span class="label">{t('logout')}</span>
          </button>
        </div>
      </header>
      <nav id="main-nav" class="sidenav" aria-label={tn('mainNav')}>
        <ul>
          {items.map((r) => (
            <li key={r.path}>
              <a href={r.path} aria-current={current(r.path) ? 'page' : undefined} onClick={() => setOpen(false)}>
                <Icon name={r.icon} />
                <span>{tn(r.label)}</span>
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="scrim" onClick={() => setOpen(false)} aria-hidden="true" />
      <main id="main" class="content" tabIndex={-1}>
        {props.children}
      </main>
    </div>
  );
}
