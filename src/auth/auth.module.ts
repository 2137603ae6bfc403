import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';
import { PassportModule } from '@nestjs/passport';
import { AdminsModule } from '../admins/admins.module';
import { AuditModule } from '../audit/audit.module';
import { MembersModule } from '../members/members.module';
import { PasswordsModule } from '../passwords/passwords.module';
import { ThrottlingModule } from '../throttling/throttling.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { JwtSecret } from './jwt-secret';
import { JwtStrategy } from './jwt.strategy';
import { PrincipalsService } from './principals.service';
import { RefreshTokensService } from './refresh-tokens.service';
import { RefreshToken, RefreshTokenSchema } from './schemas/refresh-token.schema';
import { RevokedFamily, RevokedFamilySchema } from './schemas/revoked-family.schema';
import { SessionsController } from './sessions.controller';
import { SuperadminSeeder } from './superadmin.seeder';

@Module({
  imports: [
    PassportModule,
    ThrottlingModule,
    AdminsModule,
    AuditModule,
    MembersModule,
    PasswordsModule,
    JwtModule.register({ signOptions: { algorithm: 'HS256' }, verifyOptions: { algorithms: ['HS256'] } }),
    MongooseModule.forFeature([
      { name: RefreshToken.name, schema: RefreshTokenSchema },
      { name: RevokedFamily.name, schema: RevokedFamilySchema },
    ]),
  ],
  controllers: [AuthController, SessionsController],
  providers: [
    AuthService,
    JwtSecret,
    JwtStrategy,
    PrincipalsService,
    RefreshTokensService,
    SuperadminSeeder,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
})
export class AuthModule {}
