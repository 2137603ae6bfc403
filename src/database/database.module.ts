import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { Connection } from 'mongoose';
import { Environment } from '../config/environment';
import { limitOperations } from './operation-deadline';

/** The driver's floor for the time between two checks of a server. */
const MIN_HEARTBEAT_FREQUENCY_MS = 500;

/**
 * One connection to the master database, whose client every module shares. A slow database is not a
 * down database, and a silent one is no reason to hang: every operation, from server selection to
 * its answer and the driver's retry, has DB_TIMEOUT_MS in all (see operation-deadline.ts), after which
 * it fails as unavailable (503). So a request that needs the database answers within DB_TIMEOUT_MS of
 * its first operation the database does not answer, whether the database resets, swallows or is late.
 * The settings below bound the stages on their own as well, and never by more than the deadline:
 * - serverSelectionTimeoutMS: the first connection at start-up, which is no operation;
 * - connectTimeoutMS: a new connection's TCP connect and handshake, and the server monitor's check of
 *   the server (a monitor that gets no answer marks the server unknown and clears the pool);
 * - heartbeatFrequencyMS: how often the monitor checks, so a silent server is known as such within
 *   about two DB_TIMEOUT_MS even with no request to find out (a request that finds the server unknown
 *   makes the monitor check at once, so service resumes as soon as the server answers again);
 * - waitQueueTimeoutMS: the wait for a pooled connection;
 * - socketTimeoutMS (DB_SOCKET_TIMEOUT_MS): the wait for an answer on a connection; it ends an
 *   operation early only when it is shorter than DB_TIMEOUT_MS (a read idle that long fails, and is
 *   retried within the deadline).
 */
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
          heartbeatFrequencyMS: Math.max(timeoutMs, MIN_HEARTBEAT_FREQUENCY_MS),
          socketTimeoutMS: config.get('DB_SOCKET_TIMEOUT_MS', { infer: true }),
          // Collections are created by writes, so a stale request cannot recreate a deleted tenant's.
          autoCreate: false,
          retryAttempts: 3,
          retryDelay: 1000,
          connectionFactory: (connection: Connection) => {
            limitOperations(connection.getClient(), timeoutMs);
            return connection;
          },
        };
      },
    }),
  ],
})
export class DatabaseModule {}
