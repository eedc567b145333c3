// The API's error body is `{error, code, details?}`; `code` is one of these.
// The list is checked against the schema's ErrorCode both ways (see below), and
// `i18n/messages/errors.ts` must translate each.
import type { components } from './schema';

type SchemaErrorCode = components['schemas']['ErrorCode'];

export const ERROR_CODES = [
  'validation_failed',
  'bad_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'no_route',
  'method_not_allowed',
  'conflict',
  'insufficient_stock',
  'payload_too_large',
  'unsupported_media_type',
  'unprocessable',
  'idempotency_key_reused',
  'idempotency_key_in_flight',
  'rate_limited',
  'unavailable',
  'assistant_provider_failed',
  'internal',
] as const satisfies readonly SchemaErrorCode[];

export type ErrorCode = (typeof ERROR_CODES)[number];

// A code added to the API but not listed above fails here until it is added.
type Unlisted = Exclude<SchemaErrorCode, ErrorCode>;
const everyCodeListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyCodeListed;

function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 422:
      return 'unprocessable';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal' : 'bad_request';
  }
}

/**
 * A failed API call. `status` 0 with `network: true` means the server was not reached.
 * `details` is what the server sent (e.g. the short lines of `insufficient_stock`).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly network: boolean;
  /** Seconds the server asked to wait (429 / 503 with Retry-After). */
  readonly retryAfter: number | null;

  constructor(init: {
    status: number;
    code: ErrorCode;
    message: string;
    details?: unknown;
    network?: boolean;
    retryAfter?: number | null;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.network = init.network ?? false;
    this.retryAfter = init.retryAfter ?? null;
  }

  /** Build from a server error body (already parsed, or anything else it sent). */
  static fromResponse(status: number, body: unknown, headers?: Headers): ApiError {
    const obj = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const code = isErrorCode(obj['code']) ? obj['code'] : codeForStatus(status);
    const message = typeof obj['error'] === 'string' ? obj['error'] : `HTTP ${status}`;
    return new ApiError({
      status,
      code,
      message,
      details: obj['details'],
      retryAfter: parseRetryAfter(headers?.get('Retry-After') ?? null),
    });
  }

  static network(cause: unknown): ApiError {
    const message = cause instanceof Error ? cause.message : 'network error';
    return new ApiError({ status: 0, code: 'unavailable', message, network: true });
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
