/**
 * A WebSocket for y-websocket's `WebSocketPolyfill` that first asks the server for a
 * single-use, 30-second ticket (`POST /api/ws-ticket`, authenticated by the session
 * cookie) and opens the real socket with it as `?token=`. The provider makes a new
 * socket for every reconnection, so each one gets a fresh ticket, and no long-lived
 * credential ever appears in a URL. The provider's own backoff and its stop on close
 * codes 4400–4499 work unchanged: a ticket the server refuses (401) is reported as
 * close 4401, a failed request as 1006 (retried).
 */
import { ApiError } from '../api/client';

type Handler<E> = ((event: E) => void) | null;

export function ticketedWebSocket(fetchTicket: () => Promise<string>): typeof WebSocket {
  class TicketedWebSocket {
    static readonly CONNECTING = WebSocket.CONNECTING;
    static readonly OPEN = WebSocket.OPEN;
    static readonly CLOSING = WebSocket.CLOSING;
    static readonly CLOSED = WebSocket.CLOSED;
    readonly CONNECTING = WebSocket.CONNECTING;
    readonly OPEN = WebSocket.OPEN;
    readonly CLOSING = WebSocket.CLOSING;
    readonly CLOSED = WebSocket.CLOSED;
    binaryType: BinaryType = 'arraybuffer';
    onopen: Handler<Event> = null;
    onmessage: Handler<MessageEvent> = null;
    onclose: Handler<CloseEvent> = null;
    onerror: Handler<Event> = null;
    private inner: WebSocket | null = null;
    private closed = false;

    constructor(url: string, protocols?: string | string[]) {
      fetchTicket().then(
        (ticket) => {
          if (this.closed) return;
          const target = new URL(url);
          target.searchParams.set('token', ticket);
          const ws = new WebSocket(target.toString(), protocols);
          ws.binaryType = this.binaryType;
          ws.onopen = (event) => this.onopen?.(event);
          ws.onmessage = (event) => this.onmessage?.(event);
          ws.onclose = (event) => this.onclose?.(event);
          ws.onerror = (event) => this.onerror?.(event);
          this.inner = ws;
        },
        (error: unknown) => {
          if (this.closed) return;
          const refused = error instanceof ApiError && error.status === 401;
          const reason = error instanceof Error ? error.message : String(error);
          this.onclose?.({ code: refused ? 4401 : 1006, reason, wasClean: false } as CloseEvent);
        },
      );
    }

    get readyState(): number {
      if (this.inner) return this.inner.readyState;
      return this.closed ? WebSocket.CLOSED : WebSocket.CONNECTING;
    }

    send(data: ArrayBufferLike | ArrayBufferView | Blob | string): void {
      this.inner?.send(data);
    }

    close(code?: number, reason?: string): void {
      this.closed = true;
      this.inner?.close(code, reason);
    }
  }
  return TicketedWebSocket as unknown as typeof WebSocket;
}
