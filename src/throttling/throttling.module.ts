import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { Environment } from '../config/environment';
import { FailoverThrottlerStorage } from './failover-throttler.storage';
import { LoginLimiter } from './login-limiter.service';
import { RedisFailover } from './redis-failover';
import { SharedCounters } from './shared-counters';

@Module({ providers: [RedisFailover, FailoverThrottlerStorage], exports: [RedisFailover, FailoverThrottlerStorage] })
class ThrottlerStorageModule {}

/**
 * Creates of organizations and of members (each costs a bcrypt hash), each kind apart:
 * CREATE_RATE_LIMIT per CREATE_RATE_WINDOW_SECONDS from one client address, and
 * CREATE_GLOBAL_RATE_LIMIT from all together, through @CreateLimited().
 * Logins: LoginLimiter. Both count in Redis when REDIS_URL is set, so that every instance shares them.
 */
@Module({
  imports: [
    ThrottlerStorageModule,
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerStorageModule],
      inject: [ConfigService, FailoverThrottlerStorage],
      useFactory: (config: ConfigService<Environment, true>, storage: FailoverThrottlerStorage) => {
        const ttl = config.get('CREATE_RATE_WINDOW_SECONDS', { infer: true }) * 1000;
        return {
          storage,
          setHeaders: false,
          throttlers: [
            { name: 'create-address', limit: config.get('CREATE_RATE_LIMIT', { infer: true }), ttl },
            {
              name: 'create-global',
              limit: config.get('CREATE_GLOBAL_RATE_LIMIT', { infer: true }),
              ttl,
              getTracker: () => 'all',
            },
          ],
        };
      },
    }),
  ],
  providers: [SharedCounters, LoginLimiter],
  exports: [LoginLimiter],
})
export class ThrottlingModule {}
