import { useRef, useState } from 'preact/hooks';
import { Dialog } from '../../components/Dialog';
import { useT } from '../../i18n';
import { users as m } from '../../i18n/messages/users';

/** A generated password, shown once, with a copy button and a warning. */
export function PasswordDialog(props: { shown: { name: string; password: string } | null; onClose: () => void }) {
  const t = useT(m);
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  const s = props.shown;

  async function copy() {
    if (!s) return;
    try {
      await navigator.clipboard.writeText(s.password);
    } catch {
      // No clipboard API (plain http on a shop LAN): select it and use the legacy command.
      input.current?.select();
      document.execCommand('copy');
    }
    setCopied(true);
  }

  const close = () => {
    setCopied(false);
    props.onClose();
  };

  return (
    <Dialog
      open={s !== null}
      title={s ? t('generatedTitle', { name: s.name }) : ''}
      onClose={close}
      footer={
        <button type="button" onClick={close}>
          {t('done')}
        </button>
      }
    >
      {s && (
        <>
          <p>{t('generatedLead', { name: s.name })}</p>
          <div class="form-alert warn" role="note">
            <strong>{t('generatedWarning')}</strong>
          </div>
          <label>
            {t('generatedLabel')}
            <span class="copy-field">
              <input ref={input} class="mono" readOnly value={s.password} onFocus={(e) => e.currentTarget.select()} />
              <button type="button" class="secondary" onClick={() => void copy()} aria-live="polite">
                {copied ? `✓ ${t('copied')}` : t('copy')}
              </button>
            </span>
          </label>
        </>
      )}
    </Dialog>
  );
}
