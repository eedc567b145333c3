import { useFormat } from '../../app/store';
import { useT } from '../../i18n';
import { products as m } from '../../i18n/messages/products';
import { stockStatus } from './logic';

/** The stock figure with a "Low" / "Out" badge (text, not colour alone). */
export function StockCell(props: { stock: number; threshold: number | null }) {
  const t = useT(m);
  const f = useFormat();
  const s = stockStatus(props.stock, props.threshold);
  return (
    <span class="stock-cell">
      <span class="num">{f.number(props.stock)}</span>
      {s === 'out' && <span class="stock-badge critical">{t('stockOut')}</span>}
      {s === 'low' && <span class="stock-badge low">{t('stockLow')}</span>}
    </span>
  );
}
