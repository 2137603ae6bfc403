import { once } from 'node:events';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { runInNewContext } from 'node:vm';
import { mongo } from 'mongoose';
import { isDatabaseUnavailableError } from '../common/mongo-errors';
import { asDriverError, limitOperations, operationDeadlineOf } from './operation-deadline';

/**
 * The deadline on every operation of a client (operation-deadline.ts), against a server that answers
 * the handshake and the monitor's checks and swallows every other command: connections open, then
 * silence, as with a database that has stopped answering. Without the deadline an operation would
 * wait for the driver's own timeouts (30 s here); with it, it fails as unavailable at the deadline.
 */

const DEADLINE_MS = 300;
/** Generous for a loaded machine, and still far below the driver's own 30 s. */
const LATE_MS = 2000;
const DRIVER_TIMEOUT_MS = 30_000;

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const HELLO_COMMANDS = new Set(['hello', 'ismaster', 'isMaster']);

/** A standalone server's answer to hello. */
const helloReply = () => ({
  ok: 1,
  helloOk: true,
  isWritablePrimary: true,
  ismaster: true,
  maxWireVersion: 21,
  minWireVersion: 0,
  maxBsonObjectSize: 16 * 1024 * 1024,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  connectionId: 1,
});

function header(length: number, responseTo: number, opCode: number): Buffer {
  const buffer = Buffer.alloc(16);
  buffer.writeInt32LE(length, 0);
  buffer.writeInt32LE(0, 4);
  buffer.writeInt32LE(responseTo, 8);
  buffer.writeInt32LE(opCode, 12);
  return buffer;
}

/** The command document of an OP_QUERY or OP_MSG (section kind 0) message, without its header. */
function commandOf(opCode: number, body: Buffer): mongo.Document | undefined {
  if (opCode === OP_MSG && body[4] === 0) {
    return mongo.BSON.deserialize(body.subarray(5, 5 + body.readInt32LE(5)));
  }
  if (opCode === OP_QUERY) {
    const start = body.indexOf(0, 4) + 1 + 8;
    return mongo.BSON.deserialize(body.subarray(start, start + body.readInt32LE(start)));
  }
  return undefined;
}

function answer(opCode: number, requestId: number, document: mongo.Document): Buffer {
  const bson = mongo.BSON.serialize(document);
  if (opCode === OP_MSG) {
    const body = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), bson]);
    return Buffer.concat([header(16 + body.length, requestId, OP_MSG), body]);
  }
  const body = Buffer.alloc(20);
  body.writeInt32LE(1, 16);
  return Buffer.concat([header(16 + 20 + bson.length, requestId, OP_REPLY), body, bson]);
}

/** Answers hello on every connection; reads every other command and never answers it. */
function helloOnly(socket: Socket): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 16 && pending.length >= pending.readInt32LE(0)) {
      const length = pending.readInt32LE(0);
      const requestId = pending.readInt32LE(4);
      const opCode = pending.readInt32LE(12);
      const command = commandOf(opCode, pending.subarray(16, length));
      pending = pending.subarray(length);
      if (command && HELLO_COMMANDS.has(Object.keys(command)[0])) {
        socket.write(answer(opCode, requestId, helloReply()));
      }
    }
  });
}

describe('operation deadline', () => {
  let server: Server;
  const sockets: Socket[] = [];
  const clients: mongo.MongoClient[] = [];

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      helloOnly(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close(true).catch(() => undefined)));
    sockets.forEach((socket) => socket.destroy());
    server.close();
    await once(server, 'close');
  });

  /** A client connected to the server that never answers a command. */
  async function connectedClient(deadlineMs?: number): Promise<mongo.MongoClient> {
    const { port } = server.address() as AddressInfo;
    const client = new mongo.MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
      serverSelectionTimeoutMS: DRIVER_TIMEOUT_MS,
      connectTimeoutMS: DRIVER_TIMEOUT_MS,
      socketTimeoutMS: DRIVER_TIMEOUT_MS,
      waitQueueTimeoutMS: DRIVER_TIMEOUT_MS,
    });
    clients.push(client);
    await client.connect();
    if (deadlineMs !== undefined) {
      limitOperations(client, deadlineMs);
    }
    return client;
  }

  /** What the operation came to within `withinMs`: its error, 'answered', or 'still waiting'. */
  async function outcomeWithin(operation: Promise<unknown>, withinMs: number): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const waiting = new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), withinMs)));
    const outcome = await Promise.race([
      operation.then(
        () => 'answered',
        (error: unknown) => error,
      ),
      waiting,
    ]);
    clearTimeout(timer);
    return outcome;
  }

  it('fails an operation the server does not answer at the deadline, as unavailable, and closes its connection', async () => {
    const client = await connectedClient(DEADLINE_MS);
    expect(operationDeadlineOf(client)).toBe(DEADLINE_MS);
    const closedBefore = sockets.filter((socket) => socket.destroyed).length;

    const started = Date.now();
    const outcome = await outcomeWithin(client.db('admin').command({ ping: 1 }), LATE_MS);

    expect(outcome).toBeInstanceOf(mongo.MongoOperationTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
    expect(isDatabaseUnavailableError(outcome)).toBe(true);
    // Its answer, should it still come, would belong to no one: the connection is closed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sockets.filter((socket) => socket.destroyed).length).toBeGreaterThan(closedBefore);
  });

  it('bounds reads and writes through collections and cursors too', async () => {
    const client = await connectedClient(DEADLINE_MS);
    const collection = client.db('deadline').collection('documents');
    const operations = [
      collection.insertOne({ a: 1 }),
      collection.updateOne({ a: 1 }, { $set: { a: 2 } }),
      collection.deleteOne({ a: 1 }),
      collection.findOne({ a: 1 }),
      collection.find({}).toArray(),
      collection.countDocuments({}),
      client.db('deadline').listCollections().toArray(),
      client.db('deadline').dropDatabase(),
    ];
    const outcomes = await Promise.all(operations.map((operation) => outcomeWithin(operation, LATE_MS)));
    expect(outcomes.filter((outcome) => !(outcome instanceof mongo.MongoOperationTimeoutError))).toEqual([]);
  });

  it('bounds bulk writes, whose timeout the driver wraps in a MongoBulkWriteError, still unavailable', async () => {
    const client = await connectedClient(DEADLINE_MS);
    const collection = client.db('deadline').collection('documents');
    const operations = [
      collection.bulkWrite([{ insertOne: { document: { b: 1 } } }]),
      collection.insertMany([{ c: 1 }]),
    ];
    const outcomes = await Promise.all(operations.map((operation) => outcomeWithin(operation, LATE_MS)));
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(mongo.MongoBulkWriteError);
      expect((outcome as mongo.MongoBulkWriteError).errorResponse).toBeInstanceOf(mongo.MongoOperationTimeoutError);
      expect(isDatabaseUnavailableError(outcome)).toBe(true);
    }
  });

  it("keeps an operation's own signal: aborting it still ends the operation with its reason", async () => {
    const client = await connectedClient(LATE_MS);
    const controller = new AbortController();
    const reason = new Error('stopped by the caller');
    const operation = client.db('admin').command({ ping: 1 }, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    expect(await outcomeWithin(operation, LATE_MS / 2)).toBe(reason);
  });

  it('hands out a raw socket error the driver let through as its network error, other errors as they are', () => {
    // As Node makes them: under Jest, in another realm than the code's own Error.
    const reset = Object.assign(runInNewContext('new Error("write ECONNRESET")'), { code: 'ECONNRESET' });
    const converted = asDriverError(reset);
    expect(converted).toBeInstanceOf(mongo.MongoNetworkError);
    expect((converted as Error).cause).toBe(reset);
    const others = [new mongo.MongoServerError({ code: 11000, errmsg: 'E11000' }), new Error('boom'), 'text'];
    expect(others.map(asDriverError)).toEqual(others);
  });

  it('leaves clients without a deadline alone', async () => {
    const client = await connectedClient();
    expect(operationDeadlineOf(client)).toBeUndefined();
    const operation = client.db('admin').command({ ping: 1 });
    operation.catch(() => undefined);
    expect(await outcomeWithin(operation, DEADLINE_MS * 2)).toBe('still waiting');
  });
});
