// The route table: one entry per screen. The nav, the router and the role guard all
// read it. To add a screen: add `src/screens/<area>/<Area>Screen.tsx` (default-exported
// component), its strings in `src/i18n/messages/<area>.ts`, its nav label in
// `messages/nav.ts`, and an entry here.
import type { ComponentType } from 'preact';
import type { Role } from '../api/session';
import type { nav } from '../i18n/messages/nav';
import type { IconName } from '../components/Icon';

type NavKey = keyof (typeof nav)['id'];

export interface RouteDef {
  path: string;
  label: NavKey;
  icon: IconName;
  /** Roles allowed to open it (and see it in the nav). Mirror what the API allows. */
  roles: readonly Role[];
  load: () => Promise<{ default: ComponentType }>;
}

const ALL: readonly Role[] = ['admin', 'cashier'];
const ADMIN: readonly Role[] = ['admin'];

export const ROUTES: readonly RouteDef[] = [
  { path: '/', label: 'dashboard', icon: 'dashboard', roles: ALL, load: () => import('../screens/dashboard/DashboardScreen') },
  { path: '/pos', label: 'pos', icon: 'pos', roles: ALL, load: () => import('../screens/pos/PosScreen') },
  { path: '/products', label: 'products', icon: 'products', roles: ALL, load: () => import('../screens/products/ProductsScreen') },
  { path: '/transactions', label: 'transactions', icon: 'transactions', roles: ALL, load: () => import('../screens/transactions/TransactionsScreen') },
  { path: '/calendar', label: 'calendar', icon: 'calendar', roles: ADMIN, load: () => import('../screens/calendar/CalendarScreen') },
  { path: '/prediction', label: 'prediction', icon: 'prediction', roles: ADMIN, load: () => import('../screens/prediction/PredictionScreen') },
  { path: '/assistant', label: 'assistant', icon: 'assistant', roles: ALL, load: () => import('../screens/assistant/AssistantScreen') },
  { path: '/settings', label: 'settings', icon: 'settings', roles: ADMIN, load: () => import('../screens/settings/SettingsScreen') },
  { path: '/users', label: 'users', icon: 'users', roles: ADMIN, load: () => import('../screens/users/UsersScreen') },
];

export function canOpen(route: RouteDef, role: Role | null): boolean {
  return role !== null && route.roles.includes(role);
}
