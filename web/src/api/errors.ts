/**
 * What a failed call means for the user, in the UI language. The server answers every
 * error with `{error, message}` where `error` is a stable code (server/src/error.rs);
 * its `message` is English and technical, so the user reads our sentence for the code
 * instead. An unknown code falls back on the HTTP status class.
 */
import { type MessageKey, t } from '../i18n';
import { ApiError, NetworkError } from './client';

/** A refusal the app makes itself, its message already a sentence for the user. */
export class Refusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Refusal';
  }
}

/** The codes the server sends, each with its sentence. */
const CODE_MESSAGES: Record<string, MessageKey> = {
  bad_request: 'error.bad_request',
  unauthorized: 'error.unauthorized',
  forbidden: 'error.forbidden',
  not_found: 'error.not_found',
  conflict: 'error.conflict',
  unprocessable: 'error.unprocessable',
  payload_too_large: 'error.payload_too_large',
  unavailable: 'error.unavailable',
  internal: 'error.internal',
  remiss_closed: 'error.remiss_closed',
  anchor_changed: 'error.anchor_changed',
  anchor_orphaned: 'error.anchor_orphaned',
};

function byStatus(status: number): MessageKey {
  if (status === 401) return 'error.unauthorized';
  if (status === 403) return 'error.forbidden';
  if (status === 404) return 'error.not_found';
  if (status === 409) return 'error.conflict';
  if (status === 413) return 'error.payload_too_large';
  if (status === 503) return 'error.unavailable';
  if (status >= 500) return 'error.internal';
  return 'error.bad_request';
}

/** The message key for an API error: its code when we know it, else its status. */
export function errorKey(error: ApiError): MessageKey {
  return CODE_MESSAGES[error.code] ?? byStatus(error.status);
}

/**
 * A sentence for the user about a failed call. `context` gives a sentence that fits the
 * action better for some codes (e.g. `unprocessable` when moving a thread means the
 * selection was not usable).
 */
export function describeError(
  error: unknown,
  context: Partial<Record<string, MessageKey>> = {},
): string {
  if (error instanceof NetworkError) return t('error.network');
  if (error instanceof Refusal) return error.message;
  if (error instanceof ApiError) return t(context[error.code] ?? errorKey(error));
  return t('error.generic', { message: error instanceof Error ? error.message : String(error) });
}
