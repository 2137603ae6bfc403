import { BadRequestException, ConflictException, HttpException, HttpStatus, NotFoundException } from '@nestjs/common';
import { mongo } from 'mongoose';
import { toProblem } from './problem-details';

const INSTANCE = '/org/get';

describe('toProblem', () => {
  it('uses the string response of an HttpException as the detail', () => {
    const { body, retryAfterSeconds } = toProblem(
      new HttpException('Slow down', HttpStatus.TOO_MANY_REQUESTS),
      INSTANCE,
    );
    expect(body).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Slow down',
      instance: INSTANCE,
    });
    expect(retryAfterSeconds).toBeUndefined();
  });

  it('uses the message of an object response, and passes the instance through', () => {
    const { body } = toProblem(new NotFoundException('Organization not found'), '/org/acme');
    expect(body).toMatchObject({
      title: 'Not Found',
      status: 404,
      detail: 'Organization not found',
      instance: '/org/acme',
    });
    expect(body).not.toHaveProperty('errors');
  });

  it('carries the errors array of a validation failure through', () => {
    const errors = [{ field: 'email', message: 'email must be an email' }];
    const { body } = toProblem(new BadRequestException({ message: 'Request validation failed', errors }), INSTANCE);
    expect(body).toMatchObject({ status: 400, detail: 'Request validation failed', errors });
  });

  it('carries retryAfterSeconds through', () => {
    const exception = new ConflictException({ message: 'Organization is being changed', retryAfterSeconds: 2 });
    expect(toProblem(exception, INSTANCE)).toEqual({
      body: expect.objectContaining({ status: 409, detail: 'Organization is being changed' }),
      retryAfterSeconds: 2,
    });
  });

  it('falls back to the status text when the message is not a string', () => {
    const { body } = toProblem(new BadRequestException(['a', 'b']), INSTANCE);
    expect(body).toMatchObject({ status: 400, detail: 'Bad Request' });
  });

  it('turns a duplicate key error into a 409 without the driver message', () => {
    const error = new mongo.MongoServerError({
      code: 11000,
      errmsg: 'E11000 duplicate key error collection: master_db.admins index: email_1 dup key: { email: "a@b.c" }',
    });
    const { body, retryAfterSeconds } = toProblem(error, INSTANCE);
    expect(body).toEqual({
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'Resource already exists',
      instance: INSTANCE,
    });
    expect(retryAfterSeconds).toBeUndefined();
    expect(JSON.stringify(body)).not.toMatch(/E11000|admins|a@b\.c/);
  });

  it('turns network and server-selection errors into a 503 with retryAfterSeconds', () => {
    const selection = new Error('connect ECONNREFUSED 127.0.0.1:27017');
    selection.name = 'MongooseServerSelectionError';
    for (const error of [new mongo.MongoNetworkError('x'), new mongo.MongoNetworkTimeoutError('x'), selection]) {
      const { body, retryAfterSeconds } = toProblem(error, INSTANCE);
      expect(body).toMatchObject({ status: 503, title: 'Service Unavailable', instance: INSTANCE });
      expect(body.detail).not.toContain('ECONNREFUSED');
      expect(retryAfterSeconds).toBeGreaterThan(0);
    }
  });

  it('turns anything else into a 500 that reveals neither the message nor the stack', () => {
    const secret = new Error('password_hash of admin root@example.com is $2b$12$abc');
    const otherServerError = new mongo.MongoServerError({ code: 2, errmsg: 'BadValue: internal detail' });
    for (const error of [secret, otherServerError, 'a thrown string', undefined]) {
      const problem = toProblem(error, INSTANCE);
      expect(problem.body).toEqual({
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        detail: 'An unexpected error occurred',
        instance: INSTANCE,
      });
      expect(problem.retryAfterSeconds).toBeUndefined();
    }
  });
});
