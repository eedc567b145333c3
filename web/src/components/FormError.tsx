import { isApiError } from '../api/errors';
import { useErrorMessage } from './ErrorState';

/**
 * A failed form submission, next to the form: the translated message for the error
 * code and, for a 400/409/422, the server's own sentence (written for people, in English;
 * it names the field that failed).
 */
export function FormError(props: { error: unknown; /** A clearer message for a 409 on this form. */ conflict?: string }) {
  const message = useErrorMessage();
  if (!props.error) return null;
  const e = props.error;
  const detail = isApiError(e) && !e.network && [400, 409, 422].includes(e.status) ? serverSentence(e.message) : null;
  return (
    <div class="form-alert" role="alert">
      <strong>{props.conflict && isApiError(e) && e.status === 409 ? props.conflict : message(e)}</strong>
      {detail && <small lang="en">{detail}</small>}
    </div>
  );
}

/** Drop serde's framing ("invalid request body: Failed to deserialize ...: ", "at line 1 column 9"). */
export function serverSentence(message: string): string {
  return message
    .replace(/^invalid request body:\s*/i, '')
    .replace(/^Failed to deserialize the JSON body into the target type:\s*/i, '')
    .replace(/\s+at line \d+ column \d+$/i, '')
    .trim();
}
