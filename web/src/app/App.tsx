import type { ComponentType } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ErrorBoundary, lazy, LocationProvider, Route, Router } from 'preact-iso';
import { EmptyState } from '../components/EmptyState';
import { PageHeader } from '../components/PageHeader';
import { ToastProvider } from '../components/Toast';
import { I18nProvider, useT } from '../i18n';
import { auth } from '../i18n/messages/auth';
import { common } from '../i18n/messages/common';
import LoginScreen from '../screens/auth/LoginScreen';
import { LoginForm } from '../screens/auth/LoginForm';
import { canOpen, ROUTES, type RouteDef } from './routes';
import { useSession } from './session';
import { StoreProvider } from './store';
import { Shell } from './Shell';

const ChangePasswordScreen = lazy(() => import('../screens/auth/ChangePasswordScreen'));

function NotAllowed() {
  const t = useT(common);
  return (
    <>
      <PageHeader title={t('notAllowedTitle')} />
      <EmptyState title={t('notAllowedBody')}>
        <a href="/">{t('backToDashboard')}</a>
      </EmptyState>
    </>
  );
}

function NotFound() {
  const t = useT(common);
  return (
    <>
      <PageHeader title={t('notFoundTitle')} />
      <EmptyState title={t('notFoundBody')}>
        <a href="/">{t('backToDashboard')}</a>
      </EmptyState>
    </>
  );
}

/** Each screen is its own chunk, loaded when first opened; a role guard wraps it. */
const guarded: ReadonlyArray<{ route: RouteDef; Screen: ComponentType }> = ROUTES.map((route) => {
  const Lazy = lazy(route.load);
  function Guarded() {
    const { role } = useSession();
    return canOpen(route, role) ? <Lazy /> : <NotAllowed />;
  }
  return { route, Screen: Guarded };
});

/** The session ended mid-work: sign in again over the current screen, which stays mounted. */
function SessionExpiredDialog(props: { email: string }) {
  const t = useT(auth);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (ref.current && !ref.current.open) ref.current.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="expired-title" onCancel={(e) => e.preventDefault()}>
      <article>
        <h2 id="expired-title">{t('sessionExpiredTitle')}</h2>
        <p class="muted">{t('sessionExpiredLead')}</p>
        <LoginForm email={props.email} />
      </article>
    </dialog>
  );
}

function Authenticated() {
  const { user, status } = useSession();
  // A lazy screen suspends (throws its loading promise) on first render: only an
  // ErrorBoundary catches that and renders it once loaded. Without one the promise is an
  // uncaught error that leaves the tree half-rendered, so the screen never leaves.
  if (user?.must_change_password && status === 'authenticated') {
    return (
      <ErrorBoundary>
        <ChangePasswordScreen />
      </ErrorBoundary>
    );
  }
  return (
    <Shell>
      <ErrorBoundary>
        <Router>
          {[
            ...guarded.map(({ route, Screen }) => <Route key={route.path} path={route.path} component={Screen} />),
            <Route key="404" default component={NotFound} />,
          ]}
        </Router>
      </ErrorBoundary>
      {status === 'expired' && user && <SessionExpiredDialog email={user.email} />}
    </Shell>
  );
}

export function App() {
  const { status } = useSession();
  const signedIn = status !== 'anonymous';
  return (
    <StoreProvider enabled={status === 'authenticated'}>
      {(store) => (
        <I18nProvider currency={store.settings ? store.currency : undefined}>
          <ToastProvider>
            <LocationProvider>{signedIn ? <Authenticated /> : <LoginScreen />}</LocationProvider>
          </ToastProvider>
        </I18nProvider>
      )}
    </StoreProvider>
  );
}
