import { ApiError } from '../api/errors';
import { errors } from '../i18n/messages/errors';
import { common } from '../i18n/messages/common';
import { useT } from '../i18n';

/** The translated message for any error (an ApiError's code, or a network failure). */
export function useErrorMessage(): (error: unknown) => string {
  const t = useT(errors);
  return (error: unknown) => {
    if (error instanceof ApiError) return error.network ? t('network') : t(error.code);
    return t('internal');
  };
}

export function ErrorState(props: { error: unknown; onRetry?: () => void }) {
  const te = useT(errors);
  const tc = useT(common);
  const message = useErrorMessage();
  return (
    <div class="state error" role="alert">
      <strong>{te('title')}</strong>
      <p>{message(props.error)}</p>
      {props.onRetry && (
        <button type="button" class="secondary" onClick={props.onRetry}>
          {tc('retry')}
        </button>
      )}
    </div>
  );
}
