import { common } from '../i18n/messages/common';
import { useT } from '../i18n';

export function LoadingState(props: { label?: string }) {
  const t = useT(common);
  return (
    <div class="state" role="status" aria-live="polite">
      <span aria-busy="true">{props.label ?? t('loading')}</span>
    </div>
  );
}
