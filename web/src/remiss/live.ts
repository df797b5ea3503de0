/**
 * Live round events on the document's own socket (type 102): after every committed
 * change to the round or an answer the server sends `{"type": "round", "round": {…}}`,
 * the round as `GET /api/documents/{id}/remiss` answers it (see `sync/live-events.ts`).
 */
import type { WebsocketProvider } from 'y-websocket';
import type { RemissRound } from '../api/types';
import { subscribeLiveEvents } from '../sync/live-events';

export const MESSAGE_ROUND_EVENTS = 102;

export function subscribeRoundEvents(
  provider: WebsocketProvider,
  onRound: (round: RemissRound) => void,
  onConnected: () => void,
): () => void {
  return subscribeLiveEvents(
    provider,
    MESSAGE_ROUND_EVENTS,
    (event) => {
      if (event.type === 'round' && event.round) onRound(event.round as RemissRound);
    },
    onConnected,
  );
}
