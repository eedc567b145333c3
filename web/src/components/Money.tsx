import { useFormat } from '../app/store';
import type { Money as MoneyValue } from '../i18n/format';

/** An amount from the API (decimal string or number) in the store's currency. */
export function Money(props: { value: MoneyValue; class?: string }) {
  const f = useFormat();
  return <span class={['money', props.class].filter(Boolean).join(' ')}>{f.money(props.value)}</span>;
}
