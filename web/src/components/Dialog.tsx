import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

let nextId = 0;

/**
 * A modal dialog (native <dialog>: focus trap, Escape and the backdrop for free).
 * Put a <form> in `children` and its buttons in `footer` (`<button form="id">`), or use
 * it for any content. `wide` for tables (ledger, forms with two columns).
 */
export function Dialog(props: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  footer?: ComponentChildren;
  wide?: boolean;
  /** Escape / backdrop do nothing while true (a request is running). */
  busy?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useRef(`dlg-${++nextId}`).current;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  if (!props.open) return <dialog ref={ref} />;
  return (
    <dialog
      ref={ref}
      class={props.wide ? 'wide' : undefined}
      aria-labelledby={`${id}-title`}
      onCancel={(e) => {
        e.preventDefault();
        if (!props.busy) props.onClose();
      }}
    >
      <article>
        <header class="dialog-header">
          <h2 id={`${id}-title`}>{props.title}</h2>
        </header>
        {props.children}
        {props.footer && <footer>{props.footer}</footer>}
      </article>
    </dialog>
  );
}
