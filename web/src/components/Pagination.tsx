import { useFormat } from '../app/store';
import { useT } from '../i18n';
import { pagination as m } from '../i18n/messages/pagination';

/**
 * Previous / next for a limit+offset list. `total` from the API when it gives one;
 * without it, `hasMore` (the page came back full) decides whether "next" is enabled.
 */
export function Pagination(props: {
  offset: number;
  limit: number;
  count: number;
  total?: number;
  hasMore?: boolean;
  busy?: boolean;
  onChange: (offset: number) => void;
}) {
  const t = useT(m);
  const f = useFormat();
  const { offset, limit, count, total } = props;
  if (count === 0 && offset === 0) return null;
  const from = offset + 1;
  const to = offset + count;
  const more = total !== undefined ? to < total : (props.hasMore ?? false);
  return (
    <nav class="pagination" aria-label={t('pagination')}>
      <span class="muted" aria-live="polite">
        {total !== undefined
          ? t('range', { from: f.number(from), to: f.number(to), total: f.number(total) })
          : t('rangeOpen', { from: f.number(from), to: f.number(to) })}
      </span>
      <div class="pagination-buttons">
        <button
          type="button"
          class="secondary outline"
          disabled={offset === 0 || props.busy}
          onClick={() => props.onChange(Math.max(0, offset - limit))}
        >
          {t('previous')}
        </button>
        <button type="button" class="secondary outline" disabled={!more || props.busy} onClick={() => props.onChange(offset + limit)}>
          {t('next')}
        </button>
      </div>
    </nav>
  );
}
