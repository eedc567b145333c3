import { PageHeader } from '../../components/PageHeader';
import { EmptyState } from '../../components/EmptyState';
import { useT } from '../../i18n';
import { nav } from '../../i18n/messages/nav';
import { common } from '../../i18n/messages/common';

/** Placeholder: the settings screen is built in the next phase. */
export default function SettingsScreen() {
  const tn = useT(nav);
  const t = useT(common);
  return (
    <>
      <PageHeader title={tn('settings')} />
      <EmptyState title={t('comingSoon')} />
    </>
  );
}
