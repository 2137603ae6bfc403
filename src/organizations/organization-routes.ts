import { applyDecorators, ConflictException, ForbiddenException, NotFoundException } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, LinkObject } from '@nestjs/swagger';
import { NOT_YOURS } from '../access/organization-access.service';
import { Auth, SUPERADMINS } from '../auth/decorators/auth.decorator';
import { Public } from '../auth/decorators/public.decorator';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { CreateLimited } from '../throttling/create-throttler.guard';
import { TENANT_EXISTS, TENANT_NOT_FOUND } from '../tenancy/tenant';
import {
  DeletedOrganizationEnvelopeDto,
  OrganizationEnvelopeDto,
  OrganizationPageEnvelopeDto,
} from './dto/organization.dto';

// What each operation on organizations is, at either address (`/org/...` and `/api/v1/organizations`):
// its access rule, limits, answers and documentation. The controllers add the method and path.

export const CREATED = 'Organization created successfully';
export const RETRIEVED = 'Organization retrieved successfully';
export const LISTED = 'Organizations retrieved successfully';
export const UPDATED = 'Organization updated successfully';
export const DELETED = 'Organization deleted successfully';

/** The examples of the answers these operations give most. */
const NOT_FOUND = new NotFoundException(TENANT_NOT_FOUND);
const FORBIDDEN = new ForbiddenException(NOT_YOURS);
const ALREADY_EXISTS = new ConflictException(TENANT_EXISTS);

type Links = Record<string, LinkObject>;

export const CreateOrganizationRoute = (links?: Links) =>
  applyDecorators(
    Public(),
    CreateLimited('organizations'),
    ApiOperation({ summary: 'Create an organization, its admin and its storage' }),
    ApiCreatedResponse({ type: OrganizationEnvelopeDto, links }),
    ApiProblems(400, ALREADY_EXISTS, 413, 415),
  );

export const GetOrganizationRoute = () =>
  applyDecorators(
    Auth({ optional: true }),
    ApiOperation({ summary: 'Get an organization; its admins or a superadmin also see admin_email' }),
    ApiOkResponse({ type: OrganizationEnvelopeDto }),
    ApiProblems(400, NOT_FOUND),
  );

export const ListOrganizationsRoute = () =>
  applyDecorators(
    Auth(SUPERADMINS),
    ApiOperation({ summary: 'List organizations, a page at a time (superadmin only)' }),
    ApiOkResponse({ type: OrganizationPageEnvelopeDto }),
    ApiProblems(400),
  );

export const UpdateOrganizationRoute = (links?: Links) =>
  applyDecorators(
    Auth(),
    ApiOperation({
      summary: "Rename an organization or change its first admin's credentials (that admin or a superadmin)",
      description: "A new email or password revokes that admin's tokens; a rename keeps them working.",
    }),
    ApiOkResponse({ type: OrganizationEnvelopeDto, links }),
    ApiProblems(400, FORBIDDEN, NOT_FOUND, 409, 413, 415),
  );

export const DeleteOrganizationRoute = (description?: string, links?: Links) =>
  applyDecorators(
    Auth(),
    ApiOperation({
      summary: 'Delete an organization, its admins, members and trail, and all of its storage',
      description,
    }),
    ApiOkResponse({ type: DeletedOrganizationEnvelopeDto, links }),
    ApiProblems(400, FORBIDDEN, NOT_FOUND, 409, 413, 415),
  );
