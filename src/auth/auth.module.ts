import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';
import { PassportModule } from '@nestjs/passport';
import { ThrottlingModule } from '../throttling/throttling.module';
import { AdminsService } from './admins.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { JwtSecret } from './jwt-secret';
import { JwtStrategy } from './jwt.strategy';
import { PasswordService } from './password.service';
import { Admin, AdminSchema } from './schemas/admin.schema';
import { SuperadminSeeder } from './superadmin.seeder';

@Module({
  imports: [
    PassportModule,
    ThrottlingModule,
    JwtModule.register({ signOptions: { algorithm: 'HS256' }, verifyOptions: { algorithms: ['HS256'] } }),
    MongooseModule.forFeature([{ name: Admin.name, schema: AdminSchema }]),
  ],
  controllers: [AuthController],
  providers: [
    AdminsService,
    AuthService,
    JwtSecret,
    JwtStrategy,
    PasswordService,
    SuperadminSeeder,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [AdminsService, PasswordService],
})
export class AuthModule {}
