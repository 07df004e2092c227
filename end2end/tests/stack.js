// Fixtures for the browser tests: reseed the demo data, plug the virtual card into pcscd
// through vpcd, run the card bridge, read the mail catcher, and check the card with a
// standard PIV tool. Everything is a real process; nothing is mocked.
const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests with \`cargo xtask e2e\``);
  return value;
};

const BIN = () => env('E2E_BIN_DIR');
const CARDS = () => env('E2E_CARDS_DIR');
const MAILDEV = () => env('E2E_MAILDEV_URL');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForPort(port, open = true, limitMs = 20_000) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const isOpen = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (isOpen === open) return;
    await sleep(100);
  }
  throw new Error(`port ${port} never became ${open ? 'open' : 'closed'}`);
}

class Proc {
  constructor(name, cmd, args) {
    this.name = name;
    this.output = '';
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    this.child.stdout.on('data', (d) => { this.output += d; });
    this.child.stderr.on('data', (d) => { this.output += d; });
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
  }
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done) { this.child.kill('SIGKILL'); await this.exited; }
  }
}

/** Fresh demo users and cards (John Rigby's card locked), as `seed-demo` makes them. */
function reseed() {
  return execFileSync(path.join(BIN(), 'seed-demo'), ['--cards-dir', CARDS()], {
    env: process.env,
    encoding: 'utf8',
  });
}

function cardFile(name) {
  return path.join(CARDS(), `${name}.json`);
}

/** Whether pcscd reports a card in our vpcd reader (`opensc-tool -l`: "0  Yes  Virtual PCD 00 00"). */
function readerHasCard() {
  const reader = env('E2E_VPCD_READER');
  let out = '';
  try {
    out = execFileSync('opensc-tool', ['-l'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    out = String(e.stdout || '');
  }
  const line = out.split('\n').find((l) => l.trim().endsWith(reader));
  return Boolean(line && /\sYes\s/.test(line));
}

async function waitForReader(present, limitMs) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (readerHasCard() === present) return true;
    await sleep(100);
  }
  return false;
}

/**
 * Plug a virtual card into vpcd's first slot and wait until pcscd sees it. A card pulled
 * just before may not have been noticed by pcscd yet (it polls every ~400 ms); then the
 * slot is still taken, so wait for it to empty and plug in again.
 */
async function insertCard(name) {
  await waitForReader(false, 5_000);
  for (let attempt = 0; attempt < 3; attempt++) {
    const card = new Proc('virtual-card', path.join(BIN(), 'virtual-card'), [
      'insert', '--state', cardFile(name), '--vpcd', env('E2E_VPCD_ADDR'),
    ]);
    if (await waitForReader(true, 5_000)) {
      const stop = card.stop.bind(card);
      // Pulled means pulled: wait until pcscd has noticed.
      card.stop = async () => { await stop(); await waitForReader(false, 5_000); };
      return card;
    }
    await card.stop();
    await waitForReader(false, 5_000);
  }
  throw new Error(`pcscd never saw the ${name} card in ${env('E2E_VPCD_READER')}`);
}

/**
 * The card bridge on HTTPS/WSS with the certificate `card-bridge install` made for this
 * run (BRG-7). The server key it pins comes from CARD_BRIDGE_SERVER_KEY (BRG-5), set by
 * xtask.
 */
async function startBridge(...origins) {
  const port = env('E2E_BRIDGE_PORT');
  const bridge = new Proc('card-bridge', path.join(BIN(), 'card-bridge'), [
    '--port', port, '--reader', env('E2E_VPCD_READER'),
    ...origins.flatMap((origin) => ['--allow-origin', origin]),
    '--tls-dir', env('E2E_BRIDGE_TLS_DIR'),
  ]);
  await waitForPort(Number(port));
  return bridge;
}

/** The card's own state, read from its file (no PIN or key is ever printed). */
function showCard(name) {
  return JSON.parse(execFileSync(path.join(BIN(), 'virtual-card'), ['show', '--state', cardFile(name)], { encoding: 'utf8' }));
}

async function clearMail() {
  await fetch(`${MAILDEV()}/api/email/all`, { method: 'DELETE' });
}

async function allMail() {
  return (await fetch(`${MAILDEV()}/api/email`)).json();
}

async function waitForMail(to, subject, limitMs = 20_000) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const mails = await (await fetch(`${MAILDEV()}/api/email`)).json();
    const found = mails.filter((m) => m.subject === subject && m.to.some((t) => t.address === to));
    if (found.length) return found[found.length - 1];
    await sleep(250);
  }
  throw new Error(`no "${subject}" email to ${to} within ${limitMs} ms`);
}

/** SMS-2: the texts the Notify stand-in received for `to` (E.164), newest last. */
async function texts(to) {
  const url = `${env('E2E_NOTIFY_URL')}/_standin/messages?type=sms&to=${encodeURIComponent(to)}`;
  return (await fetch(url)).json();
}

/** The newest text to `to` received after `after` were there already. */
async function waitForText(to, after = 0, limitMs = 20_000) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const received = await texts(to);
    if (received.length > after) return received[received.length - 1];
    await sleep(250);
  }
  throw new Error(`no text to ${to} within ${limitMs} ms`);
}

/**
 * Verify a PIN on the inserted card with a standard PIV client (yubico-piv-tool) through
 * pcscd, exactly as middleware on a workstation would. Throws if the card refuses it.
 */
async function verifyPinWithPivTool(pin) {
  const reader = env('E2E_VPCD_READER');
  let lastError;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const out = execFileSync('yubico-piv-tool', ['-r', reader, '-a', 'verify-pin', '-P', pin], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return out;
    } catch (e) {
      lastError = e;
      // The card may not be in the reader yet; a wrong PIN is reported, not retried.
      if (String(e.stderr).includes('Pin verification failed') || String(e.stderr).includes('blocked')) break;
      await sleep(250);
    }
  }
  throw new Error(`yubico-piv-tool could not verify the PIN: ${lastError && lastError.stderr}`);
}

/**
 * The card's secrets, read from its state file, in every form they could leak in: the PUK
 * as text and as hex, the 9E private key and the SCP03 static keys as hex.
 */
function cardSecrets(name) {
  const state = JSON.parse(fs.readFileSync(cardFile(name), 'utf8'));
  const puk = /^[0-9a-f]{16}$/.test(state.puk) ? Buffer.from(state.puk, 'hex').toString('latin1') : state.puk;
  return {
    puk: [puk, Buffer.from(puk, 'latin1').toString('hex')],
    keys: [state.card_auth_key, state.scp03.enc, state.scp03.mac, state.scp03.dek],
  };
}

/** Records every request the page makes and every answer it receives (CARD-3 leak test). */
function recordTraffic(page) {
  const pending = [];
  page.on('requestfinished', (request) => {
    pending.push((async () => {
      const response = await request.response();
      let body = '';
      try { body = response ? (await response.body()).toString('latin1') : ''; } catch { /* no body */ }
      return { url: request.url(), sent: request.postData() || '', body };
    })());
  });
  return { all: () => Promise.all(pending) };
}

/**
 * RA-5: as if `seconds` had passed since every session's card last proved itself — the
 * server's own database (PostgreSQL, shared by the instances), changed as the clock would
 * have.
 */
function ageCardProofs(seconds) {
  const sql = `UPDATE sessions SET card_proven_at = card_proven_at - ${Number(seconds)}`;
  execFileSync('psql', [env('E2E_DATABASE_URL'), '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
}

/**
 * The servers' and load balancer's logs of this run (E2E_RUN_DIR) and every row of the
 * database they share, for the leak test.
 */
function runFiles() {
  const dir = env('E2E_RUN_DIR');
  const logs = fs.readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => ({ name: f, text: fs.readFileSync(path.join(dir, f)).toString('latin1') }));
  const rows = execFileSync('pg_dump', ['--data-only', env('E2E_DATABASE_OWNER_URL')], { maxBuffer: 256 << 20 });
  return [...logs, { name: 'the database (pg_dump)', text: rows.toString('latin1') }];
}

/**
 * CERT-1: what standard middleware makes of the inserted card. OpenSC reads the 9A
 * certificate and signs with its key after the PIN (through pcscd); openssl checks the
 * certificate against the CA certificate the server publishes.
 */
async function checkIssuedCard(baseURL, pin) {
  const reader = env('E2E_VPCD_READER');
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'cert-'));
  const file = (name) => path.join(dir, name);
  const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let listed = '';
  for (let attempt = 0; attempt < 20 && !listed.includes('PIV Authentication'); attempt++) {
    try { listed = run('pkcs15-tool', ['--reader', '0', '--list-certificates']); } catch { await sleep(250); }
  }
  fs.writeFileSync(file('card.pem'), run('pkcs15-tool', ['--reader', '0', '--read-certificate', '01']));
  fs.writeFileSync(file('ca.pem'), await (await fetch(`${baseURL}/api/ca-certificate`)).text());
  const verified = run('openssl', ['verify', '-CAfile', file('ca.pem'), file('card.pem')]);
  fs.writeFileSync(file('data'), 'sign me');
  const module = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
  run('pkcs11-tool', ['--module', module, '--login', '--pin', pin, '--sign', '--mechanism', 'ECDSA-SHA256',
    '--id', '01', '--signature-format', 'openssl', '-i', file('data'), '-o', file('sig')]);
  run('openssl', ['x509', '-in', file('card.pem'), '-pubkey', '-noout', '-out', file('pub.pem')]);
  const signed = run('openssl', ['dgst', '-sha256', '-verify', file('pub.pem'), '-signature', file('sig'), file('data')]);
  return { listed, verified, signed, reader };
}

module.exports = { texts, waitForText, Proc, ageCardProofs, checkIssuedCard, allMail, verifyPinWithPivTool, reseed, insertCard, startBridge, showCard, clearMail, waitForMail, waitForPort, sleep, env, cardSecrets, recordTraffic, runFiles };
