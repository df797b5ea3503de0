/**
 * Live events on the document's own socket (the server's `sync::live`): after every
 * (re)connect the client opts in to a message type with one message of that type; the
 * server then sends each event as that type followed by a JSON string. Thread events are
 * type 100 (`comments/live.ts`), the remiss round's type 102 (`remiss/live.ts`).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { WebsocketProvider } from 'y-websocket';

/**
 * Subscribes to events of message type `type`: `onEvent` gets each one's parsed JSON,
 * `onConnected` runs after each (re)connect (a moment when events may have been missed).
 * Returns the unsubscribe.
 */
export function subscribeLiveEvents(
  provider: WebsocketProvider,
  type: number,
  onEvent: (event: Record<string, unknown>) => void,
  onConnected: () => void,
): () => void {
  let active = true;
  provider.messageHandlers[type] = (_encoder, decoder) => {
    if (!active) return;
    try {
      const event = JSON.parse(decoding.readVarString(decoder)) as unknown;
      if (event && typeof event === 'object') onEvent(event as Record<string, unknown>);
    } catch {
      // A malformed event: ignore it (the next reload repairs the view).
    }
  };
  const optIn = () => {
    const ws = provider.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, type);
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
