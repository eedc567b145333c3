import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { useT } from '../../i18n';
import { products as m } from '../../i18n/messages/products';

/**
 * The stock figure with a "Low" / "Out" badge (text, not colour alone). The status is the
 * server's `stock_status` (its store threshold), never worked out here.
 */
export function StockCell(props: { stock: number; status: components['schemas']['StockStatus'] }) {
  const t = useT(m);
  const f = useFormat();
  return (
    <span class="stock-cell">
      <span class="num">{f.number(props.stock)}</span>
      {props.status === 'out' && <span class="stock-badge critical">{t('stockOut')}</span>}
      {props.status === 'low' && <span class="stock-badge low">{t('stockLow')}</span>}
    </span>
  );
}
