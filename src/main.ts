import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync } from 'node:fs';
import { AppModule } from './app.module';
import { configureApp, fastifyOptions } from './app.setup';
import { validateEnvironment } from './config/environment';

async function bootstrap(): Promise<void> {
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
  }
  const env = validateEnvironment(process.env);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(),
    new FastifyAdapter(fastifyOptions(env)),
    { bufferLogs: true },
  );
  await configureApp(app, env);
  await app.listen(env.PORT, env.HOST);
}

bootstrap().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
