import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { Environment } from '../config/environment';

@Module({
  imports: [
    MongooseModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<Environment, true>) => {
        const timeoutMs = config.get('DB_TIMEOUT_MS', { infer: true });
        return {
          uri: config.get('MONGODB_URI', { infer: true }),
          dbName: config.get('MASTER_DB_NAME', { infer: true }),
          // Fail fast (503) while the database is away instead of queueing requests until it returns.
          bufferCommands: false,
          serverSelectionTimeoutMS: timeoutMs,
          // Nor wait without end for a pooled connection (the reservation of vacated names counts on it).
          waitQueueTimeoutMS: timeoutMs,
          connectTimeoutMS: timeoutMs,
          socketTimeoutMS: config.get('DB_SOCKET_TIMEOUT_MS', { infer: true }),
          // Collections are created by writes, so a stale request cannot recreate a deleted tenant's.
          autoCreate: false,
          retryAttempts: 3,
          retryDelay: 1000,
        };
      },
    }),
  ],
})
export class DatabaseModule {}
