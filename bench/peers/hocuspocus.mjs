// Hocuspocus, as its documentation starts it: a Server on a loopback port with the SQLite
// extension (the whole document state written on a debounce: 2 s after the last change,
// at most 10 s after the first), nothing else. Any token is accepted: no onAuthenticate.
//
//   node hocuspocus.mjs PORT DB_FILE
import { Server } from '@hocuspocus/server'
import { SQLite } from '@hocuspocus/extension-sqlite'

const [port, database] = process.argv.slice(2)
if (!port || !database) {
  console.error('usage: node hocuspocus.mjs PORT DB_FILE')
  process.exit(2)
}

const server = new Server({
  port: Number(port),
  address: '127.0.0.1',
  quiet: true,
  extensions: [new SQLite({ database })],
})
await server.listen()
console.log(`hocuspocus listening on 127.0.0.1:${port}, storing in ${database}`)
