import { once } from 'node:events';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { mongo } from 'mongoose';

/**
 * patches/mongodb+7.8.0.patch, applied by npm install: a command written to a connection whose
 * socket is closed fails as a network error instead of waiting forever. Exercised on the driver's
 * own Connection class over a loopback socket to a server that never answers.
 */

// Internal to the driver; the patch is to this very class.
const { Connection } = require('mongodb/lib/cmap/connection');
const { OpMsgRequest } = require('mongodb/lib/cmap/commands');

interface DriverConnection {
  writeCommand(command: unknown, options: { agreedCompressor: string }): Promise<void>;
  destroy(): void;
}

const FAILS_WITHIN_MS = 1000;

describe('MongoDB driver patch: writes to a closed socket', () => {
  let server: Server;
  const serverSockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts and never reads, so that a large write fills the socket's buffers and waits for 'drain'.
    server = createServer((socket) => {
      socket.pause();
      serverSockets.push(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterAll(async () => {
    serverSockets.forEach((socket) => socket.destroy());
    server.close();
    await once(server, 'close');
  });

  async function openConnection(): Promise<{ socket: Socket; connection: DriverConnection }> {
    const socket = new Socket();
    socket.connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    return { socket, connection: new Connection(socket, { id: 1, generation: 0 }) };
  }

  const command = (bytes: number) =>
    new OpMsgRequest('admin', { insert: 'ballast', documents: [{ ballast: 'x'.repeat(bytes) }] }, {});

  async function expectNetworkErrorSoon(write: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), FAILS_WITHIN_MS)));
    const outcome = await Promise.race([
      write.then(
        () => 'written',
        (error: unknown) => error,
      ),
      hung,
    ]);
    clearTimeout(timer);
    expect(outcome).toBeInstanceOf(mongo.MongoNetworkError);
  }

  it('fails a write to a socket that is already destroyed', async () => {
    const { socket, connection } = await openConnection();
    socket.destroy();
    await expectNetworkErrorSoon(connection.writeCommand(command(10), { agreedCompressor: 'none' }));
  });

  it('fails a write waiting for drain when its connection is destroyed without an error', async () => {
    const { socket, connection } = await openConnection();
    const write = connection.writeCommand(command(8 * 1024 * 1024), { agreedCompressor: 'none' });
    // Give the write time to fill the buffers, as a pool clear under a busy connection would find it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(socket.writableNeedDrain).toBe(true);
    connection.destroy();
    await expectNetworkErrorSoon(write);
  });
});
