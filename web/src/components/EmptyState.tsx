import type { ComponentChildren } from 'preact';
import { common } from '../i18n/messages/common';
import { useT } from '../i18n';

export function EmptyState(props: { title?: string; children?: ComponentChildren }) {
  const t = useT(common);
  return (
    <div class="state empty">
      <p>{props.title ?? t('empty')}</p>
      {props.children}
    </div>
  );
}
