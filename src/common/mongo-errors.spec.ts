import { runInNewContext } from 'node:vm';
import { mongo } from 'mongoose';
import { isDatabaseUnavailableError, isNamespaceNotFoundError } from './mongo-errors';

describe('isNamespaceNotFoundError', () => {
  it('recognises MongoDB code 26', () => {
    expect(isNamespaceNotFoundError(new mongo.MongoServerError({ code: 26, errmsg: 'ns does not exist' }))).toBe(true);
  });

  it('refuses other server errors, look-alike messages and errors that are not from the server', () => {
    const others = [
      new mongo.MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key error' }),
      new mongo.MongoServerError({ errmsg: 'ns not found' }),
      new Error('ns not found'),
      { code: 26, message: 'ns not found' },
      null,
    ];
    expect(others.filter(isNamespaceNotFoundError)).toEqual([]);
  });
});

describe('isDatabaseUnavailableError', () => {
  it('recognises driver network errors and raw socket errors of a closed connection', () => {
    const epipe = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    const unavailable = [
      new mongo.MongoNetworkError('gone'),
      epipe,
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
    ];
    expect(unavailable.filter(isDatabaseUnavailableError)).toHaveLength(3);
  });

  it('recognises the timeouts: an operation past its deadline, a pool wait, a connection cut off by the monitor', () => {
    // Internal to the driver: it throws them, but does not export them.
    const { WaitQueueTimeoutError, PoolClearedOnNetworkError } = require('mongodb/lib/cmap/errors');
    const pool = { address: '127.0.0.1:27017' };
    const timeouts = [
      new mongo.MongoOperationTimeoutError('Database runCommand did not complete within 3000 ms'),
      new WaitQueueTimeoutError('Timed out while checking out a connection from connection pool', pool.address),
      new PoolClearedOnNetworkError(pool),
      new mongo.MongoNetworkTimeoutError('connection timed out'),
    ];
    expect(timeouts.map((error) => error.name)).toEqual([
      'MongoOperationTimeoutError',
      'MongoWaitQueueTimeoutError',
      'PoolClearedOnNetworkError',
      'MongoNetworkTimeoutError',
    ]);
    expect(timeouts.filter(isDatabaseUnavailableError)).toHaveLength(timeouts.length);
  });

  it('recognises a bulk write stopped by an unavailable database, not one with documents refused', () => {
    const result = {} as mongo.BulkWriteResult;
    const stopped = [new mongo.MongoNetworkError('gone'), new mongo.MongoOperationTimeoutError('too slow')].map(
      (cause) => new mongo.MongoBulkWriteError(cause, result),
    );
    expect(stopped.filter(isDatabaseUnavailableError)).toHaveLength(2);
    const refused = new mongo.MongoBulkWriteError(
      {
        message: 'E11000',
        code: 11000,
        writeErrors: [{ code: 11000, index: 0, errmsg: 'E11000' } as unknown as mongo.WriteError],
      },
      result,
    );
    const otherwise = new mongo.MongoBulkWriteError(new Error('boom'), result);
    expect([refused, otherwise].filter(isDatabaseUnavailableError)).toEqual([]);
  });

  it("recognises a socket error made in another realm, as Node's own are under Jest", () => {
    const foreign = Object.assign(runInNewContext('new Error("This socket has been ended by the other party")'), {
      code: 'EPIPE',
    });
    expect(foreign).not.toBeInstanceOf(Error);
    expect(isDatabaseUnavailableError(foreign)).toBe(true);
  });

  it('refuses other errors', () => {
    const others = [new Error('boom'), Object.assign(new Error('x'), { code: 'ENOENT' }), null];
    expect(others.filter(isDatabaseUnavailableError)).toEqual([]);
  });
});
