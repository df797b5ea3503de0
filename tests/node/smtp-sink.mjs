// A real SMTP server on loopback for the notification tests (npm `smtp-server`, parsed
// with `mailparser`): never a mock of the sending side, a server lettre talks SMTP to.
//
//   node smtp-sink.mjs [--fail-first N]
//
// Prints one JSON line `{"listening":PORT}`, then one line per accepted message:
// `{"messageId","from","to":[…],"subject","text","html"}`, written BEFORE the server
// answers 250, so a sender that recorded a message as sent has had it printed.
// `--fail-first N` answers the first N MAIL FROM commands with 451 (a temporary
// failure the sender must retry). STARTTLS is off: the tests use plain smtp://.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
let failuresLeft = Number(flag('--fail-first', '0'));

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onMailFrom(_address, _session, callback) {
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      const error = new Error('try again later (smtp-sink --fail-first)');
      error.responseCode = 451;
      return callback(error);
    }
    return callback();
  },
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        const line = {
          messageId: mail.messageId ?? null,
          from: mail.from?.text ?? null,
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: mail.subject ?? null,
          text: mail.text ?? null,
          html: typeof mail.html === 'string' ? mail.html : null,
        };
        process.stdout.write(`${JSON.stringify(line)}\n`, () => callback());
      })
      .catch((error) => callback(error));
  },
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: server.server.address().port })}\n`);
});
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
