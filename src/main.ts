import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { configureApp, fastifyOptions } from './app.setup';
import { assertDriverPatched } from './common/driver-patch';
import { Environment, validateEnvironment } from './config/environment';
import { DOCS_PATH, SERVICE_NAME } from './root/service-info';
import { runWorkers } from './workers';

/** Configuration is checked once, here, also before any worker is forked. */
async function main(): Promise<void> {
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
  }
  const env = validateEnvironment(process.env);
  if (cluster.isPrimary && env.WEB_CONCURRENCY > 1) {
    runWorkers(env.WEB_CONCURRENCY);
    return;
  }
  await bootstrap(env);
}

async function bootstrap(env: Environment): Promise<void> {
  assertDriverPatched();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(env),
    new FastifyAdapter(fastifyOptions(env)),
    { bufferLogs: true },
  );
  await configureApp(app, env);
  try {
    await app.listen(env.PORT, env.HOST);
  } catch (error) {
    throw new Error(listenProblem(error as NodeJS.ErrnoException, env));
  }
  const url = baseUrl(env.HOST, (app.getHttpServer().address() as AddressInfo).port);
  new Logger().log(`${SERVICE_NAME} listening on ${url} (API docs: ${url}/${DOCS_PATH})`);
}

/** One line that says what to change, rather than a stack trace. */
function listenProblem(error: NodeJS.ErrnoException, env: Environment): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return `Port ${env.PORT} is already in use: set PORT to another port`;
    case 'EACCES':
      return `Port ${env.PORT} needs privileges this process does not have: set PORT to another port (1024 or above)`;
    case 'EADDRNOTAVAIL':
      return `HOST ${env.HOST} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all`;
    default:
      return `Cannot listen on ${env.HOST}:${env.PORT}: ${error.message}`;
  }
}

/** Where a browser on this machine reaches the service: localhost when listening on every address. */
function baseUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
