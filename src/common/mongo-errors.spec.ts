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
