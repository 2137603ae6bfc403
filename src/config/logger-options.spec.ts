import 'reflect-metadata';
import { LoggerService } from '@nestjs/common';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pinoHttp, Options } from 'pino-http';
import { validateEnvironment } from './environment';
import { loggerOptions, QuietStartupLogger } from './logger-options';

const URI = 'mongodb://localhost:27017';

/** The JSON lines pino-http writes for one request through a real HTTP server, with `options`. */
async function requestLines(options: Options, headers: Record<string, string>): Promise<any[]> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pinoHttp(options, destination);
  const server = createServer((req, res) => {
    logger(req, res);
    res.setHeader('set-cookie', 'session=abc');
    res.setHeader('x-powered-by', 'nothing');
    res.statusCode = 201;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/org/create?x=1`, { method: 'POST', headers });
    await response.text();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return lines.map((line) => JSON.parse(line));
}

describe('loggerOptions', () => {
  it('logs JSON in production: method, url, status and time of a request, no response headers, no credentials', async () => {
    const params = loggerOptions(
      validateEnvironment({ MONGODB_URI: URI, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }),
    );
    expect(Array.isArray(params.pinoHttp)).toBe(false);
    const [line] = await requestLines(params.pinoHttp as Options, {
      authorization: 'Bearer secret-token',
      cookie: 'session=secret-cookie',
    });
    expect(line).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { method: 'POST', url: '/org/create?x=1' },
      res: { statusCode: 201 },
      responseTime: expect.any(Number),
    });
    expect(line.res).toEqual({ statusCode: 201 });
    expect(line.req.headers).toMatchObject({ authorization: '[Redacted]', cookie: '[Redacted]' });
    expect(JSON.stringify(line)).not.toMatch(/secret-token|secret-cookie|session=abc/);
  });

  it('logs every route, not only /', () => {
    const params = loggerOptions(validateEnvironment({ MONGODB_URI: URI }));
    expect(params.forRoutes).toEqual([{ path: '/{*path}', method: expect.anything() }]);
  });

  it('logs no request lines in tests, at the configured level', () => {
    const params = loggerOptions(validateEnvironment({ MONGODB_URI: URI, NODE_ENV: 'test', LOG_LEVEL: 'error' }));
    expect(params.pinoHttp).toMatchObject({ autoLogging: false, level: 'error' });
  });

  it('prints readable lines in development, through a stream of its own', () => {
    const params = loggerOptions(validateEnvironment({ MONGODB_URI: URI }));
    expect(Array.isArray(params.pinoHttp)).toBe(true);
    const [options, stream] = params.pinoHttp as [Options, NodeJS.WritableStream];
    expect(options).toMatchObject({ level: 'info', autoLogging: true, serializers: { req: expect.any(Function) } });
    expect(typeof stream.write).toBe('function');
  });
});

describe('QuietStartupLogger', () => {
  function logger(): { quiet: QuietStartupLogger; inner: Record<'log' | 'error' | 'warn' | 'debug', jest.Mock> } {
    const inner = { log: jest.fn(), error: jest.fn(), warn: jest.fn(), debug: jest.fn() };
    return { quiet: new QuietStartupLogger(inner as unknown as LoggerService), inner };
  }

  it("turns Nest's start-up lines (modules, routes, started) into debug lines", () => {
    const { quiet, inner } = logger();
    quiet.log('Mapped {/org/create, POST} route', 'RouterExplorer');
    quiet.log('AppModule dependencies initialized', 'InstanceLoader');
    quiet.log('Nest application successfully started', 'NestApplication');
    expect(inner.log).not.toHaveBeenCalled();
    expect(inner.debug).toHaveBeenCalledTimes(3);
    expect(inner.debug).toHaveBeenCalledWith('Mapped {/org/create, POST} route', 'RouterExplorer');
  });

  it('passes every other line on as it is', () => {
    const { quiet, inner } = logger();
    quiet.log('JWT_SECRET is not set', 'JwtSecret');
    quiet.log('no context');
    quiet.warn('careful', 'RouterExplorer');
    quiet.error('Error: something else', 'NestApplication');
    expect(inner.log).toHaveBeenCalledWith('JWT_SECRET is not set', 'JwtSecret');
    expect(inner.log).toHaveBeenCalledWith('no context');
    expect(inner.warn).toHaveBeenCalledWith('careful', 'RouterExplorer');
    expect(inner.error).toHaveBeenCalledWith('Error: something else', 'NestApplication');
  });

  it("leaves a failed listen to main.ts's one line", () => {
    const { quiet, inner } = logger();
    quiet.error('Error: listen EADDRINUSE: address already in use 0.0.0.0:3000', 'NestApplication');
    expect(inner.error).not.toHaveBeenCalled();
    expect(inner.debug).toHaveBeenCalled();
  });
});
