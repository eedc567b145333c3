import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { common } from '../i18n/messages/common';
import { useT } from '../i18n';

/** A modal yes/no question (native <dialog>: focus trap and Escape for free). */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmLabel?: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const t = useT(common);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} onCancel={(e) => (e.preventDefault(), props.onCancel())} aria-labelledby="confirm-title">
      <article>
        <h2 id="confirm-title">{props.title}</h2>
        {props.children}
        <footer>
          <button type="button" class="secondary" onClick={props.onCancel}>
            {t('cancel')}
          </button>
          <button
            type="button"
            class={props.danger ? 'danger' : undefined}
            aria-busy={props.busy ? 'true' : undefined}
            disabled={props.busy}
            onClick={props.onConfirm}
          >
            {props.confirmLabel ?? t('confirm')}
          </button>
        </footer>
      </article>
    </dialog>
  );
}
