/**
 * Starts the real server for the end-to-end tests:
 *   ../target/debug/forankra serve --demo --listen 127.0.0.1:0 --database-url <fresh file> --web-dir dist
 * (FORANKRA_BIN overrides the binary). The port comes from the stderr log line with
 * `address=127.0.0.1:PORT`; the demo logins from the table the server prints on stdout.
 * Both reach the tests through environment variables; the server is stopped afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const START_TIMEOUT_MS = 90_000;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC.
const ANSI = /\u001b\[[0-9;]*m/g;

/** The demo users the tests log in as; start-up waits until each one's password is read. */
export const E2E_USERS = ['maria.holmberg', 'helena.strand', 'sara.nyberg', 'ingrid.fors'] as const;

export interface DemoLogin {
  username: string;
  password: string;
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const bin = resolve(WEB_DIR, process.env.FORANKRA_BIN ?? '../target/debug/forankra');
  if (!existsSync(bin)) {
    throw new Error(
      `The server binary ${bin} is missing. Build it first: \`cargo build\` in the repository root ` +
        '(or set FORANKRA_BIN to a built forankra binary).',
    );
  }
  if (!existsSync(join(WEB_DIR, 'dist', 'index.html'))) {
    throw new Error('web/dist is missing: run `npm run build` first (`npm run e2e` does).');
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'forankra-e2e-'));
  const resultsDir = join(WEB_DIR, 'test-results');
  mkdirSync(resultsDir, { recursive: true });
  const log = createWriteStream(join(resultsDir, 'server.log'));

  const child = spawn(
    bin,
    [
      'serve',
      '--demo',
      '--listen',
      '127.0.0.1:0',
      '--database-url',
      join(dataDir, 'e2e.db'),
      '--web-dir',
      'dist',
    ],
    {
      cwd: WEB_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NO_COLOR: '1',
        RUST_LOG: process.env.RUST_LOG ?? 'info',
        // The webhook test's receiver listens on http://127.0.0.1.
        FORANKRA_WEBHOOK_ALLOW_HTTP: 'true',
      },
    },
  );

  try {
    const { address, logins } = await waitForStart(child, log);
    process.env.FORANKRA_E2E_URL = `http://${address}`;
    process.env.FORANKRA_E2E_LOGINS = JSON.stringify(logins);
  } catch (error) {
    child.kill('SIGKILL');
    log.end();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  return async () => {
    await stop(child);
    log.end();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

function waitForStart(
  child: ChildProcess,
  log: WriteStream,
): Promise<{ address: string; logins: DemoLogin[] }> {
  return new Promise((resolvePromise, reject) => {
    let address: string | null = null;
    const logins: DemoLogin[] = [];
    let inTable = false;
    let settled = false;

    const finish = (error?: Error) => {
      if (settled) return;
      const haveUsers = E2E_USERS.every((user) => logins.some((l) => l.username === user));
      if (!error && (address === null || !haveUsers)) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolvePromise({ address: address as string, logins });
    };

    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `The server did not report its address and demo logins within ${START_TIMEOUT_MS / 1000} s; ` +
              'see web/test-results/server.log',
          ),
        ),
      START_TIMEOUT_MS,
    );

    if (!child.stdout || !child.stderr) throw new Error('the server was spawned without pipes');
    createInterface({ input: child.stdout }).on('line', (raw) => {
      const line = raw.replace(ANSI, '');
      log.write(`[stdout] ${line.replace(/^(\s+\S+\s+)\S+/, '$1********')}\n`);
      // "  username   password   name   organisation", then one row per login.
      if (/^\s*username\s+password\b/.test(line)) {
        inTable = true;
        return;
      }
      const row = inTable ? /^\s+(\S+)\s+(\S+)\s+\S/.exec(line) : null;
      if (row?.[1] && row[2]) logins.push({ username: row[1], password: row[2] });
      finish();
    });
    createInterface({ input: child.stderr }).on('line', (raw) => {
      const line = raw.replace(ANSI, '');
      log.write(`${line}\n`);
      const match = /address=(127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1] && address === null) {
        address = match[1];
        finish();
      }
    });
    child.on('exit', (code, signal) =>
      finish(
        new Error(
          `The server exited during start-up (code ${code}, signal ${signal}); see web/test-results/server.log`,
        ),
      ),
    );
    child.on('error', (error) => finish(error));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}
