import type { ComponentChildren } from 'preact';

/** The title row of every screen: title, optional lead text, actions on the right. */
export function PageHeader(props: { title: string; lead?: string; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.lead && <p class="muted">{props.lead}</p>}
      </div>
      {props.actions && <div class="page-actions">{props.actions}</div>}
    </header>
  );
}
