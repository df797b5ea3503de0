#!/usr/bin/env node
// Real npm yjs + y-websocket client for the Rust integration tests.
//
//   node interop.mjs --url ws://127.0.0.1:PORT/ws --doc DOC_ID --token JWT \
//        --write "TEXT" --expect "TEXT2" [--timeout-ms 20000] [--no-confirm]
//
// Connects a WebsocketProvider, waits for sync, appends a Tiptap-shaped paragraph
// (XmlElement 'paragraph' > XmlText) holding --write to the 'default' XmlFragment, sets its
// awareness, waits until the server confirms it holds the write (skipped with --no-confirm
// or without --write), then waits until the fragment's plain text contains --expect
// (--expect "" or omitted: no wait). Prints one JSON line:
//   {"ok":true,"text":"<plain text>","clientId":N}            exit 0
//   {"ok":false,"error":"...", ["closeCode":N,"closeReason":"..."]}  exit 1
import { parseCli, connect, confirmServerHas, plainText, finish, Y } from './common.mjs'

const args = parseCli({
  write: { type: 'string' },
  expect: { type: 'string', default: '' },
  'no-confirm': { type: 'boolean', default: false }
}, [])

const { ydoc, provider, state, synced } = connect(args)
const fragment = ydoc.getXmlFragment('default')

await synced

if (args.write !== undefined) {
  state.phase = 'writing'
  ydoc.transact(() => {
    const paragraph = new Y.XmlElement('paragraph')
    fragment.push([paragraph])
    const text = new Y.XmlText()
    paragraph.insert(0, [text])
    if (args.write.length > 0) text.insert(0, args.write)
  })
}

provider.awareness.setLocalState({ user: { name: 'Node', color: '#0a7' } })

if (args.write !== undefined && !args['no-confirm']) {
  state.phase = 'waiting for the server to confirm our write'
  await confirmServerHas(provider, ydoc, state)
}

if (args.expect.length > 0) {
  state.phase = `waiting for the text to contain ${JSON.stringify(args.expect)}`
  await new Promise((resolve) => {
    const check = () => {
      if (plainText(fragment).includes(args.expect)) {
        fragment.unobserveDeep(check)
        resolve()
      }
    }
    fragment.observeDeep(check)
    check()
  })
}

finish({ ok: true, text: plainText(fragment), clientId: ydoc.clientID })
