import { Module } from '@nestjs/common';
import { OrganizationAccess } from './organization-access.service';

@Module({ providers: [OrganizationAccess], exports: [OrganizationAccess] })
export class AccessModule {}
