/**
 * Live thread events on the document's own socket (type 100): the server sends each
 * thread change as `{"type": "thread", "thread": {…}}` (see `sync/live-events.ts`).
 */
import type { WebsocketProvider } from 'y-websocket';
import type { Thread } from '../api/types';
import { subscribeLiveEvents } from '../sync/live-events';

export const MESSAGE_THREAD_EVENTS = 100;

export function subscribeThreadEvents(
  provider: WebsocketProvider,
  onThread: (thread: Thread) => void,
  onConnected: () => void,
): () => void {
  return subscribeLiveEvents(
    provider,
    MESSAGE_THREAD_EVENTS,
    (event) => {
      if (event.type === 'thread' && event.thread) onThread(event.thread as Thread);
    },
    onConnected,
  );
}
