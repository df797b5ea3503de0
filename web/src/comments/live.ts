/**
 * Live thread events on the document's own socket: after every (re)connect the client
 * opts in with one message of type 100; the server then sends each thread change as
 * type 100 followed by a JSON string `{"type": "thread", "thread": {…}}`.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { WebsocketProvider } from 'y-websocket';
import type { Thread } from '../api/types';

export const MESSAGE_THREAD_EVENTS = 100;

export function subscribeThreadEvents(
  provider: WebsocketProvider,
  onThread: (thread: Thread) => void,
  onConnected: () => void,
): () => void {
  let active = true;
  provider.messageHandlers[MESSAGE_THREAD_EVENTS] = (_encoder, decoder) => {
    if (!active) return;
    try {
      const event = JSON.parse(decoding.readVarString(decoder)) as {
        type?: string;
        thread?: Thread;
      };
      if (event.type === 'thread' && event.thread) onThread(event.thread);
    } catch {
      // A malformed event: ignore it (the next list reload repairs the view).
    }
  };
  const optIn = () => {
    const ws = provider.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_THREAD_EVENTS);
    encoding.writeVarString(encoder, 'subscribe');
    ws.send(encoding.toUint8Array(encoder));
  };
  const onStatus = ({ status }: { status: string }) => {
    if (status !== 'connected') return;
    optIn();
    onConnected();
  };
  provider.on('status', onStatus);
  if (provider.wsconnected) optIn();
  return () => {
    active = false;
    provider.off('status', onStatus);
  };
}
