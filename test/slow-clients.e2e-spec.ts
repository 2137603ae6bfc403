import { once } from 'node:events';
import { AddressInfo, connect, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Get, Module } from '@nestjs/common';
import { Public } from '../src/auth/decorators/public.decorator';
import { useTestApp } from './support/test-app';

/**
 * Slow clients over a real port: one that never finishes its headers, one that never finishes its
 * body and one that says nothing cannot hold a connection beyond REQUEST_TIMEOUT_MS (1 s here),
 * while an ordinary request on the same server is answered as usual, and so is a request whose
 * handler takes longer than the timeout (the timeout is the client's, not the service's). A client
 * that never reads its answer cannot hold the connection either.
 */

const REQUEST_TIMEOUT_MS = 1000;
/** The timeout, Node's one-second check interval, and room for a loaded machine. */
const CLOSED_WITHIN_MS = REQUEST_TIMEOUT_MS + 3000;
const SLOW_HANDLER_MS = 2500;
/** More than the kernel's socket buffers on both sides hold, so that a client that reads nothing stalls the write. */
const LARGE_ANSWER_BYTES = 8 * 1024 * 1024;

@Public()
@Controller('slow')
class SlowController {
  @Get()
  async answerSlowly() {
    await sleep(SLOW_HANDLER_MS);
    return { answered: true };
  }

  @Get('large')
  answerLargely() {
    return { padding: 'x'.repeat(LARGE_ANSWER_BYTES) };
  }
}

@Module({ controllers: [SlowController] })
class SlowModule {}

interface Ending {
  afterMs: number;
  received: string;
}

describe('Slow clients (e2e)', () => {
  const { testApp } = useTestApp({ env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) }, imports: [SlowModule] });
  let port: number;

  beforeAll(async () => {
    await testApp().app.listen(0, '127.0.0.1');
    port = (testApp().app.getHttpServer().address() as AddressInfo).port;
  });

  /** Opens a connection, sends `start`, then one byte of `drip` every 200 ms; resolves when the server closes it. */
  function slowClient(start: string, drip = ''): Promise<Ending> {
    return new Promise((resolve, reject) => {
      const socket: Socket = connect(port, '127.0.0.1');
      const openedAt = Date.now();
      let received = '';
      let dripped = 0;
      const dripper = setInterval(() => {
        if (dripped < drip.length && !socket.destroyed) socket.write(drip[dripped++]);
      }, 200);
      const giveUp = setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open after ${CLOSED_WITHIN_MS * 3} ms`));
      }, CLOSED_WITHIN_MS * 3);
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(dripper);
        clearTimeout(giveUp);
        resolve({ afterMs: Date.now() - openedAt, received });
      });
      socket.on('connect', () => socket.write(start));
    });
  }

  it('closes a connection whose headers never end, with 408', async () => {
    const ending = await slowClient('GET /health HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: ' + 'a'.repeat(200));
    expect(ending.afterMs).toBeLessThan(CLOSED_WITHIN_MS);
    expect(ending.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose body never ends, with 408', async () => {
    const body = JSON.stringify({ email: 'slow@example.com', password: 'a-password-of-some-length' });
    const head = `POST /admin/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const ending = await slowClient(head, body);
    expect(ending.afterMs).toBeLessThan(CLOSED_WITHIN_MS);
    expect(ending.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection that sends nothing, with 408', async () => {
    const ending = await slowClient('');
    expect(ending.afterMs).toBeLessThan(CLOSED_WITHIN_MS);
    expect(ending.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers an ordinary request at once while a slow client is held off', async () => {
    const stuck = slowClient('GET /health HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: ' + 'b'.repeat(200));
    const startedAt = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    expect(response.status).toBe(200);
    expect(Date.now() - startedAt).toBeLessThan(REQUEST_TIMEOUT_MS);
    const ending = await stuck;
    expect(ending.afterMs).toBeLessThan(CLOSED_WITHIN_MS);
    expect(ending.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose client never reads its answer', async () => {
    const server = testApp().app.getHttpServer();
    const serverSideClosed = new Promise<number>((resolve) =>
      server.once('connection', (socket: Socket) => socket.once('close', () => resolve(Date.now()))),
    );
    const client = connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    await once(client, 'connect');
    client.pause();
    const sentAt = Date.now();
    client.write('GET /slow/large HTTP/1.1\r\nHost: localhost\r\n\r\n');
    let timer: NodeJS.Timeout | undefined;
    const closedAt = await Promise.race([
      serverSideClosed,
      new Promise<number>((resolve) => (timer = setTimeout(() => resolve(0), CLOSED_WITHIN_MS * 3))),
    ]);
    clearTimeout(timer);
    client.destroy();
    expect(closedAt).toBeGreaterThan(0);
    expect(closedAt - sentAt).toBeLessThan(CLOSED_WITHIN_MS);
  });

  it('delivers the answer of a handler slower than the timeout', async () => {
    const startedAt = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/slow`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ answered: true });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(SLOW_HANDLER_MS);
  });
});
