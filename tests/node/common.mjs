// Shared plumbing for interop.mjs and anchor.mjs: argument parsing, the
// WebsocketProvider connection, one-line JSON results, and Tiptap-shaped text helpers.
import { parseArgs } from 'node:util'
import { writeSync } from 'node:fs'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'

export { Y }

/** Parses argv; `extra` adds script-specific string options. Exits 1 with JSON on misuse. */
export const parseCli = (extra, required) => {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        url: { type: 'string' },
        doc: { type: 'string' },
        token: { type: 'string' },
        'timeout-ms': { type: 'string', default: '20000' },
        ...extra
      },
      strict: true,
      allowPositionals: false
    }))
  } catch (e) {
    fail(`bad arguments: ${e.message}`)
  }
  for (const name of ['url', 'doc', ...required]) {
    if (values[name] === undefined) fail(`missing --${name}`)
  }
  const timeoutMs = Number(values['timeout-ms'])
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) fail('bad --timeout-ms')
  values.timeoutMs = timeoutMs
  return values
}

let finished = false
let activeProvider = null

/**
 * Prints exactly one JSON line on stdout, destroys the provider (closing the socket
 * cleanly, bounded to 1 s) and exits: 0 when result.ok, 1 otherwise.
 */
export const finish = (result) => {
  if (finished) return
  finished = true
  writeSync(1, JSON.stringify(result) + '\n')
  const code = result.ok ? 0 : 1
  const provider = activeProvider
  if (!provider) process.exit(code)
  const ws = provider.ws
  try {
    provider.destroy()
  } catch {}
  if (ws && ws.readyState !== WebSocket.CLOSED) {
    setTimeout(() => process.exit(code), 1000)
    ws.once('close', () => process.exit(code))
  } else {
    process.exit(code)
  }
}

export const fail = (error, extra = {}) => finish({ ok: false, error, ...extra })

process.on('uncaughtException', (e) => fail(`uncaught: ${e && e.stack ? e.stack : e}`))
process.on('unhandledRejection', (e) => fail(`unhandled rejection: ${e && e.stack ? e.stack : e}`))

/**
 * Connects a WebsocketProvider for `doc` at `url` (our server: ws://HOST/ws; the provider
 * appends "/" + doc) and resolves once the first `sync` with `true` arrives.
 * Fails (exit 1) on a close code 4400–4499, and on the overall timeout, reporting the
 * last close code/reason and connection error seen.
 */
export const connect = ({ url, doc, token, timeoutMs }) => {
  const ydoc = new Y.Doc()
  const provider = new WebsocketProvider(url, doc, ydoc, {
    WebSocketPolyfill: WebSocket,
    params: token === undefined ? {} : { token },
    disableBc: true
  })
  activeProvider = provider
  const state = { lastClose: null, lastError: null, phase: 'connecting' }

  provider.on('connection-close', (event) => {
    if (event == null) return // closed locally (destroy / watchdog)
    state.lastClose = { code: event.code, reason: String(event.reason ?? '') }
    if (event.code >= 4400 && event.code <= 4499) {
      fail(`server closed the connection: code ${event.code} reason ${JSON.stringify(state.lastClose.reason)}`,
        { closeCode: event.code, closeReason: state.lastClose.reason })
    }
  })
  provider.on('connection-error', (event) => {
    state.lastError = String((event && (event.message || (event.error && event.error.message))) || 'connection error')
  })

  const timer = setTimeout(() => {
    const parts = [`timeout after ${timeoutMs} ms while ${state.phase}`]
    if (state.serverClock !== undefined) parts.push(`the server holds our client's items up to clock ${state.serverClock} of ${Y.getState(ydoc.store, ydoc.clientID)}`)
    if (state.lastClose) parts.push(`last close: code ${state.lastClose.code} reason ${JSON.stringify(state.lastClose.reason)}`)
    if (state.lastError) parts.push(`last connection error: ${state.lastError}`)
    const extra = {}
    if (state.lastClose) { extra.closeCode = state.lastClose.code; extra.closeReason = state.lastClose.reason }
    if (state.phase !== 'connecting') extra.text = plainText(ydoc.getXmlFragment('default'))
    fail(parts.join('; '), extra)
  }, timeoutMs)

  const synced = new Promise((resolve) => {
    if (provider.synced) return resolve()
    const onSync = (isSynced) => {
      if (isSynced) {
        provider.off('sync', onSync)
        resolve()
      }
    }
    provider.on('sync', onSync)
  })
  return { ydoc, provider, state, synced }
}

/**
 * Resolves once the server's copy of the document holds every item this client made
 * (clock `clock` of `clientId`). Asks with a sync step 1 whose state vector omits our own
 * client, so the server's step 2 answer contains exactly our items that it has; compares
 * the end clock. Retries with backoff (a server that applies updates asynchronously, a
 * reconnect) until the overall timeout. A server that drops our updates (viewer) never
 * confirms: the caller times out.
 */
export const confirmServerHas = (provider, ydoc, state) => new Promise((resolve) => {
  const clientId = ydoc.clientID
  const clock = Y.getState(ydoc.store, clientId)
  if (clock === 0) return resolve()
  const sv = Y.decodeStateVector(Y.encodeStateVector(ydoc))
  sv.delete(clientId)
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 0) // messageSync
  encoding.writeVarUint(enc, syncProtocol.messageYjsSyncStep1)
  encoding.writeVarUint8Array(enc, Y.encodeStateVector(sv))
  const frame = encoding.toUint8Array(enc)

  let done = false
  let attempts = 0
  let retryTimer = null
  const request = () => {
    retryTimer = null
    const ws = provider.ws
    if (!done && provider.wsconnected && ws && ws.readyState === WebSocket.OPEN) ws.send(frame)
    // otherwise the next `sync` (after reconnecting) triggers the request
  }
  const original = provider.messageHandlers[0]
  provider.messageHandlers[0] = (encoder, decoder, prov, emitSynced, messageType) => {
    if (!done) {
      try {
        const peek = decoding.clone(decoder)
        if (decoding.readVarUint(peek) === syncProtocol.messageYjsSyncStep2) {
          const update = decoding.readVarUint8Array(peek)
          const serverClock = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update)).get(clientId) || 0
          state.serverClock = serverClock
          if (serverClock >= clock) {
            done = true
            provider.off('sync', onSync)
            if (retryTimer) clearTimeout(retryTimer)
            resolve()
          } else if (retryTimer === null) {
            retryTimer = setTimeout(request, Math.min(50 * 2 ** attempts++, 1000))
          }
        }
      } catch {}
    }
    return original(encoder, decoder, prov, emitSynced, messageType)
  }
  const onSync = (isSynced) => { if (isSynced) request() }
  provider.on('sync', onSync)
  request()
})

/** The plain string of one XmlText: its string inserts joined (no mark tags). With
 * `embedChar`, each embed counts as that one character, so indices match Yjs indices. */
export const xmlTextString = (xmlText, embedChar = null) =>
  xmlText.toDelta().map((op) => typeof op.insert === 'string' ? op.insert : (embedChar ?? '')).join('')

/** Every XmlText under `node`, in document order (depth first). */
export const xmlTexts = (node, out = []) => {
  if (node instanceof Y.XmlText) {
    out.push(node)
  } else if (node instanceof Y.XmlElement || node instanceof Y.XmlFragment) {
    for (const child of node.toArray()) xmlTexts(child, out)
  }
  return out
}

/** Plain text of the fragment: per top-level block the concatenation of its XmlText
 * strings (nested ones included), blocks joined by "\n". */
export const plainText = (fragment) =>
  fragment.toArray().map((block) => xmlTexts(block).map((t) => xmlTextString(t)).join('')).join('\n')
