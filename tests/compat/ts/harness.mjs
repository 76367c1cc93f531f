// Starts and stops a real errand process for the TypeScript scenarios: a free
// loopback port and a temporary data directory per server; restart() keeps
// the directory, kill() sends SIGKILL.
//
// Oracle mode: if COMPAT_ORACLE_ADDRESS is set (e.g. 127.0.0.1:7433, a real
// Temporal dev server with standalone activities enabled), Errand.start()
// spawns nothing and points at that address; cleanup() is a no-op and the
// process-control methods throw. Scenarios that kill or restart the server
// must skip themselves when `oracleMode` is true.
//
// Every errand started here serves its HTTP API and web UI on a free loopback
// port of its own (httpAddress, uiUrl): the default port would clash between
// servers. In oracle mode, COMPAT_ORACLE_HTTP_ADDRESS names where the web UI
// and Temporal's HTTP API are served for the oracle (for example a dev proxy);
// without it, uiUrl is empty.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, accessSync, constants } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function errandBinary() {
  const bin = process.env.ERRAND_BIN || path.join(repo, 'build', 'errand');
  accessSync(bin, constants.X_OK);
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const oracleAddress = process.env.COMPAT_ORACLE_ADDRESS || '';
export const oracleMode = oracleAddress !== '';
const oracleHttpAddress = process.env.COMPAT_ORACLE_HTTP_ADDRESS || '';

class OracleServer {
  constructor(address) {
    this.address = address;
    this.port = Number(address.slice(address.lastIndexOf(':') + 1));
    this.log = '';
    this.oracle = true;
    this.httpAddress = oracleHttpAddress;
    this.uiUrl = oracleHttpAddress ? `http://${oracleHttpAddress}/` : '';
  }

  #unsupported(what) {
    throw new Error(`${what} is not possible against the oracle server at ${this.address}`);
  }

  async start() { this.#unsupported('start()'); }
  async stop() { this.#unsupported('stop()'); }
  async kill() { this.#unsupported('kill()'); }
  async restart() { this.#unsupported('restart()'); }
  async waitForLog(text) { this.#unsupported(`waitForLog(${JSON.stringify(text)})`); }
  async cleanup() {}
}

export class Errand {
  // extraArgs: more `errand serve` flags, e.g. ['--config', file].
  static async start({ extraArgs = [] } = {}) {
    if (oracleMode) return new OracleServer(oracleAddress);
    const e = new Errand();
    e.extraArgs = extraArgs;
    e.dataDir = mkdtempSync(path.join(os.tmpdir(), 'errand-compat-ts-'));
    e.port = await freePort();
    e.address = `127.0.0.1:${e.port}`;
    e.httpPort = await freePort();
    e.httpAddress = `127.0.0.1:${e.httpPort}`;
    e.uiUrl = `http://${e.httpAddress}/`;
    e.log = '';
    await e.start();
    return e;
  }

  async start() {
    this.proc = spawn(errandBinary(), ['serve', '--listen', this.address, '--http-listen', this.httpAddress,
      '--data-dir', this.dataDir, '--log-level', 'debug', ...this.extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr.on('data', (chunk) => { this.log += chunk.toString(); });
    const exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.exited = exited;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`errand exited ${this.proc.exitCode}:\n${this.log}`);
      if (await canConnect(this.port) && await canConnect(this.httpPort)) return;
      await sleep(50);
    }
    throw new Error(`errand did not listen on ${this.address}:\n${this.log}`);
  }

  // SIGTERM and wait; resolves to the exit code.
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return this.proc?.exitCode ?? 0;
    this.proc.kill('SIGTERM');
    return await this.exited;
  }

  async kill() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  async restart() {
    await this.stop();
    await this.start();
  }

  async waitForLog(text, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.log.includes(text)) return;
      await sleep(50);
    }
    throw new Error(`errand never logged "${text}"`);
  }

  async cleanup() {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
