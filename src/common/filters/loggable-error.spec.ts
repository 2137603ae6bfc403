import { mongo } from 'mongoose';
import { loggableError } from './loggable-error';

describe('loggableError', () => {
  it('keeps the kind, message, stack, codes and cause, and drops the documents a driver error carries', () => {
    const cause = new Error('connection reset');
    const error = Object.assign(new mongo.MongoServerError({ message: 'write failed', code: 121 }), {
      codeName: 'DocumentValidationFailure',
      errInfo: { details: { consideredValue: { secret: 'tenant data' } } },
      keyValue: { email: 'someone@example.com' },
      cause,
    });

    const logged = loggableError(error);

    expect(logged).toEqual({
      type: 'MongoServerError',
      message: 'write failed',
      stack: error.stack,
      code: 121,
      codeName: 'DocumentValidationFailure',
      cause: { type: 'Error', message: 'connection reset', stack: cause.stack },
    });
    expect(JSON.stringify(logged)).not.toMatch(/tenant data|someone@example/);
  });

  it('keeps the labels the driver puts on an error', () => {
    const error = new mongo.MongoNetworkError('connection closed');
    error.addErrorLabel('RetryableWriteError');
    expect(loggableError(error).errorLabels).toEqual(['RetryableWriteError']);
  });

  it('describes a thrown non-error by its type and text, even an object without a prototype', () => {
    expect(loggableError('boom')).toEqual({ type: 'string', message: 'boom' });
    expect(loggableError(Object.create(null))).toEqual({ type: 'object', message: '[object Object]' });
  });

  it('stops following causes after a few levels', () => {
    const looped: Error & { cause?: unknown } = new Error('loop');
    looped.cause = looped;
    expect(JSON.stringify(loggableError(looped)).match(/"loop"/g)).toHaveLength(4);
  });
});
