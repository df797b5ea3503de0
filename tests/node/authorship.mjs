#!/usr/bin/env node
// A real npm yjs + y-websocket client that edits under a chosen Yjs client id, for the
// authorship tests (tests/api/authorship.rs).
//
//   node authorship.mjs --url ws://127.0.0.1:PORT/ws --doc DOC_ID --token JWT \
//        [--client-id N] --ops '[{"op":"append","text":"…"},
//                               {"op":"insert","paragraph":0,"at":10,"text":"…"},
//                               {"op":"delete","paragraph":0,"at":5,"len":3}]'
//
// Waits for sync, applies the operations one transaction each (positions in the plain
// text of the paragraph's first XmlText, counted as Yjs counts), waits until the server
// confirms it holds them (it compares clocks, so end with an insert: a delete alone
// moves no clock), and prints one JSON line:
//   {"ok":true,"text":"<plain text>","clientId":N}                   exit 0
//   {"ok":false,"error":"...", ["closeCode":N,"closeReason":"..."]}  exit 1 (a 4400–4499
//   close, e.g. 4409 for a client id bound to someone else, ends it at once)
import { parseCli, connect, confirmServerHas, plainText, xmlTexts, finish, fail, Y } from './common.mjs'

const args = parseCli({
  ops: { type: 'string' },
  'client-id': { type: 'string' }
}, ['ops'])

let ops
try {
  ops = JSON.parse(args.ops)
} catch (e) {
  fail(`bad --ops: ${e.message}`)
}

const { ydoc, provider, state, synced } = connect(args)
const fragment = ydoc.getXmlFragment('default')

await synced
if (args['client-id'] !== undefined) {
  // Only now, as a hostile client would: Yjs itself picks a new id when a sync brings
  // structs under its own, so a stock client never writes under another's id by chance.
  ydoc.clientID = Number(args['client-id'])
}

const textOf = (index) => {
  const block = fragment.get(index)
  if (!block) fail(`no paragraph ${index}`)
  const [text] = xmlTexts(block)
  if (!text) fail(`paragraph ${index} has no text`)
  return text
}

state.phase = 'writing'
for (const op of ops) {
  ydoc.transact(() => {
    if (op.op === 'append') {
      const paragraph = new Y.XmlElement('paragraph')
      fragment.push([paragraph])
      const text = new Y.XmlText()
      paragraph.insert(0, [text])
      text.insert(0, op.text)
    } else if (op.op === 'insert') {
      textOf(op.paragraph).insert(op.at, op.text)
    } else if (op.op === 'delete') {
      textOf(op.paragraph).delete(op.at, op.len)
    } else {
      fail(`unknown op ${JSON.stringify(op)}`)
    }
  })
}

state.phase = 'waiting for the server to confirm our writes'
await confirmServerHas(provider, ydoc, state)
finish({ ok: true, text: plainText(fragment), clientId: ydoc.clientID })
