import './assistant.css';
import { PageHeader } from '../../components/PageHeader';
import { useT } from '../../i18n';
import { assistant } from '../../i18n/messages/assistant';
import { nav } from '../../i18n/messages/nav';

/**
 * The place reserved for the assistant (the assistant issue fills it): a message list
 * and a composer, disabled until then.
 */
export default function AssistantScreen() {
  const tn = useT(nav);
  const t = useT(assistant);
  return (
    <>
      <PageHeader title={tn('assistant')} lead={t('lead')} />
      <section class="card assistant-panel" aria-labelledby="assistant-h">
        <h2 id="assistant-h" class="visually-hidden">
          {t('conversation')}
        </h2>
        <div class="assistant-messages" role="log" aria-live="polite">
          <p class="muted">{t('empty')}</p>
        </div>
        <form class="assistant-composer" onSubmit={(e) => e.preventDefault()}>
          <label class="visually-hidden" for="assistant-input">
            {t('message')}
          </label>
          <input id="assistant-input" type="text" placeholder={t('placeholder')} disabled aria-describedby="assistant-note" />
          <button type="submit" disabled>
            {t('send')}
          </button>
        </form>
        <p id="assistant-note" class="muted assistant-note" role="note">
          {t('comingSoon')}
        </p>
      </section>
    </>
  );
}
