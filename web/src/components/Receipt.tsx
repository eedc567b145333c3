import './Receipt.css';
import type { ComponentChildren } from 'preact';
import { createPortal } from 'preact/compat';
import { useEffect, useState } from 'preact/hooks';
import type { components } from '../api/schema';
import { useFormat, useStore } from '../app/store';
import { useT } from '../i18n';
import { pos } from '../i18n/messages/pos';
import { persisted } from '../lib/persisted';

type Sale = components['schemas']['SaleView'];
export type PaperWidth = '58' | '80';

const paperWidth = persisted<PaperWidth>('receipt.width', '80');

/**
 * A sale's receipt: an on-screen preview with Print, the paper width (58 / 80 mm
 * thermal rolls) and the caller's actions (e.g. New sale). Printing prints only the
 * receipt: a copy is rendered straight under <body> and the print CSS hides the rest.
 */
export function Receipt(props: { sale: Sale; actions?: ComponentChildren; headingLevel?: 2 | 3 }) {
  const t = useT(pos);
  const [width, setWidth] = useState<PaperWidth>(() => (paperWidth.get() === '58' ? '58' : '80'));
  useEffect(() => paperWidth.subscribe((w) => setWidth(w === '58' ? '58' : '80')), []);
  const choose = (w: PaperWidth) => {
    setWidth(w);
    paperWidth.set(w);
  };
  usePageHeight(width);
  const Heading = props.headingLevel === 3 ? 'h3' : 'h2';
  return (
    <section class="receipt-view" aria-labelledby="receipt-title">
      <div class="receipt-toolbar">
        <Heading id="receipt-title">{t('receiptTitle', { id: props.sale.transaction_id })}</Heading>
        <div class="receipt-actions">
          <div role="group" aria-label={t('paperWidth')} class="segmented">
            {(['58', '80'] as const).map((w) => (
              <button
                key={w}
                type="button"
                class={width === w ? '' : 'secondary outline'}
                aria-pressed={width === w}
                onClick={() => choose(w)}
              >
                {w} mm
              </button>
            ))}
          </div>
          <button type="button" class="secondary" onClick={() => window.print()}>
            {t('print')}
          </button>
          {props.actions}
        </div>
      </div>
      <div class="receipt-stage">
        <ReceiptPaper sale={props.sale} width={width} />
      </div>
      {createPortal(
        <div class={`print-root paper-${width}`} aria-hidden="true">
          <ReceiptPaper sale={props.sale} width={width} />
        </div>,
        document.body,
      )}
    </section>
  );
}

/**
 * Thermal rolls have no page length: before printing, size the page to the receipt
 * (the on-screen preview has the paper's width and font metrics, so its height is the
 * printed height). A <style> element, since @page cannot be set from an element.
 */
function usePageHeight(width: PaperWidth) {
  useEffect(() => {
    const style = document.createElement('style');
    style.id = 'receipt-page-size';
    document.head.appendChild(style);
    const measure = () => {
      const heights = ['.receipt-stage .receipt-paper', '.print-root .receipt-paper'].map(
        (sel) => document.querySelector(sel)?.getBoundingClientRect().height ?? 0,
      );
      const mm = Math.ceil((Math.max(...heights) * 25.4) / 96) + 4;
      // Not laid out (hidden): keep the stylesheet's roll-sized page.
      style.textContent = mm > 20 ? `@page receipt-${width} { size: ${width}mm ${mm}mm; margin: 0 }` : '';
    };
    window.addEventListener('beforeprint', measure);
    return () => {
      window.removeEventListener('beforeprint', measure);
      style.remove();
    };
  }, [width]);
}

/** The paper itself: monospace-friendly, narrow, no colours. */
export function ReceiptPaper(props: { sale: Sale; width: PaperWidth }) {
  const t = useT(pos);
  const f = useFormat();
  const store = useStore();
  const s = props.sale;
  return (
    <div class={`receipt-paper paper-${props.width}`}>
      <header class="receipt-store">
        <strong>{store.name}</strong>
        {store.settings?.address && <span>{store.settings.address}</span>}
        {store.settings?.phone && <span>{store.settings.phone}</span>}
      </header>
      <dl class="receipt-rows">
        <div>
          <dt>{t('receiptNo')}</dt>
          <dd>#{s.transaction_id}</dd>
        </div>
        <div>
          <dt>{t('receiptDate')}</dt>
          <dd>{f.dateTime(s.created_at)}</dd>
        </div>
        {s.cashier && (
          <div>
            <dt>{t('receiptCashier')}</dt>
            <dd>{s.cashier}</dd>
          </div>
        )}
      </dl>
      <ul class="receipt-lines">
        {s.items.map((l, i) => (
          <li key={`${l.product_sku}-${l.is_promo}-${i}`}>
            <span class="receipt-line-name">
              {l.product_name}
              {l.product_variation && ` ${l.product_variation}`}
              {l.is_promo && <span class="receipt-promo"> ({t('promo')})</span>}
            </span>
            <span class="receipt-line-calc">
              <span>
                {f.number(l.quantity)} {t('each', { price: f.money(l.unit_price) })}
              </span>
              <span class="money">{f.money(l.line_total)}</span>
            </span>
          </li>
        ))}
      </ul>
      <dl class="receipt-rows receipt-totals">
        <div class="receipt-total">
          <dt>{t('total')}</dt>
          <dd class="money">{f.money(s.total)}</dd>
        </div>
        <div>
          <dt>{t('receiptPaid')}</dt>
          <dd class="money">{f.money(s.paid_amount)}</dd>
        </div>
        <div>
          <dt>{t('change')}</dt>
          <dd class="money">{f.money(s.change)}</dd>
        </div>
      </dl>
      <p class="receipt-thanks">{t('receiptThanks')}</p>
    </div>
  );
}
