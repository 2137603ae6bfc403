import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { Environment } from '../config/environment';
import { FailoverThrottlerStorage } from './failover-throttler.storage';
import { loginEmailOf } from './login-throttler.guard';

@Module({ providers: [FailoverThrottlerStorage], exports: [FailoverThrottlerStorage] })
class ThrottlerStorageModule {}

/**
 * Login attempts: LOGIN_RATE_LIMIT per LOGIN_RATE_WINDOW_SECONDS from one client address, and as
 * many for one email from anywhere, which stops a guessing attack spread over many addresses.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerStorageModule],
      inject: [ConfigService, FailoverThrottlerStorage],
      useFactory: (config: ConfigService<Environment, true>, storage: FailoverThrottlerStorage) => {
        const limit = config.get('LOGIN_RATE_LIMIT', { infer: true });
        const ttl = config.get('LOGIN_RATE_WINDOW_SECONDS', { infer: true }) * 1000;
        return {
          storage,
          setHeaders: false,
          throttlers: [
            { name: 'login-address', limit, ttl },
            {
              name: 'login-email',
              limit,
              ttl,
              getTracker: (request) => loginEmailOf(request) as string,
              skipIf: (context) => loginEmailOf(context.switchToHttp().getRequest()) === undefined,
            },
          ],
        };
      },
    }),
  ],
})
export class ThrottlingModule {}
