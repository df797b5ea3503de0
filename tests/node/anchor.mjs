#!/usr/bin/env node
// Makes an anchor the way a Yjs editor would, for the threads API.
//
//   node anchor.mjs --url ws://127.0.0.1:PORT/ws --doc DOC_ID --token JWT --find "WORD" [--timeout-ms 20000]
//
// Connects, waits for sync, finds the first occurrence of WORD in the XmlTexts of the
// top-level blocks of the 'default' XmlFragment (document order; UTF-16 indices into the
// XmlText's plain string) and prints one JSON line:
//   {"ok":true,"paragraph":<block index>,"index":<UTF-16 index in that XmlText>,
//    "start":"<b64 of encodeRelativePosition(createRelativePositionFromTypeIndex(xmlText, index, 0))>",
//    "end":"<b64 of the same at index + WORD.length, assoc -1>"}          exit 0
//   {"ok":false,"error":"..."}                                            exit 1
import { parseCli, connect, xmlTexts, xmlTextString, finish, fail, Y } from './common.mjs'

const args = parseCli({ find: { type: 'string' } }, ['find'])
if (args.find.length === 0) fail('--find must not be empty')

const { ydoc, state, synced } = connect(args)
await synced
state.phase = 'searching'

const b64 = (rpos) => Buffer.from(Y.encodeRelativePosition(rpos)).toString('base64')
const blocks = ydoc.getXmlFragment('default').toArray()
for (let paragraph = 0; paragraph < blocks.length; paragraph++) {
  for (const xmlText of xmlTexts(blocks[paragraph])) {
    // an embed counts as one index in Yjs: keep indices aligned with a placeholder
    const index = xmlTextString(xmlText, '\uFFFC').indexOf(args.find)
    if (index >= 0) {
      finish({
        ok: true,
        paragraph,
        index,
        start: b64(Y.createRelativePositionFromTypeIndex(xmlText, index, 0)),
        end: b64(Y.createRelativePositionFromTypeIndex(xmlText, index + args.find.length, -1))
      })
      await new Promise(() => {}) // finish exits the process
    }
  }
}
fail(`${JSON.stringify(args.find)} not found in the document`)
