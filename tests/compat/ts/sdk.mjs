// Small helpers every TypeScript scenario file uses: connect a client or run
// a worker against a server address, and make unique names.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const unique = (prefix) => `${prefix}-${randomUUID()}`;

// The identity every test client sends; Temporal records it as the identity
// in canceled and terminated outcome failures.
export const clientIdentity = 'compat-ts-client';

// Runs fn(client, connection) with a client on namespace "default".
export async function withClient(address, fn) {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: 'default', identity: clientIdentity });
    return await fn(client, connection);
  } finally {
    await connection.close();
  }
}

// Runs fn while a worker polls `taskQueue`, then shuts the worker down.
export async function withWorker(address, { taskQueue, activities, identity, shutdownGraceTime = '2s' }, fn) {
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({
      connection, namespace: 'default', taskQueue, activities, shutdownGraceTime,
      ...(identity ? { identity } : {}),
    });
    return await worker.runUntil(fn);
  } finally {
    await connection.close();
  }
}
