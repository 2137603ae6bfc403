import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OrganizationIdParamDto } from '../access/dto/organization-scope.dto';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { Auth, SUPERADMINS } from '../auth/decorators/auth.decorator';
import { CurrentAdmin } from '../auth/decorators/current-admin.decorator';
import { Public } from '../auth/decorators/public.decorator';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { Origin, type RequestOrigin } from '../common/decorators/request-origin.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { envelope } from '../common/envelope';
import { CreateLimited } from '../throttling/create-throttler.guard';
import { CreateOrganizationDto } from './dto/create-organization.dto';
import {
  DeletedOrganizationEnvelopeDto,
  OrganizationEnvelopeDto,
  OrganizationPageEnvelopeDto,
} from './dto/organization.dto';
import { PatchOrganizationDto } from './dto/patch-organization.dto';
import {
  ALREADY_EXISTS,
  CREATED,
  DELETED,
  FORBIDDEN,
  LISTED,
  NOT_FOUND,
  RETRIEVED,
  UPDATED,
} from './organizations.controller';
import { OrganizationsService } from './organizations.service';

/** The organizations as a resource addressed by id (which a rename keeps); the same service as /org. */
@ApiTags('Organizations')
@Controller({ path: 'organizations', version: '1' })
export class OrganizationsV1Controller {
  constructor(private readonly organizations: OrganizationsService) {}

  @Post()
  @Public()
  @CreateLimited('organizations')
  @ApiOperation({ summary: 'Create an organization, its admin and its storage' })
  @ApiCreatedResponse({ type: OrganizationEnvelopeDto })
  @ApiProblems(400, ALREADY_EXISTS, 413, 415)
  async create(@Body() body: CreateOrganizationDto, @Origin() origin: RequestOrigin): Promise<OrganizationEnvelopeDto> {
    return envelope(CREATED, await this.organizations.create(body, origin));
  }

  @Get()
  @Auth(SUPERADMINS)
  @ApiOperation({ summary: 'List organizations, a page at a time (superadmin only)' })
  @ApiOkResponse({ type: OrganizationPageEnvelopeDto })
  @ApiProblems(400)
  async list(@Query() query: PageQueryDto): Promise<OrganizationPageEnvelopeDto> {
    return envelope(LISTED, await this.organizations.list(query));
  }

  @Get(':organization_id')
  @Auth({ optional: true })
  @ApiOperation({ summary: 'Get an organization; its admins or a superadmin also see admin_email' })
  @ApiOkResponse({ type: OrganizationEnvelopeDto })
  @ApiProblems(400, NOT_FOUND)
  async get(
    @Param() params: OrganizationIdParamDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin | undefined,
  ): Promise<OrganizationEnvelopeDto> {
    return envelope(RETRIEVED, await this.organizations.get({ id: params.organization_id }, viewer));
  }

  @Patch(':organization_id')
  @Auth()
  @ApiOperation({
    summary: 'Rename an organization or change its first admin credentials (that admin or a superadmin)',
    description: "A new email or password revokes that admin's tokens; a rename keeps them working.",
  })
  @ApiOkResponse({ type: OrganizationEnvelopeDto })
  @ApiProblems(400, FORBIDDEN, NOT_FOUND, 409, 413, 415)
  async update(
    @Param() params: OrganizationIdParamDto,
    @Body() body: PatchOrganizationDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<OrganizationEnvelopeDto> {
    const change = { newName: body.organization_name, email: body.email, password: body.password };
    return envelope(UPDATED, await this.organizations.update({ id: params.organization_id }, change, viewer, origin));
  }

  @Delete(':organization_id')
  @Auth()
  @ApiOperation({ summary: 'Delete an organization, its members, its trail and all of its storage' })
  @ApiOkResponse({ type: DeletedOrganizationEnvelopeDto })
  @ApiProblems(400, FORBIDDEN, NOT_FOUND, 409)
  async delete(
    @Param() params: OrganizationIdParamDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<DeletedOrganizationEnvelopeDto> {
    return envelope(DELETED, await this.organizations.delete({ id: params.organization_id }, viewer));
  }
}
