import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AdminsModule } from '../admins/admins.module';
import { AuditModule } from '../audit/audit.module';
import { PasswordsModule } from '../passwords/passwords.module';
import { MembersController, MembersV1Controller } from './members.controller';
import { MembersService } from './members.service';

/**
 * An organization's members, kept in its own storage through the tenancy layer: a rename moves
 * them and a delete removes them with no code here.
 */
@Module({
  imports: [AccessModule, AdminsModule, AuditModule, PasswordsModule],
  controllers: [MembersController, MembersV1Controller],
  providers: [MembersService],
  exports: [MembersService],
})
export class MembersModule {}
