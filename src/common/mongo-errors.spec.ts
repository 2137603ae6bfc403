import { mongo } from 'mongoose';
import { isNamespaceNotFoundError } from './mongo-errors';

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
