import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module';
import { Environment, validateEnvironment } from './config/environment';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { OrganizationsModule } from './organizations/organizations.module';
import { TenancyModule } from './tenancy/tenancy.module';
import { ThrottlingModule } from './throttling/throttling.module';

@Module({})
export class AppModule {
  /**
   * Built from the environment as it is when called (main.ts loads `.env` first), so that tests
   * can start apps with different settings in one process.
   */
  static forRoot(): DynamicModule {
    const env: Environment = validateEnvironment(process.env);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: () => env }),
        LoggerModule.forRoot({
          pinoHttp: {
            level: env.LOG_LEVEL,
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            autoLogging: env.NODE_ENV !== 'test',
          },
        }),
        DatabaseModule,
        TenancyModule,
        ThrottlingModule,
        AuthModule,
        OrganizationsModule,
        HealthModule,
      ],
    };
  }
}
