import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { Environment } from './config/environment';
import { loggerOptions } from './config/logger-options';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MembersModule } from './members/members.module';
import { OrganizationsModule } from './organizations/organizations.module';
import { RootModule } from './root/root.module';
import { StateCacheModule } from './state-cache/state-cache.module';
import { TenancyModule } from './tenancy/tenancy.module';
import { ThrottlingModule } from './throttling/throttling.module';

@Module({})
export class AppModule {
  /** Built from configuration validated once by the caller, so that tests can pass their own. */
  static forRoot(env: Environment): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // This configuration only: neither read from process.env nor written to it (two apps in one
        // process, as in the tests, must not see each other's settings).
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          ignoreEnvVars: true,
          skipProcessEnv: true,
          load: [() => env],
        }),
        LoggerModule.forRoot(loggerOptions(env)),
        DatabaseModule,
        StateCacheModule,
        TenancyModule,
        ThrottlingModule,
        AuthModule,
        OrganizationsModule,
        MembersModule,
        AuditModule,
        HealthModule,
        RootModule,
      ],
    };
  }
}
