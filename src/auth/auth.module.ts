import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';
import { PassportModule } from '@nestjs/passport';
import { Organization, OrganizationSchema } from '../organizations/schemas/organization.schema';
import { AdminsService } from './admins.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtSecret } from './jwt-secret';
import { JwtStrategy } from './jwt.strategy';
import { PasswordService } from './password.service';
import { Admin, AdminSchema } from './schemas/admin.schema';
import { SuperadminSeeder } from './superadmin.seeder';

@Module({
  imports: [
    PassportModule,
    JwtModule.register({ signOptions: { algorithm: 'HS256' }, verifyOptions: { algorithms: ['HS256'] } }),
    MongooseModule.forFeature([
      { name: Admin.name, schema: AdminSchema },
      { name: Organization.name, schema: OrganizationSchema },
    ]),
  ],
  controllers: [AuthController],
  providers: [AdminsService, AuthService, JwtSecret, JwtStrategy, PasswordService, SuperadminSeeder],
  exports: [AdminsService, PasswordService],
})
export class AuthModule {}
