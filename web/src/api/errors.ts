import { t } from '../i18n';
import { ApiError, NetworkError } from './client';

/** A sentence for the user about a failed call, in the UI language where we know the case. */
export function describeError(error: unknown): string {
  if (error instanceof NetworkError) return t('error.network');
  if (error instanceof ApiError) {
    if (error.status === 403) return t('error.forbidden');
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
