import type { ComponentChildren } from 'preact';
import { LanguageSwitch } from '../../app/LanguageSwitch';
import { useT } from '../../i18n';
import { common } from '../../i18n/messages/common';

/** The centred card of the sign-in and password screens. */
export function AuthLayout(props: { title: string; lead: string; children: ComponentChildren }) {
  const t = useT(common);
  return (
    <main class="auth-page" id="main">
      <article class="auth-card">
        <header>
          <p class="brand">{t('appName')}</p>
          <h1>{props.title}</h1>
          <p class="muted">{props.lead}</p>
        </header>
        {props.children}
        <footer class="auth-footer">
          <LanguageSwitch />
        </footer>
      </article>
    </main>
  );
}
