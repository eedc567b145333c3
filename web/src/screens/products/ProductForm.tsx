import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { Dialog } from '../../components/Dialog';
import { FormError } from '../../components/FormError';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { common } from '../../i18n/messages/common';
import { products as m } from '../../i18n/messages/products';
import { parseWholeNumber } from './logic';

type Product = components['schemas']['ProductView'];
type Fields = 'sku' | 'name' | 'category' | 'variation' | 'barcode' | 'price' | 'cost_price' | 'stock';
type Values = Record<Fields, string>;

function initial(p: Product | null): Values {
  return {
    sku: p?.sku ?? '',
    name: p?.name ?? '',
    category: p?.category ?? '',
    variation: p?.variation ?? '',
    barcode: p?.barcode ?? '',
    price: p ? String(p.price) : '',
    cost_price: p?.cost_price != null ? String(p.cost_price) : '',
    stock: '',
  };
}

/** Create (product = null) or edit a product. Admin only. */
export function ProductForm(props: {
  open: boolean;
  product: Product | null;
  categories: readonly string[];
  onClose: () => void;
  onSaved: (p: Product) => void;
}) {
  const t = useT(m);
  const tc = useT(common);
  const toast = useToast();
  const editing = props.product !== null;
  const [v, setV] = useState<Values>(initial(props.product));
  const [errs, setErrs] = useState<Partial<Record<Fields, string>>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (props.open) {
      setV(initial(props.product));
      setErrs({});
      setError(null);
    }
  }, [props.open, props.product]);

  const set = (k: Fields) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });

  // Only what the UI must know to send the request: required fields filled in, and the
  // opening stock a whole number (the API takes an integer). The SKU, barcode (check
  // digit), money and stock rules are the server's: a refusal comes back as
  // validation_failed / bad_request with its sentence, shown by FormError below the form.
  function validate(): boolean {
    const e: Partial<Record<Fields, string>> = {};
    if (!editing && !v.sku.trim()) e.sku = t('required');
    if (!v.name.trim()) e.name = t('required');
    if (!v.price.trim()) e.price = t('required');
    if (!editing && v.stock.trim() && parseWholeNumber(v.stock) === null) e.stock = t('wholeNumber');
    setErrs(e);
    return Object.keys(e).length === 0;
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (busy || !validate()) return;
    setBusy(true);
    setError(null);
    try {
      const base = {
        name: v.name.trim(),
        category: v.category.trim(),
        variation: v.variation.trim(),
        price: v.price.trim(),
        cost_price: v.cost_price.trim() || null,
      };
      let saved: Product;
      if (editing && props.product) {
        saved = await call(
          api.PUT('/api/products/{sku}', {
            params: { path: { sku: props.product.sku } },
            body: { ...base, barcode: v.barcode.trim() || null },
          }),
        );
        toast.show(t('saved'), 'success');
      } else {
        saved = await call(
          api.POST('/api/products', {
            body: {
              ...base,
              sku: v.sku.trim(),
              barcode: v.barcode.trim() || null,
              stock: v.stock.trim() ? parseWholeNumber(v.stock) : null,
            },
          }),
        );
        toast.show(t('created', { sku: saved.sku }), 'success');
      }
      props.onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const field = (
    k: Fields,
    label: string,
    opts: { hint?: string; inputMode?: string; list?: string; required?: boolean; placeholder?: string; maxLength?: number } = {},
  ) => (
    <label>
      {label}
      <input
        name={k}
        type="text"
        inputMode={opts.inputMode as 'numeric' | 'decimal' | undefined}
        list={opts.list}
        value={v[k]}
        onInput={set(k)}
        required={opts.required}
        maxLength={opts.maxLength}
        aria-invalid={errs[k] ? 'true' : undefined}
        aria-describedby={`pf-${k}-help`}
        autocomplete="off"
        placeholder={opts.placeholder}
      />
      <small id={`pf-${k}-help`} class={errs[k] ? 'field-error' : undefined}>
        {errs[k] ?? opts.hint ?? ''}
      </small>
    </label>
  );

  return (
    <Dialog
      open={props.open}
      wide
      busy={busy}
      title={editing && props.product ? t('editTitle', { name: props.product.name }) : t('createTitle')}
      onClose={props.onClose}
      footer={
        <>
          <button type="button" class="secondary" onClick={props.onClose} disabled={busy}>
            {tc('cancel')}
          </button>
          <button type="submit" form="product-form" aria-busy={busy ? 'true' : undefined} disabled={busy}>
            {t('save')}
          </button>
        </>
      }
    >
      <form id="product-form" class="form-grid" onSubmit={submit} noValidate>
        {!editing && field('sku', t('sku'), { hint: t('skuHint'), required: true, maxLength: 64 })}
        {field('name', t('name'), { required: true, maxLength: 200 })}
        {field('category', t('categoryField'), { hint: t('categoryHint'), list: 'pf-categories', maxLength: 100 })}
        <datalist id="pf-categories">
          {props.categories.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        {field('variation', t('variation'), { maxLength: 100 })}
        {field('barcode', t('barcode'), { hint: t('barcodeHint'), inputMode: 'numeric', maxLength: 13 })}
        {field('price', t('price'), { hint: t('moneyHint'), inputMode: 'decimal', required: true })}
        {field('cost_price', t('costPrice'), { inputMode: 'decimal' })}
        {!editing && field('stock', t('openingStock'), { inputMode: 'numeric' })}
        <div class="form-grid-full">
          <FormError error={error} conflict={t('duplicate')} />
        </div>
      </form>
    </Dialog>
  );
}
